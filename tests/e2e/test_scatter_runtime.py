"""Scatters whose indices are computed from the input (argmax, comparisons,
a rotation of the batch), which the importer turns into vt.scatter (#13):
torch's scatter (ScatterElements, reduction none), scatter_add with a column
repeated in a row (ScatterElements add), index_put with accumulate of those
(row, column) pairs (ScatterND add, pairs into a dynamic batch) and of rows
of a weight table hit by several samples (ScatterND add), index_put without
accumulate (ScatterND none, distinct rows of a dynamic batch), exported by
the dynamo exporter:
  - inference against onnxruntime at two batch sizes of one artifact;
  - one SGD step with lr 1 (p - p' = gradient) against PyTorch autograd in
    float64;
  - a scatter with reduction none whose index repeats (hand-built ONNX):
    only the last write to a position gets a gradient, which central finite
    differences of a float64 reference confirm (PyTorch instead gives every
    duplicate one);
  - indices out of range drop their update (onnxruntime refuses them).
"""
import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from conftest import check_ok, run_tool, tool
from test_train_step import close, run_function, signature, step_inputs


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc1 = nn.Linear(12, 8)
        self.fc2 = nn.Linear(8, 10)
        self.table = nn.Parameter(torch.randn(4, 8) * 0.5)
        self.proj = nn.Parameter(torch.randn(8, 10) * 0.3)

    def forward(self, x):
        h = self.fc1(x)                                           # [N, 8]
        top = h.argmax(dim=1, keepdim=True)                       # [N, 1]
        # Each row's maximum replaced by twice the row's mean.
        a = h.scatter(1, top, 2 * h.mean(1, keepdim=True))
        # Two of the three updates of a row aim at one column: both add.
        j = torch.cat([(top + 3) % 8, (top + 3) % 8, (top + 5) % 8], 1)
        b = a.scatter_add(1, j, torch.tanh(h[:, :3]))
        # The same as (row, column) pairs into the dynamic batch.
        rows = torch.arange(x.shape[0]).unsqueeze(1).expand(-1, 3)
        b = b.index_put((rows, j), torch.tanh(h[:, 3:6]), accumulate=True)
        # Rows of a table picked by the sample's signs: several samples add
        # into one row.
        r = (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0).long()
        t = self.table.index_put((r,), b, accumulate=True)        # [4, 8]
        # The batch rotated by an amount read from the data: distinct rows.
        n = torch.arange(x.shape[0])
        perm = (n + h[:, 0].argmax()) % torch.ones_like(n).sum()
        z = b.clone()
        z[perm] = b * torch.sigmoid(b)
        return self.fc2(z) + t.mean(0) @ self.proj


def export(model, path):
    """With the dynamo exporter: the TorchScript one writes index_put with
    accumulate as a ScatterND without reduction into zeros (repeated rows
    keep one update, unlike torch) and scatter_add with a Slice to the
    index's run-time shape."""
    torch.onnx.export(model, (torch.randn(5, 12),), str(path), input_names=["x"],
                      output_names=["logits"], opset_version=18, dynamo=True,
                      dynamic_shapes={"x": {0: torch.export.Dim("N", min=2)}})
    ops = [node.op_type for node in onnx.load(str(path)).graph.node]
    assert ops.count("ScatterElements") == 2 and ops.count("ScatterND") == 3, ops


def test_inference_matches_onnxruntime(tmp_path):
    model = Net().eval()
    path = tmp_path / "scatter.onnx"
    export(model, path)
    artifact = tmp_path / "scatter.vtc"
    check_ok(run_tool([tool("vitc"), str(path), "-o", str(artifact)]), "vitc")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(3)
    for n in (3, 9):
        x = rng.standard_normal((n, 12)).astype(np.float32)
        out = run_function(artifact, "main", {"x": x}, tmp_path / f"b{n}")
        (expected,) = session.run(None, {"x": x})
        close(out["logits"], expected, f"logits at batch {n}", rtol=1e-5)
        with torch.no_grad():
            reference = model(torch.from_numpy(x)).numpy()
        close(out["logits"], reference, f"logits at batch {n} vs torch", rtol=1e-5)


def test_gradients_match_autograd(tmp_path):
    model = Net()
    path = tmp_path / "scatter_train.onnx"
    export(model.train(), path)
    artifact = tmp_path / "train.vtc"
    check_ok(run_tool([tool("vitc"), str(path), "--mode", "train", "--optimizer", "sgd",
                       "--weight-decay", "0", "-o", str(artifact)]), "vitc --mode train")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((7, 12)).astype(np.float32)
    y = rng.integers(0, 10, 7).astype(np.int64)
    # The exporter's initializers: torch's parameters, some renamed (the
    # table), and constants it lifted (scalars), which vitc trains too.
    state = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer
             if i.data_type == TensorProto.FLOAT}
    sig = signature(artifact, "train_step")
    out = run_function(artifact, "train_step", step_inputs(sig, state, x, y, 1.0, 1),
                       tmp_path / "step")
    weights = {k: v.detach().numpy() for k, v in model.named_parameters()}
    model = model.double()
    loss = F.cross_entropy(model(torch.from_numpy(x).double()), torch.from_numpy(y))
    loss.backward()
    close(out["loss"], loss.detach().numpy(), "loss", rtol=1e-5)
    params = [n for n, _, _, role in sig if role == "param"]
    for name, p in model.named_parameters():
        (onnx_name,) = [n for n in params if state[n].shape == weights[name].shape
                        and np.array_equal(state[n], weights[name])]
        close(state[onnx_name] - out[onnx_name], p.grad.numpy(), f"gradient of {name}",
              rtol=1e-4)


