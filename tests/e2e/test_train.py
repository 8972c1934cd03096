"""End-to-end training with `vitc-run TRAIN.vtc`: a short Fashion-MNIST run must
cut the loss, a resumed run must reproduce an uninterrupted one bit for bit,
learning-rate schedules match PyTorch's schedulers, the exported ONNX model
runs in onnxruntime with the trainer's own test loss and accuracy, and bad
input (corrupt checkpoint, out-of-range labels, wrong image size) fails
cleanly."""
import gzip
import json
import pathlib
import re
import shutil
import struct
import subprocess
import zlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import ROOT, check_ok, run_tool, tool
from test_bad_input import expect_error

MODEL = ROOT / "models/mnist_cnn.onnx"
FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")
BATCH_LINE = re.compile(r"^Epoch: \d{4}/\d{4} \| Batch \d{4}/\d{4} \| Loss: \d+\.\d{4}$")


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    return compile_train(MODEL, tmp_path_factory.mktemp("train") / "train.vtc",
                         "--optimizer", "adamw", "--lr", "1e-3")


def compile_train(model, out, *flags):
    check_ok(run_tool([tool("vitc"), str(model), "--mode", "train", *flags, "-o", str(out)]),
             "vitc --mode train")
    return out


@pytest.fixture(scope="module")
def dropout_artifact(tmp_path_factory):
    """A small CNN with a training-mode Dropout: train_step takes a seed."""
    dir = tmp_path_factory.mktemp("dropout")
    rng = np.random.default_rng(0)
    weights = {"conv.weight": rng.standard_normal((8, 1, 3, 3)) * 0.3, "conv.bias": np.zeros(8),
               "fc.weight": rng.standard_normal((10, 8 * 13 * 13)) * 0.02, "fc.bias": np.zeros(10)}
    const = lambda name, value: helper.make_node("Constant", [], [name],
                                                 value=numpy_helper.from_array(np.array(value)))
    nodes = [const("ratio", np.float32(0.3)), const("training_mode", True),
             helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["c"], strides=[2, 2]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Dropout", ["r", "ratio", "training_mode"], ["d"]),
             helper.make_node("Flatten", ["d"], ["f"]),
             helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], transB=1)]
    graph = helper.make_graph(
        nodes, "dropout_cnn", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        [numpy_helper.from_array(w.astype(np.float32), n) for n, w in weights.items()])
    model = dir / "dropout.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), model)
    out = compile_train(model, dir / "dropout.vtc")
    info = run_tool([tool("vitc-run"), str(out), "--info"])
    assert "role=seed" in info.stdout, info.stdout
    return out, model


def train(artifact, *flags, ok=True):
    p = run_tool([tool("vitc-run"), str(artifact), *map(str, flags)])
    if ok:
        check_ok(p, "vitc-run train")
    return p


def batch_lines(stdout):
    return [line for line in stdout.splitlines() if BATCH_LINE.match(line)]


def metrics(path):
    lines = [json.loads(line) for line in pathlib.Path(path).read_text().splitlines()]
    return [l for l in lines if "epoch" in l], [l for l in lines if "test_acc" in l]


def read_png(path):
    """Decodes an 8-bit RGB, non-interlaced PNG (what the trainer writes):
    checks the signature and every chunk's CRC, returns (width, height, rows)."""
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind} chunk"
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert (depth, color, interlace) == (8, 2, 0)
    raw = zlib.decompress(idat)
    assert len(raw) == height * (1 + 3 * width)
    return width, height, raw


def fashion_test(n):
    """The first n Fashion-MNIST test images and labels (idx format)."""
    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n]
    with gzip.open(FASHION / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:n].astype(np.int64)
    return images, labels


def write_npy_dataset(dir, train_labels, size=(28, 28), n_test=16):
    dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    np.save(dir / "train_images.npy", rng.integers(0, 256, (len(train_labels), *size), dtype=np.uint8))
    np.save(dir / "train_labels.npy", np.array(train_labels, dtype=np.int64))
    np.save(dir / "test_images.npy", rng.integers(0, 256, (n_test, *size), dtype=np.uint8))
    np.save(dir / "test_labels.npy", np.arange(n_test, dtype=np.int64) % 10)
    return dir


