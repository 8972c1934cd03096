"""Model files are untrusted input (issue #13): external data may not leave
the model's directory, and every size the model states is checked against
the data present before anything is allocated. Each refusal is one
`vitc: error:` line naming the initializer (or graph input), exit status 1,
and no output file; the crafted models below are what the tests feed it.
The fuzzer's reproducers (tests/fuzz/regressions) end the same way."""
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import ROOT, check_ok, run_tool, tool
from test_bad_input import CRASH_MARKS, expect_error


def matmul_model(weight, x_dims=(2, 4)):
    """y = x @ w, the weight `weight` a TensorProto named "w"."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_dims))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")
    return helper.make_model(helper.make_graph([node], "g", [x], [y], [weight]),
                             opset_imports=[helper.make_opsetid("", 17)])


def external_weight(location, offset=None, length=None, dims=(4, 4)):
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=list(dims),
                    data_location=TensorProto.EXTERNAL)
    t.external_data.add(key="location", value=str(location))
    if offset is not None:
        t.external_data.add(key="offset", value=str(offset))
    if length is not None:
        t.external_data.add(key="length", value=str(length))
    return t


def weights(path, n=16):
    path.write_bytes(np.arange(n, dtype=np.float32).tobytes())
    return path


def compile_fails(tmp_path, model, *needles):
    """vitc on `model` (saved in tmp_path/model/) fails with one line holding
    every needle; no output file is left."""
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    path = folder / "model.onnx"
    onnx.save(model, str(path))
    out = tmp_path / "out.vtc"
    line = expect_error([tool("vitc"), str(path), "-o", str(out)], "vitc: error:",
                        [needles[0]], absent=[out])
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


def make_secret(tmp_path):
    """A file next to the model's folder that a model must not be able to read."""
    return weights(tmp_path / "secret.bin")


# ---- external data locations ---------------------------------------------

def test_location_with_dotdot(tmp_path):
    make_secret(tmp_path)
    compile_fails(tmp_path, matmul_model(external_weight("../secret.bin")),
                  "initializer 'w'", "'../secret.bin'", "leaves the model's directory")


def test_location_dotdot_inside_the_folder(tmp_path):
    # sub/../weights.bin stays inside, but ONNX refuses every '..' too.
    (tmp_path / "model" / "sub").mkdir(parents=True)
    weights(tmp_path / "model" / "weights.bin")
    compile_fails(tmp_path, matmul_model(external_weight("sub/../weights.bin")),
                  "initializer 'w'", "leaves the model's directory")


def test_absolute_location(tmp_path):
    secret = make_secret(tmp_path)
    compile_fails(tmp_path, matmul_model(external_weight(secret)),
                  "initializer 'w'", f"'{secret}'", "is an absolute path")


def test_symlink_escaping_the_folder(tmp_path):
    secret = make_secret(tmp_path)
    (tmp_path / "model").mkdir()
    os.symlink(secret, tmp_path / "model" / "link.bin")
    compile_fails(tmp_path, matmul_model(external_weight("link.bin")),
                  "initializer 'w'", "'link.bin'", f"resolves to '{secret}'",
                  "outside the model's directory")


def test_symlinked_folder_escaping(tmp_path):
    make_secret(tmp_path)
    (tmp_path / "model").mkdir()
    os.symlink(tmp_path, tmp_path / "model" / "up")
    compile_fails(tmp_path, matmul_model(external_weight("up/secret.bin")),
                  "initializer 'w'", "outside the model's directory")


def test_location_not_a_regular_file(tmp_path):
    (tmp_path / "model" / "folder").mkdir(parents=True)
    compile_fails(tmp_path, matmul_model(external_weight("folder")),
                  "initializer 'w'", "is not a regular file")


def test_symlink_inside_the_folder_is_followed(tmp_path):
    # Links that stay inside the folder are fine (a shared weights file).
    folder = tmp_path / "model"
    (folder / "data").mkdir(parents=True)
    weights(folder / "data" / "weights.bin")
    os.symlink("data/weights.bin", folder / "link.bin")
    path = folder / "model.onnx"
    onnx.save(matmul_model(external_weight("link.bin", offset=0, length=64)), str(path))
    check_ok(run_tool([tool("vitc"), str(path), "--emit=vt", "-o", str(tmp_path / "out.mlir")]),
             "vitc with a symlink inside the model's folder")


# ---- offset and length ----------------------------------------------------

@pytest.mark.parametrize("offset,length,needles", [
    ("-4", None, ["bad external data offset '-4'"]),
    ("12abc", None, ["bad external data offset '12abc'"]),
    (None, "-1", ["bad external data length '-1'"]),
    ("99999999999999999999", None, ["bad external data offset '99999999999999999999'"]),
    (None, 32, ["external data length 32 does not match its type (64 bytes)"]),
    (8, None, ["'weights.bin' (64 bytes) is too short for 64 bytes at offset 8"]),
    (1 << 40, 64, ["at offset 1099511627776"]),
    ((1 << 63) - 1, 64, ["at offset 9223372036854775807"]),
])
def test_offset_length_out_of_range(tmp_path, offset, length, needles):
    (tmp_path / "model").mkdir()
    weights(tmp_path / "model" / "weights.bin")
    compile_fails(tmp_path, matmul_model(external_weight("weights.bin", offset, length)),
                  "initializer 'w'", *needles)


# ---- declared sizes against the data present -----------------------------

def raw_weight(dims, nbytes):
    return TensorProto(name="w", data_type=TensorProto.FLOAT, dims=list(dims),
                       raw_data=bytes(nbytes))


