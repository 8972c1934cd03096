"""Writes a Fashion-MNIST subset as vitc-run --dataset npy expects it:
<dir>/train_images.npy (N, 28, 28) uint8, train_labels.npy (N,) int64, and
test_*. Read from Debian's dataset-fashion-mnist (idx, gzip)."""
import argparse
import gzip
import pathlib

import numpy as np

SRC = pathlib.Path("/usr/share/datasets/fashion-mnist")


def read_idx(path, count):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    array = np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)
    return array[:count]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--train", type=int, default=12000)
    parser.add_argument("--test", type=int, default=2000)
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for split, prefix, count in (("train", "train", args.train), ("test", "t10k", args.test)):
        np.save(out / f"{split}_images.npy", read_idx(SRC / f"{prefix}-images-idx3-ubyte.gz", count))
        np.save(out / f"{split}_labels.npy",
                read_idx(SRC / f"{prefix}-labels-idx1-ubyte.gz", count).astype(np.int64))


if __name__ == "__main__":
    main()
