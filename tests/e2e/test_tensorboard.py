"""`vitc-run TRAIN.vtc --tensorboard DIR`: the event file must load in
TensorBoard's own reader (EventAccumulator) with one scalar per step for the
loss and the learning rate, per epoch for the losses, accuracies, img/s and
memory, and the test result, all matching the run's JSON lines and log."""
import json
import re
import socket

import pytest

from conftest import ROOT, check_ok, run_tool, tool
from test_bad_input import expect_error

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

MODEL = ROOT / "models/mnist_cnn.onnx"
LOSS_LINE = re.compile(r"^Epoch: \d{4}/\d{4} \| Batch \d{4}/\d{4} \| Loss: (\d+\.\d{4})$")


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    out = tmp_path_factory.mktemp("tb") / "train.vtc"
    check_ok(run_tool([tool("vitc"), str(MODEL), "--mode", "train", "--optimizer", "adamw",
                       "--lr", "1e-3", "-o", str(out)]), "vitc --mode train")
    return out


def scalars(accumulator, tag):
    return [(e.step, e.value) for e in accumulator.Scalars(tag)]


def test_event_file_matches_the_metrics(tmp_path, artifact):
    # 160 images, 25% for validation: 120 in batches of 32, 4 steps per epoch.
    p = run_tool([tool("vitc-run"), str(artifact), "--limit-train", "160", "--limit-test", "64",
                  "--val-split", "0.25", "--epochs", "2", "--batch-size", "32",
                  "--schedule", "cosine", "--warmup-steps", "2", "--log-every", "1",
                  "--threads", "2", "--metrics", str(tmp_path / "m.jsonl"),
                  "--tensorboard", str(tmp_path / "tb")])
    check_ok(p, "vitc-run --tensorboard")
    files = list((tmp_path / "tb").iterdir())
    assert len(files) == 1
    assert re.fullmatch(r"events\.out\.tfevents\.\d+\." + re.escape(socket.gethostname()),
                        files[0].name), files[0].name

    tb = event_accumulator.EventAccumulator(str(tmp_path / "tb"), size_guidance={"scalars": 0})
    tb.Reload()
    assert sorted(tb.Tags()["scalars"]) == sorted([
        "train/loss", "train/lr", "epoch/train_loss", "epoch/train_accuracy", "epoch/val_loss",
        "epoch/val_accuracy", "epoch/images_per_second", "epoch/seconds", "epoch/peak_rss_mb",
        "test/loss", "test/accuracy"])

    # One loss and one rate per step, the losses as the log prints them.
    logged = [float(m.group(1)) for m in map(LOSS_LINE.match, p.stdout.splitlines()) if m]
    losses = scalars(tb, "train/loss")
    assert [s for s, _ in losses] == list(range(1, 9))
    assert [v for _, v in losses] == pytest.approx(logged, abs=5.1e-5)
    lrs = scalars(tb, "train/lr")
    assert [s for s, _ in lrs] == list(range(1, 9))
    assert lrs[0][1] == pytest.approx(0.5e-3, rel=1e-6)  # warm-up: lr / 2
    assert lrs[1][1] == pytest.approx(1e-3, rel=1e-6)

    # Per epoch, at the step that ends it: the JSON lines' values (as f32).
    lines = [json.loads(l) for l in (tmp_path / "m.jsonl").read_text().splitlines()]
    epochs, test = [l for l in lines if "epoch" in l], [l for l in lines if "test_acc" in l]
    assert [e["step"] for e in epochs] == [4, 8]
    for tag, key in [("epoch/train_loss", "train_loss"), ("epoch/train_accuracy", "train_acc"),
                     ("epoch/val_loss", "val_loss"), ("epoch/val_accuracy", "val_acc"),
                     ("epoch/images_per_second", "img_per_s"), ("epoch/seconds", "epoch_s"),
                     ("epoch/peak_rss_mb", "peak_rss_mb")]:
        values = scalars(tb, tag)
        assert [s for s, _ in values] == [e["step"] for e in epochs], tag
        assert [v for _, v in values] == pytest.approx([e[key] for e in epochs], rel=1e-6), tag
    assert [lrs[e["step"] - 1][1] for e in epochs] == pytest.approx([e["lr"] for e in epochs],
                                                                    rel=1e-6)
    assert scalars(tb, "test/loss") == [(8, pytest.approx(test[0]["test_loss"], rel=1e-6))]
    assert scalars(tb, "test/accuracy") == [(8, pytest.approx(test[0]["test_acc"], rel=1e-6))]


def test_no_event_file_without_the_flag(tmp_path, artifact):
    check_ok(run_tool([tool("vitc-run"), str(artifact), "--limit-train", "64", "--limit-test", "16",
                       "--val-split", "0", "--batch-size", "32", "--checkpoint-dir",
                       str(tmp_path / "ckpt")]), "vitc-run")
    assert sorted(f.name for f in (tmp_path / "ckpt").iterdir()) == ["checkpoint.vtck",
                                                                      "metrics.jsonl"]


def test_tensorboard_dir_under_a_file(tmp_path, artifact):
    (tmp_path / "file").write_text("")
    expect_error([tool("vitc-run"), str(artifact), "--limit-train", "64",
                  "--tensorboard", str(tmp_path / "file/tb")], "vitc-run: error:",
                 ["--tensorboard"])
