"""Accuracy of long float32 sums in generated CPU kernels, against float64.

A sum carried as one running total through every reduction loop (what
vitc-reductions-to-loops emitted before it summed float reductions as a tree)
drifts as the total outgrows what is added to it: batch-norm statistics over
4 x 149 x 149 values per channel were 3.2e-6 (relative) from float64, 30x a
pairwise sum (numpy's, ~1e-7), and Inception v3's training-step gradients
twice as far from float64 as PyTorch's own. Checked here on the shapes that
showed it, with a dynamic batch (one artifact, two batch sizes): per-channel
means over N, H and W (a batch norm's), and one long sum over a flattened
row (a loss over a large batch).
"""
import numpy as np
from onnx import TensorProto, helper

from conftest import check_ok, run_tool, tool

# numpy's pairwise float32 sums reach ~1e-7 and 3e-8 on these; the running
# total was 3.2e-6 on the first, the blocks of 1024 alone 3.0e-7 on the
# second (1M terms: 1024 block sums added in a row).


def build(path, node, x_shape, y_shape, axes):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)
    init = helper.make_tensor("axes", TensorProto.INT64, [len(axes)], axes)
    graph = helper.make_graph([helper.make_node(node, ["x", "axes"], ["y"])], "g",
                              [x], [y], [init])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    path.write_bytes(model.SerializeToString())


def run(tmp_path, artifact, x):
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "out"
    check_ok(run_tool([tool("vitc-run"), str(artifact), "--input", f"x={tmp_path / 'x.npy'}",
                       "--output-dir", str(out)]), "vitc-run")
    return np.load(out / "y.npy").astype(np.float64)


def relative_error(got, ref):
    return float(np.max(np.abs(got.ravel() - ref.ravel()) / np.abs(ref.ravel())))


def test_batch_norm_statistics(tmp_path):
    onnx_path, artifact = tmp_path / "mean.onnx", tmp_path / "mean.vtc"
    build(onnx_path, "ReduceMean", ["N", 32, 149, 149], [1, 32, 1, 1], [0, 2, 3])
    check_ok(run_tool([tool("vitc"), str(onnx_path), "-o", str(artifact)]), "vitc")
    rng = np.random.default_rng(0)
    for batch in (4, 2):
        # A mean far from zero, as activations before a batch norm often are.
        x = (rng.standard_normal((batch, 32, 149, 149)) + 3).astype(np.float32)
        ref = x.astype(np.float64).mean(axis=(0, 2, 3))
        assert relative_error(run(tmp_path, artifact, x), ref) < 5e-7


def test_long_row_sum(tmp_path):
    onnx_path, artifact = tmp_path / "sum.onnx", tmp_path / "sum.vtc"
    build(onnx_path, "ReduceSum", ["N", 1 << 20], ["N", 1], [1])
    check_ok(run_tool([tool("vitc"), str(onnx_path), "-o", str(artifact)]), "vitc")
    x = np.random.default_rng(1).uniform(0.5, 1.5, (2, 1 << 20)).astype(np.float32)
    ref = x.astype(np.float64).sum(axis=1)
    assert relative_error(run(tmp_path, artifact, x), ref) < 1.5e-7
