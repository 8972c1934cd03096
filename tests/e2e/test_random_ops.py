"""ONNX's random-number ops (RandomUniform(Like), RandomNormal(Like),
Bernoulli), as training-mode exports use them for stochastic depth.

vitc draws from its own counter-based stream (as for Dropout) keyed, in an
inference import, by the node's seed attribute and, in training, by the
step's seed, so values cannot match numpy's or onnxruntime's RNG: the
tests check the distributions (moments, range, frequencies within a few
standard errors of 200k samples), that the same seed gives the same values
and another seed others, and that a torchvision model with stochastic depth
exported for training evaluates like PyTorch's eval() and trains.
"""
import re

import numpy as np
import pytest
import torch
import torch.nn as nn
import torchvision
import onnx
from onnx import TensorProto, helper

from conftest import check_ok, run_tool, tool

N = 200_000


def graph_model(node, inputs, out_type=TensorProto.FLOAT, out_shape=(None,)):
    graph = helper.make_graph(
        [node], "g", inputs,
        [helper.make_tensor_value_info("y", out_type, list(out_shape))])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def run(tmp_path, model, feeds, tag):
    """Compiles `model` and runs it on {name: array}; returns output y."""
    onnx_path = tmp_path / f"{tag}.onnx"
    onnx_path.write_bytes(model.SerializeToString())
    art = tmp_path / f"{tag}.vtc"
    check_ok(run_tool([tool("vitc"), str(onnx_path), "-o", str(art)]), "vitc")
    args = [tool("vitc-run"), str(art)]
    for name, value in feeds.items():
        path = tmp_path / f"{tag}_{name}.npy"
        np.save(path, value)
        args += ["--input", f"{name}={path}"]
    out = tmp_path / f"{tag}_out"
    check_ok(run_tool(args + ["--output-dir", str(out)]), "vitc-run")
    return np.load(out / "y.npy")


def like_input():
    return helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"])


def uniform_model(seed):
    node = helper.make_node("RandomUniformLike", ["x"], ["y"], low=-2.0, high=3.0,
                            seed=float(seed))
    return graph_model(node, [like_input()])


def test_random_uniform_like(tmp_path):
    x = np.zeros(N, np.float32)
    y = run(tmp_path, uniform_model(7), {"x": x}, "u7")
    assert y.shape == (N,) and y.dtype == np.float32
    assert y.min() >= -2.0 and y.max() < 3.0
    # Mean 0.5, variance 25/12: within 5 standard errors.
    assert abs(y.mean() - 0.5) < 5 * np.sqrt(25 / 12 / N)
    assert abs(y.var() - 25 / 12) < 0.03
    hist, _ = np.histogram(y, bins=10, range=(-2, 3))
    assert np.all(np.abs(hist - N / 10) < 5 * np.sqrt(N / 10)), hist
    again = run(tmp_path, uniform_model(7), {"x": x}, "u7b")
    assert np.array_equal(y, again), "the same seed must give the same values"
    other = run(tmp_path, uniform_model(8), {"x": x}, "u8")
    assert np.mean(y == other) < 1e-3, "another seed must give other values"


def test_random_normal_like(tmp_path):
    node = helper.make_node("RandomNormalLike", ["x"], ["y"], mean=1.5, scale=0.5)
    model = graph_model(node, [like_input()])
    y = run(tmp_path, model, {"x": np.zeros(N, np.float32)}, "n")
    assert np.all(np.isfinite(y))
    assert abs(y.mean() - 1.5) < 5 * 0.5 / np.sqrt(N)
    assert abs(y.std() - 0.5) < 0.005
    # Standard normal tails: P(|z| > 2) = 4.55%.
    tail = np.mean(np.abs(y - 1.5) > 1.0)
    assert abs(tail - 0.0455) < 0.003, tail


def test_random_uniform_with_shape_attribute(tmp_path):
    node = helper.make_node("RandomUniform", [], ["y"], shape=[400, 500])
    model = graph_model(node, [], out_shape=(400, 500))
    y = run(tmp_path, model, {}, "shape")
    assert y.shape == (400, 500)
    assert 0.0 <= y.min() and y.max() < 1.0
    assert abs(y.mean() - 0.5) < 5 * np.sqrt(1 / 12 / y.size)


