#!/usr/bin/env python3
"""Exports the vitc test models to ONNX, deterministically (seeded init, no
pretrained weights), with a dynamic batch dim: input "input" [N,...], output
"logits" [N,10|1000].

  models/export_models.py --out models --which mnist_cnn,vit_tiny --exporter both
  models/export_models.py --out models --which cnn_bn --training
  models/export_models.py --which resnet18,vit_b_16          # -> models/generated/

TorchScript export (dynamo=False) writes <name>.onnx at opset 17; the dynamo
exporter (dynamo=True, via onnxscript) writes <name>_dynamo.onnx at opset 18+.
--training also writes <name>_train.onnx: the TorchScript export of the model
in train mode (TrainingMode.TRAINING, no constant folding), which keeps
Dropout and training-mode BatchNormalization in the graph for vitc --mode
train. Its weights and BatchNorm statistics are those of <name>.onnx.
Each export is loaded back into onnxruntime at batch 1 and 3 and its logits
checked to be non-degenerate (a random ViT-B/16 head is zero-initialised by
torchvision, and uncalibrated eval-mode batch-norm makes deep CNN activations
vanish: both would give references that prove nothing).
"""
import argparse
import pathlib
import sys
import traceback
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MODELS = ("mnist_cnn", "cnn_bn", "vit_tiny", "vit_encoder", "resnet18", "resnet50", "vit_b_16")
# Exported without constant folding, which would fuse each eval-mode
# BatchNorm into the conv before it: the point of these models is to have
# BatchNormalization nodes (that a training compile trains in batch mode).
KEEP_BATCHNORM = ("cnn_bn",)
SEED = 0


class MnistCnn(nn.Module):
    """The network of PyTorch's FSDP MNIST example (examples/distributed/FSDP)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


class CnnBn(nn.Module):
    """A small CNN with batch norm for the training tests: two blocks of
    conv3x3-BatchNorm-ReLU-maxpool (16, 32 channels) and a linear head."""

    def __init__(self, classes=10):
        super().__init__()
        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout),
                                 nn.ReLU(), nn.MaxPool2d(2))
        self.features = nn.Sequential(block(1, 16), block(16, 32))
        self.fc = nn.Linear(32 * 7 * 7, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


class Attention(nn.Module):
    """Multi-head self-attention written out as q/k/v matmul-softmax-matmul,
    the way hand-written ViTs do it (no nn.MultiheadAttention, no SDPA)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(b, n, d)
        return self.proj(out)