# A scatter with reduction none whose rows repeat: the row of each sample is
# the argmax of its first 4 features, so 9 samples share 4 rows.
DUP = {
    "table": np.random.default_rng(5).standard_normal((4, 3)) * 0.5,
    "v": np.random.default_rng(6).uniform(0.5, 1.5, 3),
    "w1": np.random.default_rng(7).standard_normal((4, 10)) * 0.5,
    "w2": np.random.default_rng(8).standard_normal((12, 10)) * 0.5,
}


def build_duplicates(path):
    nodes = [
        helper.make_node("ArgMax", ["x"], ["am"], axis=1, keepdims=1),      # [N, 1]
        helper.make_node("Slice", ["x", "zero", "three", "one"], ["x3"]),
        helper.make_node("Mul", ["x3", "v"], ["upd"]),                     # [N, 3]
        helper.make_node("ScatterND", ["table", "am", "upd"], ["t"]),       # [4, 3]
        helper.make_node("Reshape", ["t", "flat"], ["tf"]),                 # [1, 12]
        helper.make_node("MatMul", ["tf", "w2"], ["bias"]),
        helper.make_node("MatMul", ["x", "w1"], ["z"]),
        helper.make_node("Add", ["z", "bias"], ["logits"]),
    ]
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in DUP.items()] + [
        i64("zero", [0]), i64("three", [3]), i64("one", [1]), i64("flat", [1, 12])]
    graph = helper.make_graph(
        nodes, "dup", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def duplicates_loss(p, x, y):
    """The model in float64 numpy: the last sample aimed at a row wins."""
    t = p["table"].copy()
    for row, upd in zip(x.argmax(1), x[:, :3] * p["v"]):
        t[row] = upd
    logits = x @ p["w1"] + t.reshape(1, 12) @ p["w2"]
    logits = logits - logits.max(1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean()


def test_duplicate_gradients_match_finite_differences(tmp_path):
    path = tmp_path / "dup.onnx"
    build_duplicates(path)
    artifact = tmp_path / "dup.vtc"
    check_ok(run_tool([tool("vitc"), str(path), "--mode", "train", "--optimizer", "sgd",
                       "--weight-decay", "0", "-o", str(artifact)]), "vitc --mode train")
    rng = np.random.default_rng(9)
    x = rng.standard_normal((9, 4)).astype(np.float32)
    y = rng.integers(0, 10, 9).astype(np.int64)
    rows = x.argmax(1)
    assert len(set(rows.tolist())) < len(rows)  # rows do repeat
    state = {k: v.astype(np.float32) for k, v in DUP.items()}
    sig = signature(artifact, "train_step")
    out = run_function(artifact, "train_step", step_inputs(sig, state, x, y, 1.0, 1),
                       tmp_path / "step")
    p64 = {k: v.astype(np.float32).astype(np.float64) for k, v in DUP.items()}
    x64 = x.astype(np.float64)
    close(out["loss"], duplicates_loss(p64, x64, y), "loss", rtol=1e-5)
    eps = 1e-6
    for name in DUP:
        fd = np.zeros_like(p64[name])
        for i in np.ndindex(fd.shape):
            plus = {k: v.copy() for k, v in p64.items()}
            minus = {k: v.copy() for k, v in p64.items()}
            plus[name][i] += eps
            minus[name][i] -= eps
            fd[i] = (duplicates_loss(plus, x64, y) - duplicates_loss(minus, x64, y)) / (2 * eps)
        close(state[name] - out[name], fd, f"gradient of {name}", rtol=1e-4)
    # The table's rows that a sample wrote get no gradient; the scale of an
    # update feature gets one only through the last sample of each row.
    written = sorted(set(rows.tolist()))
    assert np.all(state["table"][written] == out["table"][written])


def test_out_of_range_indices_drop_their_update(tmp_path):
    """ONNX calls these an error (onnxruntime refuses them); vitc writes
    nothing for them, and never out of bounds."""
    nodes = [helper.make_node("ScatterElements", ["d", "i", "u"], ["e"], axis=1),
             helper.make_node("ScatterND", ["d", "k", "w"], ["s"], reduction="add")]
    graph = helper.make_graph(
        nodes, "oob",
        [helper.make_tensor_value_info("d", TensorProto.FLOAT, ["N", 5]),
         helper.make_tensor_value_info("i", TensorProto.INT64, ["N", 2]),
         helper.make_tensor_value_info("u", TensorProto.FLOAT, ["N", 2]),
         helper.make_tensor_value_info("k", TensorProto.INT64, [3, 1]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, [3, 5])],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, ["N", 5]),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, ["N", 5])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    path = tmp_path / "oob.onnx"
    onnx.save(model, str(path))
    artifact = tmp_path / "oob.vtc"
    check_ok(run_tool([tool("vitc"), str(path), "-o", str(artifact)]), "vitc")
    d = np.arange(15, dtype=np.float32).reshape(3, 5)
    i = np.array([[5, -1], [-6, 0], [1, 100]], np.int64)
    u = -np.ones((3, 2), np.float32)
    k = np.array([[3], [-1], [-4]], np.int64)
    w = np.full((3, 5), 100, np.float32)
    out = run_function(artifact, "main", {"d": d, "i": i, "u": u, "k": k, "w": w}, tmp_path / "r")
    e = d.copy()
    e[0, 4] = e[1, 0] = e[2, 1] = -1
    s = d.copy()
    s[2] += 100
    np.testing.assert_array_equal(out["e"], e)
    np.testing.assert_array_equal(out["s"], s)
