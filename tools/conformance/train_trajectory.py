#!/usr/bin/env python3
"""Training trajectories, vitc against PyTorch, from the same weights over
the same batches (issue #13: "settle what happens over a whole epoch").

  tools/conformance/train_trajectory.py [--models vit_tiny,vit_encoder,mnist_cnn]
      [--seeds 0,1,2,3,4] [--limit N] [--threads 1] [--vitc-run] [--json out.json]

For each model one train-mode export (models/export_models.py) gives both
sides their initial weights. For each seed, PyTorch's permutation
(torch.randperm with a generator seeded by it) orders the training set;
batch 64, the last batch partial, AdamW(lr 1e-3, weight decay 0.01) at a
constant rate, cross-entropy, one epoch; then test accuracy on the 10000
test images. PyTorch trains its module (torch.optim.AdamW, fp32); vitc trains
the compiled step (`vitc --mode train --optimizer adamw`) through the Python
binding (runtime/python/vitc), fed the very same batches in the same order.
Dropout masks differ between the sides (each has its own generator).

Reported per (model, seed): the loss of both sides at each step (kept in
the JSON), the first step where they differ by more than 1e-3 relative, the
mean loss of both over the first and last 100 steps, and both test
accuracies; per model, the paired accuracy difference over the seeds (mean
and standard deviation), and with --vitc-run the accuracies of vitc-run's own
training loop (its own loader and shuffle, the same seeds) for comparison.
Outside the test suite: an epoch per side and seed takes 15-60 s on one
core. tests/e2e/test_train_trajectory.py runs a short version.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "models"), str(ROOT / "tools/bench"), str(ROOT / "tools/conformance"),
                str(ROOT / "runtime/python")]

BATCH, LR, WEIGHT_DECAY = 64, 1e-3, 0.01


def batches(count, seed, kind="torch"):
    """The shuffled order of `count` samples for `seed`, in batches:
    PyTorch's (torch.randperm) or vitc-run's (vitc_order.permutation)."""
    import numpy as np
    if kind == "vitc":
        import vitc_order
        order = np.array(vitc_order.permutation(count, seed, epoch=0))
    else:
        import torch
        order = torch.randperm(count, generator=torch.Generator().manual_seed(seed)).numpy()
    return [order[i:i + BATCH] for i in range(0, count, BATCH)]


def train_torch(model, train, test, order, seed):
    """Per-step losses and the test accuracy of one PyTorch epoch."""
    import torch
    import torch.nn.functional as F
    torch.manual_seed(seed)  # dropout
    x_all, y_all = torch.from_numpy(train[0]), torch.from_numpy(train[1])
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=WEIGHT_DECAY)
    losses = []
    model.train()
    for idx in order:
        idx = torch.from_numpy(idx)
        loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    hits = 0
    with torch.no_grad():
        for x, y in zip(torch.from_numpy(test[0]).split(256), torch.from_numpy(test[1]).split(256)):
            hits += int((model(x).argmax(1) == y).sum())
    return losses, hits / len(test[1])


def train_vitc(artifact, train, test, order, seed):
    """The same through the compiled step and the Python binding."""
    import vitc
    state = vitc.TrainingState(vitc.load(artifact))
    losses = []
    for step, idx in enumerate(order, 1):
        loss, _ = state.step(train[0][idx], train[1][idx], lr=LR, seed=seed * 1000003 + step)
        losses.append(loss)
    hits = 0
    for start in range(0, len(test[1]), 256):
        hits += state.evaluate(test[0][start:start + 256], test[1][start:start + 256])[1]
    return losses, hits / len(test[1])


def train_vitc_run(build, artifact, seed, limit, work):
    """Test accuracy of vitc-run's own loop (loader, shuffle) for `seed`."""
    metrics = work / f"vitc-run-{seed}.jsonl"
    cmd = [str(build / "bin/vitc-run"), str(artifact), "--dataset", "fashion-mnist", "--epochs", "1",
           "--batch-size", str(BATCH), "--lr", repr(LR), "--schedule", "constant", "--val-split", "0",
           "--seed", str(seed), "--log-every", "1000000", "--metrics", str(metrics)]
    if limit:
        cmd += ["--limit-train", str(limit)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    return [r for r in rows if "test_acc" in r][-1]["test_acc"]


def first_divergence(a, b, rtol=1e-3):
    """The first step (from 1) whose losses differ by more than rtol, or None."""
    for step, (x, y) in enumerate(zip(a, b), 1):
        if abs(x - y) > rtol * max(abs(x), abs(y)):
            return step
    return None


def compare_model(name, seeds, args, work, train, test):
    import export_models
    onnx_path = export_models.export_train(name, work / f"{name}_train.onnx")
    artifact = work / f"{name}_train.vtc"
    subprocess.run([str(args.build / "bin/vitc"), str(onnx_path), "--mode", "train", "--optimizer", "adamw",
                    "--lr", repr(LR), "-o", str(artifact)], check=True)
    rows = []
    for seed, kind in [(seed, kind) for seed in seeds for kind in args.orders.split(",")]:
        order = batches(len(train[1]), seed, kind)
        t0 = time.perf_counter()
        torch_losses, torch_acc = train_torch(export_models.module_from_onnx(name, onnx_path), train, test,
                                              order, seed)
        t1 = time.perf_counter()
        vitc_losses, vitc_acc = train_vitc(artifact, train, test, order, seed)
        t2 = time.perf_counter()
        row = {"model": name, "seed": seed, "order": kind, "steps": len(order),
               "torch_acc": torch_acc, "vitc_acc": vitc_acc,
               "first_divergence": first_divergence(torch_losses, vitc_losses),
               "torch_loss_first100": sum(torch_losses[:100]) / len(torch_losses[:100]),
               "vitc_loss_first100": sum(vitc_losses[:100]) / len(vitc_losses[:100]),
               "torch_loss_last100": sum(torch_losses[-100:]) / len(torch_losses[-100:]),
               "vitc_loss_last100": sum(vitc_losses[-100:]) / len(vitc_losses[-100:]),
               "torch_s": t1 - t0, "vitc_s": t2 - t1,
               "torch_losses": torch_losses, "vitc_losses": vitc_losses}
        if args.vitc_run and kind == "vitc":
            row["vitc_run_acc"] = train_vitc_run(args.build, artifact, seed, args.limit, work)
        rows.append(row)
        print(f"{name} seed {seed} ({kind} order): test acc torch {100 * torch_acc:.2f}% vitc {100 * vitc_acc:.2f}% "
              f"(d {100 * (vitc_acc - torch_acc):+.2f})"
              + (f" vitc-run {100 * row['vitc_run_acc']:.2f}%" if "vitc_run_acc" in row else "")
              + f"; losses first differ by >1e-3 at step {row['first_divergence']} of {len(order)}; "
              f"last-100 mean loss torch {row['torch_loss_last100']:.4f} vitc {row['vitc_loss_last100']:.4f}"
              f" [{t1 - t0:.0f} s / {t2 - t1:.0f} s, load {os.getloadavg()[0]:.1f}]", flush=True)
    return rows


def order_study(name, seeds, args, work, train, test):
    """Test accuracy after an epoch under PyTorch's and vitc-run's data
    orders, many seeds each, on one side (vitc through the binding: the
    same-batch runs show both sides end equal given an order). Answers
    whether one shuffle trains worse than the other, or the orders' results
    are one distribution (Welch's t on the two samples)."""
    import numpy as np
    import export_models
    onnx_path = export_models.export_train(name, work / f"{name}_train.onnx")
    artifact = work / f"{name}_train.vtc"
    subprocess.run([str(args.build / "bin/vitc"), str(onnx_path), "--mode", "train", "--optimizer", "adamw",
                    "--lr", repr(LR), "-o", str(artifact)], check=True)
    acc = {"torch": [], "vitc": []}
    for seed in seeds:
        for kind in acc:
            acc[kind].append(100 * train_vitc(artifact, train, test, batches(len(train[1]), seed, kind), seed)[1])
            print(f"{name} seed {seed} ({kind} order): test acc {acc[kind][-1]:.2f}%", flush=True)
    a, b = np.array(acc["torch"]), np.array(acc["vitc"])
    t = (a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    print(f"{name}, {len(seeds)} seeds per order: torch order {a.mean():.2f}% (sd {a.std(ddof=1):.2f}), "
          f"vitc-run order {b.mean():.2f}% (sd {b.std(ddof=1):.2f}); difference {a.mean() - b.mean():+.2f} "
          f"points, Welch t {t:.2f}")
    return {"model": name, "order_study": acc, "welch_t": float(t)}


def summarize(rows):
    """Per model and order: mean test accuracy of each side and the paired
    difference; per model, each side's mean over all orders."""
    import numpy as np
    out = {}
    for name in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == name]
        for kind in dict.fromkeys(r["order"] for r in mine):
            group = [r for r in mine if r["order"] == kind]
            d = np.array([100 * (r["vitc_acc"] - r["torch_acc"]) for r in group])
            s = {"seeds": len(group), "torch_acc_mean": float(np.mean([100 * r["torch_acc"] for r in group])),
                 "vitc_acc_mean": float(np.mean([100 * r["vitc_acc"] for r in group])),
                 "paired_delta_mean": float(d.mean()),
                 "paired_delta_std": float(d.std(ddof=1)) if len(d) > 1 else None}
            runs = [100 * r["vitc_run_acc"] for r in group if "vitc_run_acc" in r]
            if runs:
                s["vitc_run_acc_mean"] = float(np.mean(runs))
            out[f"{name}/{kind}"] = s
            std = f" sd {s['paired_delta_std']:.2f}" if s["paired_delta_std"] is not None else ""
            print(f"{name}, {kind} order, {len(group)} seeds: mean test acc torch {s['torch_acc_mean']:.2f}% "
                  f"vitc {s['vitc_acc_mean']:.2f}% (paired d {s['paired_delta_mean']:+.2f}{std})"
                  + (f", vitc-run's own loop {s['vitc_run_acc_mean']:.2f}%" if runs else ""))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="vit_tiny,vit_encoder,mnist_cnn")
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--limit", type=int, help="train on the first N training images only")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--orders", default="torch,vitc",
                    help="data orders to feed both sides: torch (torch.randperm), vitc (vitc-run's loader)")
    ap.add_argument("--vitc-run", action="store_true",
                    help="with the vitc order: also train with vitc-run's own loop (same order, its data path)")
    ap.add_argument("--order-study", action="store_true",
                    help="instead: vitc only, both orders, every seed (--seeds 0-19 style ranges allowed)")
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--work-dir", help="keep exports and artifacts here")
    ap.add_argument("--json", help="write rows (with every step's losses) and the summary here")
    ap.add_argument("--build", type=pathlib.Path, default=pathlib.Path(os.environ.get("VITC_BUILD", ROOT / "build")))
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import torch
    import fashion_mnist
    torch.set_num_threads(args.threads)
    os.environ.setdefault("VITC_BUILD", str(args.build.resolve()))
    import vitc
    vitc.set_num_threads(args.threads)
    seeds = [seed for part in args.seeds.split(",") for seed in
             (range(int(part.split("-")[0]), int(part.split("-")[1]) + 1) if "-" in part else [int(part)])]
    train = fashion_mnist.load_split(args.data_dir, "train", args.limit)
    test = fashion_mnist.load_split(args.data_dir, "t10k")
    rows = []
    with tempfile.TemporaryDirectory(prefix="vitc-trajectory-") as tmp:
        work = pathlib.Path(args.work_dir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name in args.models.split(","):
            if args.order_study:
                rows.append(order_study(name, seeds, args, work, train, test))
            else:
                rows += compare_model(name, seeds, args, work, train, test)
    summary = None if args.order_study else summarize(rows)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"rows": rows, "summary": summary}))


if __name__ == "__main__":
    main()
