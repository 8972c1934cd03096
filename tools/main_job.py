#!/usr/bin/env python3
"""The README's main job: run a compiled artifact on real Fashion-MNIST test
images with vitc-run and check its logits against onnxruntime on the same
inputs (the spine's acceptance bound: |diff| <= 1e-4 * max(1, |ref|))."""
import argparse
import gzip
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

DATA = pathlib.Path("/usr/share/datasets/fashion-mnist")


def read_idx_images(path, count):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n, rows, cols = np.frombuffer(raw[:16], dtype=">i4")
    if magic != 2051:
        sys.exit(f"main_job: {path} is not an idx image file")
    images = np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, rows, cols)
    return images[:count]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build")
    ap.add_argument("--model", required=True)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--count", type=int, default=64)
    args = ap.parse_args()

    images = read_idx_images(DATA / "t10k-images-idx3-ubyte.gz", args.count)
    # The MNIST example's normalisation.
    x = ((images.astype(np.float32) / 255.0 - 0.1307) / 0.3081)[:, None, :, :]
    sess = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    out_name = sess.get_outputs()[0].name
    ref = sess.run(None, {in_name: x})[0]

    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/x.npy", x)
        run = [f"{args.build}/bin/vitc-run", args.artifact, "--input", f"{in_name}={tmp}/x.npy",
               "--output-dir", tmp]
        subprocess.run(run, check=True)
        got = np.load(f"{tmp}/{out_name}.npy")

    err = np.abs(got - ref) / np.maximum(1.0, np.abs(ref))
    agree = (got.argmax(1) == ref.argmax(1)).mean()
    print(f"main job: {args.count} Fashion-MNIST images through {args.artifact}: "
          f"logits {got.shape}, max scaled |diff| vs onnxruntime {err.max():.2e}, "
          f"top-1 agreement {agree:.0%}")
    if err.max() > 1e-4:
        sys.exit("main job: FAILED: vitc and onnxruntime disagree")


if __name__ == "__main__":
    main()
