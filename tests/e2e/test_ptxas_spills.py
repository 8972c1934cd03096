"""No kernel the CUDA target generates spills registers (issue #12): every
kernel module of each model is assembled by the CUDA toolkit's `ptxas -v`
for sm_90 (tools/gpu/ptxas_spills.py) and its spill stores and loads must be
zero. Needs the CUDA toolkit, not a GPU; skipped, saying so, without ptxas."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT, build_dir

PTXAS = os.environ.get("PTXAS", "/usr/local/cuda/bin/ptxas")
CASES = [("mnist_cnn", []), ("vit_tiny_dynamo", []), ("vit_tiny", ["--precision", "bf16"]),
         ("mnist_cnn", ["--mode", "train"]), ("cnn_bn_train", ["--mode", "train"])]


@pytest.mark.parametrize("model,flags", CASES, ids=[f"{m}{''.join(f)}" for m, f in CASES])
def test_no_kernel_spills(model, flags):
    if not os.access(PTXAS, os.X_OK):
        pytest.skip(f"no CUDA toolkit: {PTXAS} not found")
    proc = subprocess.run([sys.executable, str(ROOT / "tools/gpu/ptxas_spills.py"),
                           str(ROOT / "models" / f"{model}.onnx"), "--vitc",
                           str(build_dir() / "bin/vitc")] + flags,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ", 0 spilling" in proc.stdout and " 0 kernels" not in proc.stdout, proc.stdout
