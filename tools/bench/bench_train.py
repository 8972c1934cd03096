#!/usr/bin/env python3
"""CPU training benchmark (issue #4): vitc vs PyTorch eager, same run, same
machine, same thread count, same hyperparameters and the same initial weights.
A benchmark, not a test: it never fails on a slow or inaccurate result, only
on a tool that does not work.

  tools/bench/bench_train.py [--models mnist_cnn,vit_tiny] [--threads 1] [--bf16]
                             [--limit N] [--json results.json] [--work-dir DIR]

For each model: one train-mode ONNX export (models/export_models.py's
classes, TrainingMode.TRAINING, no constant folding, so initializer names are
PyTorch's parameter names); PyTorch loads exactly those initializers into its
module, vitc compiles that file (`vitc --mode train --optimizer adamw`, fp32,
and bf16 with --bf16). Both train 1 epoch of Fashion-MNIST, shuffled, no
augmentation, no validation split, batch 64, AdamW(lr 1e-3, weight decay 0.01,
betas 0.9/0.999, eps 1e-8) at a constant rate, cross-entropy, dropout as in
the model, then report the test accuracy. The pixels are normalised the way
vitc-run does for fashion-mnist: (pixel/255 - 0.2860) / 0.3530. PyTorch
trains on exactly the batches vitc-run does, in its order (each epoch's
permutation for --seed, tools/conformance/vitc_order.py): one epoch's test
accuracy moves by a point or more with the data order alone, which made
earlier comparisons with two independent shuffles look like a gap. Dropout
masks still differ (each side has its own generator), so models with
dropout agree in distribution, not bit for bit; the ViTs have none and end
within a few hundredths of a point. PyTorch trains in fp32 only: a bf16 row
compares vitc bf16 with PyTorch fp32 and vitc fp32.

Throughput is images / seconds of the training epoch loop on each side:
vitc-run's metrics `img_per_s` (its timer covers batch assembly, normalisation
and train_step, not loading, compilation or evaluation), and for PyTorch the
same span (batch gather from the preloaded tensor, forward, backward, step,
loss/accuracy bookkeeping). The sides run one after the other, never at once;
`cpu` is the process CPU time over wall time (1.0 per thread when the machine
is not contended: vitc-run's covers its whole process, PyTorch's only the
epoch), with the load average, to show how shared the machine was.
"""
import argparse
import json
import os
import pathlib
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[2]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="mnist_cnn,vit_tiny")
    ap.add_argument("--threads", type=int, default=1, help="threads of both sides (default 1)")
    ap.add_argument("--bf16", action="store_true", help="also train vitc's --precision bf16 build")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--limit", type=int, help="train on the first N training images only")
    ap.add_argument("--limit-test", type=int, help="evaluate on the first N test images only")
    ap.add_argument("--seed", type=int, default=0, help="data order and dropout seed of both sides")
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--sides", default="vitc,torch", help="which sides to run (vitc, torch or both)")
    ap.add_argument("--json", help="also write the results as JSON to this file ('-': stdout)")
    ap.add_argument("--work-dir", help="keep the ONNX exports and artifacts here (default: a temp dir)")
    ap.add_argument("--build", default=os.environ.get("VITC_BUILD", "build"))
    args = ap.parse_args()
    if args.threads < 1 or args.epochs < 1 or args.batch_size < 1:
        ap.error("--threads, --epochs and --batch-size must be >= 1")
    if bad := set(args.sides.split(",")) - {"vitc", "torch"}:
        ap.error(f"unknown --sides {sorted(bad)}")
    return args


ARGS = parse_args()
# Before torch is imported: its OpenMP/MKL pools read these once.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import fashion_mnist  # noqa: E402
from benchjson import write_json

sys.path[:0] = [str(ROOT / "models"), str(ROOT / "tools/conformance")]
import export_models  # noqa: E402
import vitc_order  # noqa: E402


def load_split(data_dir, prefix, limit):
    """(images f32 [N,1,28,28] normalised as vitc-run does, labels i64 [N])."""
    x, y = fashion_mnist.load_split(data_dir, prefix, limit)
    return torch.from_numpy(x), torch.from_numpy(y)


