"""End to end, mixed precision: `vitc --precision bf16` (matmuls and
convolutions with bf16 inputs and f32 accumulation, everything else f32)
against onnxruntime in fp32, on seeded random inputs at batch 1 and 8 (one
artifact: the batch dim is dynamic).

bf16 keeps 8 significant bits, so each product's inputs are off by up to
2^-9 relative and the logits by much less than that of their scale after
f32 accumulation: max |vitc - ort| <= 2e-2 * max |ort| over the batch. Top-1
must agree wherever onnxruntime's top-2 margin exceeds twice that bound
(closer calls may legitimately flip). The bf16 artifact must also differ
from the fp32 one by more than f32 rounding, or the flag would have done
nothing, and hold its weights in half the bytes."""
import numpy as np
import onnxruntime as ort
import pytest

from conftest import ROOT, check_ok, run_tool, tool

MODELS = ["mnist_cnn", "vit_tiny"]
BATCHES = (1, 8)
RTOL = 2e-2  # of max |logit|


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """name -> {precision: artifact path}, each compiled once."""
    cache = {}

    def get(name):
        if name not in cache:
            d = tmp_path_factory.mktemp(name)
            cache[name] = {}
            for precision in ("fp32", "bf16"):
                out = d / f"{name}.{precision}.vtc"
                check_ok(run_tool([tool("vitc"), str(ROOT / "models" / f"{name}.onnx"),
                                   "--precision", precision, "-o", str(out)]),
                         f"vitc {name} --precision {precision}")
                cache[name][precision] = out
        return cache[name]

    return get


def run(artifact, input_name, x, out_name, tmp_path, tag):
    x_path, out_dir = tmp_path / f"x_{tag}.npy", tmp_path / f"out_{tag}"
    np.save(x_path, x)
    check_ok(run_tool([tool("vitc-run"), str(artifact), "--input", f"{input_name}={x_path}",
                       "--output-dir", str(out_dir)]), f"vitc-run {artifact.name}")
    return np.load(out_dir / f"{out_name}.npy")


@pytest.mark.parametrize("name", MODELS)
def test_bf16_matches_fp32_reference(name, artifacts, tmp_path):
    compiled = artifacts(name)
    sess = ort.InferenceSession(str(ROOT / "models" / f"{name}.onnx"),
                                providers=["CPUExecutionProvider"])
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    rng = np.random.default_rng(2024)
    for batch in BATCHES:
        x = rng.standard_normal([batch] + [int(d) for d in inp.shape[1:]], dtype=np.float32)
        ref = sess.run(None, {inp.name: x})[0].astype(np.float64)
        got = run(compiled["bf16"], inp.name, x, out.name, tmp_path, f"bf16_{batch}")
        f32 = run(compiled["fp32"], inp.name, x, out.name, tmp_path, f"fp32_{batch}")
        assert got.dtype == np.float32 and got.shape == ref.shape
        scale = np.abs(ref).max()
        err = np.abs(got - ref).max()
        assert np.isfinite(got).all() and err <= RTOL * scale, (
            f"batch {batch}: max |bf16 - ort| {err:.3e} > {RTOL} * max |ort| ({scale:.3f})")
        # The bf16 path really ran: further from the reference than fp32.
        f32_err = np.abs(f32 - ref).max()
        assert err > 10 * f32_err and err > 1e-5 * scale, (
            f"batch {batch}: bf16 error {err:.3e} is not above fp32's {f32_err:.3e}: "
            f"was anything computed in bf16?")
        top2 = np.sort(ref, axis=1)[:, -2:]
        clear = (top2[:, 1] - top2[:, 0]) > 2 * RTOL * scale
        agree = got.argmax(axis=1) == ref.argmax(axis=1)
        assert agree[clear].all(), (
            f"batch {batch}: top-1 differs from onnxruntime on rows "
            f"{np.flatnonzero(clear & ~agree).tolist()} with a clear margin")


def test_bf16_weights_are_half_size(artifacts):
    """Weights the matmuls and convolutions read are converted at compile
    time. The MNIST CNN's artifact is almost all weights (fc1: 4.7 MB in
    f32), so it shrinks to about half."""
    compiled = artifacts("mnist_cnn")
    f32, bf16 = (compiled[p].stat().st_size for p in ("fp32", "bf16"))
    assert bf16 < 0.6 * f32, f"bf16 artifact {bf16} bytes vs fp32 {f32}"
