"""ONNX training-mode import against PyTorch's model.train().

A Conv-BatchNorm2d-ReLU-Dropout-Linear model is exported by torch with
TrainingMode.TRAINING (do_constant_folding=False, TorchScript exporter) at
opset 17 (Dropout's ratio/training_mode inputs, BatchNormalization-15) and
opset 11 (the ratio attribute, BatchNormalization-9 with five outputs). vitc
compiles each import in training mode (--import-mode=training) and in
inference mode; vitc-run runs them on a batch. Checked against PyTorch:
  - the new BatchNorm running statistics (results updating the
    initializers) equal those of a train-mode forward in PyTorch;
  - the dropout output is, element by element, 0 or PyTorch's train-mode
    pre-dropout activation / (1 - p), keeping a fraction ~ 1 - p;
  - the logits are the linear layer of that dropout output;
  - the same seed gives the same mask, another seed another one;
  - with p = 0 the whole train-mode forward matches PyTorch;
  - the inference import matches model.eval().
"""
import argparse
import os
import re
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn

import vitc_check
from vitc_check import run

warnings.filterwarnings("ignore")

parser = argparse.ArgumentParser()
parser.add_argument("--compiler", required=True, help="vitc")
parser.add_argument("--runner", required=True, help="vitc-run")
parser.add_argument("--workdir", required=True)
args = parser.parse_args()

BATCH = 6


class Net(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(p)
        self.fc = nn.Linear(4 * 6 * 6, 5)

    def features(self, x):
        return torch.relu(self.bn(self.conv(x)))

    def forward(self, x):
        d = self.drop(self.features(x))
        return self.fc(torch.flatten(d, 1)), d


def make_net(p):
    torch.manual_seed(0)
    net = Net(p)
    with torch.no_grad():  # statistics and affine terms far from the defaults
        net.bn.weight.uniform_(0.5, 1.5)
        net.bn.bias.uniform_(-0.5, 0.5)
        net.bn.running_mean.uniform_(-1, 1)
        net.bn.running_var.uniform_(0.5, 2)
    return net


def exported_net(p, onnx_path):
    """The net with the weights and buffers the export holds: tracing in train
    mode runs a forward pass, which moved the running statistics."""
    import onnx
    from onnx import numpy_helper
    net = make_net(p)
    weights = {t.name: numpy_helper.to_array(t)
               for t in onnx.load(onnx_path).graph.initializer}
    state = net.state_dict()
    for key in state:
        if key in weights:
            state[key] = torch.from_numpy(weights[key].copy())
    net.load_state_dict(state)
    return net


def export(net, opset, path):
    torch.onnx.export(net, (torch.zeros(2, 1, 8, 8),), path, dynamo=False,
                      opset_version=opset, training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False, input_names=["input"],
                      output_names=["logits", "dropped"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"},
                                    "dropped": {0: "batch"}})


def evaluate(artifact, inputs, outdir):
    return vitc_check.evaluate(args.runner, artifact, inputs, outdir)


def close(a, b, tol=1e-4):
    return np.allclose(a, b, rtol=tol, atol=tol)


def check(opset, p):
    name = f"opset{opset}_p{p}"
    d = os.path.join(args.workdir, name)
    os.makedirs(d, exist_ok=True)
    onnx_path = os.path.join(d, "net.onnx")
    export(make_net(p), opset, onnx_path)
    train_vtc, eval_vtc = os.path.join(d, "train.vtc"), os.path.join(d, "eval.vtc")
    # An inference artifact has no buffer inputs for the running-statistics
    # results to update: compile the imported module without those marks.
    train_mlir = os.path.join(d, "train.mlir")
    run([args.compiler, onnx_path, "--import-mode=training", "--emit=vt", "-o", train_mlir])
    with open(train_mlir) as f:
        text = f.read()
    marks = re.compile(r', vt\.role = "buffer", vt\.updates = "[^"]*"')
    if len(marks.findall(text)) != 2:
        return name, ["expected 2 results updating the running statistics"]
    with open(train_mlir, "w") as f:
        f.write(marks.sub("", text))
    run([args.compiler, train_mlir, "-o", train_vtc])
    run([args.compiler, onnx_path, "-o", eval_vtc])

    x = np.random.default_rng(opset).standard_normal((BATCH, 1, 8, 8)).astype(np.float32)
    problems = []

    # PyTorch, train mode: batch statistics, running statistics updated.
    net = exported_net(p, onnx_path).train()
    with torch.no_grad():
        feats = net.features(torch.from_numpy(x)).numpy()
    fc_w, fc_b = net.fc.weight.detach().numpy(), net.fc.bias.detach().numpy()

    inputs = {"input": x}
    if p > 0:
        inputs["seed"] = np.array(1234, np.int64)
    out = evaluate(train_vtc, inputs, os.path.join(d, "train_out"))
    for stat in ("running_mean", "running_var"):
        got, want = out(f"bn.{stat}"), getattr(net.bn, stat).numpy()
        if not close(got, want, 1e-5):
            problems.append(f"bn.{stat}: {got} != PyTorch {want}")
    dropped, logits = out("dropped"), out("logits")
    kept = dropped != 0
    if p > 0:
        scaled = feats / (1 - p)
        if not close(dropped[kept], scaled[kept]):
            problems.append("kept values are not the activation / (1 - p)")
        live = feats > 0  # relu zeros are zero either way
        frac = kept[live].mean()
        n = live.sum()
        if abs(frac - (1 - p)) > 5 * np.sqrt(p * (1 - p) / n):
            problems.append(f"kept fraction {frac:.3f} of {n}, expected {1 - p}")
        again = evaluate(train_vtc, inputs, os.path.join(d, "train_again"))
        if not np.array_equal(again("dropped"), dropped):
            problems.append("the same seed gave another mask")
        other = evaluate(train_vtc, {**inputs, "seed": np.array(1235, np.int64)},
                         os.path.join(d, "train_seed2"))
        if np.array_equal(other("dropped") != 0, kept):
            problems.append("another seed gave the same mask")
    elif not close(dropped, feats):
        problems.append("p = 0: the train-mode activation differs from PyTorch")
    if not close(logits, dropped.reshape(BATCH, -1) @ fc_w.T + fc_b):
        problems.append("logits are not the linear layer of the dropout output")
    if p == 0:
        with torch.no_grad():
            want_logits = net.fc(torch.flatten(torch.from_numpy(feats), 1)).numpy()
        if not close(logits, want_logits):
            problems.append("p = 0: logits differ from PyTorch's train-mode forward")

    # Inference import: model.eval() (running statistics, no dropout).
    ref = exported_net(p, onnx_path).eval()
    with torch.no_grad():
        want_logits, want_feats = (t.numpy() for t in ref(torch.from_numpy(x)))
    out = evaluate(eval_vtc, {"input": x}, os.path.join(d, "eval_out"))
    if not close(out("logits"), want_logits) or not close(out("dropped"), want_feats):
        problems.append("inference import differs from model.eval()")
    return name, problems


failures = 0
for opset, p in ((17, 0.25), (11, 0.5), (17, 0.0)):
    name, problems = check(opset, p)
    print(("PASS " if not problems else "FAIL ") + name)
    for line in problems:
        print("  " + line)
    failures += bool(problems)
print(f"{failures} failed")
sys.exit(1 if failures else 0)
