"""1-D convolution and pooling (Conv1d, MaxPool1d, AvgPool1d: audio front
ends, causal convolutions), which the importer runs as 2-D ones of height 1:
inference against onnxruntime at two batch sizes, and one SGD step (lr 1)
against PyTorch autograd in float64 on the same weights and batch."""
import numpy as np
import onnxruntime as ort
import torch
import torch.nn as nn

from conftest import check_ok, run_tool, tool
from test_train_step import check_sgd_step_against_float64, close, run_function


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv1d(3, 8, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(8, 8, 3, stride=2, padding=1, dilation=1, groups=2), nn.ReLU(),
        nn.AvgPool1d(2, padding=1, count_include_pad=False),
        nn.Conv1d(8, 4, 3, dilation=2), nn.Flatten(), nn.Linear(4 * 1, 10))


def export(model, path, train):
    kwargs = dict(input_names=["input"], output_names=["logits"], opset_version=17,
                  dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, dynamo=False)
    if train:
        kwargs.update(training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    torch.onnx.export(model.train(train), (torch.randn(2, 3, 32),), str(path), **kwargs)


def test_inference_matches_onnxruntime(tmp_path):
    path = tmp_path / "conv1d.onnx"
    export(make_model(), path, train=False)
    artifact = tmp_path / "conv1d.vtc"
    check_ok(run_tool([tool("vitc"), str(path), "-o", str(artifact)]), "vitc")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for n in (1, 5):
        x = rng.standard_normal((n, 3, 32)).astype(np.float32)
        out = run_function(artifact, "main", {"input": x}, tmp_path / f"b{n}")
        (expected,) = session.run(None, {"input": x})
        close(out["logits"], expected, f"logits at batch {n}", rtol=1e-5)


def test_gradients_match_autograd(tmp_path):
    model = make_model()
    path = tmp_path / "conv1d_train.onnx"
    export(model, path, train=True)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 3, 32)).astype(np.float32)
    y = rng.integers(0, 10, 6).astype(np.int64)
    check_sgd_step_against_float64(model, path, x, y, tmp_path)
