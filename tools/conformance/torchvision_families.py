#!/usr/bin/env python3
"""Every torchvision classification family through vitc, as users export them
(issue #13), reported as a Markdown table (this file is not named
torchvision.py, which would shadow the package). Run outside CI (a full run takes
hours on 2 cores):

  tools/conformance/torchvision_families.py [--families ResNet,ViT] [--exporters torchscript,dynamo]
                                   [--out docs/conformance/torchvision.md] [--workdir DIR]

Per family (one model each, random weights, 10 classes) and exporter:
  - inference: the eval-mode export compiled by vitc and run on a random batch
    against onnxruntime on the same file (fp32, max |diff| <= 1e-4 x max |ref|);
  - training: the train-mode export (TrainingMode.TRAINING, no constant
    folding, as the README says) compiled with `--mode train --optimizer sgd
    --weight-decay 0`; one step with lr 1 gives p - p' = grad, compared with
    PyTorch autograd in float64 on the same weights and batch (loss and
    every gradient within 1e-4 of the largest gradient). Dropout and stochastic depth are
    set to p = 0 for that export, so both sides compute the same function;
  - compile time (wall) and peak memory of both compiles.
A failure records the first line of the tool's error; the run goes on.
Tools come from $VITC_BUILD/bin (default build/bin)."""
import argparse
import copy
import os
import pathlib
import re
import subprocess
import sys
import time
import traceback
import warnings

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("VITC_BUILD", ROOT / "build")) / "bin"

# Family -> (torchvision constructor, input size).
FAMILIES = {
    "AlexNet": ("alexnet", 224),
    "ConvNeXt": ("convnext_tiny", 64),
    "DenseNet": ("densenet121", 64),
    "EfficientNet": ("efficientnet_b0", 64),
    "EfficientNetV2": ("efficientnet_v2_s", 64),
    "GoogLeNet": ("googlenet", 64),
    "Inception v3": ("inception_v3", 299),
    "MaxViT": ("maxvit_t", 224),
    "MNASNet": ("mnasnet0_5", 64),
    "MobileNet v2": ("mobilenet_v2", 64),
    "MobileNet v3": ("mobilenet_v3_small", 64),
    "RegNet": ("regnet_y_400mf", 64),
    "ResNet": ("resnet18", 64),
    "ResNeXt": ("resnext50_32x4d", 64),
    "ShuffleNet v2": ("shufflenet_v2_x0_5", 64),
    "SqueezeNet": ("squeezenet1_0", 64),
    "Swin": ("swin_t", 224),
    "Swin v2": ("swin_v2_t", 256),
    "VGG": ("vgg11", 224),
    "ViT": ("vit_b_16", 224),
    "Wide ResNet": ("wide_resnet50_2", 64),
}


def first_error(text):
    for line in text.splitlines():
        if "error" in line.lower():
            return line.strip()[:160]
    return (text.strip().splitlines() or ["(no output)"])[-1][:160]


def timed(args):
    """Runs a tool under /usr/bin/time; returns (proc, seconds, peak MB)."""
    start = time.time()
    proc = subprocess.run(["/usr/bin/time", "-f", "PEAK_KB=%M", *map(str, args)],
                          capture_output=True, text=True, timeout=3600)
    peak = re.findall(r"PEAK_KB=(\d+)", proc.stderr)
    return proc, time.time() - start, int(peak[-1]) / 1024 if peak else float("nan")


# Small members of the families, built from torchvision's own classes (the
# same blocks and code paths, a fraction of the layers): the CI subset
# (tests/e2e/test_torchvision_subset.py) checks these the way the table checks
# the full models.
def _small_mobilenet_v2(num_classes):
    import torchvision
    return torchvision.models.MobileNetV2(
        num_classes=num_classes, width_mult=0.5,
        inverted_residual_setting=[[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 1, 2]])


def _small_convnext(num_classes):
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt
    return ConvNeXt([CNBlockConfig(16, 32, 2), CNBlockConfig(32, None, 1)],
                    stochastic_depth_prob=0.2, num_classes=num_classes)


def _small_swin(num_classes):
    from torchvision.models.swin_transformer import SwinTransformer
    return SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 2],
                           window_size=[4, 4], stochastic_depth_prob=0.1,
                           num_classes=num_classes)


