"""Fashion-MNIST for the Python tools: Debian's dataset-fashion-mnist idx
files, normalised the way vitc-run does (runtime/train/TrainData.cpp's
fashion-mnist default of --normalize)."""
import gzip
import pathlib

import numpy as np

DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    """An MNIST-style idx file (gzipped): big-endian magic 0x0000 08 NN, NN
    big-endian u32 sizes, then unsigned bytes in C order."""
    data = gzip.open(path, "rb").read()
    if data[:3] != b"\0\0\x08":
        raise ValueError(f"{path}: not an unsigned-byte idx file")
    rank = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(shape)


def load_split(data_dir, prefix, limit=None):
    """(images f32 [N,1,28,28] normalised as vitc-run does, labels i64 [N]);
    prefix "train" or "t10k"."""
    images = read_idx(pathlib.Path(data_dir) / f"{prefix}-images-idx3-ubyte.gz")[:limit]
    labels = read_idx(pathlib.Path(data_dir) / f"{prefix}-labels-idx1-ubyte.gz")[:limit]
    x = (images.astype(np.float32) / 255.0 - MEAN) / STD
    return np.ascontiguousarray(x[:, None]), labels.astype(np.int64)
