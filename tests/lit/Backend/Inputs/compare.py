"""usage: compare.py ACTUAL.npy EXPECTED.npy [--rtol R] [--atol A]

Exits 1 (printing the worst element) unless the arrays have the same dtype
and shape and are close; prints 'OK <shape>' otherwise."""
import argparse
import sys

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("actual")
parser.add_argument("expected")
parser.add_argument("--rtol", type=float, default=1e-5)
parser.add_argument("--atol", type=float, default=1e-6)
args = parser.parse_args()
actual, expected = np.load(args.actual), np.load(args.expected)
if actual.dtype != expected.dtype or actual.shape != expected.shape:
    sys.exit(f"FAIL: got {actual.dtype}{list(actual.shape)}, "
             f"expected {expected.dtype}{list(expected.shape)}")
if not np.allclose(actual, expected, rtol=args.rtol, atol=args.atol):
    err = np.abs(actual.astype(np.float64) - expected)
    i = np.unravel_index(np.argmax(err), err.shape)
    sys.exit(f"FAIL: at {i} got {actual[i]}, expected {expected[i]}")
print("OK", list(actual.shape))
