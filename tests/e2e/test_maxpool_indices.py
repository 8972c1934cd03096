"""MaxPool's second output (Indices), which the importer builds from the
window offsets' argmax over strided slices of the -inf padded input:
MaxPool2d/MaxPool1d with return_indices=True (padding, stride, dilation,
ceil mode, ties between equal values in a window), the indices returned and
fed to further arithmetic, against onnxruntime and PyTorch at two batch sizes of a
dynamic batch; and the raw ONNX indices (flat over N x C x H x W, or
N x C x D x H x W in 3-D, so the batch term counts, both storage orders) of
MaxPool nodes written by hand,
against onnxruntime; and a training step whose loss depends on the indices
(they scale the pooled values) against float64 autograd."""
import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
from onnx import TensorProto, helper

from conftest import check_ok, run_tool, tool
from test_train_step import check_sgd_step_against_float64, close, run_function

OUTPUTS = ["v", "i", "g", "tie_v", "tie_i", "dil_i", "i1d"]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)
        self.tie_pool = nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)
        self.dil_pool = nn.MaxPool2d(2, stride=3, dilation=2, ceil_mode=True,
                                     return_indices=True)
        self.pool1d = nn.MaxPool1d(4, stride=3, padding=2, return_indices=True)

    def forward(self, x):
        y = self.conv(x)
        v, i = self.pool(y)
        # The indices address the flattened H x W plane of each (n, c): their
        # column, in float arithmetic after the pooled values.
        g = v + (i % 11).float()
        # Few distinct values: windows hold ties, the first maximum wins.
        tie_v, tie_i = self.tie_pool(torch.floor(x * 0.75))
        # Ceil mode: the last window reaches past the input.
        _, dil_i = self.dil_pool(y)
        _, i1d = self.pool1d(y.flatten(2))
        return v, i, g, tie_v, tie_i, dil_i, i1d


def test_indices_match_onnxruntime_and_torch(tmp_path):
    model = Net().eval()
    path = tmp_path / "maxpool_indices.onnx"
    torch.onnx.export(model, (torch.randn(2, 3, 11, 11),), str(path), input_names=["x"],
                      output_names=OUTPUTS, opset_version=17, dynamo=False,
                      dynamic_axes={"x": {0: "N"}, **{o: {0: "N"} for o in OUTPUTS}})
    artifact = tmp_path / "maxpool_indices.vtc"
    check_ok(run_tool([tool("vitc"), str(path), "-o", str(artifact)]), "vitc")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for n in (1, 3):
        x = rng.standard_normal((n, 3, 11, 11)).astype(np.float32)
        out = run_function(artifact, "main", {"x": x}, tmp_path / f"b{n}")
        expected = dict(zip(OUTPUTS, session.run(None, {"x": x})))
        with torch.no_grad():
            reference = dict(zip(OUTPUTS, (t.numpy() for t in model(torch.from_numpy(x)))))
        # The tie case really has ties: several equal maxima in some window.
        assert len(np.unique(x * 0.75 // 1)) < 8
        for name in OUTPUTS:
            for what, want in (("onnxruntime", expected[name]), ("torch", reference[name])):
                assert out[name].shape == want.shape, (name, what, out[name].shape)
                if want.dtype == np.int64:
                    assert out[name].dtype == np.int64, (name, out[name].dtype)
                    mismatch = np.argwhere(out[name] != want)
                    assert not len(mismatch), (
                        f"{name} at batch {n} vs {what}: {len(mismatch)} indices differ, "
                        f"first at {mismatch[0].tolist()}")
                else:
                    close(out[name], want, f"{name} at batch {n} vs {what}", rtol=1e-5)


# (attributes, input shape after the batch) of hand-written MaxPool nodes.
RAW_POOLS = [
    (dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 0, 1]), [2, 7, 6]),
    (dict(kernel_shape=[2, 3], strides=[1, 2], storage_order=1, pads=[1, 1, 1, 1]), [2, 5, 7]),
    (dict(kernel_shape=[2, 2], strides=[2, 2], dilations=[2, 1], ceil_mode=1), [3, 7, 8]),
    (dict(kernel_shape=[3], strides=[2], pads=[1, 1]), [2, 9]),
    # 3-D: flat over N x C x D x H x W.
    (dict(kernel_shape=[2, 3, 3], strides=[2, 2, 2], pads=[1, 1, 0, 0, 1, 1]), [2, 5, 7, 6]),
    (dict(kernel_shape=[2, 2, 2], strides=[1, 2, 2], storage_order=1), [2, 4, 5, 6]),
    (dict(kernel_shape=[2, 2, 2], strides=[2, 2, 2], dilations=[2, 1, 1], ceil_mode=1),
     [2, 7, 6, 5]),
]


def test_raw_indices_match_onnxruntime(tmp_path):
    inputs, outputs, nodes = [], [], []
    for k, (attrs, shape) in enumerate(RAW_POOLS):
        inputs.append(helper.make_tensor_value_info(f"x{k}", TensorProto.FLOAT, ["N", *shape]))
        outputs += [helper.make_tensor_value_info(f"v{k}", TensorProto.FLOAT, None),
                    helper.make_tensor_value_info(f"i{k}", TensorProto.INT64, None)]
        nodes.append(helper.make_node("MaxPool", [f"x{k}"], [f"v{k}", f"i{k}"], **attrs))
    graph = helper.make_graph(nodes, "raw_indices", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
    model.ir_version = 8
    path = tmp_path / "raw.onnx"
    onnx.save(model, str(path))
    artifact = tmp_path / "raw.vtc"
    check_ok(run_tool([tool("vitc"), str(path), "-o", str(artifact)]), "vitc")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(2)
    names = [o.name for o in outputs]
    for n in (1, 3):
        # Integers in [-2, 2]: windows with several equal maxima.
        feeds = {f"x{k}": rng.integers(-2, 3, (n, *shape)).astype(np.float32)
                 for k, (_, shape) in enumerate(RAW_POOLS)}
        out = run_function(artifact, "main", feeds, tmp_path / f"b{n}")
        for name, want in zip(names, session.run(None, feeds)):
            assert out[name].shape == want.shape, (name, n, out[name].shape, want.shape)
            assert out[name].dtype == want.dtype, (name, n, out[name].dtype)
            bad = np.argwhere(out[name] != want)
            assert not len(bad), f"{name} at batch {n}: {len(bad)} differ, first at {bad[0].tolist()}"


class IndexScaled(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)
        self.fc = nn.Linear(4 * 6 * 6, 10)

    def forward(self, x):
        v, i = self.pool(self.conv(x))
        return self.fc(torch.flatten(v * (1 + (i % 2).float()), 1))


def test_gradients_with_indices_match_autograd(tmp_path):
    model = IndexScaled()
    path = tmp_path / "indices_train.onnx"
    torch.onnx.export(model.train(), (torch.randn(2, 3, 11, 11),), str(path),
                      input_names=["input"], output_names=["logits"], opset_version=17,
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, dynamo=False,
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 11, 11)).astype(np.float32)
    y = rng.integers(0, 10, 4).astype(np.int64)
    check_sgd_step_against_float64(model, path, x, y, tmp_path)
