#!/usr/bin/env python3
"""Writes the seed corpus of onnx-import-fuzzer (binary ModelProtos) into DIR:

  make_corpus.py DIR

- models/*.onnx up to 128 KiB (the larger ones only slow the mutations);
- every .onnxtext of the lit tests, converted to binary;
- the ONNX backend node tests' models up to 8 KiB, where
  tests/onnx_node/run_node_tests.py has generated them (git-ignored);
- models whose weights are external data in weights.bin, the one file of
  the fuzzer's model directory (1024 floats), at several offsets.

Generated at test time rather than committed: the corpus is binary and
follows the test models as they change.
"""
import pathlib
import shutil
import sys

import onnx
import onnx.parser
from onnx import TensorProto, helper

ROOT = pathlib.Path(__file__).resolve().parents[2]


def external_models():
    """MatMul/Add over weights stored in weights.bin at various offsets."""
    def weight(name, dims, offset, length=True):
        t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims,
                        data_location=TensorProto.EXTERNAL)
        entries = {"location": "weights.bin", "offset": str(offset)}
        if length:
            entries["length"] = str(4 * dims[0] * dims[-1])
        for key, value in entries.items():
            t.external_data.add(key=key, value=value)
        return t

    for i, (offset, length) in enumerate([(0, True), (64, False), (4032, True)]):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
        nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
                 helper.make_node("Add", ["h", "b"], ["y"], name="add")]
        inits = [weight("w", [4, 4], offset, length), weight("b", [1, 4], offset)]
        graph = helper.make_graph(nodes, "external", [x], [y], inits)
        yield f"external-{i}.onnx", helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 17)])


def main():
    out = pathlib.Path(sys.argv[1])
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    count = 0
    for path in sorted((ROOT / "models").glob("*.onnx")):
        if path.stat().st_size <= 128 * 1024:
            shutil.copy(path, out / path.name)
            count += 1
    for path in sorted((ROOT / "tests/lit").rglob("*.onnxtext")):
        try:
            model = onnx.parser.parse_model(path.read_text())
        except Exception:  # error tests may hold text the parser refuses
            continue
        name = "lit-" + "-".join(path.relative_to(ROOT / "tests/lit").with_suffix(".onnx").parts)
        (out / name).write_bytes(model.SerializeToString())
        count += 1
    for path in sorted((ROOT / "tests/onnx_node/data").glob("*/*/model.onnx")):
        if path.stat().st_size <= 8 * 1024:
            shutil.copy(path, out / f"node-{path.parent.name}.onnx")
            count += 1
    for name, model in external_models():
        (out / name).write_bytes(model.SerializeToString())
        count += 1
    print(f"{count} seeds in {out}")


if __name__ == "__main__":
    main()
