"""The Python binding (runtime/python/vitc, ctypes over vitc_runtime.h)
against onnxruntime and against the C API's own behaviour: an inference
model called directly, by name and in a session across batch sizes, loaded
from a file and from memory; a training artifact stepped through
TrainingState; and each misuse refused with an error naming what is wrong.
The installed copy (lib/python/vitc of an SDK prefix) is tested in
test_sdk.py."""
import numpy as np
import onnxruntime as ort
import pytest

from conftest import ROOT, check_ok, import_vitc, run_tool, tool

vitc = import_vitc()
MODEL = ROOT / "models/vit_tiny.onnx"


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    out = tmp_path_factory.mktemp("binding") / "vit.vtc"
    check_ok(run_tool([tool("vitc"), str(MODEL), "-o", str(out)]), "vitc")
    return out


@pytest.fixture(scope="module")
def train_artifact(tmp_path_factory):
    out = tmp_path_factory.mktemp("binding") / "cnn_train.vtc"
    check_ok(run_tool([tool("vitc"), str(ROOT / "models/cnn_bn_train.onnx"), "--mode", "train",
                       "--optimizer", "adamw", "--lr", "0.001", "-o", str(out)]), "vitc --mode train")
    return out


def reference(x):
    sess = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


def close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(want).max())))


def test_run_against_onnxruntime(artifact):
    model = vitc.load(artifact)
    assert model.mode == "inference" and list(model.functions) == ["main"]
    assert [i.name for i in model.inputs] == ["input"] and model.inputs[0].shape == (None, 1, 28, 28)
    rng = np.random.default_rng(0)
    for batch in (1, 3):
        x = rng.standard_normal((batch, 1, 28, 28), np.float32)
        close(model(x), reference(x))
        close(model.run({"input": x})["logits"], reference(x))
    # A non-contiguous view is made contiguous, not misread.
    x = rng.standard_normal((4, 1, 28, 56), np.float32)[..., ::2]
    close(model(x), reference(np.ascontiguousarray(x)))


def test_session_across_batches_and_from_memory(artifact):
    model = vitc.load_from_memory(artifact.read_bytes())
    session = model.session(threads=1)
    rng = np.random.default_rng(1)
    for batch in (2, 5, 2):
        x = rng.standard_normal((batch, 1, 28, 28), np.float32)
        close(session.run([x])["logits"], reference(x))
    assert session.arena_bytes > 0
    # The session keeps what it needs of its model.
    del model
    x = rng.standard_normal((3, 1, 28, 28), np.float32)
    close(session.run({"input": x})["logits"], reference(x))


def test_errors_name_what_is_wrong(artifact, tmp_path):
    model = vitc.load(artifact)
    with pytest.raises(vitc.Error, match="input 'input' is f32, got numpy float64"):
        model(np.zeros((1, 1, 28, 28)))
    with pytest.raises(vitc.Error, match=r"input 'input' has shape \(None, 1, 28, 28\).*\(1, 3, 28, 28\)"):
        model(np.zeros((1, 3, 28, 28), np.float32))
    with pytest.raises(vitc.Error, match=r"no input named \['image'\]"):
        model.run({"image": np.zeros((1, 1, 28, 28), np.float32)})
    with pytest.raises(vitc.Error, match="takes 1 inputs"):
        model()
    with pytest.raises(vitc.Error, match="no function 'train_step'"):
        model.run([], function="train_step")
    missing = tmp_path / "missing.vtc"
    with pytest.raises(vitc.Error, match=str(missing)):
        vitc.load(missing)
    bad = tmp_path / "bad.vtc"
    bad.write_bytes(b"not an artifact" * 10)
    with pytest.raises(vitc.Error, match="load"):
        vitc.load(bad)
    with pytest.raises(vitc.Error, match="inference artifact"):
        vitc.TrainingState(model)


def test_training_state(train_artifact):
    model = vitc.load(train_artifact)
    info = model.training_info()
    assert info["optimizer"] == "adamw" and abs(info["lr"] - 1e-3) < 1e-9
    state = vitc.TrainingState(model)
    start = state.weights()
    assert start and all(np.array_equal(v, model.initial_value(k)) for k, v in start.items())
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 1, 28, 28), np.float32)
    y = rng.integers(0, 10, 16)
    losses = [state.step(x, y)[0] for _ in range(20)]
    assert losses[-1] < 0.5 * losses[0], losses  # one batch, learnt
    loss, correct = state.evaluate(x, y)
    assert 0 <= correct <= 16 and np.isfinite(loss)
    assert any(not np.array_equal(start[k], v) for k, v in state.weights().items())
    # Weights put back: the same evaluation as the initial model's.
    fresh = vitc.TrainingState(model)
    fresh.set_weights(state.weights())
    assert fresh.evaluate(x, y) == (loss, correct)
    name = next(iter(start))
    with pytest.raises(vitc.Error, match=f"'{name}'"):
        fresh.set_weights({name: np.zeros((1,), np.float32)})
    with pytest.raises(vitc.Error, match="not a param or buffer"):
        fresh.set_weights({"nope": np.zeros((1,), np.float32)})


def test_two_models_in_one_process(artifact, train_artifact):
    """Each model runs its own code: the runtime loads code through a memfd
    whose number the next load reuses, and dlopen used to hand the second
    model the first one's library ("has no entry symbol
    'vitc_entry_train_step'")."""
    inference = vitc.load(artifact)
    training = vitc.load(train_artifact)
    assert list(training.functions) == ["train_step", "eval_step"]
    x = np.random.default_rng(3).standard_normal((2, 1, 28, 28), np.float32)
    close(inference(x), reference(x))
    state = vitc.TrainingState(training)
    assert np.isfinite(state.step(x, np.array([1, 2]))[0])
    del inference
    again = vitc.load(artifact)  # after a free, and with another model loaded
    close(again(x), reference(x))
