"""Training trajectories, vitc against PyTorch, over many steps (issue #13:
the ViT's accuracy after an epoch). From the same initial weights and fed
the very same batches in the same order, vitc's compiled training step
(driven through the Python binding) and PyTorch's module with torch.optim
must follow the same loss curve step after step and end at the same test
accuracy; and vitc-run's own loop must train on exactly the order
tools/conformance/vitc_order.py reproduces, so that a comparison can feed
PyTorch vitc-run's batches. The whole-epoch study with several seeds is
tools/conformance/train_trajectory.py (results in docs/conformance/)."""
import json
import pathlib
import sys

import numpy as np
import pytest
import torch

from conftest import ROOT, check_ok, import_vitc, run_tool, tool

vitc = import_vitc()
sys.path[:0] = [str(ROOT / "models"), str(ROOT / "tools/bench"), str(ROOT / "tools/conformance")]
import export_models  # noqa: E402
import fashion_mnist  # noqa: E402
import train_trajectory  # noqa: E402
import vitc_order  # noqa: E402

DATA = pathlib.Path(fashion_mnist.DATA_DIR)
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"{DATA} missing (Debian's dataset-fashion-mnist)")


def compile_train(onnx_path, out):
    check_ok(run_tool([tool("vitc"), str(onnx_path), "--mode", "train", "--optimizer", "adamw",
                       "--lr", repr(train_trajectory.LR), "-o", str(out)]), "vitc --mode train")
    return out


@pytest.fixture(scope="module")
def data():
    return (fashion_mnist.load_split(DATA, "train", 6400), fashion_mnist.load_split(DATA, "t10k", 2000))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    vitc.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    vitc.set_num_threads(0)


def vit_encoder_without_dropout():
    """The nn.TransformerEncoder ViT with dropout 0: its trajectory is then
    deterministic on both sides (with dropout, the masks differ)."""
    torch.manual_seed(export_models.SEED)
    return export_models.VitEncoder(dropout=0.0).eval(), (1, 28, 28)


@pytest.mark.parametrize("name", ["vit_tiny", "vit_encoder"])
def test_same_batches_same_trajectory(name, data, tmp_path):
    """100 AdamW steps of batch 64 over the same batches: the losses agree to
    1e-3 relative at every one of the first 50 steps and to 2% on average
    over the last 20 (float rounding differs, and training amplifies it
    slowly), and the test accuracies within half a point."""
    onnx_path = tmp_path / f"{name}.onnx"
    if name == "vit_encoder":
        with torch.no_grad():
            model, shape = vit_encoder_without_dropout()
        export_models.export(model, shape, onnx_path, "training", 17, fold=False)
        module = vit_encoder_without_dropout()[0]
        export_models.load_initializers(module, onnx_path)
    else:
        export_models.export_train(name, onnx_path)
        module = export_models.module_from_onnx(name, onnx_path)
    artifact = compile_train(onnx_path, tmp_path / f"{name}.vtc")
    train, test = data
    order = train_trajectory.batches(len(train[1]), seed=1)
    torch_losses, torch_acc = train_trajectory.train_torch(module, train, test, order, seed=1)
    vitc_losses, vitc_acc = train_trajectory.train_vitc(artifact, train, test, order, seed=1)
    assert len(torch_losses) == len(vitc_losses) == 100
    t, v = np.array(torch_losses), np.array(vitc_losses)
    worst = np.argmax(np.abs(t[:50] - v[:50]) / t[:50])
    assert np.abs(t[:50] - v[:50]).max() <= 1e-3 * t[:50].max(), (
        f"step {worst + 1}: loss torch {t[worst]:.6f} vitc {v[worst]:.6f}")
    assert abs(t[-20:].mean() - v[-20:].mean()) <= 0.02 * t[-20:].mean(), (t[-20:].mean(), v[-20:].mean())
    assert t[-20:].mean() < 0.6 * t[:5].mean(), "neither side learnt: the comparison proves nothing"
    assert abs(torch_acc - vitc_acc) <= 0.005, (torch_acc, vitc_acc)


def test_vitc_order_is_vitc_runs(data, tmp_path):
    """vitc-run --seed 5 trains on vitc_order.permutation(N, 5) in epoch 0:
    its logged loss at each step is the binding's on those batches."""
    onnx_path = export_models.export_train("vit_tiny", tmp_path / "vit_tiny.onnx")
    artifact = compile_train(onnx_path, tmp_path / "vit_tiny.vtc")
    count, seed = 640, 5
    metrics = tmp_path / "metrics.jsonl"
    proc = run_tool([tool("vitc-run"), str(artifact), "--dataset", "fashion-mnist", "--epochs", "1",
                     "--batch-size", "64", "--val-split", "0", "--seed", str(seed), "--log-every", "1",
                     "--limit-train", str(count), "--limit-test", "2000", "--threads", "1",
                     "--metrics", str(metrics)])
    check_ok(proc, "vitc-run")
    logged = [float(line.split("Loss:")[1]) for line in proc.stdout.splitlines()
              if "| Batch" in line and "Loss:" in line]
    train, test = data
    order = np.array(vitc_order.permutation(count, seed))
    state = vitc.TrainingState(vitc.load(artifact))
    mine = [state.step(train[0][order[i:i + 64]], train[1][order[i:i + 64]])[0] for i in range(0, count, 64)]
    assert len(logged) == len(mine) == 10
    # vitc-run prints 4 decimals.
    np.testing.assert_allclose(mine, logged, atol=6e-5, err_msg="vitc-run's batches are not vitc_order's")
    hits = sum(state.evaluate(test[0][s:s + 250], test[1][s:s + 250])[1] for s in range(0, 2000, 250))
    test_acc = [json.loads(line) for line in metrics.read_text().splitlines() if "test_acc" in line][-1]
    assert test_acc["test_acc"] == pytest.approx(hits / 2000, abs=1e-9)
