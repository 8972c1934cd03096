"""End to end: compile whole models with vitc, run the artifact with vitc-run
at batch 1 and 3 (one artifact: the batch dim is dynamic), and compare with
onnxruntime on the same seeded random inputs:
max |vitc - ort| <= 1e-4 * max(1, |ort|), elementwise.

The small models also run compiled for the CUDA target on the emulated GPU
(`--target cuda-emulator`: the CUDA target's schedule and kernels, the
kernels compiled for this CPU): a test device, which checks the GPU
kernels' numerics and the schedule in CI, never a GPU result.

The small models are committed in models/; ResNet-18 and ViT-B/16 are
exported on demand into models/generated/ (marked `large`)."""
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest

from conftest import ROOT, check_ok, run_tool, tool

SMALL = ["mnist_cnn", "mnist_cnn_dynamo", "vit_tiny", "vit_tiny_dynamo"]
LARGE = ["resnet18", "resnet18_dynamo", "vit_b_16", "vit_b_16_dynamo"]
BATCHES = (1, 3)


def model_path(name):
    if name in SMALL:
        return ROOT / "models" / f"{name}.onnx"
    path = ROOT / "models" / "generated" / f"{name}.onnx"
    if not path.exists():  # export once; later runs reuse the file
        exporter = "dynamo" if name.endswith("_dynamo") else "torchscript"
        base = name[: -len("_dynamo")] if name.endswith("_dynamo") else name
        p = subprocess.run([sys.executable, str(ROOT / "models/export_models.py"), "--out",
                            str(path.parent), "--which", base, "--exporter", exporter],
                           capture_output=True, text=True)
        if p.returncode != 0 or not path.exists():
            pytest.fail(f"exporting {name} failed: {p.stderr.strip().splitlines()[-2:]}")
    return path


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """Compiles each model once per module: name -> (onnx path, artifact path)."""
    cache = {}

    def get(name, target="cpu"):
        if (name, target) not in cache:
            onnx_path = model_path(name)
            artifact = tmp_path_factory.mktemp(name) / f"{name}.{target}.vtc"
            check_ok(run_tool([tool("vitc"), str(onnx_path), "--target", target, "-o",
                               str(artifact)]), f"vitc {name} --target {target}")
            assert artifact.is_file(), "vitc exited 0 but wrote no artifact"
            cache[(name, target)] = (onnx_path, artifact)
        return cache[(name, target)]

    return get


def check_model(name, compiled, tmp_path, target="cpu"):
    onnx_path, artifact = compiled(name, target)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    rng = np.random.default_rng(1234)
    for batch in BATCHES:
        shape = [batch] + [int(d) for d in inp.shape[1:]]
        x = rng.standard_normal(shape, dtype=np.float32)
        ref = sess.run(None, {inp.name: x})[0]
        x_path, out_dir = tmp_path / f"x{batch}.npy", tmp_path / f"out{batch}"
        np.save(x_path, x)
        check_ok(run_tool([tool("vitc-run"), str(artifact), "--input", f"{inp.name}={x_path}",
                           "--output-dir", str(out_dir)]), f"vitc-run {name} batch {batch}")
        got = np.load(out_dir / f"{out.name}.npy")
        assert got.dtype == ref.dtype and got.shape == ref.shape, \
            f"batch {batch}: got {got.dtype}{list(got.shape)}, onnxruntime {ref.dtype}{list(ref.shape)}"
        excess = np.abs(got.astype(np.float64) - ref) - 1e-4 * np.maximum(1.0, np.abs(ref))
        assert np.isfinite(got).all() and excess.max() <= 0, (
            f"batch {batch}: max |diff| {np.abs(got - ref).max():.3e} exceeds 1e-4*max(1,|ref|) "
            f"(|ref| max {np.abs(ref).max():.3f})")


@pytest.mark.parametrize("name", SMALL)
def test_small_model(name, compiled, tmp_path):
    check_model(name, compiled, tmp_path)


@pytest.mark.parametrize("name", SMALL)
def test_small_model_on_emulated_gpu(name, compiled, tmp_path):
    check_model(name, compiled, tmp_path, target="cuda-emulator")


@pytest.mark.large
@pytest.mark.parametrize("name", LARGE)
def test_large_model(name, compiled, tmp_path):
    check_model(name, compiled, tmp_path)
