"""The compiled training step against PyTorch on the same weights and batch.

Each model is exported the way the issue tells users to export for training
(TrainingMode.TRAINING, do_constant_folding=False), so its initializers carry
the PyTorch parameter names. vitc compiles `--mode train`; `vitc-run
--function train_step` runs one or two steps; PyTorch does the same steps
with autograd and torch.optim:
  - gradients: SGD with lr 1 and no weight decay gives p - p' = grad, checked
    tensor by tensor against autograd, with the loss and the hit count;
  - AdamW (two steps, so moments and bias correction matter) and SGD with
    Nesterov momentum, weight decay and gradient clipping: the new
    parameters and optimizer state against torch.optim's.
"""
import pathlib
import re
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from conftest import ROOT, check_ok, run_tool, tool

sys.path.insert(0, str(ROOT / "models"))
import export_models  # noqa: E402


class CnnBn(nn.Module):
    """Conv + BatchNorm (training-mode statistics and running-stat updates)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, 2, 1)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


class MobileBlock(nn.Module):
    """MobileNetV2's inverted residual: expand 1x1, depthwise 3x3 (groups =
    channels), project 1x1, with BatchNorm and ReLU6, and a residual."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 3, 2, 1, bias=False)
        self.bn0 = nn.BatchNorm2d(8)
        self.expand = nn.Conv2d(8, 24, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.depthwise = nn.Conv2d(24, 24, 3, 1, 1, groups=24, bias=False)
        self.bn2 = nn.BatchNorm2d(24)
        self.project = nn.Conv2d(24, 8, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = F.relu6(self.bn0(self.stem(x)))
        y = F.relu6(self.bn1(self.expand(x)))
        y = F.relu6(self.bn2(self.depthwise(y)))
        x = x + self.bn3(self.project(y))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class InceptionReduce(nn.Module):
    """Inception v3's grid reduction (InceptionB / InceptionD): a 3x3
    stride-2 convolution without padding on an odd map (13 -> 6) next to a
    3x3 stride-2 max pool, concatenated. 16 and 24 channels put the first
    convolution's input gradient on the CPU runtime's winograd
    backward-data path (AVX-512), which got the unequal pads such a
    gradient used to have wrong (issue #13)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, 2, bias=False)
        self.bn0 = nn.BatchNorm2d(16, eps=0.001)
        self.reduce = nn.Conv2d(16, 24, 3, 2, bias=False)
        self.bn1 = nn.BatchNorm2d(24, eps=0.001)
        self.fc = nn.Linear(40, 10)

    def forward(self, x):
        x = F.relu(self.bn0(self.stem(x)))
        y = torch.cat([F.relu(self.bn1(self.reduce(x))), F.max_pool2d(x, 3, 2)], 1)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


def make_model(name):
    torch.manual_seed(0)
    if name == "mobile_block":
        return MobileBlock()
    if name == "inception_reduce":
        return InceptionReduce()
    if name == "cnn_bn":
        model = CnnBn()
        # Non-trivial affine parameters and running statistics.
        with torch.no_grad():
            for bn in (model.bn1, model.bn2):
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.uniform_(-0.2, 0.2)
                bn.running_mean.uniform_(-0.1, 0.1)
                bn.running_var.uniform_(0.5, 2.0)
        return model
    model, _ = export_models.build(name)
    if name == "mnist_cnn":
        # Dropout masks are random on both sides: compare without them.
        model.dropout1.p = model.dropout2.p = 0.0
    return model


def export_for_training(model, path):
    model.train()
    torch.onnx.export(model, (torch.randn(2, 1, 28, 28),), str(path), dynamo=False,
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=17)


def signature(artifact, function):
    """[(name, dtype, shape, role)] of `function`'s inputs, from vitc-run --info."""
    proc = run_tool([tool("vitc-run"), str(artifact), "--info"])
    check_ok(proc, "vitc-run --info")
    inputs, current = [], None
    for line in proc.stdout.splitlines():
        if line.startswith("function "):
            current = line.split()[1]
            continue
        m = re.match(r"\s+input (\S+): (\S+) \[([^\]]*)\] role=(\S+)", line)
        if m and current == function:
            shape = [int(d) for d in m.group(3).split(",") if d.strip()]
            inputs.append((m.group(1), m.group(2), shape, m.group(4)))
    assert inputs, proc.stdout
    return inputs


def run_function(artifact, function, values, tmp):
    """Runs `function` on {input name: array}; returns {output name: array}."""
    args = [tool("vitc-run"), str(artifact), "--function", function]
    tmp.mkdir(parents=True, exist_ok=True)
    for i, (name, value) in enumerate(values.items()):
        path = tmp / f"in{i}.npy"
        np.save(path, value)
        args += ["--input", f"{name}={path}"]
    out = tmp / "out"
    proc = run_tool(args + ["--output-dir", str(out)])
    check_ok(proc, f"vitc-run --function {function}")
    return {p.stem: np.load(p) for p in out.glob("*.npy")}


def step_inputs(sig, state, x, y, lr, step):
    """Inputs of train_step by role; `state` holds params, buffers, opt state."""
    values = {}
    for name, _, shape, role in sig:
        if role in ("param", "buffer", "opt_state"):
            values[name] = state.get(name, np.zeros(shape, np.float32))
        elif role == "data":
            values[name] = x
        elif role == "label":
            values[name] = y
        elif role == "lr":
            values[name] = np.float32(lr).reshape(())
        elif role == "step":
            values[name] = np.float32(step).reshape(())
        else:
            raise AssertionError(f"unexpected input {name} with role {role}")
    return values


def check_sgd_step_against_float64(model, onnx_path, x, y, tmp_path):
    """Compiles the training step of `onnx_path` (a train-mode export of
    `model`) with SGD at lr 1 and no weight decay, runs one step on (x, y),
    and checks its loss and every parameter's gradient (p - p') against
    float64 autograd on `model`, which is turned to float64."""
    artifact = tmp_path / "train.vtc"
    check_ok(run_tool([tool("vitc"), str(onnx_path), "--mode", "train", "--optimizer", "sgd",
                       "--weight-decay", "0", "-o", str(artifact)]), "vitc --mode train")
    state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    sig = signature(artifact, "train_step")
    out = run_function(artifact, "train_step", step_inputs(sig, state, x, y, 1.0, 1),
                       tmp_path / "step")
    model = model.double().train()
    loss = F.cross_entropy(model(torch.from_numpy(x).double()), torch.from_numpy(y))
    loss.backward()
    close(out["loss"], loss.detach().numpy(), "loss", rtol=1e-5)
    grads = {k: p.grad.numpy() for k, p in model.named_parameters()}
    params = sorted(n for n, _, _, role in sig if role == "param")
    assert params == sorted(grads), params
    for p in params:
        close(state[p] - out[p], grads[p], f"gradient of {p}", rtol=1e-4)


def torch_state(model):
    """The model's parameters and buffers as numpy, by ONNX initializer name."""
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()
            if v.dtype == torch.float32}


def close(actual, expected, what, rtol=2e-4, floor=1e-6):
    scale = max(floor, float(np.abs(expected).max()))
    err = float(np.abs(actual - expected).max())
    assert err <= rtol * scale, f"{what}: max error {err:.3g} vs scale {scale:.3g}"


def batch(n=8, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    return x, y


@pytest.fixture(scope="module", params=["mnist_cnn", "vit_tiny", "cnn_bn", "mobile_block",
                                              "inception_reduce"])
def exported(request, tmp_path_factory):
    name = request.param
    tmp = tmp_path_factory.mktemp(name)
    model = make_model(name)
    export_for_training(model, tmp / f"{name}.onnx")
    return name, tmp


def compile_step(onnx_path, out, *flags):
    proc = run_tool([tool("vitc"), str(onnx_path), "--mode", "train", "-o", str(out), *flags])
    check_ok(proc, "vitc --mode train")
    return out


def test_gradients_match_autograd(exported):
    name, tmp = exported
    artifact = compile_step(tmp / f"{name}.onnx", tmp / "sgd.vtc", "--optimizer", "sgd",
                            "--weight-decay", "0")
    model = make_model(name).train()
    x, y = batch()
    state = torch_state(model)
    sig = signature(artifact, "train_step")
    out = run_function(artifact, "train_step", step_inputs(sig, state, x, y, 1.0, 1), tmp / "g")

    logits = model(torch.from_numpy(x))
    loss = F.cross_entropy(logits, torch.from_numpy(y))
    loss.backward()
    close(out["loss"], loss.detach().numpy(), "loss", rtol=1e-5)
    assert int(out["correct"]) == int((logits.argmax(1) == torch.from_numpy(y)).sum())
    grads = {k: p.grad.numpy() for k, p in model.named_parameters()}
    params = [n for n, _, _, role in sig if role == "param"]
    assert sorted(params) == sorted(grads), "trainable parameters differ from PyTorch's"
    # A conv bias before training-mode BatchNorm has an exact gradient of 0:
    # both sides return rounding noise, compared against the largest gradient.
    floor = 1e-2 * max(float(np.abs(g).max()) for g in grads.values())
    for p in params:
        close(state[p] - out[p], grads[p], f"gradient of {p}", floor=floor)
    norm = np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads.values()))
    # A sum of ~1M squares accumulated in f32: ~1e-4 relative rounding.
    close(out["grad_norm"], np.float32(norm), "grad_norm", rtol=1e-3)
    # Training-mode BatchNorm: running statistics move like PyTorch's.
    buffers = [n for n, _, _, role in sig if role == "buffer"]
    expected = torch_state(model)
    for b in buffers:
        close(out[b], expected[b], f"running statistic {b}", rtol=1e-5)
    if name == "cnn_bn":
        assert len(buffers) == 4, buffers


