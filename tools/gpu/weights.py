"""Weights files that travel without their weights (tools/gpu): a model's
weights file (vitc --weights-file; runtime/include/vitc/runtime/WeightsFile.h)
is hundreds of megabytes, the GPU machine takes 64 MiB. `slim` keeps what
must stay exact (entries under --keep-bytes, and every non-float entry:
shape constants, indices) and drops the big float tensors; `fill` rebuilds a
weights file of the same layout on the other side, the dropped entries drawn
from a seeded normal distribution (std 0.02: a trained network's scale, so
activations neither vanish nor explode). For timing; a model checked against
onnxruntime uses its real weights.

  python3 weights.py slim TABLE.json WEIGHTS.vtw -o SLIM.npz [--keep-bytes N]
  python3 weights.py fill TABLE.json SLIM.npz -o WEIGHTS.vtw [--seed S]
TABLE.json: `vitc-run MODEL.vtc --weights-table`."""
import argparse
import json
import struct

import numpy as np

MAGIC = b"VITCWTS\0"
VERSION = 1
DATA_OFFSET = 4096
HEADER = "<8sIIQQQ"  # magic, version, header size, data offset, data size, digest
FLOATS = {"f32": np.float32, "f64": np.float64}


def slim(table, weights_path, out, keep_bytes):
    with open(weights_path, "rb") as f:
        magic, version, _, offset, size, digest = struct.unpack(
            HEADER, f.read(struct.calcsize(HEADER)))
        if magic != MAGIC or version != VERSION or digest != table["digest"]:
            raise SystemExit(f"{weights_path}: not the weights file of this table")
        kept = {}
        for entry in table["entries"]:
            if entry["dtype"] in FLOATS or entry["dtype"] == "bf16":
                if entry["bytes"] > keep_bytes:
                    continue
            f.seek(offset + entry["offset"])
            kept[str(entry["offset"])] = np.frombuffer(f.read(entry["bytes"]), np.uint8)
    np.savez_compressed(out, **kept)


def fill(table, slim_path, out, seed):
    kept = np.load(slim_path)
    rng = np.random.default_rng(seed)
    data = bytearray(table["bytes"])
    for entry in table["entries"]:
        key, start, count = str(entry["offset"]), entry["offset"], entry["bytes"]
        if key in kept:
            data[start:start + count] = kept[key].tobytes()
            continue
        n = int(np.prod(entry["shape"])) if entry["shape"] else 1
        values = rng.standard_normal(n).astype(np.float32) * np.float32(0.02)
        if entry["dtype"] == "bf16":  # the upper half of the f32
            raw = (values.view(np.uint32) >> 16).astype(np.uint16).tobytes()
        else:
            raw = values.astype(FLOATS[entry["dtype"]]).tobytes()
        data[start:start + count] = raw
    with open(out, "wb") as f:
        f.write(struct.pack(HEADER, MAGIC, VERSION, struct.calcsize(HEADER), DATA_OFFSET,
                            table["bytes"], table["digest"]))
        f.write(b"\0" * (DATA_OFFSET - struct.calcsize(HEADER)))
        f.write(data)
        f.write(b"\0" * (-(DATA_OFFSET + len(data)) % 4096))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("slim", "fill"))
    parser.add_argument("table")
    parser.add_argument("source")
    parser.add_argument("-o", "--out", required=True)
    parser.add_argument("--keep-bytes", type=int, default=16384)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with open(args.table) as f:
        table = json.load(f)
    if args.command == "slim":
        slim(table, args.source, args.out, args.keep_bytes)
    else:
        fill(table, args.source, args.out, args.seed)


if __name__ == "__main__":
    main()
