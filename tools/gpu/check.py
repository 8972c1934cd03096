"""The GPU check, run from an extracted bundle (tools/gpu/bundle.sh) by
tools/gpu/check.sh: every step on the device, each timed and bounded, all
results into one JSON file and one log. Also runs here on the emulated GPU
(a bundle built for cuda-emulator) to rehearse the script before GPU time is
spent; the results then say "cuda-emulator" and are never GPU results.

Steps:
  devices     vitc-run --devices
  unit        the CUDA device's unit tests (GPU tests skip without a GPU)
  models      each model's artifact against onnxruntime at batch 1 and 8:
              max |vitc - ort| <= 1e-3 * max(1, |ort|)
  train       20 steps of the GPU target's training step against the CPU
              target's, per-step losses within 1e-4 (TensorBoard scalars)
  epoch       one epoch of the MNIST CNN on the bundled Fashion-MNIST subset
  bench       inference throughput and latency at batch 1 and 256, with
              PyTorch eager and torch.compile on the same architecture
              where a CUDA PyTorch exists
  large       (bundles built with --large) ViT-B/16 inference in fp32 and
              bf16 at batch 1 and 256, its bf16 training step at batch 128
              and ResNet-50's at 256, their weights refilled from a seed
              (timing only), each with PyTorch eager and torch.compile
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
QUICK = False  # --quick: the rehearsal's smaller epoch and benchmark
BIN = HERE / "bin"
RESULTS = {"steps": {}}
LOG = []


def log(line):
    print(line, flush=True)
    LOG.append(line)


def run(args, timeout, env=None):
    start = time.time()
    try:
        proc = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                              timeout=timeout, env=env)
        return proc.returncode, proc.stdout, proc.stderr, time.time() - start
    except subprocess.TimeoutExpired as e:
        return 124, e.stdout or "", f"timed out after {timeout} s", time.time() - start


def step(name):
    """Decorator: runs the step, records ok/error and its seconds."""
    def wrap(fn):
        def go(*args):
            start = time.time()
            log(f"=== {name}")
            try:
                detail = fn(*args)
                RESULTS["steps"][name] = {"ok": True, "seconds": round(time.time() - start, 1),
                                          **(detail or {})}
                log(f"--- {name}: ok ({time.time() - start:.1f} s)")
            except Exception as e:  # a failed step must not stop the others
                RESULTS["steps"][name] = {"ok": False, "error": str(e)[-2000:],
                                          "seconds": round(time.time() - start, 1)}
                log(f"--- {name}: FAILED: {str(e)[-2000:]}")
        return go
    return wrap


@step("devices")
def check_devices():
    rc, out, err, _ = run([BIN / "vitc-run", "--devices"], 60)
    log(out + err)
    if rc != 0:
        raise RuntimeError(f"vitc-run --devices exited {rc}")
    return {"output": out.strip()}


@step("unit")
def check_unit():
    rc, out, err, _ = run([BIN / "vitc-cuda-driver-tests", "--gtest_brief=1"], 120)
    log(out[-3000:] + err[-1000:])
    skipped = out.count(": Skipped")
    if rc != 0:
        raise RuntimeError(f"unit tests failed (exit {rc})")
    return {"skipped": skipped}


def ort_reference(onnx_path, x):
    import onnxruntime as ort
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    return inp.name, out.name, sess.run(None, {inp.name: x})[0]


@step("models")
def check_models(tmp):
    detail = {}
    for onnx_path in sorted((HERE / "models").glob("*.onnx")):
        name = onnx_path.stem
        artifact = HERE / "artifacts" / f"{name}.vtc"
        rng = np.random.default_rng(1234)
        for batch in (1, 8):
            x = rng.standard_normal((batch, 1, 28, 28), dtype=np.float32)
            in_name, out_name, ref = ort_reference(onnx_path, x)
            np.save(tmp / "x.npy", x)
            rc, out, err, secs = run([BIN / "vitc-run", artifact, "--input",
                                      f"{in_name}={tmp / 'x.npy'}", "--output-dir", tmp / "out"], 120)
            if rc != 0:
                raise RuntimeError(f"{name} batch {batch}: vitc-run exited {rc}: {err.strip()}")
            got = np.load(tmp / "out" / f"{out_name}.npy")
            err_max = float(np.abs(got.astype(np.float64) - ref).max())
            excess = np.abs(got.astype(np.float64) - ref) - 1e-3 * np.maximum(1.0, np.abs(ref))
            ok = bool(got.shape == ref.shape and np.isfinite(got).all() and excess.max() <= 0)
            detail[f"{name}@{batch}"] = {"max_abs_err": err_max, "ok": ok, "seconds": round(secs, 2)}
            log(f"{name} batch {batch}: max |diff| {err_max:.2e} {'ok' if ok else 'FAIL'}")
            if not ok:
                raise RuntimeError(f"{name} batch {batch}: max |diff| {err_max:.3e} over 1e-3")
    return {"models": detail}


def train_losses(artifact, tmp, tag, extra, timeout):
    tb = tmp / f"tb-{tag}"
    shutil.rmtree(tb, ignore_errors=True)  # a rerun's event files would add up
    args = [BIN / "vitc-run", artifact, "--dataset", "npy", "--data-dir", HERE / "data",
            "--normalize", "0.2860,0.3530", "--val-split", "0", "--seed", "3",
            "--tensorboard", tb, "--metrics", tmp / f"metrics-{tag}.jsonl"] + extra
    rc, out, err, secs = run(args, timeout)
    if rc != 0:
        raise RuntimeError(f"{tag}: vitc-run exited {rc}: {err.strip()[-1500:]}")
    from tensorboard.backend.event_processing import event_accumulator
    acc = event_accumulator.EventAccumulator(str(tb), size_guidance={"scalars": 0})
    acc.Reload()
    scalars = {tag: [e.value for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
    return scalars, out, secs


@step("train")
def check_train(tmp):
    detail = {}
    for model in ("mnist_cnn", "cnn_bn_train"):
        extra = ["--batch-size", "16", "--max-steps", "20", "--limit-test", "64", "--log-every", "5"]
        cpu, _, _ = train_losses(HERE / "artifacts" / f"{model}.train.cpu", tmp, f"{model}-cpu",
                                 extra, 300)
        gpu, _, secs = train_losses(HERE / "artifacts" / f"{model}.train.gpu", tmp,
                                    f"{model}-gpu", extra, 300)
        a, b = gpu["train/loss"], cpu["train/loss"]
        worst = max(abs(x - y) / max(1.0, abs(y)) for x, y in zip(a, b))
        detail[model] = {"steps": len(a), "worst_rel_diff": float(worst),
                         "gpu_seconds": round(secs, 1)}
        log(f"{model}: {len(a)} steps, worst |gpu - cpu| / max(1, |cpu|) = {worst:.2e}")
        if len(a) != 20 or len(b) != 20 or worst > 1e-4:
            raise RuntimeError(f"{model}: losses differ by {worst:.3e} (limit 1e-4)")
    return detail


@step("epoch")
def check_epoch(tmp):
    limit = ["--limit-train", "1024"] if QUICK else []
    scalars, out, secs = train_losses(
        HERE / "artifacts" / "mnist_cnn.train.gpu", tmp, "epoch",
        ["--epochs", "1", "--batch-size", "64", "--log-every", "50"] + limit, 420)
    log(out[-1500:])
    acc = scalars.get("test/accuracy", [None])[-1]
    ips = scalars.get("epoch/images_per_second", [None])[-1]
    log(f"one epoch ({1024 if QUICK else 12000} images): test accuracy {acc}, "
        f"{ips} images/s, {secs:.1f} s")
    return {"test_accuracy": acc, "images_per_second": ips, "wall_seconds": round(secs, 1)}


def bench_vitc(artifact, shape, tmp, iters):
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    np.save(tmp / "bx.npy", x)
    rc, out, err, _ = run([BIN / "vitc-run", artifact, "--input", tmp / "bx.npy",
                           "--benchmark", iters, "--warmup", 3], 300)
    if rc != 0:
        raise RuntimeError(f"benchmark of {artifact.name} exited {rc}: {err.strip()}")
    return json.loads(out.strip().splitlines()[-1])


def bench_torch(name, batch, iters):
    """PyTorch eager and torch.compile on the model's architecture (random
    weights: timing only), on the GPU, or None without CUDA PyTorch."""
    try:
        import torch
        if not torch.cuda.is_available():
            return None
        sys.path.insert(0, str(HERE / "models"))
        import export_models
        model, _ = export_models.build(name.replace("_dynamo", ""))
        model = model.eval().cuda()
        x = torch.randn(batch, 1, 28, 28, device="cuda")
        result = {}
        for label, fn in (("eager", model), ("compile", torch.compile(model))):
            with torch.no_grad():
                for _ in range(3):
                    fn(x)
                torch.cuda.synchronize()
                start = time.time()
                for _ in range(iters):
                    fn(x)
                torch.cuda.synchronize()
            result[label + "_ms"] = (time.time() - start) * 1000 / iters
        return result
    except Exception as e:
        return {"error": str(e)[-300:]}


@step("bench")
def check_bench(tmp):
    detail = {}
    for name in ("mnist_cnn", "vit_tiny"):
        for batch in (1, 16) if QUICK else (1, 256):
            iters = 3 if QUICK else 50 if batch == 1 else 20
            vitc = bench_vitc(HERE / "artifacts" / f"{name}.vtc", (batch, 1, 28, 28), tmp, iters)
            torch_times = bench_torch(name, batch, iters)
            entry = {"vitc": vitc, "torch": torch_times,
                     "images_per_second": batch * 1000.0 / vitc["mean_ms"]}
            if torch_times and "compile_ms" in torch_times:
                entry["ratio_vs_torch_compile"] = torch_times["compile_ms"] / vitc["mean_ms"]
            detail[f"{name}@{batch}"] = entry
            log(f"{name} batch {batch}: vitc {vitc['mean_ms']:.3f} ms (p50 {vitc['p50_ms']:.3f}), "
                f"torch {torch_times}")
    return detail


def peer(args, timeout):
    """The PyTorch peer (torch_peer.py) in a process of its own, or None."""
    if not (HERE / "torch_peer.py").exists():
        return None
    rc, out, err, _ = run([sys.executable, HERE / "torch_peer.py"] + args, timeout)
    if rc != 0:
        return {"error": (err.strip() or out.strip())[-300:]}
    return json.loads(out.strip().splitlines()[-1])


def filled_weights(name, tmp):
    """The weights file of large/<name>.vtc, refilled from seed 0."""
    out = tmp / f"{name}.vtw"
    rc, _, err, _ = run([sys.executable, HERE / "weights.py", "fill", HERE / "large" / f"{name}.json",
                         HERE / "large" / f"{name}.slim.npz", "-o", out, "--seed", "0"], 300)
    if rc != 0:
        raise RuntimeError(f"filling the weights of {name}: {err.strip()}")
    return out


def train_step_ms(name, tmp, batch, weights):
    """Milliseconds per training step: two runs of the trainer (4 and 12
    steps) on resized Fashion-MNIST, their difference over 8 steps, so
    loading and the first step's set-up cancel out."""
    times = []
    for steps in (4, 12):
        args = [BIN / "vitc-run", HERE / "large" / f"{name}.vtc", "--weights", weights,
                "--dataset", "npy", "--data-dir", HERE / "data", "--resize",
                "--replicate-channels", "--val-split", "0", "--limit-test", "16",
                "--batch-size", batch, "--max-steps", steps, "--log-every", 100]
        rc, out, err, secs = run(args, 400)
        if rc != 0:
            raise RuntimeError(f"{name}: vitc-run exited {rc}: {err.strip()[-1500:]}")
        times.append(secs)
    return (times[1] - times[0]) * 1000 / 8


