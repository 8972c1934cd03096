"""vt.random_uniform: the lowering and the folder against numpy, and the
statistics of what the lowering computes.

The op's definition (vitc/Dialect/Vt/VtRandom.h) is re-implemented here in
numpy: SplitMix64 keyed by mix64(mix64(seed) ^ stream), element i the
(i + 1)-th output, its top 24 bits over 2^24. Each case lowers a vt function
with convert-vt-to-linalg (seed and dims given at run time) and runs it with
mlir-runner through vt_to_linalg_exec's harness. The functions return
u * 2^24 as i64, which is exact, so the comparison with numpy is bit for bit.
The folder (constant seed, small static result) is checked the same way on
the constant canonicalisation leaves.
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vt_to_linalg_exec as harness  # noqa: E402

GAMMA, MUL1, MUL2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
BITS = 24


def mix64(z):
    z = np.asarray(z, np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MUL1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MUL2)
    return z ^ (z >> np.uint64(31))


def reference_bits(seed, stream, shape):
    """The top 24 bits of each element, row-major: u = bits / 2^24."""
    key = mix64(mix64(np.int64(seed).astype(np.uint64)) ^
                np.int64(stream).astype(np.uint64))
    count = int(np.prod(shape, dtype=np.int64))
    with np.errstate(over="ignore"):
        counters = (np.arange(count, dtype=np.uint64) + np.uint64(1)) * np.uint64(GAMMA)
        bits = mix64(key + counters)
    return (bits >> np.uint64(64 - BITS)).astype(np.int64).reshape(shape)


def body(shape_value, dims, stream, result="%r"):
    """vt ops: %u = random_uniform(%a0 = seed, shape), then `result` =
    i64(u * 2^24). `shape_value` is an SSA name holding the dims."""
    rtype = harness.mlir_type(dims)
    itype = harness.mlir_type(dims, "i64")
    return f"""
  %u{stream} = vt.random_uniform %a0, {shape_value} {{stream = {stream} : i64}} : (tensor<i64>, tensor<{len(dims)}xi64>) -> {rtype}
  %s{stream} = vt.mul %u{stream}, %two24 : {rtype}, tensor<f32> -> {rtype}
  {result} = vt.cast %s{stream} : {rtype} -> {itype}
"""


TWO24 = f"  %two24 = vt.constant dense<{float(2 ** BITS)}> : tensor<f32>\n"


def run_bits(args, tmp, name, inputs, result_shape, text):
    return harness.lower_and_run(
        args, harness.build_module(name, inputs, result_shape, text, "i64"),
        os.path.join(tmp, name + ".mlir"))


def check_exact(args, tmp, name, seed, stream, dims, dynamic):
    """A result of `dims`, those listed in `dynamic` known only at run time
    (from shape_of of an input)."""
    x = np.zeros(dims, np.float32)
    shape = [None if d in dynamic else s for d, s in enumerate(dims)]
    text = (TWO24 +
            f"  %shape = vt.shape_of %a1 : {harness.mlir_type(shape)} -> "
            f"tensor<{len(shape)}xi64>\n" + body("%shape", shape, stream))
    got = run_bits(args, tmp, name, [(np.array(seed, np.int64), []), (x, dynamic)],
                   shape, text)
    if isinstance(got, str):
        return got
    want = reference_bits(seed, stream, dims)
    if got.shape != want.shape or not np.array_equal(got, want):
        bad = np.argwhere(got != want) if got.shape == want.shape else "shape"
        return f"differs from numpy at {bad[:5] if not isinstance(bad, str) else bad}"
    return None


def check_folder(args, tmp):
    """A constant seed folds: the constant must be numpy's values."""
    src = os.path.join(tmp, "fold.mlir")
    with open(src, "w") as f:
        f.write("""func.func @f() -> tensor<4x8xf32> {
  %seed = vt.constant dense<1234567890123> : tensor<i64>
  %u = vt.random_uniform %seed {stream = 77 : i64} : (tensor<i64>) -> tensor<4x8xf32>
  return %u : tensor<4x8xf32>
}
""")
    out = subprocess.run([args.vitc_opt, src, "-canonicalize",
                          "-mlir-print-elementsattrs-with-hex-if-larger=0"],
                         capture_output=True, text=True)
    m = re.search(r'dense<"0x([0-9A-F]+)">', out.stdout)
    if out.returncode != 0 or not m:
        return f"no folded constant:\n{out.stdout}{out.stderr}"
    got = np.frombuffer(bytes.fromhex(m.group(1)), np.float32).reshape(4, 8)
    want = reference_bits(1234567890123, 77, (4, 8)) * np.float32(2.0 ** -BITS)
    if not np.array_equal(got, want.astype(np.float32)):
        return f"folded values differ from numpy:\n{got}\n{want}"
    return None