def test_training_cuts_the_loss(tmp_path, artifact):
    ckpt = tmp_path / "ckpt"
    p = train(artifact, "--dataset", "fashion-mnist", "--limit-train", 1024, "--limit-test", 500,
              "--epochs", 3, "--batch-size", 32, "--log-every", 10, "--checkpoint-dir", ckpt,
              "--plot", tmp_path / "plot.png", "--threads", 2)
    lines = batch_lines(p.stdout)
    # 1024 - 10% validation = 922 images: 29 batches of 32, logged every 10 and at the last.
    assert len(lines) == 3 * 3, p.stdout
    assert lines[0].startswith("Epoch: 0001/0003 | Batch 0010/0029")
    assert lines[2].startswith("Epoch: 0001/0003 | Batch 0029/0029")
    epochs, tests = metrics(ckpt / "metrics.jsonl")
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert [e["step"] for e in epochs] == [29, 58, 87]
    for e in epochs:
        assert set(e) == {"epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "lr",
                          "epoch_s", "img_per_s", "peak_rss_mb"}
        assert e["lr"] == pytest.approx(1e-3) and e["img_per_s"] > 0 and e["peak_rss_mb"] > 0
    # Learning, not noise: the loss falls well below chance (ln 10 = 2.30) and
    # accuracies rise far above 10%.
    first_loss = float(lines[0].rsplit(" ", 1)[1])
    assert epochs[-1]["train_loss"] < 0.6 * first_loss
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    assert epochs[-1]["val_acc"] > 0.65 and tests[0]["test_acc"] > 0.65
    assert "Test: loss" in p.stdout and (ckpt / "checkpoint.vtck").exists()
    width, height, _ = read_png(tmp_path / "plot.png")
    assert (width, height) == (960, 400)


RESUME_FLAGS = ["--dataset", "fashion-mnist", "--limit-train", 256, "--limit-test", 64,
                "--val-split", 0.25, "--epochs", 2, "--batch-size", 32, "--log-every", 1,
                "--schedule", "cosine", "--warmup-steps", 3, "--seed", 5, "--augment", "crop=2,flip",
                "--threads", 1]


@pytest.mark.parametrize("which", ["mnist_cnn", "dropout"])
def test_resume_matches_uninterrupted_run(tmp_path, request, which):
    """Interrupted mid-epoch (after a periodic checkpoint and more steps) and
    resumed: the same per-batch losses, metrics and final weights, bit for
    bit. The dropout model also checks that dropout's seed depends only on
    (--seed, step)."""
    if which == "dropout":
        artifact, model = request.getfixturevalue("dropout_artifact")
    else:
        artifact, model = request.getfixturevalue("artifact"), MODEL
    flags = [*RESUME_FLAGS, "--onnx-model", model]
    # 192 training images: 6 batches per epoch, 12 steps.
    full = train(artifact, *flags, "--checkpoint-dir", tmp_path / "a",
                 "--export-onnx", tmp_path / "a.onnx")
    first = train(artifact, *flags, "--checkpoint-dir", tmp_path / "b",
                  "--checkpoint-every", 4, "--max-steps", 9)
    assert "Stopped after step 9" in first.stdout
    rest = train(artifact, *flags, "--resume", tmp_path / "b",
                 "--export-onnx", tmp_path / "b.onnx")
    assert rest.stderr == "", rest.stderr  # no warning: same settings
    full_lines = batch_lines(full.stdout)
    assert len(full_lines) == 12
    assert batch_lines(first.stdout) + batch_lines(rest.stdout) == full_lines
    # Same epochs and test result (timings aside), and bit-identical weights.
    (ea, ta), (eb, tb) = metrics(tmp_path / "a/metrics.jsonl"), metrics(tmp_path / "b/metrics.jsonl")
    keys = ("epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "lr")
    assert [[e[k] for k in keys] for e in ea] == [[e[k] for k in keys] for e in eb]
    assert ta == tb
    wa = {t.name: numpy_helper.to_array(t) for t in onnx.load(tmp_path / "a.onnx").graph.initializer}
    wb = {t.name: numpy_helper.to_array(t) for t in onnx.load(tmp_path / "b.onnx").graph.initializer}
    assert wa.keys() == wb.keys()
    for name in wa:
        assert wa[name].tobytes() == wb[name].tobytes(), name
    # --epochs 0 only exports the checkpoint's weights.
    again = train(artifact, *flags, "--epochs", 0, "--resume", tmp_path / "a",
                  "--export-onnx", tmp_path / "c.onnx")
    assert batch_lines(again.stdout) == []
    wc = {t.name: numpy_helper.to_array(t) for t in onnx.load(tmp_path / "c.onnx").graph.initializer}
    assert all(wc[n].tobytes() == wa[n].tobytes() for n in wa)


def test_resume_warns_about_changed_settings(tmp_path, artifact):
    flags = ["--limit-train", 64, "--limit-test", 16, "--val-split", 0, "--batch-size", 32]
    train(artifact, *flags, "--checkpoint-dir", tmp_path / "c", "--max-steps", 1)
    p = train(artifact, *flags[:-1], 16, "--resume", tmp_path / "c", "--max-steps", 2)
    assert "--batch-size is '16' but was '32'" in p.stderr, p.stderr


def torch_lrs(schedule, base, steps, per_epoch, warmup=0, min_lr=0.0, step_size=1, gamma=0.1):
    """The rate PyTorch's schedulers give each optimizer step."""
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base)
    if schedule == "cosine":
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps - warmup, eta_min=min_lr)
        warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / warmup, end_factor=1.0,
                                                 total_iters=warmup - 1)
        sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cosine], milestones=[warmup])
        per_step = True
    else:
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
        per_step = False
    lrs = []
    for s in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if per_step or (s + 1) % per_epoch == 0:
            sched.step()
    return lrs