@pytest.mark.parametrize("optimizer", ["adamw", "sgd_nesterov_clip"])
def test_optimizer_steps_match_torch_optim(exported, optimizer):
    name, tmp = exported
    if optimizer == "adamw":
        # Adam's first steps are ~lr * sign(grad): with a tiny eps, gradients
        # of ~eps that differ in the last bits (summation order) change whole
        # steps. eps 1e-3 keeps the comparison about the formula; a large
        # weight decay makes its term visible at the tolerance.
        flags = ["--optimizer", "adamw", "--weight-decay", "0.5", "--eps", "1e-3"]
        make_opt = lambda ps: torch.optim.AdamW(ps, lr=1e-3, weight_decay=0.5,  # noqa: E731
                                                eps=1e-3)
        clip, lr = None, 1e-3
    else:
        flags = ["--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "--weight-decay",
                 "1e-3", "--clip-grad-norm", "0.5"]
        make_opt = lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True,  # noqa: E731
                                              weight_decay=1e-3)
        clip, lr = 0.5, 0.05
    artifact = compile_step(tmp / f"{name}.onnx", tmp / f"{optimizer}.vtc", *flags)
    sig = signature(artifact, "train_step")
    model = make_model(name).train()
    opt = make_opt(model.parameters())
    state = torch_state(model)
    for step in (1, 2):
        x, y = batch(seed=step)
        out = run_function(artifact, "train_step", step_inputs(sig, state, x, y, lr, step),
                           tmp / f"{optimizer}{step}")
        opt.zero_grad()
        loss = F.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        if step == 1:
            # Params whose true gradient is 0 (a bias before BatchNorm) get
            # rounding noise, which Adam amplifies to steps of ~lr.
            top = max(float(p.grad.abs().max()) for p in model.parameters())
            noise = {p for p in model.parameters() if float(p.grad.abs().max()) < 1e-4 * top}
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        close(out["loss"], loss.detach().numpy(), f"loss at step {step}", rtol=1e-5)
        for name_, _, _, role in sig:
            if role in ("param", "buffer", "opt_state"):
                state[name_] = out[name_]
    expected = torch_state(model)
    names = {p: n for n, p in model.named_parameters()}
    for p in model.parameters():
        pname = names[p]
        if optimizer == "adamw" and p in noise:
            continue
        close(state[pname], expected[pname], f"{pname} after 2 {optimizer} steps", rtol=1e-4)
        st = opt.state[p]
        if optimizer == "adamw":
            close(state[f"adamw_m.{pname}"], st["exp_avg"].numpy(), f"adamw m of {pname}", 1e-4)
            close(state[f"adamw_v.{pname}"], st["exp_avg_sq"].numpy(), f"adamw v of {pname}", 1e-4)
        else:
            close(state[f"sgd_momentum.{pname}"], st["momentum_buffer"].numpy(),
                  f"momentum of {pname}", 1e-4)
