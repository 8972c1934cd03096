"""Compares the outputs two vitc-run --output-dir runs wrote (same names,
dtypes and shapes; values within tolerance) and prints one line per output."""
import argparse
import os
import sys

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("expected", help="directory of the reference run's .npy files")
parser.add_argument("actual", help="directory of the run under test")
parser.add_argument("--rtol", type=float, default=1e-3)
parser.add_argument("--atol", type=float, default=1e-4)
args = parser.parse_args()

names = sorted(f for f in os.listdir(args.expected) if f.endswith(".npy"))
if not names:
    sys.exit(f"no outputs in {args.expected}")
failed = False
for name in names:
    expected = np.load(os.path.join(args.expected, name))
    path = os.path.join(args.actual, name)
    if not os.path.exists(path):
        print(f"{name}: missing")
        failed = True
        continue
    actual = np.load(path)
    if actual.dtype != expected.dtype or actual.shape != expected.shape:
        print(f"{name}: {actual.dtype}{list(actual.shape)}, expected "
              f"{expected.dtype}{list(expected.shape)}")
        failed = True
        continue
    error = float(np.max(np.abs(actual.astype(np.float64) - expected), initial=0))
    # Identical outputs prove nothing if they are all zero.
    if np.issubdtype(expected.dtype, np.floating) and not np.any(expected):
        print(f"{name}: the reference is all zeros")
        failed = True
    elif np.allclose(actual, expected, rtol=args.rtol, atol=args.atol):
        print(f"{name}: match {list(actual.shape)}")
    else:
        print(f"{name}: differs (max abs error {error:.3g})")
        failed = True
sys.exit(1 if failed else 0)
