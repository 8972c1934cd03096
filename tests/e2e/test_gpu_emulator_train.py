"""The training step compiled for the CUDA target, run on the emulated GPU
(`--target cuda-emulator`: the CUDA target's schedule and kernels, the
kernels compiled for this CPU; a test device, never a GPU result), against
the same step compiled for the CPU: 20 steps of real training from the same
weights, data order and dropout seed, per-step losses (from TensorBoard's
event files, full float precision) within 1e-4, and the test loss after.
Both exporters' graphs, and a BatchNorm model (batch statistics, running
statistics updated in the step).

The learning rate is 1e-4: the two targets sum in different orders, so the
first step's losses differ in the last bits (~1e-6), and training amplifies
such differences; at 1e-3 BatchNorm's batch statistics grow them past 1e-4
within 20 steps (measured: 2e-4 at step 11, 1e-3 at step 16), at 1e-4 they
stay near 5e-6."""
import pytest

from conftest import ROOT, check_ok, run_tool, tool

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

MODELS = ["mnist_cnn", "mnist_cnn_dynamo", "cnn_bn_train"]
STEPS = 20


def train(model, target, tmp_path):
    artifact = tmp_path / f"train.{target}"
    check_ok(run_tool([tool("vitc"), str(ROOT / "models" / f"{model}.onnx"), "--mode", "train",
                       "--optimizer", "adamw", "--lr", "1e-4", "--target", target,
                       "-o", str(artifact)]), f"vitc --mode train --target {target}")
    tb = tmp_path / f"tb.{target}"
    proc = run_tool([tool("vitc-run"), str(artifact), "--dataset", "fashion-mnist",
                     "--batch-size", "16", "--max-steps", str(STEPS), "--val-split", "0",
                     "--limit-test", "64", "--seed", "3", "--log-every", "5",
                     "--metrics", str(tmp_path / f"m.{target}.jsonl"), "--tensorboard", str(tb)],
                    timeout=900)
    check_ok(proc, f"vitc-run ({target})")
    acc = event_accumulator.EventAccumulator(str(tb), size_guidance={"scalars": 0})
    acc.Reload()
    losses = [e.value for e in acc.Scalars("train/loss")]
    test_loss = [e.value for e in acc.Scalars("test/loss")]
    return losses, test_loss


@pytest.mark.parametrize("model", MODELS)
def test_training_on_emulated_gpu_matches_cpu(model, tmp_path):
    cpu, cpu_test = train(model, "cpu", tmp_path)
    gpu, gpu_test = train(model, "cuda-emulator", tmp_path)
    assert len(cpu) == len(gpu) == STEPS
    for step, (a, b) in enumerate(zip(gpu, cpu), 1):
        assert abs(a - b) <= 1e-4 * max(1.0, abs(b)), \
            f"step {step}: emulated GPU loss {a:.7f}, cpu {b:.7f}"
    assert gpu_test == pytest.approx(cpu_test, rel=1e-4, abs=1e-4)