def check_statistics(args, tmp):
    """65536 values each of stream 0 and 1 of one seed and stream 0 of the
    next seed: uniform (mean, variance, 16-bin chi-square), uncorrelated
    within and across streams, and no stream a shifted copy of another."""
    n = 1 << 16
    text = TWO24 + "  %shape = vt.constant dense<[1, 65536]> : tensor<2xi64>\n"
    text += body("%shape", [None, n], 0, "%b0") + body("%shape", [None, n], 1, "%b1")
    itype = harness.mlir_type([None, n], "i64")
    text += (f"  %r = vt.concat %b0, %b1 {{axis = 0}} : ({itype}, {itype}) -> "
             f"{harness.mlir_type([None, n], 'i64')}\n")
    seed = 20240601
    got = run_bits(args, tmp, "stats", [(np.array(seed, np.int64), [])], [None, n], text)
    if isinstance(got, str):
        return got
    other = run_bits(args, tmp, "stats_next_seed", [(np.array(seed + 1, np.int64), [])],
                     [None, n], text)
    if isinstance(other, str):
        return other
    streams = {"seed s, stream 0": got[0], "seed s, stream 1": got[1],
               "seed s+1, stream 0": other[0]}
    problems = []
    tol = 5 / np.sqrt(n)  # 5 sigma of a correlation estimate
    for name, k in streams.items():
        u = k / 2.0 ** BITS
        if k.min() < 0 or k.max() >= 2 ** BITS:
            problems.append(f"{name}: values outside [0, 1)")
        if abs(u.mean() - 0.5) > 5 * np.sqrt(1 / 12 / n):
            problems.append(f"{name}: mean {u.mean():.5f}")
        if abs(u.var() - 1 / 12) > 0.003:
            problems.append(f"{name}: variance {u.var():.5f}")
        counts = np.bincount((u * 16).astype(int), minlength=16)
        chi2 = ((counts - n / 16) ** 2 / (n / 16)).sum()
        if chi2 > 50:  # 15 degrees of freedom: p < 1e-5
            problems.append(f"{name}: chi-square {chi2:.1f}")
        lag1 = np.corrcoef(u[:-1], u[1:])[0, 1]
        if abs(lag1) > tol:
            problems.append(f"{name}: lag-1 correlation {lag1:.4f}")
        kept = (u >= 0.25).mean()
        if abs(kept - 0.75) > 5 * np.sqrt(0.75 * 0.25 / n):
            problems.append(f"{name}: dropout 0.25 keeps {kept:.4f}")
    names = list(streams)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            a, b = streams[names[i]], streams[names[j]]
            corr = np.corrcoef(a, b)[0, 1]
            if abs(corr) > tol:
                problems.append(f"{names[i]} vs {names[j]}: correlation {corr:.4f}")
            # A shifted copy would repeat runs: no 3 consecutive values of
            # one stream may appear consecutively in the other (24-bit
            # values: chance triples ~ n^2 / 2^72).
            where = {}
            for pos, v in enumerate(a[:-2]):
                where.setdefault(int(v), []).append(pos)
            for pos, v in enumerate(b[:-2]):
                for p in where.get(int(v), ()):
                    if a[p + 1] == b[pos + 1] and a[p + 2] == b[pos + 2]:
                        problems.append(f"{names[i]} at {p} repeats {names[j]} at {pos}")
    return "\n".join(problems) or None


def main():
    p = argparse.ArgumentParser()
    harness.add_runner_args(p)
    args = p.parse_args()
    harness.resolve_runner_libs(args)
    checks = [
        ("exact_dynamic_batch", lambda t: check_exact(args, t, "exact_dynamic_batch",
                                                      42, 3, (5, 3, 7), [0])),
        ("exact_negative_seed_large_stream",
         lambda t: check_exact(args, t, "exact_negative_seed", -987654321, 1 << 40,
                               (2, 129), [0])),
        ("exact_all_dims_dynamic",
         lambda t: check_exact(args, t, "exact_all_dynamic", 7, 0, (3, 2, 5, 4), [0, 1, 2, 3])),
        ("exact_static", lambda t: check_exact(args, t, "exact_static", 0, 2, (4, 6), [])),
        ("folder", lambda t: check_folder(args, t)),
        ("statistics", lambda t: check_statistics(args, t)),
    ]
    return harness.run_named_checks(checks, args.filter)


if __name__ == "__main__":
    sys.exit(main())