class Block(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VitTiny(nn.Module):
    """A small pre-norm ViT for 28x28 images: 16 patches of 7x7, dim 64."""

    def __init__(self, image=28, patch=7, dim=64, depth=4, heads=4, mlp=256, classes=10):
        super().__init__()
        self.patch_embed = nn.Conv2d(1, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, (image // patch) ** 2 + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # [B, 16, dim]
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


class VitEncoder(nn.Module):
    """The same ViT as VitTiny written as users often do: torch's own
    nn.TransformerEncoder (pre-norm, GELU, dropout 0.1 in every layer)."""

    def __init__(self, image=28, patch=7, dim=64, depth=4, heads=4, mlp=256, classes=10, dropout=0.1):
        super().__init__()
        self.patch_embed = nn.Conv2d(1, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, (image // patch) ** 2 + 1, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, mlp, dropout=dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, norm=nn.LayerNorm(dim),
                                             enable_nested_tensor=False)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = self.encoder(torch.cat([cls, x], dim=1) + self.pos_embed)
        return self.head(x[:, 0])


def calibrate_bn(model, shape, batches=4):
    """Gives every BatchNorm running statistics of real activations (cumulative
    average over a few random batches in train mode) instead of mean 0 / var 1.
    The momentum is restored afterwards: a training export trains with it."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(*shape))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    model.eval()


def build(name):
    """Returns (eval-mode model, input shape without batch); seeded per model so
    each model is reproducible regardless of which others are exported."""
    torch.manual_seed(SEED)
    if name == "mnist_cnn":
        return MnistCnn().eval(), (1, 28, 28)
    if name == "cnn_bn":
        model = CnnBn()
        calibrate_bn(model, (8, 1, 28, 28))
        return model, (1, 28, 28)
    if name == "vit_tiny":
        return VitTiny().eval(), (1, 28, 28)
    if name == "vit_encoder":
        return VitEncoder().eval(), (1, 28, 28)
    import torchvision
    if name in ("resnet18", "resnet50"):
        model = getattr(torchvision.models, name)(weights=None)
        calibrate_bn(model, (8, 3, 224, 224))
        return model, (3, 224, 224)
    if name == "vit_b_16":
        model = torchvision.models.vit_b_16(weights=None)
        nn.init.normal_(model.heads.head.weight, std=0.02)  # torchvision zero-inits it
        nn.init.normal_(model.heads.head.bias, std=0.02)
        return model.eval(), (3, 224, 224)
    raise ValueError(name)


def export(model, shape, path, exporter, opset, fold=True):
    example = (torch.randn(2, *shape),)  # batch 2: a batch of 1 may get specialised
    if exporter == "training":
        export_training(model, example, path, opset)
    elif exporter == "torchscript":
        torch.onnx.export(model, example, str(path), dynamo=False, opset_version=opset,
                          do_constant_folding=fold,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    else:
        batch = torch.export.Dim("batch", min=1, max=4096)
        prog = torch.onnx.export(model, example, dynamo=True, opset_version=opset,
                                 input_names=["input"], output_names=["logits"],
                                 dynamic_shapes=({0: batch},), external_data=False)
        prog.save(str(path), external_data=False)


def export_training(model, example, path, opset):
    """TorchScript export in train mode. Tracing runs the model once, which
    moves the BatchNorm running statistics; the file gets the statistics the
    model had (those of the eval-mode export), not the moved ones."""
    import onnx
    from onnx import numpy_helper
    buffers = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    torch.onnx.export(model, example, str(path), dynamo=False, opset_version=opset,
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    model.load_state_dict(buffers)
    model.eval()
    proto = onnx.load(str(path))
    for init in proto.graph.initializer:
        if init.name in buffers:
            init.CopyFrom(numpy_helper.from_array(buffers[init.name].numpy(), init.name))
    onnx.save(proto, str(path))


def export_train(name, path, opset=17):
    """The train-mode export of model `name` that a training comparison
    starts from (initializer names are PyTorch's parameter names)."""
    with torch.no_grad():
        model, shape = build(name)
    export(model, shape, path, "training", opset, fold=False)
    return path


def load_initializers(model, path):
    """Loads the initializers of the ONNX file `path` into `model`: every
    state_dict entry must be an initializer of the same shape, and the
    reverse. Returns the model."""
    import onnx
    from onnx import numpy_helper
    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    state = model.state_dict()
    missing = sorted(set(state) - set(inits))
    extra = sorted(set(inits) - set(state))
    assert not missing and not extra, f"{path}: state_dict/initializer mismatch: " \
        f"not in the ONNX file {missing}, not in the module {extra}"
    for key, value in state.items():
        assert tuple(value.shape) == inits[key].shape, f"{path}: {key} {tuple(value.shape)} vs {inits[key].shape}"
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in inits.items()}, strict=True)
    return model


def module_from_onnx(name, path):
    """A fresh PyTorch module of model `name` holding exactly the
    initializers of the ONNX file `path`."""
    return load_initializers(build(name)[0], path)


def check_with_ort(path, shape):
    """Loads the export into onnxruntime; batch 1 and 3 must run and give
    logits that differ across classes and across images."""
    import onnx
    import onnxruntime as ort
    onnx.checker.check_model(str(path))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(SEED)
    for batch in (1, 3):
        out = sess.run(["logits"], {"input": rng.standard_normal((batch, *shape), np.float32)})[0]
        if not np.isfinite(out).all() or out.std(axis=-1).min() < 1e-3:
            raise RuntimeError(f"degenerate logits at batch {batch}: std {out.std(axis=-1)}")
        if batch == 3 and np.abs(out[0] - out[1]).max() < 1e-4:
            raise RuntimeError("logits do not depend on the input")
    return out.shape, float(out.std())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models/generated", help="output directory")
    ap.add_argument("--which", default="mnist_cnn,vit_tiny", help=f"comma list of {','.join(MODELS)}")
    ap.add_argument("--exporter", choices=("torchscript", "dynamo", "both"), default="torchscript")
    ap.add_argument("--training", action="store_true",
                    help="also write <name>_train.onnx, the train-mode TorchScript export")
    ap.add_argument("--opset", type=int, default=17, help="TorchScript exporter opset")
    ap.add_argument("--dynamo-opset", type=int, default=18, help="dynamo exporter opset")
    ap.add_argument("--no-check", action="store_true", help="skip the onnxruntime check")
    args = ap.parse_args()

    names = [n for n in args.which.split(",") if n]
    if bad := [n for n in names if n not in MODELS]:
        ap.error(f"unknown model(s) {bad}; known: {MODELS}")
    exporters = ("torchscript", "dynamo") if args.exporter == "both" else (args.exporter,)
    if args.training:
        exporters += ("training",)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # nn.MultiheadAttention (ViT-B/16) would take its fused inference fast path,
    # aten::_native_multi_head_attention, which the TorchScript exporter cannot export.
    torch.backends.mha.set_fastpath_enabled(False)
    warnings.filterwarnings("ignore")  # exporter chatter; failures still raise

    failures = []
    for name in names:
        for exporter in exporters:
            with torch.no_grad():
                model, shape = build(name)  # fresh, identically seeded model per export
            suffix = {"torchscript": "", "dynamo": "_dynamo", "training": "_train"}[exporter]
            path = out / f"{name}{suffix}.onnx"
            opset = args.dynamo_opset if exporter == "dynamo" else args.opset
            tmp = path.with_suffix(".onnx.tmp")  # never leave a half-written model behind
            try:
                export(model, shape, tmp, exporter, opset, fold=name not in KEEP_BATCHNORM)
                tmp.replace(path)
                msg = ""
                if not args.no_check:
                    oshape, std = check_with_ort(path, shape)
                    msg = f", onnxruntime ok: logits {list(oshape)} std {std:.3f}"
                print(f"{path}: {exporter} opset {opset}, {path.stat().st_size / 1e6:.1f} MB{msg}")
            except Exception as e:  # report why this export failed, go on with the rest
                tmp.unlink(missing_ok=True)
                last = traceback.format_exception_only(type(e), e)[-1].strip().splitlines()[0]
                failures.append(f"{name} ({exporter}): {last}")
                print(f"FAILED {name} ({exporter}): {last}", file=sys.stderr)
    if failures:
        sys.exit(f"export_models: {len(failures)} export(s) failed")


if __name__ == "__main__":
    main()