def train_torch(model, train, test, args):
    """One timed epoch loop per --epochs, then the test accuracy."""
    torch.manual_seed(args.seed)  # dropout
    x_all, y_all = train
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=0.01)
    seconds = cpu = 0.0
    samples = correct = 0
    loss_sum = 0.0
    for epoch in range(args.epochs):
        model.train()
        order = torch.tensor(vitc_order.permutation(len(y_all), args.seed, epoch))
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for idx in order.split(args.batch_size):
            x, y = x_all[idx], y_all[idx]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(y)
            correct += int((logits.argmax(1) == y).sum())
            samples += len(y)
        seconds += time.perf_counter() - wall0
        cpu += time.process_time() - cpu0
    model.eval()
    hits = 0
    with torch.no_grad():
        for x, y in zip(test[0].split(256), test[1].split(256)):
            hits += int((model(x).argmax(1) == y).sum())
    return {"img_s": samples / seconds, "epoch_s": seconds, "cpu": cpu / seconds,
            "train_loss": loss_sum / samples, "train_acc": correct / samples,
            "test_acc": hits / len(test[1])}


def first_error_line(text, fallback):
    lines = [l for l in text.strip().splitlines() if "error" in l.lower()] or text.strip().splitlines()
    return lines[0] if lines else fallback


def compile_vitc(bindir, onnx_path, artifact, precision, args):
    t = time.perf_counter()
    p = subprocess.run([str(bindir / "vitc"), str(onnx_path), "--mode", "train", "--optimizer", "adamw",
                        "--lr", repr(args.lr), "--precision", precision, "-o", str(artifact)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"vitc --precision {precision}: "
                           + first_error_line(p.stderr, f"exit {p.returncode}"))
    return time.perf_counter() - t


def train_vitc(bindir, artifact, metrics, train_images, args):
    cmd = [str(bindir / "vitc-run"), str(artifact), "--dataset", "fashion-mnist",
           "--data-dir", args.data_dir, "--epochs", str(args.epochs),
           "--batch-size", str(args.batch_size), "--lr", repr(args.lr), "--schedule", "constant",
           "--val-split", "0", "--seed", str(args.seed), "--threads", str(args.threads),
           "--log-every", "1000000", "--metrics", str(metrics)]
    if args.limit:
        cmd += ["--limit-train", str(args.limit)]
    if args.limit_test:
        cmd += ["--limit-test", str(args.limit_test)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError("vitc-run: " + first_error_line(p.stderr, f"exit {p.returncode}"))
    lines = [json.loads(l) for l in metrics.read_text().splitlines() if l.strip()]
    epochs = [l for l in lines if "epoch" in l]
    test = [l for l in lines if "test_acc" in l][-1]
    seconds = sum(train_images / e["img_per_s"] for e in epochs)  # the loop, not evaluation
    samples = train_images * len(epochs)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"img_s": samples / seconds, "epoch_s": seconds, "cpu": cpu / wall,
            "train_loss": epochs[-1]["train_loss"], "train_acc": epochs[-1]["train_acc"],
            "test_acc": test["test_acc"],
            "command": " ".join(cmd)}


def source_state():
    """The commit the vitc build comes from, and whether the tree had edits."""
    def git(*cmd):
        p = subprocess.run(["git", "-C", str(ROOT), *cmd], capture_output=True, text=True)
        return p.stdout.strip() if p.returncode == 0 else None
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(status) if status is not None else None}


def log(message):
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {message}", file=sys.stderr, flush=True)


def bench_model(name, work, bindir, train, test, args):
    """Rows for one model: vitc fp32 (with the PyTorch side) and vitc bf16."""
    sides = args.sides.split(",")
    onnx_path = export_models.export_train(name, work / f"{name}_train.onnx")
    torch_model = export_models.module_from_onnx(name, onnx_path)
    rows = []
    for precision in ("fp32", "bf16") if args.bf16 else ("fp32",):
        row = {"model": name, "precision": precision, "vitc": None, "torch": None, "error": None}
        rows.append(row)
        if "vitc" not in sides:
            continue
        try:
            artifact = work / f"{name}_{precision}.vtc"
            log(f"{name}: vitc compile ({precision})")
            row["vitc_compile_s"] = compile_vitc(bindir, onnx_path, artifact, precision, args)
            log(f"{name}: vitc-run ({precision})")
            row["vitc"] = train_vitc(bindir, artifact, work / f"{name}_{precision}.jsonl",
                                     len(train[1]), args)
            row["vitc"]["load_after"] = os.getloadavg()[0]
            log(f"{name}: vitc {precision} {row['vitc']['img_s']:.0f} img/s, "
                f"test acc {100 * row['vitc']['test_acc']:.2f}%")
        except RuntimeError as e:  # report and go on: a benchmark, not a test
            row["error"] = str(e)
            log(f"{name}: {e}")
    if "torch" in sides:
        log(f"{name}: PyTorch")
        result = train_torch(torch_model, train, test, args)
        result["load_after"] = os.getloadavg()[0]
        log(f"{name}: PyTorch {result['img_s']:.0f} img/s, test acc {100 * result['test_acc']:.2f}%")
        for row in rows:
            row["torch"] = result
    fp32 = rows[0]["vitc"]
    for row in rows:
        v, t = row["vitc"], row["torch"]
        row["ratio"] = v["img_s"] / t["img_s"] if v and t else None
        # The ratio had each side had its CPU share to itself: on a loaded
        # machine a side that was descheduled more looks slower than it is.
        row["ratio_cpu_adjusted"] = row["ratio"] * t["cpu"] / v["cpu"] if v and t else None
        row["acc_delta_vs_torch"] = 100 * (v["test_acc"] - t["test_acc"]) if v and t else None
        row["acc_delta_vs_fp32"] = (100 * (v["test_acc"] - fp32["test_acc"])
                                    if v and fp32 and row["precision"] != "fp32" else None)
    return rows