@step("large")
def check_large(tmp):
    if not (HERE / "large").is_dir():
        log("no large models in this bundle (tools/gpu/bundle.sh --large)")
        return {"skipped": True}
    detail = {}
    iters = 2 if QUICK else 10
    for name, dtype in (("vit_b_16", "fp32"), ("vit_b_16.bf16", "bf16")):
        weights = filled_weights(name, tmp)
        for batch in ((1,) if QUICK else (1, 256)):
            x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224), dtype=np.float32)
            np.save(tmp / "lx.npy", x)
            rc, out, err, _ = run([BIN / "vitc-run", HERE / "large" / f"{name}.vtc", "--weights",
                                   weights, "--input", tmp / "lx.npy", "--benchmark", iters,
                                   "--warmup", 2], 400)
            if rc != 0:
                raise RuntimeError(f"{name} batch {batch}: vitc-run exited {rc}: {err.strip()}")
            vitc = json.loads(out.strip().splitlines()[-1])
            entry = {"vitc": vitc, "images_per_second": batch * 1000.0 / vitc["mean_ms"]}
            if RESULTS["target"] == "cuda":
                for how in ("eager", "compile"):
                    entry[f"torch_{how}"] = peer(["vit_b_16", "infer", str(batch), dtype, how,
                                                  str(iters)], 300)
                torch_ms = (entry["torch_compile"] or {}).get("ms")
                if torch_ms:
                    entry["ratio_vs_torch_compile"] = torch_ms / vitc["mean_ms"]
            detail[f"{name}@{batch}"] = entry
            log(f"{name} batch {batch}: {entry}")
    if not QUICK:
        for name, model, batch in (("vit_b_16.train.bf16", "vit_b_16", 128),
                                   ("resnet50.train.bf16", "resnet50", 256)):
            weights = filled_weights(name, tmp)
            ms = train_step_ms(name, tmp, batch, weights)
            entry = {"vitc_ms_per_step": ms, "images_per_second": batch * 1000.0 / ms}
            if RESULTS["target"] == "cuda":
                for how in ("eager", "compile"):
                    entry[f"torch_{how}"] = peer([model, "train", str(batch), "bf16", how, "5"], 300)
                torch_ms = (entry["torch_compile"] or {}).get("ms")
                if torch_ms:
                    entry["ratio_vs_torch_compile"] = torch_ms / ms
            detail[f"{name}@{batch}"] = entry
            log(f"{name} batch {batch}: {entry}")
    return detail


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True, help="directory for gpu-check.json and .log")
    parser.add_argument("--only", default="", help="comma-separated steps to run")
    parser.add_argument("--quick", action="store_true",
                        help="a 1024-image epoch and short benchmarks (the emulated GPU's rehearsal)")
    args = parser.parse_args()
    global QUICK
    QUICK = args.quick
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "work"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    RESULTS["target"] = (HERE / "TARGET").read_text().strip()
    RESULTS["date"] = time.strftime("%Y-%m-%d %H:%M:%S")
    log(f"GPU check of a {RESULTS['target']} bundle"
        + (" (the emulated GPU: a rehearsal, not a GPU result)"
           if RESULTS["target"] == "cuda-emulator" else ""))
    steps = {"devices": check_devices, "unit": check_unit, "models": check_models,
             "train": check_train, "epoch": check_epoch, "bench": check_bench,
             "large": check_large}
    only = [s for s in args.only.split(",") if s]
    for name, fn in steps.items():
        if only and name not in only:
            continue
        fn() if name in ("devices", "unit") else fn(tmp)
    (out / "gpu-check.json").write_text(json.dumps(RESULTS, indent=1))
    (out / "gpu-check.log").write_text("\n".join(LOG) + "\n")
    failed = [n for n, r in RESULTS["steps"].items() if not r["ok"]]
    log("all steps passed" if not failed else f"FAILED steps: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