def test_bernoulli(tmp_path):
    node = helper.make_node("Bernoulli", ["x"], ["y"])
    model = graph_model(node, [like_input()])
    p = np.where(np.arange(N) % 2 == 0, 0.2, 0.9).astype(np.float32)
    y = run(tmp_path, model, {"x": p}, "b")
    assert set(np.unique(y)) <= {0.0, 1.0}
    for prob, sample in ((0.2, y[0::2]), (0.9, y[1::2])):
        assert abs(sample.mean() - prob) < 5 * np.sqrt(prob * (1 - prob) / sample.size)


def test_bad_dtype_names_the_node(tmp_path):
    node = helper.make_node("RandomUniformLike", ["x"], ["y"], name="noise",
                            dtype=TensorProto.INT64)
    model = graph_model(node, [like_input()], out_type=TensorProto.INT64)
    path = tmp_path / "bad.onnx"
    path.write_bytes(model.SerializeToString())
    proc = run_tool([tool("vitc"), str(path), "-o", str(tmp_path / "bad.vtc")])
    assert proc.returncode != 0
    assert "noise" in proc.stderr and "floating-point" in proc.stderr, proc.stderr
    assert not (tmp_path / "bad.vtc").exists()


class StochasticDepthNet(nn.Module):
    """Residual blocks whose branch is dropped per sample (torchvision's
    StochasticDepth, as in EfficientNet, ConvNeXt and Swin)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 3, 2, 1)
        self.branch = nn.Sequential(nn.Conv2d(8, 8, 3, 1, 1), nn.ReLU())
        self.drop = torchvision.ops.StochasticDepth(0.5, "row")
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        x = x + self.drop(self.branch(x))
        return self.fc(x.mean((2, 3)))


def export_stochastic_depth(tmp_path):
    torch.manual_seed(0)
    model = StochasticDepthNet().train()
    onnx_path = tmp_path / "sd.onnx"
    torch.onnx.export(model, (torch.randn(2, 1, 28, 28),), str(onnx_path), dynamo=False,
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=17)
    ops = {n.op_type for n in onnx.load(str(onnx_path)).graph.node}
    assert ops & {"RandomUniformLike", "Bernoulli", "RandomUniform"}, ops
    return model, onnx_path


@pytest.mark.parametrize("flags", [[], ["--input-shape", "input=5x1x28x28"]],
                         ids=["dynamic_batch", "static_batch"])
def test_stochastic_depth_evaluates_like_pytorch_eval(tmp_path, flags):
    """Compiled for inference, a training-mode export keeps every sample, as
    PyTorch's eval() does: the keep mask is its expectation (also where a
    static shape would let the draw fold to constants)."""
    model, onnx_path = export_stochastic_depth(tmp_path)
    art = tmp_path / "sd_infer.vtc"
    check_ok(run_tool([tool("vitc"), str(onnx_path), "-o", str(art), *flags]), "vitc")
    x = np.random.default_rng(0).standard_normal((5, 1, 28, 28)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    proc = run_tool([tool("vitc-run"), str(art), "--input", f"input={tmp_path / 'x.npy'}",
                     "--output-dir", str(tmp_path / "out")])
    check_ok(proc, "vitc-run")
    with torch.no_grad():
        expected = model.eval()(torch.from_numpy(x)).numpy()
    actual = np.load(tmp_path / "out" / "logits.npy")
    assert np.allclose(actual, expected, rtol=1e-4, atol=1e-5), np.abs(actual - expected).max()


def test_stochastic_depth_model_trains(tmp_path):
    _, onnx_path = export_stochastic_depth(tmp_path)
    art = tmp_path / "sd.vtc"
    check_ok(run_tool([tool("vitc"), str(onnx_path), "--mode", "train", "-o", str(art)]),
             "vitc --mode train")
    def losses(seed_value, tag):
        proc = run_tool([tool("vitc-run"), str(art), "--limit-train", "320", "--limit-test",
                         "64", "--val-split", "0", "--batch-size", "16", "--seed",
                         str(seed_value), "--log-every", "5",
                         "--checkpoint-dir", str(tmp_path / tag)])
        check_ok(proc, "vitc-run training")
        values = [float(m) for m in re.findall(r"loss[ =:]+([0-9.eE+-]+)", proc.stdout)]
        assert values and all(np.isfinite(values)), proc.stdout[-1000:]
        return values

    first = losses(1, "a")
    assert first == losses(1, "b"), "the same seed must draw the same masks"
    assert first != losses(2, "c"), "another seed must draw other masks"