def print_table(rows, train_images, args):
    def fmt(x, spec, suffix=""):
        return "n/a" if x is None else f"{x:{spec}}{suffix}"

    def percent(side):
        return fmt(100 * side["test_acc"] if side else None, ".2f", "%")
    print(f"\nTraining, Fashion-MNIST, {args.epochs} epoch(s) of "
          f"{train_images} images, batch {args.batch_size}, AdamW lr {args.lr:g}, "
          f"{args.threads} thread(s), torch {torch.__version__} "
          f"({platform.processor() or platform.machine()}, {os.cpu_count()} cores)")
    head = (f"{'model':<11}{'prec':<6}{'vitc img/s':>11}{'torch img/s':>12}{'ratio':>7}{'cpu-adj':>9}"
            f"{'vitc acc':>10}{'torch acc':>10}{'d torch':>9}{'d fp32':>8}{'cpu v/t':>11}{'load v/t':>10}")
    print(head)
    for r in rows:
        v, t = r["vitc"] or {}, r["torch"] or {}
        cpu = f"{fmt(v.get('cpu'), '.2f')}/{fmt(t.get('cpu'), '.2f')}"
        load = f"{fmt(v.get('load_after'), '.1f')}/{fmt(t.get('load_after'), '.1f')}"
        print(f"{r['model']:<11}{r['precision']:<6}{fmt(v.get('img_s'), '.0f'):>11}"
              f"{fmt(t.get('img_s'), '.0f'):>12}{fmt(r['ratio'], '.2f', 'x'):>7}"
              f"{fmt(r['ratio_cpu_adjusted'], '.2f', 'x'):>9}"
              f"{percent(r['vitc']):>10}{percent(r['torch']):>10}"
              f"{fmt(r['acc_delta_vs_torch'], '+.2f'):>9}{fmt(r['acc_delta_vs_fp32'], '+.2f'):>8}"
              f"{cpu:>11}{load:>10}")
    print("ratio = vitc img/s / PyTorch img/s (target >= 1.5); cpu-adj = ratio * torch cpu / vitc cpu; "
          "d torch / d fp32 = test accuracy points vs PyTorch / vs vitc fp32 (target: within 1); "
          "cpu = CPU time / wall time (vitc: whole vitc-run; torch: the epoch loop); "
          "load = 1-min load average after the side ran")
    for r in rows:
        if r["error"]:
            print(f"vitc {r['model']} {r['precision']}: {r['error']}")


def main():
    args = ARGS
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    warnings.filterwarnings("ignore")  # exporter chatter; failures still raise
    bindir = pathlib.Path(args.build).resolve() / "bin"
    if "vitc" in args.sides.split(","):
        for tool in ("vitc", "vitc-run"):
            if not (bindir / tool).exists():
                sys.exit(f"bench_train: {bindir / tool} not found (build it, or pass --build DIR)")
    train = load_split(args.data_dir, "train", args.limit)
    test = load_split(args.data_dir, "t10k", args.limit_test)
    with tempfile.TemporaryDirectory(prefix="vitc-bench-train-") as tmp:
        work = pathlib.Path(args.work_dir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        rows = []
        for name in args.models.split(","):
            rows += bench_model(name, work, bindir, train, test, args)
    print_table(rows, len(train[1]), args)
    if args.json:
        write_json(args.json, {"threads": args.threads, "epochs": args.epochs, "batch_size": args.batch_size,
                           "lr": args.lr, "train_images": len(train[1]), "test_images": len(test[1]),
                           "torch": torch.__version__, "cpu_count": os.cpu_count(),
                           "vitc_source": source_state(), "vitc_build": str(bindir.parent),
                           "results": rows})


if __name__ == "__main__":
    main()
