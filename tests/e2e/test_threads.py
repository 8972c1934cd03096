"""Generated kernels on several threads (runtime/devices/cpu/ParallelFor.cpp):
one artifact run with `--threads 1`, 2 and 3 (3 oversubscribes a 2-core
machine on purpose) gives the same outputs within 1e-6 relative (1e-5 for
ResNet-18, whose oneDNN convolutions sum in another order), each within
test_models' 1e-4 of onnxruntime; the generated kernels really run on several
OpenMP threads (VITC_PARALLEL_STATS=1 makes the runtime report, at exit, how
many calls ran on several threads and how many distinct threads ran chunks);
and a short training run gives bit-identical weights when repeated at the
same thread count, and the same losses within rounding at another."""
import os
import re
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from conftest import ROOT, check_ok, tool
from test_models import model_path

THREADS = (1, 2, 3)
STATS = re.compile(r"vitc: parallel kernels: (\d+) calls, (\d+) on several threads, "
                   r"at most (\d+) threads, (\d+) distinct threads ran chunks")


def run(args, threads, stats=True):
    """Runs a tool with --threads; returns (process, (calls, parallel calls,
    most threads, distinct threads)) from the runtime's report."""
    env = dict(os.environ, VITC_PARALLEL_STATS="1" if stats else "0")
    p = subprocess.run([*map(str, args), "--threads", str(threads)], capture_output=True,
                       text=True, timeout=900, env=env)
    check_ok(p, f"{args[0]} --threads {threads}")
    m = STATS.search(p.stderr)
    return p, tuple(int(g) for g in m.groups()) if m else None


# Generated kernels give the same bits at any thread count (only parallel
# dims are split); oneDNN's convolutions may not: ResNet-18's logits move by
# 3.6e-6 between 1 and 3 threads with serial generated kernels too.
@pytest.mark.parametrize("name,rtol", [("mnist_cnn", 1e-6), ("vit_tiny", 1e-6),
                                       pytest.param("resnet18", 1e-5, marks=pytest.mark.large)])
def test_outputs_do_not_depend_on_threads(name, rtol, tmp_path):
    onnx_path = model_path(name)
    artifact = tmp_path / f"{name}.vtc"
    check_ok(subprocess.run([tool("vitc"), str(onnx_path), "-o", str(artifact)],
                            capture_output=True, text=True, timeout=900), f"vitc {name}")
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    x = np.random.default_rng(7).standard_normal([3] + [int(d) for d in inp.shape[1:]],
                                                 dtype=np.float32)
    ref = sess.run(None, {inp.name: x})[0]
    np.save(tmp_path / "x.npy", x)
    got = {}
    for threads in THREADS:
        out_dir = tmp_path / f"out{threads}"
        _, stats = run([tool("vitc-run"), artifact, "--input", f"{inp.name}={tmp_path / 'x.npy'}",
                        "--output-dir", out_dir], threads)
        assert stats, f"--threads {threads}: no VITC_PARALLEL_STATS report"
        calls, parallel, most, distinct = stats
        assert calls > 0, "no generated kernel went through vitc_parallel_for"
        if threads == 1:
            assert (parallel, most) == (0, 1), stats
        else:
            # Kernels were split, and every thread of the pool ran a chunk.
            assert parallel > 0 and most == threads and distinct == threads, stats
        got[threads] = np.load(out_dir / f"{out.name}.npy")
        excess = np.abs(got[threads].astype(np.float64) - ref) - 1e-4 * np.maximum(1.0, np.abs(ref))
        assert excess.max() <= 0, f"--threads {threads}: max |diff| vs onnxruntime " \
                                  f"{np.abs(got[threads] - ref).max():.3e}"
    for threads in THREADS[1:]:
        diff = np.abs(got[threads].astype(np.float64) - got[1])
        assert (diff <= rtol * np.maximum(1.0, np.abs(got[1]))).all(), \
            f"--threads {threads} vs 1: max |diff| {diff.max():.3e}"


TRAIN_FLAGS = ["--dataset", "fashion-mnist", "--limit-train", 192, "--limit-test", 32,
               "--val-split", 0.25, "--epochs", 1, "--batch-size", 32, "--log-every", 1,
               "--seed", 3, "--onnx-model", ROOT / "models/mnist_cnn.onnx"]
LOSS = re.compile(r"Batch \d{4}/\d{4} \| Loss: (\d+\.\d{4})$", re.M)


@pytest.fixture(scope="module")
def train_artifact(tmp_path_factory):
    out = tmp_path_factory.mktemp("threads") / "train.vtc"
    check_ok(subprocess.run([tool("vitc"), str(ROOT / "models/mnist_cnn.onnx"), "--mode", "train",
                             "--optimizer", "adamw", "--lr", "1e-3", "-o", str(out)],
                            capture_output=True, text=True, timeout=900), "vitc --mode train")
    return out


def train(artifact, tmp_path, tag, threads):
    p, stats = run([tool("vitc-run"), artifact, *TRAIN_FLAGS,
                    "--checkpoint-dir", tmp_path / tag, "--export-onnx", tmp_path / f"{tag}.onnx"],
                   threads)
    weights = {t.name: numpy_helper.to_array(t)
               for t in onnx.load(tmp_path / f"{tag}.onnx").graph.initializer}
    return [float(l) for l in LOSS.findall(p.stdout)], weights, stats


def test_training_is_reproducible_at_a_thread_count(tmp_path, train_artifact):
    losses, weights, stats = train(train_artifact, tmp_path, "a", 2)
    assert len(losses) == 5 and stats and stats[1] > 0 and stats[3] == 2, stats
    again, weights_again, _ = train(train_artifact, tmp_path, "b", 2)
    assert again == losses
    assert weights.keys() == weights_again.keys()
    for name in weights:
        assert weights[name].tobytes() == weights_again[name].tobytes(), name
    # Another thread count: oneDNN may sum in another order, nothing more.
    single, weights_single, _ = train(train_artifact, tmp_path, "c", 1)
    assert single == pytest.approx(losses, rel=1e-3, abs=1e-3)
    for name in weights:
        np.testing.assert_allclose(weights_single[name], weights[name], rtol=1e-3, atol=1e-4,
                                   err_msg=name)
