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


# Pad's copy modes before a convolution (reflect and edge in CNN front ends,
# wrap for periodic inputs): the importer builds them from slices and
# concatenations, so their gradients are those rules'. One SGD step (lr 1)
# against PyTorch autograd in float64 (F.pad's reflect, replicate, circular).
@pytest.mark.parametrize("mode,torch_mode", [("reflect", "reflect"), ("edge", "replicate"),
                                             ("wrap", "circular")])
def test_pad_mode_gradients_match_autograd(mode, torch_mode, tmp_path):
    import torch
    import torch.nn.functional as F
    from test_train_step import close, run_function, signature, step_inputs

    rng = np.random.default_rng(5)
    weights = {"w": rng.standard_normal((4, 2, 3, 3)).astype(np.float32) * 0.3,
               "fc": rng.standard_normal((4, 10)).astype(np.float32)}
    pads = [0, 0, 2, 1, 0, 0, 1, 2]  # H: 2 before, 1 after; W: 1 before, 2 after
    nodes = [helper.make_node("Pad", ["x", "pads"], ["p"], mode=mode),
             helper.make_node("Conv", ["p", "w"], ["c"]),
             helper.make_node("ReduceMean", ["c", "hw"], ["m"], keepdims=0),
             helper.make_node("MatMul", ["m", "fc"], ["logits"])]
    inits = [numpy_helper.from_array(v, k) for k, v in weights.items()] + [
        numpy_helper.from_array(np.array(pads, np.int64), "pads"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "hw")]
    graph = helper.make_graph(
        nodes, "pad", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 5, 6])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    path = tmp_path / "pad.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)]), path)
    artifact = tmp_path / "pad.vtc"
    check_ok(run_tool([tool("vitc"), str(path), "--mode", "train", "--optimizer", "sgd",
                       "--weight-decay", "0", "-o", str(artifact)]), "vitc --mode train")
    x = rng.standard_normal((3, 2, 5, 6)).astype(np.float32)
    y = rng.integers(0, 10, 3).astype(np.int64)
    sig = signature(artifact, "train_step")
    state = dict(weights)
    out = run_function(artifact, "train_step", step_inputs(sig, state, x, y, 1.0, 1),
                       tmp_path / "step")
    w = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in weights.items()}
    padded = F.pad(torch.tensor(x, dtype=torch.float64), (1, 2, 2, 1), mode=torch_mode)
    logits = F.conv2d(padded, w["w"]).mean((2, 3)) @ w["fc"]
    loss = F.cross_entropy(logits, torch.from_numpy(y))
    loss.backward()
    close(out["loss"], loss.detach().numpy(), "loss", rtol=1e-5)
    for name in weights:
        close(state[name] - out[name], w[name].grad.numpy(), f"gradient of {name}", rtol=1e-4)
