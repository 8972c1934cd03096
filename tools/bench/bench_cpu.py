#!/usr/bin/env python3
"""CPU inference benchmark: vitc vs its peers onnxruntime and IREE, same run,
same thread count, fp32, on the same ONNX files (ResNet-18, ResNet-50 and
ViT-B/16 by default, batch 1 and 8, 1 thread and all cores). Prints median
images/s of each, the ratios vitc/ORT and vitc/IREE, and how far IREE's output
is from onnxruntime's (max abs diff over max abs output). A benchmark, not a
test: it never fails on a slow result, only on a tool that does not work; a
model a peer cannot compile or run gets its error in the table's notes.

  tools/bench/bench_cpu.py [--models resnet18,resnet50,vit_b_16] [--batches 1,8]
                           [--threads 1,all] [--peers ort,iree] [--iters 10] [--warmup 2]
                           [--json results.json] [--iree-work-dir DIR] [--iree-flags "..."]

IREE is optional (pip install -r tools/bench/requirements-bench.txt); without
it the peers default to onnxruntime alone.

ORT runs with intra_op_num_threads=T, inter_op_num_threads=1 and sequential
execution; vitc with `vitc-run --benchmark N --warmup K --threads T`, whose
own timer excludes process start-up and artifact loading, as ours does for ORT;
IREE (llvm-cpu for the host CPU, local-task driver with exactly T workers, see
iree_peer.py) in a child process per run, timed the same way. vitc compiles one
artifact per model with a dynamic batch dim, reused for every batch size, as a
deployed model would be; IREE gets one static-batch .vmfb per (model, batch),
its best case, cached in --iree-work-dir (ViT-B/16 takes minutes to compile).
"""
import argparse
import json
import os
import pathlib
import platform
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
import iree_peer
from benchjson import write_json

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHAPES = {"resnet18": (3, 224, 224), "resnet50": (3, 224, 224), "vit_b_16": (3, 224, 224),
          "mnist_cnn": (1, 28, 28), "vit_tiny": (1, 28, 28)}


def model_file(name):
    """Committed small models live in models/, large ones are exported once
    into models/generated/ (a ViT-B/16 export costs minutes: reuse it)."""
    for path in (ROOT / "models" / f"{name}.onnx", ROOT / "models/generated" / f"{name}.onnx"):
        if path.exists():
            return path
    base = name[: -len("_dynamo")] if name.endswith("_dynamo") else name
    exporter = "dynamo" if name.endswith("_dynamo") else "torchscript"
    subprocess.run([sys.executable, str(ROOT / "models/export_models.py"), "--which", base,
                    "--exporter", exporter, "--out", str(ROOT / "models/generated")], check=True)
    return ROOT / "models/generated" / f"{name}.onnx"


def bench_ort(path, x, threads, iters, warmup):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: x}
    for _ in range(warmup):
        sess.run(None, feed)
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        out = sess.run(None, feed)
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times)), out[0]


