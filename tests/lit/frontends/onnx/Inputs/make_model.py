"""Writes binary ONNX models for the importer's lit tests.

  make_model.py external DIR          model.onnx + weights.bin (external data)
  make_model.py missing-external DIR  as above, without weights.bin
  make_model.py truncated DIR         model.onnx cut in half
  make_model.py garbage DIR           model.onnx of seeded random bytes
"""
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_model():
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "conv.weight")
    b = numpy_helper.from_array(np.arange(8, dtype=np.float32), "conv.bias")
    # A weight that is also listed as a graph input (old exporters do this).
    fc = numpy_helper.from_array(rng.standard_normal((8, 10)).astype(np.float32), "fc.weight")
    nodes = [
        helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["c"], name="/conv/Conv",
                         pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["c"], ["p"], name="/pool/GlobalAveragePool"),
        helper.make_node("Flatten", ["p"], ["f"], name="/Flatten"),
        helper.make_node("MatMul", ["f", "fc.weight"], ["logits"], name="/fc/MatMul"),
    ]
    graph = helper.make_graph(
        nodes, "convnet",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 8, 8]),
         helper.make_tensor_value_info("fc.weight", TensorProto.FLOAT, [8, 10])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        initializer=[w, b, fc])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main():
    mode, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    model = conv_model()
    if mode in ("external", "missing-external"):
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="weights.bin", size_threshold=256)
        if mode == "missing-external":
            os.remove(os.path.join(out, "weights.bin"))
    elif mode == "truncated":
        data = model.SerializeToString()
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])
    elif mode == "garbage":
        rnd = random.Random(1234)
        with open(path, "wb") as f:
            f.write(bytes(rnd.randrange(256) for _ in range(4096)))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