@pytest.mark.parametrize("weight,needles", [
    (raw_weight([-1, 4], 16), ["negative dim -1"]),
    (raw_weight([1 << 32, 1 << 32, 16], 4), ["dims [4294967296, 4294967296, 16] overflow a 64-bit byte size"]),
    (raw_weight([1 << 62, 0], 0), ["overflow a 64-bit byte size"]),
    (raw_weight([4, 4], 16), ["raw_data holds 16 bytes", "needs 64"]),
    (raw_weight([1 << 20, 1 << 20], 16), ["raw_data holds 16 bytes", "needs 4398046511104"]),
    (TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 20, 1 << 20], float_data=[1.0] * 3),
     ["holds 3 values, its shape needs 1099511627776"]),
    (raw_weight([1] * 40, 4), ["rank 40 is above the importer's limit of 32"]),
])
def test_declared_size_not_backed_by_data(tmp_path, weight, needles):
    compile_fails(tmp_path, matmul_model(weight), "initializer 'w'", *needles)


def test_external_file_shorter_than_dims(tmp_path):
    (tmp_path / "model").mkdir()
    weights(tmp_path / "model" / "weights.bin")
    compile_fails(tmp_path, matmul_model(external_weight("weights.bin", dims=(1 << 20, 1 << 20))),
                  "initializer 'w'", "(64 bytes) is too short for 4398046511104 bytes")


def test_graph_input_dims_overflow(tmp_path):
    w = numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    compile_fails(tmp_path, matmul_model(w, x_dims=(1 << 40, 1 << 40, 4)),
                  "graph input 'x'", "byte size overflows 64 bits")


# ---- sizes in node attributes and constant operands ----------------------

def node_model(node, x_dims, inits=(), x_type=TensorProto.FLOAT, opset=17):
    x = helper.make_tensor_value_info("x", x_type, list(x_dims))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    return helper.make_model(helper.make_graph([node], "g", [x], [y], list(inits)),
                             opset_imports=[helper.make_opsetid("", opset)])


def ints(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


BIG = 2**62
NODE_CASES = {
    # SAME padding divides by the stride.
    "conv-stride-0": (node_model(helper.make_node("Conv", ["x", "w"], ["y"], name="n", auto_pad="SAME_UPPER",
                                                  strides=[0, 1]), [1, 1, 4, 4],
                                 [numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")]),
                      "kernel_shape, strides and dilations must be in [1, 2^31)"),
    "pool-huge-kernel": (node_model(helper.make_node("MaxPool", ["x"], ["y"], name="n",
                                                     kernel_shape=[BIG, 1], dilations=[BIG, 1]),
                                    [1, 1, 4, 4]), "kernel_shape, strides and dilations must be in [1, 2^31)"),
    "range-count": (node_model(helper.make_node("Range", ["s", "l", "d"], ["y"], name="n"), [1],
                               [numpy_helper.from_array(np.array(v, np.float32), k)
                                for k, v in [("s", 0), ("l", 1e30), ("d", 1e-30)]]),
                    "no bounded element count"),
    "reshape-product": (node_model(helper.make_node("Reshape", ["x", "shape"], ["y"], name="n"), [12],
                                   [ints("shape", [BIG, BIG])]), "overflow a 64-bit element count"),
    "reshape-shape-length": (node_model(helper.make_node("Reshape", ["z", "x"], ["y"], name="n"), [1 << 40],
                                        [numpy_helper.from_array(np.ones(1, np.float32), "z")],
                                        x_type=TensorProto.INT64),
                             "the shape has 1099511627776 entries"),
    "expand-size": (node_model(helper.make_node("Expand", ["x", "shape"], ["y"], name="n"), [1],
                               [ints("shape", [BIG, BIG])]), "whose byte size overflows 64 bits"),
    "tile-repeats": (node_model(helper.make_node("Tile", ["x", "r"], ["y"], name="n"), [3],
                                [ints("r", [BIG])]), "repeats 4611686018427387904 of dim 3 overflow"),
    "pad-negative": (node_model(helper.make_node("Pad", ["x", "p"], ["y"], name="n"), [3],
                                [ints("p", [-5, 0])]), "pads -5 and 0 do not fit dim 0"),
    "split-sum": (node_model(helper.make_node("Split", ["x", "s"], ["y", "z"], name="n"), ["N"],
                             [ints("s", [2**63 - 1, 2])]), "split sizes overflow"),
    "unsqueeze-rank": (node_model(helper.make_node("Unsqueeze", ["x", "a"], ["y"], name="n"), [3],
                                  [ints("a", list(range(40)))]), "the result's rank 41 is above"),
}


@pytest.mark.parametrize("case", NODE_CASES)
def test_node_sizes(tmp_path, case):
    model, needle = NODE_CASES[case]
    compile_fails(tmp_path, model, "node 'n'", needle)


# ---- the fuzzer's reproducers --------------------------------------------

REGRESSIONS = sorted((ROOT / "tests/fuzz/regressions").glob("*.onnx"))


@pytest.mark.parametrize("mode", ["inference", "training"])
@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_fuzzer_regression(tmp_path, path, mode):
    # Each once crashed the importer (in one of the two import modes, which
    # the fuzzer runs both); now it imports or fails cleanly.
    out = tmp_path / "out.mlir"
    p = run_tool([tool("vitc"), str(path), "--emit=vt", f"--import-mode={mode}", "-o", str(out)],
                 timeout=120)
    text = (p.stdout + p.stderr).strip()
    assert p.returncode in (0, 1), f"exit status {p.returncode}:\n{text[-2000:]}"
    assert not any(m in text for m in CRASH_MARKS), f"crash output:\n{text[-2000:]}"
    if p.returncode == 1:
        assert len(text.splitlines()) == 1 and text.startswith("vitc: error:"), text[-2000:]
        assert not out.exists(), f"{out} left behind after a failure"