def bench_vitc(bindir, artifact, in_name, x, threads, iters, warmup, tmp):
    x_path = pathlib.Path(tmp) / "x.npy"
    np.save(x_path, x)
    p = subprocess.run([str(bindir / "vitc-run"), str(artifact), "--input", f"{in_name}={x_path}",
                        "--benchmark", str(iters), "--warmup", str(warmup), "--threads", str(threads)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        lines = (p.stderr or p.stdout).strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"vitc-run exit {p.returncode}")
    stats = json.loads([l for l in p.stdout.splitlines() if l.startswith("{")][-1])
    return float(stats["p50_ms"]), stats


def parse_threads(text):
    """'1,all' -> [1, os.cpu_count()] (duplicates dropped, order kept)."""
    out = []
    for t in text.split(","):
        n = os.cpu_count() if t == "all" else int(t)
        if n not in out:
            out.append(n)
    return out


def fmt(v, spec, suffix=""):
    return "n/a" if v is None else f"{v:{spec}}{suffix}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="resnet18,resnet50,vit_b_16")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", default="1,all", help="comma list of thread counts; 'all': every core")
    ap.add_argument("--peers", help="comma list of ort,iree (default: both when IREE is installed, else ort)")
    ap.add_argument("--iters", type=int, default=10, help="timed iterations (median reported)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", help="also write the results as JSON to this file ('-': stdout)")
    ap.add_argument("--build", default=os.environ.get("VITC_BUILD", "build"))
    ap.add_argument("--iree-work-dir", default=str(ROOT / "models/generated/iree"),
                    help="where IREE's compiled .vmfb files are cached")
    ap.add_argument("--iree-flags", default="", help="extra iree-compile flags (appended)")
    args = ap.parse_args()
    bindir = pathlib.Path(args.build) / "bin"
    batches = [int(b) for b in args.batches.split(",")]
    threads_list = parse_threads(args.threads)
    iree_missing = iree_peer.available()
    if args.peers is None:
        peers = ["ort"] if iree_missing else ["ort", "iree"]
        if iree_missing:
            print(f"note: IREE is not installed, so onnxruntime is the only peer ({iree_peer.INSTALL_HINT})",
                  file=sys.stderr)
    else:
        peers = args.peers.split(",")
        if set(peers) - {"ort", "iree"}:
            sys.exit(f"--peers: unknown {','.join(sorted(set(peers) - {'ort', 'iree'}))} (ort, iree)")
        if "iree" in peers and iree_missing:
            sys.exit(f"--peers iree: IREE cannot be imported: {iree_missing}")
    iree_flags = shlex.split(args.iree_flags)
    if "iree" in peers:
        print(f"IREE {iree_peer.version()}; iree-compile "
              f"{' '.join(iree_peer.IREE_COMPILE_FLAGS + iree_flags)}; one static-batch .vmfb per "
              f"(model, batch), cached in {args.iree_work_dir}", file=sys.stderr, flush=True)

    load_start = os.getloadavg()[0]
    rows = []
    compiles = []
    with tempfile.TemporaryDirectory(prefix="vitc-bench-") as tmp:
        for name in args.models.split(","):
            path = model_file(name)
            shape = SHAPES[name.removesuffix("_dynamo")]
            artifact = pathlib.Path(tmp) / f"{name}.vtc"
            t = time.perf_counter()
            p = subprocess.run([str(bindir / "vitc"), str(path), "-o", str(artifact)],
                               capture_output=True, text=True)
            compile_s = time.perf_counter() - t
            compile_err = None if p.returncode == 0 else (p.stderr.strip().splitlines() or ["?"])[-1]
            compiles.append(("vitc", name, None, None if compile_err else compile_s, compile_err, []))
            in_name = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_inputs()[0].name
            for batch in batches:
                x = np.random.default_rng(0).standard_normal((batch, *shape), dtype=np.float32)
                vmfb = iree_err = None
                if "iree" in peers:
                    try:
                        vmfb, secs, notes = iree_peer.compile_model(path, batch, args.iree_work_dir, iree_flags)
                        compiles.append(("iree", name, batch, secs, None, notes))
                    except Exception as e:  # report and go on: a benchmark, not a test
                        iree_err = str(e).splitlines()[0]
                        compiles.append(("iree", name, batch, None, iree_err, []))
                    print(f"  {name} batch {batch}: IREE "
                          + (iree_err or ("cached" if secs is None else f"compiled in {secs:.1f} s")),
                          file=sys.stderr, flush=True)
                ref = None
                for threads in threads_list:
                    row = {"model": name, "batch": batch, "threads": threads,
                           "vitc_ms": None, "vitc_img_s": None,
                           "vitc_compile_s": None if compile_err else compile_s, "error": compile_err}
                    if "ort" in peers:
                        ort_ms, ref = bench_ort(path, x, threads, args.iters, args.warmup)
                        row.update(ort_ms=ort_ms, ort_img_s=batch * 1e3 / ort_ms, ratio=None)
                    if "iree" in peers:
                        row.update(iree_ms=None, iree_img_s=None, ratio_iree=None,
                                   iree_max_diff=None, iree_error=iree_err)
                        if vmfb:
                            if ref is None:  # onnxruntime's output, untimed
                                sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
                                ref = sess.run(None, {in_name: x})[0]
                            try:
                                ms, y, stats = iree_peer.bench(vmfb, x, threads, args.iters, args.warmup, tmp)
                                row.update(iree_ms=ms, iree_img_s=batch * 1e3 / ms, iree_stats=stats)
                                if ref is not None:
                                    # Scaled by the reference's largest magnitude.
                                    row["iree_max_diff"] = float(np.abs(y - ref).max() / max(np.abs(ref).max(), 1e-30))
                            except Exception as e:
                                row["iree_error"] = str(e)
                    if not compile_err:
                        try:
                            ms, stats = bench_vitc(bindir, artifact, in_name, x, threads,
                                                   args.iters, args.warmup, tmp)
                            row.update(vitc_ms=ms, vitc_img_s=batch * 1e3 / ms, vitc_stats=stats)
                        except Exception as e:
                            row["error"] = str(e)
                    if row["vitc_ms"] and row.get("ort_ms"):
                        row["ratio"] = row["ort_ms"] / row["vitc_ms"]
                    if row["vitc_ms"] and row.get("iree_ms"):
                        row["ratio_iree"] = row["iree_ms"] / row["vitc_ms"]
                    rows.append(row)
                    parts = [f"vitc {row['vitc_ms']:.1f} ms" if row["vitc_ms"] else f"vitc: {row['error']}"]
                    if "ort" in peers:
                        parts.append(f"ORT {row['ort_ms']:.1f} ms")
                    if "iree" in peers:
                        parts.append(f"IREE {row['iree_ms']:.1f} ms (max diff {fmt(row['iree_max_diff'], '.1e')})"
                                     if row["iree_ms"] else f"IREE: {row['iree_error']}")
                    print(f"  {name} batch {batch} threads {threads}: " + ", ".join(parts),
                          file=sys.stderr, flush=True)

    print(f"\nCPU fp32, median of {args.iters} after {args.warmup} warmup "
          f"({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load avg {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)")
    head = f"{'model':<18}{'batch':>6}{'threads':>8}{'vitc img/s':>12}"
    if "ort" in peers:
        head += f"{'ORT img/s':>11}{'vitc/ORT':>10}"
    if "iree" in peers:
        head += f"{'IREE img/s':>12}{'vitc/IREE':>11}{'IREE diff':>11}"
    print(head)
    for r in rows:
        line = f"{r['model']:<18}{r['batch']:>6}{r['threads']:>8}{fmt(r['vitc_img_s'], '.3g'):>12}"
        if "ort" in peers:
            line += f"{r['ort_img_s']:>11.1f}{fmt(r['ratio'], '.3g', 'x'):>10}"
        if "iree" in peers:
            iree = "failed" if r["iree_error"] else fmt(r["iree_img_s"], ".3g")
            line += (f"{iree:>12}{fmt(r['ratio_iree'], '.3g', 'x'):>11}"
                     f"{fmt(r['iree_max_diff'], '.1e'):>11}")
        print(line)
    seen = set()
    for r in rows:
        for who, err in (("vitc", r["error"]), ("IREE", r.get("iree_error"))):
            if err and (who, r["model"], r["batch"], err) not in seen:
                seen.add((who, r["model"], r["batch"], err))
                print(f"{who} {r['model']} batch {r['batch']}: {err}")
    for who, name, batch, secs, err, notes in compiles:
        if secs is not None or notes:
            print(f"{who} compile {name}" + (f" batch {batch}" if batch else "")
                  + (f": {secs:.1f} s" if secs is not None else ": cached") + "".join(f"; {n}" for n in notes))
    if args.json:
        write_json(args.json, {"threads": threads_list, "iters": args.iters, "warmup": args.warmup,
                               "peers": peers, "load_avg": [load_start, os.getloadavg()[0]],
                               "iree": {"version": iree_peer.version(),
                                        "flags": iree_peer.IREE_COMPILE_FLAGS + iree_flags,
                                        "static_batch": True} if "iree" in peers else None,
                               "compile_s": [{"tool": c[0], "model": c[1], "batch": c[2], "seconds": c[3],
                                              "error": c[4]} for c in compiles],
                               "results": rows})


if __name__ == "__main__":
    main()
