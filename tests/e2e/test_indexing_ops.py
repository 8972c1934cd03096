"""GatherND, GatherElements, ScatterND and ReduceL2 in a model, inference and
training: the importer lowers them onto vt.gather/select (OpsIndexing.cpp),
so their gradients are those rules' composition. One hand-built ONNX model
uses them the way exported vision models do (a weight table gathered by
constant tuples as Swin v2's position bias; rows of a dynamic-batch
activation gathered and scattered as dynamo's adaptive pooling and slice
assignment; repeated indices; L2 normalisation):
  - inference against onnxruntime at two batch sizes (one artifact);
  - one SGD step with lr 1 (p - p' = gradient) against PyTorch autograd in
    float64 on the same function, weights and batch.
"""
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from conftest import check_ok, run_tool, tool
from test_train_step import close, run_function, signature, step_inputs

RNG = np.random.default_rng(7)
WEIGHTS = {
    "w1": RNG.standard_normal((12, 8)).astype(np.float32) * 0.5,
    "table": RNG.standard_normal((4, 4, 8)).astype(np.float32) * 0.5,
    "w3": RNG.uniform(0.5, 1.5, (3, 4)).astype(np.float32),
    "w2": RNG.standard_normal((4, 10)).astype(np.float32),
    "b2": RNG.standard_normal(10).astype(np.float32) * 0.1,
}
TABLE_IDX = np.array([[0, 1], [3, 2], [-1, 0], [2, 2], [0, 1]], np.int64)  # a repeat
ROWS_IDX = np.array([[3], [0], [3], [1]], np.int64)  # row 3 twice
ELEM_IDX = np.array([[2, 0, 1, 1], [0, 2, 2, -3]], np.int64)
SCATTER_IDX = np.array([[1], [3]], np.int64)
ADD_IDX = np.array([[0], [0]], np.int64)  # both updates add into row 0


def build_model(path):
    i64 = lambda name, v: numpy_helper.from_array(v, name)  # noqa: E731
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        # A weight table gathered by (row, col) tuples: [5, 8].
        helper.make_node("GatherND", ["table", "table_idx"], ["g"]),
        helper.make_node("Transpose", ["g"], ["gt"], perm=[1, 0]),
        helper.make_node("MatMul", ["h", "gt"], ["h2"]),  # [N, 5]
        # Rows of an activation whose batch is dynamic: [4, N].
        helper.make_node("Transpose", ["h2"], ["h2t"], perm=[1, 0]),
        helper.make_node("GatherND", ["h2t", "rows_idx"], ["r"]),
        helper.make_node("Slice", ["h2t", "zero", "two", "zero"], ["upd0"]),
        helper.make_node("Mul", ["upd0", "upd0"], ["upd"]),
        helper.make_node("ScatterND", ["r", "scatter_idx", "upd"], ["s1"]),
        helper.make_node("ScatterND", ["s1", "add_idx", "upd"], ["s2"], reduction="add"),
        helper.make_node("Transpose", ["s2"], ["s"], perm=[1, 0]),  # [N, 4]
        # Elements of a weight, summed to a per-feature scale.
        helper.make_node("GatherElements", ["w3", "elem_idx"], ["e"], axis=0),
        helper.make_node("ReduceSum", ["e", "zero"], ["scale"], keepdims=0),
        helper.make_node("Mul", ["s", "scale"], ["m"]),
        helper.make_node("ReduceL2", ["m", "one"], ["norm"], keepdims=1),
        helper.make_node("Div", ["m", "norm"], ["u"]),
        helper.make_node("MatMul", ["u", "w2"], ["z"]),
        helper.make_node("Add", ["z", "b2"], ["logits"]),
    ]
    inits = [numpy_helper.from_array(v, k) for k, v in WEIGHTS.items()] + [
        i64("table_idx", TABLE_IDX), i64("rows_idx", ROWS_IDX), i64("elem_idx", ELEM_IDX),
        i64("scatter_idx", SCATTER_IDX), i64("add_idx", ADD_IDX),
        i64("zero", np.array([0], np.int64)), i64("one", np.array([1], np.int64)),
        i64("two", np.array([2], np.int64))]
    graph = helper.make_graph(
        nodes, "indexing",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 12])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def torch_logits(w, x):
    """The model in PyTorch (w: name -> tensor with requires_grad)."""
    h = x @ w["w1"]
    g = w["table"][TABLE_IDX[:, 0], TABLE_IDX[:, 1]]
    h2t = (h @ g.T).T
    r = h2t[ROWS_IDX[:, 0]]
    upd = h2t[0:2] * h2t[0:2]
    s = r.clone()
    s[SCATTER_IDX[:, 0]] = upd
    s = s.index_add(0, torch.from_numpy(ADD_IDX[:, 0]), upd).T
    e = torch.gather(w["w3"], 0, torch.from_numpy(ELEM_IDX % 3))
    m = s * e.sum(0)
    u = m / torch.linalg.vector_norm(m, dim=1, keepdim=True)
    return u @ w["w2"] + w["b2"]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("indexing") / "indexing.onnx"
    build_model(str(path))
    return path


def test_inference_matches_onnxruntime(model_path, tmp_path):
    artifact = tmp_path / "m.vtc"
    check_ok(run_tool([tool("vitc"), str(model_path), "-o", str(artifact)]), "vitc")
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    for n in (3, 7):
        x = RNG.standard_normal((n, 12)).astype(np.float32)
        out = run_function(artifact, "main", {"x": x}, tmp_path / f"b{n}")
        (expected,) = session.run(None, {"x": x})
        close(out["logits"], expected, f"logits at batch {n}", rtol=1e-5)


def test_gradients_match_autograd(model_path, tmp_path):
    artifact = tmp_path / "train.vtc"
    proc = run_tool([tool("vitc"), str(model_path), "--mode", "train", "--optimizer", "sgd",
                     "--weight-decay", "0", "-o", str(artifact)])
    check_ok(proc, "vitc --mode train")
    x = RNG.standard_normal((6, 12)).astype(np.float32)
    y = RNG.integers(0, 10, 6).astype(np.int64)
    sig = signature(artifact, "train_step")
    state = dict(WEIGHTS)
    out = run_function(artifact, "train_step", step_inputs(sig, state, x, y, 1.0, 1),
                       tmp_path / "step")

    w = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for k, v in WEIGHTS.items()}
    loss = F.cross_entropy(torch_logits(w, torch.tensor(x, dtype=torch.float64)),
                           torch.from_numpy(y))
    loss.backward()
    close(out["loss"], loss.detach().numpy(), "loss", rtol=1e-5)
    params = sorted(n for n, _, _, role in sig if role == "param")
    assert params == sorted(WEIGHTS), params
    for p in params:
        close(state[p] - out[p], w[p].grad.numpy(), f"gradient of {p}", rtol=1e-4)
