"""Convolutions whose pads differ between the two sides of a dim (an ONNX
Conv with pads [2, 2, 1, 1], what an asymmetric ZeroPad2d folds into)
against onnxruntime. The CPU runtime computes a convolution padded by more
than half its kernel as oneDNN's backward-data form, whose winograd kernel
gave wrong values for unequal pads (found through Inception v3's
gradients); enough channels (16) for winograd to be chosen where the CPU
has it."""
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import check_ok, run_tool, tool


@pytest.mark.parametrize("pads", [[2, 2, 1, 1], [1, 2, 2, 1], [2, 2, 2, 2]])
def test_padded_conv_matches_onnxruntime(pads, tmp_path):
    rng = np.random.default_rng(3)
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32) * 0.2
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=pads)], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16, 9, 9])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "conv.onnx"
    onnx.save(model, path)
    artifact = tmp_path / "conv.vtc"
    check_ok(run_tool([tool("vitc"), str(path), "-o", str(artifact)]), "vitc")
    x = rng.standard_normal((2, 16, 9, 9)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "out"
    check_ok(run_tool([tool("vitc-run"), str(artifact), "--input", f"x={tmp_path / 'x.npy'}",
                       "--output-dir", str(out)]), "vitc-run")
    got = np.load(next(out.glob("*.npy")))
    (expected,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})
    assert got.shape == expected.shape
    err = float(np.abs(got - expected).max())
    assert err <= 1e-4 * float(np.abs(expected).max()), f"max error {err:.3g}"
