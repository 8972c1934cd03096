"""Bad input must give a clean error, never a crash: exit status 1, exactly
one line of output, starting `vitc: error:` / `vitc-run: error:` and naming
what is wrong (file, node, input or flag), no traceback or stack dump, and no
output file left behind."""
import os
import pathlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import ROOT, check_ok, run_tool, tool

CRASH_MARKS = ("Traceback", "Stack dump", "PLEASE submit a bug report", "Assertion", "Segmentation")


def expect_error(args, prefix, mentions, absent=()):
    """Runs a tool that must fail cleanly; `mentions`: the line must contain at
    least one of these strings; `absent`: paths that must not exist after."""
    p = run_tool(args, timeout=300)
    text = (p.stdout + p.stderr).strip()
    lines = text.splitlines()
    assert p.returncode == 1, f"exit status {p.returncode} (want 1); output:\n{text[-2000:]}"
    assert not any(m in text for m in CRASH_MARKS), f"crash output:\n{text[-2000:]}"
    assert len(lines) == 1 and lines[0].startswith(prefix), \
        f"want exactly one line starting {prefix!r}, got {len(lines)}:\n{text[-2000:]}"
    assert any(m in lines[0] for m in mentions), f"{lines[0]!r} names none of {list(mentions)}"
    for path in absent:
        assert not pathlib.Path(path).exists(), f"{path} left behind after a failure"
    return lines[0]


def save(model, path):
    onnx.save(model, str(path))
    return str(path)


def add_model(inputs=("lhs_input", "rhs_input"), dims=("N", 3)):
    """z = lhs + rhs with a dynamic batch dim: the runtime-side test model."""
    vis = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(dims)) for n in inputs]
    node = helper.make_node("Add", list(inputs), ["z"], name="add0")
    graph = helper.make_graph([node], "add", vis, [helper.make_tensor_value_info("z", TensorProto.FLOAT, list(dims))])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


# ---- vitc (compile time) --------------------------------------------------

def vitc_fails(tmp_path, model_file, mentions, extra=()):
    out = tmp_path / "out.vtc"
    return expect_error([tool("vitc"), str(model_file), "-o", str(out), *extra], "vitc: error:",
                        mentions, absent=[out])


def test_truncated_model(tmp_path):
    data = (ROOT / "models/mnist_cnn.onnx").read_bytes()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 3])
    vitc_fails(tmp_path, path, ["truncated.onnx"])


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.onnx"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    vitc_fails(tmp_path, path, ["noise.onnx"])


def test_missing_model_file(tmp_path):
    vitc_fails(tmp_path, tmp_path / "does_not_exist.onnx", ["does_not_exist.onnx"])


def test_missing_initializer(tmp_path):
    # "missing_weight" is neither a graph input, an initializer nor produced by a node.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 3])
    node = helper.make_node("Add", ["x", "missing_weight"], ["z"], name="add_with_missing_input")
    model = helper.make_model(helper.make_graph([node], "g", [x], [z]),
                              opset_imports=[helper.make_opsetid("", 17)])
    vitc_fails(tmp_path, save(model, tmp_path / "missing_init.onnx"),
               ["missing_weight", "add_with_missing_input"])


@pytest.mark.parametrize("domain", ["", "com.example"])
def test_unknown_op(tmp_path, domain):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 3])
    node = helper.make_node("FrobnicateXyz", ["x"], ["z"], name="my_custom_node", domain=domain)
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    model = helper.make_model(helper.make_graph([node], "g", [x], [z]), opset_imports=opsets)
    vitc_fails(tmp_path, save(model, tmp_path / "custom_op.onnx"), ["my_custom_node", "FrobnicateXyz"])


