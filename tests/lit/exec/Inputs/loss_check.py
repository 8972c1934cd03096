"""vt-append-loss's loss and hit count against PyTorch.

The forward graph is the identity (logits = the data argument), so the
compiled function is exactly the appended loss: vitc-opt -vt-append-loss
rewrites it, vitc compiles it, vitc-run runs it on random logits and
labels, and the outputs must match
  - cross_entropy: torch.nn.functional.cross_entropy(logits, label,
    label_smoothing=e), correct = (logits.argmax(1) == label).sum();
  - mse: torch.nn.functional.mse_loss(logits, target), correct =
    (logits.argmax(1) == target.argmax(1)).sum().
Rows with tied maxima check that the first index wins (as torch.argmax),
rows of large logits that the log-softmax is stable, and the batch is
dynamic (one artifact, several batch sizes).

usage: loss_check.py --opt VITC-OPT --compiler VITC --runner VITC-RUN --workdir DIR
Prints "PASS name" / "FAIL name: why" per case and "N passed, M failed".
"""
import argparse
import os
import sys

import numpy as np

import vitc_check
from vitc_check import run
import torch
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--opt", required=True)
parser.add_argument("--compiler", required=True)
parser.add_argument("--runner", required=True)
parser.add_argument("--workdir", required=True)
args = parser.parse_args()

CLASSES = 10
BATCHES = [7, 1, 33]


def compile_loss(name, options):
    d = os.path.join(args.workdir, name)
    os.makedirs(d, exist_ok=True)
    src, lowered, artifact = (os.path.join(d, f) for f in ("fwd.mlir", "loss.mlir", "loss.vtc"))
    with open(src, "w") as f:
        f.write(f"""func.func @main(%x: tensor<?x{CLASSES}xf32> {{vt.name = "logits"}})
    -> (tensor<?x{CLASSES}xf32> {{vt.name = "logits"}}) {{
  return %x : tensor<?x{CLASSES}xf32>
}}
""")
    run([args.opt, src, f"-vt-append-loss={options}", "-o", lowered])
    run([args.compiler, lowered, "-o", artifact])
    return d, artifact


def evaluate(artifact, d, n, logits, label):
    out = os.path.join(d, f"out{n}")
    np.save(os.path.join(d, f"logits{n}.npy"), logits)
    np.save(os.path.join(d, f"label{n}.npy"), label)
    run([args.runner, artifact, "--input", f"logits={d}/logits{n}.npy",
         "--input", f"label={d}/label{n}.npy", "--output-dir", out])
    return (np.load(os.path.join(out, "loss.npy")), np.load(os.path.join(out, "correct.npy")))


def random_logits(rng, n):
    logits = (rng.standard_normal((n, CLASSES)) * 3).astype(np.float32)
    if n > 2:
        logits[0, 3] = logits[0, 7] = logits[0].max() + 1.0  # a tie: class 3 wins
        logits[1] *= 40.0  # exp would overflow without the max subtracted
    return logits


def check(name, options, reference, make_label, rng):
    d, artifact = compile_loss(name, options)
    for n in BATCHES:
        logits = random_logits(rng, n)
        label = make_label(rng, n, logits)
        loss, correct = evaluate(artifact, d, n, logits, label)
        want_loss, want_correct = reference(torch.from_numpy(logits), torch.from_numpy(label))
        if loss.shape != () or loss.dtype != np.float32:
            return f"loss is {loss.dtype} {loss.shape}, expected a float32 scalar"
        if correct.shape != () or correct.dtype != np.int64:
            return f"correct is {correct.dtype} {correct.shape}, expected an int64 scalar"
        if not np.isclose(float(loss), want_loss, rtol=1e-5, atol=1e-6):
            return f"batch {n}: loss {float(loss)!r}, PyTorch {want_loss!r}"
        if int(correct) != want_correct:
            return f"batch {n}: correct {int(correct)}, PyTorch {want_correct}"
    return None


def class_labels(rng, n, logits):
    label = rng.integers(0, CLASSES, n).astype(np.int64)
    # Some hits, the tie's first index among them.
    label[: n // 2] = logits[: n // 2].argmax(1)
    if n > 2:
        label[0] = 3
    return label


def soft_targets(rng, n, logits):
    target = rng.standard_normal((n, CLASSES)).astype(np.float32)
    target[: n // 2] += logits[: n // 2]  # rows whose argmax agrees
    return target


def cross_entropy(smoothing):
    def ref(logits, label):
        loss = F.cross_entropy(logits, label, label_smoothing=smoothing)
        return float(loss), int((logits.argmax(1) == label).sum())
    return ref


def mse(logits, target):
    return float(F.mse_loss(logits, target)), int((logits.argmax(1) == target.argmax(1)).sum())


CASES = [
    ("cross_entropy", "loss=cross_entropy", cross_entropy(0.0), class_labels),
    ("cross_entropy_ls0.1", "loss=cross_entropy label-smoothing=0.1", cross_entropy(0.1),
     class_labels),
    ("mse", "loss=mse", mse, soft_targets),
]

rng = np.random.default_rng(0)
tally = vitc_check.Tally()
for name, options, reference, make_label in CASES:
    try:
        why = check(name, options, reference, make_label, rng)
    except RuntimeError as e:
        why = str(e)
    tally.report(name, why)
sys.exit(tally.finish())
