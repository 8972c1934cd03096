"""Runs a model compiled by vitc on given inputs with vitc-run and compares
every output with onnx's reference evaluator on the same model.

  run_vs_reference.py --runner vitc-run --workdir DIR [--reference ort] \\
      MODEL.onnxtext ARTIFACT.vtc NAME=EXPR...

Each EXPR is a Python expression over numpy (`np`) giving that graph input's
value; --reference ort compares with onnxruntime instead (where the
reference evaluator lacks a case, such as Pad's negative pads). Prints one
line per output, "PASS name dtype shape" or "FAIL name: why", for
FileCheck; exits 1 on a failure.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
import onnx.parser
from onnx.reference import ReferenceEvaluator


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runner", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--reference", choices=["onnx", "ort"], default="onnx")
    ap.add_argument("model")
    ap.add_argument("artifact")
    ap.add_argument("inputs", nargs="*", metavar="NAME=EXPR")
    args = ap.parse_args()

    with open(args.model) as f:
        model = onnx.parser.parse_model(f.read())
    values = {}
    for item in args.inputs:
        name, expr = item.split("=", 1)
        values[name] = np.asarray(eval(expr, {"np": np}))
    if args.reference == "ort":
        import onnxruntime
        session = onnxruntime.InferenceSession(model.SerializeToString(),
                                               providers=["CPUExecutionProvider"])
        want = session.run(None, values)
    else:
        want = ReferenceEvaluator(model).run(None, values)

    os.makedirs(args.workdir, exist_ok=True)
    cmd = [args.runner, args.artifact, "--output-dir", args.workdir]
    for name, value in values.items():
        path = os.path.join(args.workdir, f"in_{name}.npy")
        np.save(path, value)
        cmd += ["--input", f"{name}={path}"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"FAIL vitc-run: exit {p.returncode}: {p.stderr[-1500:]}")
        return 1
    failed = False
    for info, expected in zip(model.graph.output, want):
        got = np.load(os.path.join(args.workdir, f"{info.name}.npy"))
        why = None
        if got.dtype != expected.dtype or got.shape != expected.shape:
            why = f"{got.dtype}{list(got.shape)}, expected {expected.dtype}{list(expected.shape)}"
        elif not np.allclose(got, expected, rtol=1e-5, atol=1e-6, equal_nan=True):
            why = f"values differ: got {got!r}, expected {expected!r}"
        failed |= why is not None
        print(f"FAIL {info.name}: {why}" if why else
              f"PASS {info.name} {got.dtype} {list(got.shape)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
