"""The GPU check script (tools/gpu/check.sh), rehearsed on the emulated GPU
as a GPU session would run it: the bundle is built for cuda-emulator, then
every step runs from the extracted bundle alone (its bin/, lib/, artifacts,
data), with a smaller epoch and benchmark. Keeps the script that GPU time
depends on working; its results are never GPU results."""
import json
import subprocess

from conftest import ROOT, build_dir


def test_gpu_check_rehearsal():
    proc = subprocess.run([str(ROOT / "tools/gpu/check.sh"), "--rehearse"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    results = json.loads((build_dir() / "gpu-check-rehearsal/gpu-check.json").read_text())
    assert results["target"] == "cuda-emulator"
    assert set(results["steps"]) == {"devices", "unit", "models", "train", "epoch", "bench",
                                     "large"}
    assert all(step["ok"] for step in results["steps"].values()), results["steps"]
    assert results["steps"]["train"]["mnist_cnn"]["worst_rel_diff"] <= 1e-4
    assert "bundle" in proc.stdout and "MiB" in proc.stdout
