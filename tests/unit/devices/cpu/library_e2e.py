#!/usr/bin/env python3
"""Runs library_e2e.mlir through the CPU codegen pipeline twice -- with
vitc-linalg-to-library (oneDNN kernels through their C interface) and
without (linalg loops) -- on mlir-runner, and compares the printed memrefs.

Usage: library_e2e.py VITC_OPT KERNELS_SO [MLIR_RUNNER]
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LLVM = "/usr/lib/llvm-22"


def run(vitc_opt, runner, libs, passes):
    src = os.path.join(HERE, "library_e2e.mlir")
    lowered = subprocess.run([vitc_opt, src] + passes + ["-vitc-cpu-codegen"],
                             check=True, capture_output=True, text=True).stdout
    out = subprocess.run([runner, "-e", "main", "-entry-point-result=void",
                          "-shared-libs=" + ",".join(libs)], input=lowered,
                         check=True, capture_output=True, text=True).stdout
    values = []
    for part in out.split("Unranked Memref")[1:]:
        body = part.split("data =", 1)[1]
        values += [float(x) for x in
                   re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", body)]
    return out, values


def main():
    vitc_opt, kernels = sys.argv[1], sys.argv[2]
    runner = sys.argv[3] if len(sys.argv) > 3 else LLVM + "/bin/mlir-runner"
    libs = [LLVM + "/lib/libmlir_c_runner_utils.so",
            LLVM + "/lib/libmlir_runner_utils.so", kernels]
    lowered = subprocess.run([vitc_opt, os.path.join(HERE, "library_e2e.mlir"),
                              "-vitc-linalg-to-library"], check=True,
                             capture_output=True, text=True).stdout
    calls = lowered.count("call @vitc_cpu_")
    if calls != 3 or re.search(r"linalg\.(conv|matmul|pooling)", lowered):
        print(f"FAIL: expected 3 library calls and no anchors left, got {calls}")
        return 1
    _, got = run(vitc_opt, runner, libs, ["-vitc-linalg-to-library"])
    _, want = run(vitc_opt, runner, libs, [])
    if len(got) != len(want) or not want:
        print(f"FAIL: {len(got)} values vs {len(want)} expected")
        return 1
    err = max(abs(g - w) / (1 + abs(w)) for g, w in zip(got, want))
    print(f"{'PASS' if err < 1e-4 else 'FAIL'}: {len(want)} values, "
          f"max rel err {err:.3g}")
    return 0 if err < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