def _small_encoder_vit(num_classes):
    """A ViT on nn.TransformerEncoder (pre-norm, GELU), as users write one."""
    import torch
    import torch.nn as nn

    class EncoderViT(nn.Module):
        def __init__(self, dim=32, patch=8, image=32):
            super().__init__()
            self.patch_embed = nn.Conv2d(3, dim, patch, patch)
            self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
            self.pos_embed = nn.Parameter(torch.randn(1, (image // patch) ** 2 + 1, dim) * 0.02)
            layer = nn.TransformerEncoderLayer(dim, 2, 64, dropout=0.1, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, num_classes)

        def forward(self, x):
            x = self.patch_embed(x).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
            return self.head(self.norm(self.encoder(x))[:, 0])

    return EncoderViT()


SMALL_MODELS = {
    "small_mobilenet_v2": _small_mobilenet_v2,
    "small_convnext": _small_convnext,
    "small_swin": _small_swin,
    "small_encoder_vit": _small_encoder_vit,
}


def build_model(ctor, train, no_randomness=False):
    import torch
    import torchvision
    torch.manual_seed(0)
    kwargs = {"num_classes": 10}
    if ctor in ("googlenet", "inception_v3"):
        kwargs["aux_logits"] = False
        kwargs["init_weights"] = True
    model = (SMALL_MODELS[ctor] if ctor in SMALL_MODELS
             else getattr(torchvision.models, ctor))(**kwargs)
    if no_randomness:
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.0
            if type(m).__name__ == "StochasticDepth":
                m.p = 0.0
            if isinstance(m, torch.nn.MultiheadAttention):
                m.dropout = 0.0  # a float, not an nn.Dropout
    # A zero-initialised head (ViT) makes every logit 0 and proves nothing.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Linear) and float(m.weight.abs().max()) == 0:
                m.weight.normal_(0, 0.02)
    return model.train(train)


def export(model, size, path, exporter, train):
    import torch
    x = torch.randn(2, 3, size, size)
    kwargs = dict(input_names=["input"], output_names=["logits"], opset_version=17)
    if exporter == "dynamo":
        torch.onnx.export(model, (x,), str(path), dynamo=True,
                          dynamic_shapes={"x": {0: torch.export.Dim("N", min=1)}},
                          input_names=["input"], output_names=["logits"])
        return
    kwargs["dynamic_axes"] = {"input": {0: "N"}, "logits": {0: "N"}}
    if train:
        kwargs.update(training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    torch.onnx.export(model, (x,), str(path), dynamo=False, **kwargs)


def check_inference(ctor, size, exporter, work):
    import onnxruntime as ort
    onnx_path = work / f"{ctor}_{exporter}_eval.onnx"
    export(build_model(ctor, train=False), size, onnx_path, exporter, train=False)
    art = work / f"{ctor}_{exporter}_eval.vtc"
    proc, secs, peak = timed([BIN / "vitc", onnx_path, "-o", art])
    if proc.returncode:
        return "compile: " + first_error(proc.stderr), secs, peak
    x = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
    np.save(work / "x.npy", x)
    out = work / "out_eval"
    run = subprocess.run([BIN / "vitc-run", art, "--input", f"input={work / 'x.npy'}",
                          "--output-dir", out], capture_output=True, text=True)
    if run.returncode:
        return "run: " + first_error(run.stderr), secs, peak
    got = np.load(next(out.glob("*.npy")))
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    ref = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    err = float(np.abs(got - ref).max()) / max(1e-6, float(np.abs(ref).max()))
    return ("ok" if err <= 1e-4 else f"differs: {err:.1e} of max"), secs, peak


def signature(artifact):
    info = subprocess.run([BIN / "vitc-run", artifact, "--info"], capture_output=True,
                          text=True).stdout
    inputs, current = [], None
    for line in info.splitlines():
        if line.startswith("function "):
            current = line.split()[1]
        m = re.match(r"\s+input (\S+): (\S+) \[([^\]]*)\] role=(\S+)", line)
        if m and current == "train_step":
            shape = [int(d) for d in m.group(3).split(",") if d.strip()]
            inputs.append((m.group(1), shape, m.group(4)))
    return inputs


def check_training(ctor, size, exporter, work):
    import torch
    if exporter != "torchscript":
        return "not checked (train-mode export: TorchScript)", float("nan"), float("nan")
    model = build_model(ctor, train=True, no_randomness=True)
    onnx_path = work / f"{ctor}_train.onnx"
    export(model, size, onnx_path, exporter, train=True)
    art = work / f"{ctor}_train.vtc"
    proc, secs, peak = timed([BIN / "vitc", onnx_path, "--mode", "train", "--optimizer", "sgd",
                              "--weight-decay", "0", "-o", art])
    if proc.returncode:
        return "compile: " + first_error(proc.stderr), secs, peak
    state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()
             if v.dtype == torch.float32}
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, size, size)).astype(np.float32)
    y = rng.integers(0, 10, 4).astype(np.int64)
    args = [BIN / "vitc-run", art, "--function", "train_step"]
    for i, (name, shape, role) in enumerate(signature(art)):
        value = {"data": x, "label": y, "lr": np.float32(1.0).reshape(()),
                 "step": np.float32(1.0).reshape(())}.get(role)
        if value is None:
            value = state.get(name, np.zeros(shape, np.float32))
        np.save(work / f"in{i}.npy", value)
        args += ["--input", f"{name}={work / f'in{i}.npy'}"]
    out = work / "out_train"
    run = subprocess.run(args + ["--output-dir", out], capture_output=True, text=True)
    if run.returncode:
        return "step: " + first_error(run.stderr), secs, peak
    outs = {p.stem: np.load(p) for p in out.glob("*.npy")}
    # The reference is autograd in float64: PyTorch's own float32 gradients
    # are further from it than vitc's on some models (MNASNet: 1.6e-2 of
    # the largest gradient against vitc's 5.8e-5, measured 2026-12-07).
    # PyTorch's own float32 gradients too: where vitc's differ from float64,
    # how far float32 arithmetic alone lands tells conditioning from a bug.
    grads32 = autograd_gradients(copy.deepcopy(model), torch.float32, x, y)[1]
    loss, grads = autograd_gradients(model, torch.float64, x, y)
    scale = max(float(np.abs(g).max()) for g in grads.values())
    if abs(float(outs["loss"]) - loss) > 1e-4 * max(1.0, abs(loss)):
        return f"loss {float(outs['loss']):.6f} vs {loss:.6f}", secs, peak
    worst, worst32 = 0.0, 0.0
    for name, g in grads.items():
        if name in outs:
            worst = max(worst, float(np.abs((state[name] - outs[name]) - g).max()) / scale)
            worst32 = max(worst32, float(np.abs(grads32[name] - g).max()) / scale)
    if worst <= 1e-4:
        return "ok", secs, peak
    return (f"gradients differ: {worst:.1e} of max (PyTorch float32: {worst32:.1e})",
            secs, peak)


def autograd_gradients(model, dtype, x, y):
    """The cross-entropy loss and every parameter's gradient, in `dtype`."""
    import torch
    import torch.nn.functional as F
    model = model.to(dtype)
    loss = F.cross_entropy(model(torch.from_numpy(x).to(dtype)), torch.from_numpy(y))
    loss.backward()
    return float(loss), {k: p.grad.double().numpy() for k, p in model.named_parameters()
                         if p.grad is not None}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--exporters", default="torchscript,dynamo")
    parser.add_argument("--out", default=str(ROOT / "docs" / "conformance" / "torchvision.md"))
    parser.add_argument("--workdir", default="/tmp/vitc-conformance")
    opts = parser.parse_args()
    warnings.filterwarnings("ignore")
    work = pathlib.Path(opts.workdir)
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for family in [f.strip() for f in opts.families.split(",") if f.strip()]:
        ctor, size = FAMILIES[family]
        for exporter in opts.exporters.split(","):
            results = []
            for check in (check_inference, check_training):
                try:
                    results.append(check(ctor, size, exporter, work))
                except Exception as error:  # an export or a peer failing
                    results.append((f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
                                    if str(error) else traceback.format_exc(limit=1)[-160:],
                                    float("nan"), float("nan")))
            (inf, inf_s, inf_mb), (tr, tr_s, tr_mb) = results
            row = (f"| {family} | {ctor} ({size}px) | {exporter} | {inf} | {tr} | "
                   f"{inf_s:.1f} / {tr_s:.1f} | {inf_mb:.0f} / {tr_mb:.0f} |")
            print(row, flush=True)
            rows.append(row)
    out = pathlib.Path(opts.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    header = ["# torchvision families through vitc",
              "",
              f"`tools/conformance/torchvision_families.py` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())},"
              " this project's 2-core machine). Inference: vitc vs onnxruntime on the same"
              " export (1e-4 of max). Training: one SGD step (lr 1) vs PyTorch autograd in float64"
              " (loss and gradients, 1e-4 of max). Times: compile wall seconds, peak MB"
              " (inference / training).",
              "",
              "| family | model | exporter | inference | training step | compile s | peak MB |",
              "|---|---|---|---|---|---|---|"]
    out.write_text("\n".join(header + rows) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
