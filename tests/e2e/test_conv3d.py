"""3-D convolution and pooling (Conv3d, MaxPool3d, AvgPool3d: video and
volumetric models), which the importer runs as 2-D ones over the depth
positions folded into the batch: inference against onnxruntime at two batch
sizes, and one SGD step (lr 1) against PyTorch autograd in float64 on the
same weights and batch; and hand-written nodes with the attributes the
exporter leaves out (auto_pad SAME, dilations along every dim, average
pooling with dilations, a static batch) against onnxruntime."""
import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F

from onnx import TensorProto, helper, numpy_helper

from conftest import check_ok, run_tool, tool
from test_train_step import (check_sgd_step_against_float64, close, run_function, signature,
                             step_inputs)

SHAPE = (3, 9, 10, 11)  # C, D, H, W


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv3d(3, 8, 3, padding=1), nn.Tanh(),
        nn.MaxPool3d((2, 3, 2), stride=2, padding=(0, 1, 1), ceil_mode=True),
        nn.Conv3d(8, 8, (3, 3, 2), stride=(2, 1, 2), padding=(2, 1, 0), dilation=(2, 1, 1),
                  groups=2), nn.Tanh(),
        nn.AvgPool3d(2, stride=(1, 2, 2), padding=1, count_include_pad=False),
        nn.Conv3d(8, 4, (1, 3, 3), padding=(0, 1, 1), bias=False), nn.Tanh(),
        nn.AvgPool3d((3, 3, 2), stride=(2, 1, 1), padding=(1, 1, 0), ceil_mode=True,
                     count_include_pad=True),
        nn.Flatten(), nn.LazyLinear(10))


def export(model, path, train):
    with torch.no_grad():
        model(torch.zeros(1, *SHAPE))  # materialises the lazy layer
    kwargs = dict(input_names=["input"], output_names=["logits"], opset_version=17,
                  dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, dynamo=False)
    if train:
        kwargs.update(training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    torch.onnx.export(model.train(train), (torch.randn(2, *SHAPE),), str(path), **kwargs)


def test_inference_matches_onnxruntime(tmp_path):
    path = tmp_path / "conv3d.onnx"
    export(make_model(), path, train=False)
    artifact = tmp_path / "conv3d.vtc"
    check_ok(run_tool([tool("vitc"), str(path), "-o", str(artifact)]), "vitc")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for n in (1, 3):
        x = rng.standard_normal((n, *SHAPE)).astype(np.float32)
        out = run_function(artifact, "main", {"input": x}, tmp_path / f"b{n}")
        (expected,) = session.run(None, {"input": x})
        close(out["logits"], expected, f"logits at batch {n}", rtol=1e-5)


def test_gradients_match_autograd(tmp_path):
    model = make_model()
    path = tmp_path / "conv3d_train.onnx"
    export(model, path, train=True)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, *SHAPE)).astype(np.float32)
    y = rng.integers(0, 10, 3).astype(np.int64)
    check_sgd_step_against_float64(model, path, x, y, tmp_path)


# (op, attributes, filter shape or None) of hand-written nodes on x [N, 4, 7, 8, 9].
RAW_NODES = [
    ("Conv", dict(auto_pad="SAME_UPPER", strides=[2, 2, 3]), [6, 4, 3, 2, 3]),
    ("Conv", dict(dilations=[2, 1, 2], pads=[0, 2, 1, 3, 0, 1], group=4), [8, 1, 3, 3, 2]),
    ("Conv", dict(auto_pad="SAME_LOWER"), [2, 4, 2, 2, 2]),
    ("MaxPool", dict(kernel_shape=[3, 2, 3], dilations=[2, 2, 1], pads=[1, 1, 1, 2, 0, 1],
                     strides=[1, 2, 2]), None),
    ("MaxPool", dict(kernel_shape=[2, 2, 2], auto_pad="SAME_LOWER", strides=[2, 2, 2]), None),
    ("AveragePool", dict(kernel_shape=[3, 3, 2], pads=[1, 1, 0, 2, 1, 1], count_include_pad=1,
                         strides=[2, 2, 2], ceil_mode=1), None),
    ("AveragePool", dict(kernel_shape=[2, 3, 3], auto_pad="SAME_UPPER", strides=[3, 1, 2]),
     None),
    ("AveragePool", dict(kernel_shape=[2, 3, 2], dilations=[2, 1, 3], pads=[1, 0, 1, 1, 1, 0],
                         strides=[2, 1, 2], ceil_mode=1, count_include_pad=1), None),
    ("AveragePool", dict(kernel_shape=[3, 2, 2], dilations=[2, 2, 2], pads=[2, 1, 1, 1, 1, 1],
                         strides=[1, 2, 3]), None),
]