@pytest.mark.parametrize("schedule,flags,kwargs", [
    ("cosine", ["--warmup-steps", 3, "--min-lr", 1e-4], dict(warmup=3, min_lr=1e-4)),
    ("step", ["--step-size", 2, "--gamma", 0.5], dict(step_size=2, gamma=0.5)),
])
def test_schedules_match_pytorch(tmp_path, artifact, schedule, flags, kwargs):
    # 64 images in batches of 16: 4 steps per epoch, 6 epochs.
    train(artifact, "--limit-train", 64, "--limit-test", 16, "--val-split", 0, "--batch-size", 16,
          "--epochs", 6, "--lr", 2e-3, "--schedule", schedule, *flags, "--metrics", tmp_path / "m.jsonl")
    epochs, _ = metrics(tmp_path / "m.jsonl")
    expected = torch_lrs(schedule, 2e-3, 24, 4, **kwargs)
    # Each epoch reports the rate of its last step.
    assert [e["lr"] for e in epochs] == pytest.approx([expected[4 * k + 3] for k in range(6)], rel=1e-6)


def test_exported_onnx_runs_in_onnxruntime(tmp_path, artifact):
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "trained.onnx"
    train(artifact, "--limit-train", 512, "--limit-test", 200, "--epochs", 1, "--batch-size", 32,
          "--metrics", tmp_path / "m.jsonl", "--export-onnx", out)  # source: the manifest
    _, tests = metrics(tmp_path / "m.jsonl")
    source, trained = onnx.load(MODEL), onnx.load(out)
    assert [n.op_type for n in trained.graph.node] == [n.op_type for n in source.graph.node]
    assert trained.opset_import == source.opset_import
    changed = [a.name for a, b in zip(source.graph.initializer, trained.graph.initializer)
               if not np.array_equal(numpy_helper.to_array(a), numpy_helper.to_array(b))]
    assert len(changed) == len(source.graph.initializer), "every weight should have been trained"

    # onnxruntime on the same test images, normalised as the trainer's
    # fashion-mnist default does, must reproduce the trainer's test metrics
    # (its eval_step on the trained weights).
    images, labels = fashion_test(200)
    x = ((images.astype(np.float32) / 255 - np.float32(0.2860)) / np.float32(0.3530)).astype(np.float32)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    logits = session.run(None, {session.get_inputs()[0].name: x})[0].astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(labels)), labels].mean()
    accuracy = (logits.argmax(axis=1) == labels).mean()
    assert tests[0]["test_loss"] == pytest.approx(loss, rel=1e-4, abs=1e-5)
    assert abs(tests[0]["test_acc"] - accuracy) <= 1 / 200  # a near-tie may flip
    assert accuracy > 0.5


# ---- bad input ---------------------------------------------------------------

def train_fails(artifact, flags, mentions, absent=()):
    return expect_error([tool("vitc-run"), str(artifact), *map(str, flags)], "vitc-run: error:",
                        mentions, absent=absent)


@pytest.fixture(scope="module")
def checkpoint(artifact, tmp_path_factory):
    dir = tmp_path_factory.mktemp("ckpt")
    train(artifact, "--limit-train", 64, "--limit-test", 16, "--val-split", 0, "--batch-size", 32,
          "--checkpoint-dir", dir)
    return dir


