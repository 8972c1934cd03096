#!/usr/bin/env python3
"""CPU inference benchmark: vitc vs onnxruntime, same run, same thread count,
fp32, on the same ONNX files (ResNet-18 and ViT-B/16 by default, batch 1 and
8). Prints median images/s of each and the ratio vitc/ORT. A benchmark, not a
test: it never fails on a slow result, only on a tool that does not work.

  tools/bench/bench_cpu.py [--models resnet18,vit_b_16] [--batches 1,8] [--threads 1]
                           [--iters 10] [--warmup 2] [--json results.json]

ORT runs with intra_op_num_threads=T, inter_op_num_threads=1 and sequential
execution; vitc with `vitc-run --benchmark N --warmup K --threads T`, whose
own timer excludes process start-up and artifact loading, as ours does for ORT.
One artifact per model is compiled with a dynamic batch dim and reused for
every batch size, as a deployed model would be.
"""
import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from benchjson import write_json

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHAPES = {"resnet18": (3, 224, 224), "vit_b_16": (3, 224, 224),
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
        sess.run(None, feed)
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times))


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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="resnet18,vit_b_16")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iters", type=int, default=10, help="timed iterations (median reported)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", help="also write the results as JSON to this file ('-': stdout)")
    ap.add_argument("--build", default=os.environ.get("VITC_BUILD", "build"))
    args = ap.parse_args()
    bindir = pathlib.Path(args.build) / "bin"
    batches = [int(b) for b in args.batches.split(",")]

    rows = []
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
            in_name = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_inputs()[0].name
            for batch in batches:
                x = np.random.default_rng(0).standard_normal((batch, *shape), dtype=np.float32)
                ort_ms = bench_ort(path, x, args.threads, args.iters, args.warmup)
                row = {"model": name, "batch": batch, "threads": args.threads,
                       "ort_ms": ort_ms, "ort_img_s": batch * 1e3 / ort_ms,
                       "vitc_ms": None, "vitc_img_s": None, "ratio": None,
                       "vitc_compile_s": None if compile_err else compile_s, "error": compile_err}
                if not compile_err:
                    try:
                        ms, stats = bench_vitc(bindir, artifact, in_name, x, args.threads,
                                               args.iters, args.warmup, tmp)
                        row.update(vitc_ms=ms, vitc_img_s=batch * 1e3 / ms, vitc_stats=stats,
                                   ratio=ort_ms / ms)
                    except Exception as e:  # report and go on: a benchmark, not a test
                        row["error"] = str(e)
                rows.append(row)
                print(f"  {name} batch {batch}: ORT {ort_ms:.1f} ms"
                      + (f", vitc {row['vitc_ms']:.1f} ms" if row["vitc_ms"] else f", vitc: {row['error']}"),
                      file=sys.stderr, flush=True)

    print(f"\nCPU fp32, {args.threads} thread(s), median of {args.iters} after {args.warmup} warmup "
          f"({platform.processor() or platform.machine()}, load avg {os.getloadavg()[0]:.1f})")
    print(f"{'model':<18}{'batch':>6}{'vitc img/s':>12}{'ORT img/s':>12}{'vitc/ORT':>10}")
    for r in rows:
        v = f"{r['vitc_img_s']:.3g}" if r["vitc_img_s"] else "n/a"
        ratio = f"{r['ratio']:.3g}x" if r["ratio"] else "n/a"
        print(f"{r['model']:<18}{r['batch']:>6}{v:>12}{r['ort_img_s']:>12.1f}{ratio:>10}")
    for r in rows:
        if r["error"]:
            print(f"vitc {r['model']} batch {r['batch']}: {r['error']}")
    if args.json:
        write_json(args.json, {"threads": args.threads, "iters": args.iters, "warmup": args.warmup,
                           "results": rows})


if __name__ == "__main__":
    main()