def test_missing_external_data(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 64])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [4, 64])
    w = numpy_helper.from_array(np.ones((64, 64), np.float32), "w")
    node = helper.make_node("MatMul", ["x", "w"], ["z"], name="mm")
    model = helper.make_model(helper.make_graph([node], "g", [x], [z], [w]),
                              opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "ext.onnx"
    onnx.save(model, str(path), save_as_external_data=True, location="ext_weights.bin",
              size_threshold=0)
    assert (tmp_path / "ext_weights.bin").exists()
    os.remove(tmp_path / "ext_weights.bin")
    vitc_fails(tmp_path, path, ["ext_weights.bin"])


def test_output_path_under_a_file(tmp_path):
    # We run as root, so permissions do not stop writes: put the output "inside"
    # a regular file instead, which no user can create.
    model = save(add_model(), tmp_path / "add.onnx")
    blocker = tmp_path / "somefile.txt"
    blocker.write_text("not a directory\n")
    out = blocker / "x.vtc"
    expect_error([tool("vitc"), model, "-o", str(out)], "vitc: error:", ["somefile.txt/x.vtc"])
    assert blocker.read_text() == "not a directory\n"


def test_output_dir_missing(tmp_path):
    model = save(add_model(), tmp_path / "add.onnx")
    expect_error([tool("vitc"), model, "-o", "/nonexistent/dir/x.vtc"], "vitc: error:",
                 ["/nonexistent/dir/x.vtc"], absent=["/nonexistent/dir/x.vtc"])


@pytest.mark.parametrize("flag,value", [("--target", "tpu"), ("--precision", "fp7"),
                                        ("--input-shape", "lhs_input=2xbanana")])
def test_bad_flag_value(tmp_path, flag, value):
    model = save(add_model(), tmp_path / "add.onnx")
    vitc_fails(tmp_path, model, [flag.lstrip("-"), value], extra=[flag, value])


# ---- vitc --mode train ----------------------------------------------------

def linear_model(extra_nodes=(), extra_inits=(), head_output="logits"):
    """logits = x @ fc.weight + fc.bias ([N, 4] -> [N, 3]), with trainable weights;
    `extra_nodes` may rewrite `head_output` into "logits"."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "fc.weight"),
             numpy_helper.from_array(np.zeros(3, np.float32), "fc.bias"), *extra_inits]
    nodes = [helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], [head_output], name="fc"),
             *extra_nodes]
    return helper.make_model(helper.make_graph(nodes, "g", [x], [y], inits),
                             opset_imports=[helper.make_opsetid("", 17)])


def range_offsets_model():
    """The linear model plus offsets Range(s, s + 3, 1) with s = mean(fc.weight):
    vt.range, which we import and run but cannot differentiate, on the path
    from a parameter to the loss."""
    scalar = lambda v, name: numpy_helper.from_array(np.array(v, np.float32), name)
    nodes = [helper.make_node("ReduceMean", ["fc.weight"], ["start"], name="mean_weight", keepdims=0),
             helper.make_node("Add", ["start", "three"], ["limit"], name="limit"),
             helper.make_node("Range", ["start", "limit", "one"], ["offsets"], name="class_offsets"),
             helper.make_node("Reshape", ["offsets", "row"], ["offsets_row"], name="as_row"),
             helper.make_node("Add", ["z", "offsets_row"], ["logits"], name="add_offsets")]
    inits = [scalar(3.0, "three"), scalar(1.0, "one"),
             numpy_helper.from_array(np.array([1, 3], np.int64), "row")]
    return linear_model(nodes, inits, head_output="z")


def test_train_op_without_gradient_rule(tmp_path):
    model = save(range_offsets_model(), tmp_path / "offsets.onnx")
    # The op is supported for inference: only training needs its gradient.
    check_ok(run_tool([tool("vitc"), model, "-o", str(tmp_path / "infer.vtc")]), "vitc (inference)")
    out = tmp_path / "out.vtc"
    out.write_bytes(b"an earlier artifact")
    line = expect_error([tool("vitc"), model, "--mode", "train", "-o", str(out)], "vitc: error:",
                        ["class_offsets"])
    assert "offsets.onnx" in line and "no gradient rule" in line and "vt.range" in line, line
    assert out.read_bytes() == b"an earlier artifact", "the existing output was overwritten"


@pytest.mark.parametrize("flags,mentions", [
    (["--mode", "train", "--freeze", "nomatch"], ["--freeze 'nomatch' matches no weight"]),
    (["--mode", "train", "--freeze", "fc\\.("], ["--freeze 'fc\\.(': parentheses not balanced"]),
    (["--mode", "train", "--loss", "bogus"], ["--loss=bogus"]),
    (["--mode", "train", "--optimizer", "bogus"], ["--optimizer=bogus"]),
    (["--mode", "train", "--label-smoothing", "1.5"], ["--label-smoothing"]),
    (["--mode", "train", "--optimizer", "sgd", "--nesterov"], ["--nesterov needs --momentum"]),
    (["--mode", "train", "--lr", "-1"], ["--lr=-1"]),
    (["--mode", "train", "--momentum", "0.9"], ["--momentum is an SGD option"]),
    (["--mode", "train", "--optimizer", "sgd", "--beta2", "0.99"],
     ["--beta2 is an AdamW option"]),
    (["--mode", "learn"], ["--mode=learn"]),
    (["--optimizer", "adamw"], ["--optimizer needs --mode train"]),
    (["--lr", "0.1"], ["--lr needs --mode train"]),
    (["--label-smoothing", "0.1"], ["--label-smoothing needs --mode train"]),
    (["--momentum", "0.9"], ["--momentum needs --mode train"]),
])
def test_bad_training_flag(tmp_path, flags, mentions):
    model = save(linear_model(), tmp_path / "linear.onnx")
    vitc_fails(tmp_path, model, mentions, extra=flags)


def test_training_flags_compile(tmp_path):
    # The models and flags above fail for the flags alone.
    model = save(linear_model(), tmp_path / "linear.onnx")
    check_ok(run_tool([tool("vitc"), model, "--mode", "train", "--optimizer", "sgd", "--momentum", "0.9",
                       "--nesterov", "--freeze", "fc\\.bias", "--label-smoothing", "0.1", "-o",
                       str(tmp_path / "train.vtc")]), "vitc --mode train")


# ---- vitc-run (run time) --------------------------------------------------

@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    d = tmp_path_factory.mktemp("rt")
    out = d / "add.vtc"
    check_ok(run_tool([tool("vitc"), save(add_model(), d / "add.onnx"), "-o", str(out)]), "vitc add.onnx")
    return out


def vitc_run_fails(tmp_path, artifact, inputs, mentions):
    """inputs: name -> array (saved as .npy) or a path string used as is."""
    args = [tool("vitc-run"), str(artifact), "--output-dir", str(tmp_path / "out")]
    for name, value in inputs.items():
        if isinstance(value, np.ndarray):
            np.save(tmp_path / f"{name}.npy", value)
            value = tmp_path / f"{name}.npy"
        args += ["--input", f"{name}={value}"]
    line = expect_error(args, "vitc-run: error:", mentions)
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir()), f"outputs left in {out}: {list(out.iterdir())}"
    return line


def good(shape=(2, 3)):
    return np.ones(shape, np.float32)


def test_run_ok(tmp_path, artifact):
    # The error cases below are only meaningful if the good case works.
    np.save(tmp_path / "a.npy", good() * 2)
    np.save(tmp_path / "b.npy", good())
    check_ok(run_tool([tool("vitc-run"), str(artifact), "--input", f"lhs_input={tmp_path}/a.npy",
                       "--input", f"rhs_input={tmp_path}/b.npy", "--output-dir", str(tmp_path / "o")]), "vitc-run")
    np.testing.assert_array_equal(np.load(tmp_path / "o/z.npy"), good() * 3)


def test_wrong_input_shape(tmp_path, artifact):
    vitc_run_fails(tmp_path, artifact, {"lhs_input": good((2, 4)), "rhs_input": good()}, ["lhs_input"])


def test_wrong_input_rank(tmp_path, artifact):
    vitc_run_fails(tmp_path, artifact, {"lhs_input": good(), "rhs_input": good((2, 3, 1))}, ["rhs_input"])


def test_wrong_dtype(tmp_path, artifact):
    vitc_run_fails(tmp_path, artifact, {"lhs_input": np.ones((2, 3), np.float64), "rhs_input": good()},
                   ["lhs_input"])


def test_missing_input(tmp_path, artifact):
    vitc_run_fails(tmp_path, artifact, {"lhs_input": good()}, ["rhs_input"])


def test_unknown_input_name(tmp_path, artifact):
    vitc_run_fails(tmp_path, artifact, {"lhs_input": good(), "rhs_input": good(), "bogus_input": good()}, ["bogus_input"])


def test_missing_npy_file(tmp_path, artifact):
    vitc_run_fails(tmp_path, artifact, {"lhs_input": good(), "rhs_input": str(tmp_path / "nope.npy")}, ["nope.npy"])


def test_corrupt_artifact(tmp_path):
    bad = tmp_path / "garbage.vtc"
    bad.write_bytes(np.random.default_rng(1).integers(0, 256, 8192, dtype=np.uint8).tobytes())
    vitc_run_fails(tmp_path, bad, {"lhs_input": good(), "rhs_input": good()}, ["garbage.vtc"])


def test_truncated_artifact(tmp_path, artifact):
    cut = tmp_path / "cut.vtc"
    data = artifact.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    vitc_run_fails(tmp_path, cut, {"lhs_input": good(), "rhs_input": good()}, ["cut.vtc"])