@pytest.mark.parametrize("damage,problem", [
    (lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:], "CRC32"),
    (lambda b: b[: len(b) // 2], "truncated"),
    (lambda b: b"garbage!" + b[8:], "not a vitc checkpoint"),
])
def test_corrupt_checkpoint(tmp_path, artifact, checkpoint, damage, problem):
    dir = tmp_path / "ckpt"
    shutil.copytree(checkpoint, dir)
    bad = damage((dir / "checkpoint.vtck").read_bytes())
    (dir / "checkpoint.vtck").write_bytes(bad)
    before = (dir / "metrics.jsonl").read_bytes()
    line = train_fails(artifact, ["--limit-train", 64, "--val-split", 0, "--batch-size", 32,
                                  "--resume", dir], [problem])
    assert str(dir / "checkpoint.vtck") in line
    # Nothing overwritten.
    assert (dir / "checkpoint.vtck").read_bytes() == bad
    assert (dir / "metrics.jsonl").read_bytes() == before


def test_label_out_of_range(tmp_path, artifact):
    data = write_npy_dataset(tmp_path / "data", [0, 3, 10, 1])
    line = train_fails(artifact, ["--dataset", "npy", "--data-dir", data, "--val-split", 0,
                                  "--checkpoint-dir", tmp_path / "ckpt"], ["label 10"])
    assert "10 classes" in line
    assert not (tmp_path / "ckpt/checkpoint.vtck").exists()


def test_image_size_mismatch(tmp_path, artifact):
    data = write_npy_dataset(tmp_path / "data", [0, 1, 2, 3], size=(32, 32))
    line = train_fails(artifact, ["--dataset", "npy", "--data-dir", data, "--val-split", 0], ["32x32"])
    assert "28x28" in line and "--resize" in line


def test_export_needs_the_source_model(tmp_path):
    """--export-onnx writes into the model the artifact was compiled from
    (recorded in the manifest); when that file is gone, it says so and asks
    for --onnx-model."""
    model = tmp_path / "model.onnx"
    shutil.copy(MODEL, model)
    art = compile_train(model, tmp_path / "train.vtc")
    model.unlink()
    train_fails(art, ["--epochs", 0, "--export-onnx", tmp_path / "x.onnx"],
                ["--onnx-model", str(model)], absent=[tmp_path / "x.onnx"])


def test_checkpoint_of_another_artifact(tmp_path, artifact, checkpoint):
    sgd = compile_train(MODEL, tmp_path / "sgd.vtc", "--optimizer", "sgd", "--momentum", "0.9")
    dir = tmp_path / "ckpt"
    shutil.copytree(checkpoint, dir)
    line = train_fails(sgd, ["--limit-train", 64, "--val-split", 0, "--resume", dir],
                       ["written for another model", "another artifact"])
    assert str(dir / "checkpoint.vtck") in line


def test_checkpoint_dir_under_a_file(tmp_path, artifact):
    (tmp_path / "file").write_text("")
    train_fails(artifact, ["--limit-train", 64, "--checkpoint-dir", tmp_path / "file/ckpt"],
                ["--checkpoint-dir"])


def test_failed_checkpoint_write_keeps_the_last_good_one(tmp_path, artifact, checkpoint):
    """A checkpoint write that fails midway (here a file-size limit: a full
    disk as far as the writer can tell) is an error, exit 1, and leaves the
    previous checkpoint intact, with no temporary file behind."""
    dir = tmp_path / "ckpt"
    shutil.copytree(checkpoint, dir)
    good = (dir / "checkpoint.vtck").read_bytes()
    p = subprocess.run(["prlimit", f"--fsize={len(good) // 2}", tool("vitc-run"), str(artifact),
                        "--limit-train", "64", "--limit-test", "16", "--val-split", "0",
                        "--batch-size", "32", "--checkpoint-dir", str(dir)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stderr
    assert p.stderr.strip().splitlines()[-1].startswith("vitc-run: error: checkpoint not saved:")
    assert str(dir / "checkpoint.vtck") in p.stderr and "File too large" in p.stderr
    assert (dir / "checkpoint.vtck").read_bytes() == good
    assert sorted(f.name for f in dir.iterdir()) == ["checkpoint.vtck", "metrics.jsonl"]