def test_raw_nodes_match_onnxruntime(tmp_path):
    rng = np.random.default_rng(3)
    nodes, outputs, inits = [], [], []
    for k, (op, attrs, filt) in enumerate(RAW_NODES):
        ins = ["x"]
        if filt:
            inits.append(numpy_helper.from_array(
                rng.standard_normal(filt).astype(np.float32), f"w{k}"))
            inits.append(numpy_helper.from_array(
                rng.standard_normal(filt[0]).astype(np.float32), f"b{k}"))
            ins += [f"w{k}", f"b{k}"]
        nodes.append(helper.make_node(op, ins, [f"y{k}"], **attrs))
        outputs.append(helper.make_tensor_value_info(f"y{k}", TensorProto.FLOAT, None))
    for batch in ("N", 2):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4, 7, 8, 9])
        graph = helper.make_graph(nodes, "raw3d", [x], outputs, inits)
        # Opset 19: AveragePool's dilations.
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
        model.ir_version = 8
        path = tmp_path / f"raw_{batch}.onnx"
        onnx.save(model, str(path))
        artifact = tmp_path / f"raw_{batch}.vtc"
        check_ok(run_tool([tool("vitc"), str(path), "-o", str(artifact)]), "vitc")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        for n in ((1, 3) if batch == "N" else (2,)):
            xv = rng.standard_normal((n, 4, 7, 8, 9)).astype(np.float32)
            out = run_function(artifact, "main", {"x": xv}, tmp_path / f"{batch}_b{n}")
            for k, want in enumerate(session.run(None, {"x": xv})):
                name = f"y{k} ({RAW_NODES[k][0]} {RAW_NODES[k][1]})"
                assert out[f"y{k}"].shape == want.shape, (name, out[f"y{k}"].shape, want.shape)
                close(out[f"y{k}"], want, f"{name} at batch {n}", rtol=1e-5)


def test_dilated_average_pool_gradients_match_autograd(tmp_path):
    """PyTorch has no dilated average pooling: its reference here is the sum
    of a dilated convolution with ones divided by the same convolution of a
    mask of the input (ceil mode's extra window, padding excluded)."""
    rng = np.random.default_rng(4)
    state = {"conv.weight": rng.standard_normal((4, 3, 3, 3, 3)).astype(np.float32),
             "fc.weight": rng.standard_normal((10, 4 * 3 * 3 * 2)).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["input", "conv.weight"], ["c"], pads=[1] * 6),
             helper.make_node("AveragePool", ["c"], ["p"], kernel_shape=[2, 2, 2],
                              dilations=[2, 2, 2], strides=[2, 2, 2], ceil_mode=1),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "fc.weight"], ["logits"], transB=1)]
    graph = helper.make_graph(
        nodes, "dilated_avg",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 6, 6, 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        [numpy_helper.from_array(v, k) for k, v in state.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 8
    path = tmp_path / "dilated_avg.onnx"
    onnx.save(model, str(path))
    artifact = tmp_path / "train.vtc"
    check_ok(run_tool([tool("vitc"), str(path), "--mode", "train", "--optimizer", "sgd",
                       "--weight-decay", "0", "-o", str(artifact)]), "vitc --mode train")
    x = rng.standard_normal((2, 3, 6, 6, 4)).astype(np.float32)
    y = rng.integers(0, 10, 2).astype(np.int64)
    sig = signature(artifact, "train_step")
    out = run_function(artifact, "train_step", step_inputs(sig, state, x, y, 1.0, 1),
                       tmp_path / "step")
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in state.items()}
    c = F.conv3d(torch.from_numpy(x).double(), params["conv.weight"], padding=1)
    ones = torch.ones(1, 1, 2, 2, 2, dtype=torch.float64)
    pad = (0, 1, 0, 1, 0, 1)  # ceil mode: each dim's last window reaches one past

    def window_sums(t):
        flat = F.pad(t, pad).reshape(-1, 1, *(d + 1 for d in t.shape[2:]))
        s = F.conv3d(flat, ones, stride=2, dilation=2)
        return s.reshape(*t.shape[:2], *s.shape[2:])

    pooled = window_sums(c) / window_sums(torch.ones_like(c[:1, :1]))
    loss = F.cross_entropy(pooled.flatten(1) @ params["fc.weight"].T, torch.from_numpy(y))
    loss.backward()
    close(out["loss"], loss.detach().numpy(), "loss", rtol=1e-5)
    for k, p in params.items():
        close(state[k] - out[k], p.grad.numpy(), f"gradient of {k}", rtol=1e-4)
