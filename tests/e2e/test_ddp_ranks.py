"""`mpirun -np N vitc-run DDP.vtc`: data-parallel training on N CPU ranks (Open MPI,
--oversubscribe) against one process as the reference. With the same global
batch (--batch-size is per rank) and --threads 1, every step's loss and the
trained weights match the one-process run (1e-5 after the first step, 1e-4
after 50), including last batches that do not split evenly; the same N and
seed reproduce bit for bit. Rank 0 alone writes the run's files; each rank
prints its model state. Every run has a timeout: a hang fails.

The runs use AdamW at lr 3e-4. At the artifact's 1e-3 (or SGD at 0.05) this
small model's training is chaotic: the last-bit differences of summing a
batch's gradient in another grouping (two half batches, then the ranks) grow
to 1e-3 by step 30, in one process with another batch split as well. At
3e-4 they stay near 1e-5 over the 51 steps."""
import os
import re
import shutil
import subprocess

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from tensorboard.backend.event_processing import event_accumulator

from conftest import ROOT, check_ok, run_tool, tool

MPIRUN = shutil.which("mpirun")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="no mpirun: multi-rank tests need Open MPI")

GLOBAL_BATCH = 24
# 1350 images less the 10% validation split: 1215 in 51 global batches, the
# last of 15 (7/8 at 2 ranks, 3/4/4/4 at 4); validation 135 = 5 x 24 + 15.
DATA = ["--limit-train", "1350", "--limit-test", "200", "--threads", "1", "--log-every", "10",
        "--lr", "3e-4"]


def launch(n, args, timeout=300):
    """vitc-run args as n ranks under mpirun (n = 1: one process, no launcher)."""
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    cmd = [tool("vitc-run"), *args]
    if n > 1:
        cmd = [MPIRUN, "-np", str(n), "--oversubscribe", *cmd]
    return subprocess.run(["timeout", "-k", "5", str(timeout), *cmd], capture_output=True,
                          text=True, env=env)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """name -> (source model, `vitc --shard ddp` artifact), compiled once."""
    cache = {}

    def get(name):
        if name not in cache:
            model = ROOT / "models" / f"{name}.onnx"
            out = tmp_path_factory.mktemp(name) / "ddp.vtc"
            check_ok(run_tool([tool("vitc"), str(model), "--shard", "ddp", "-o", str(out)]),
                     f"vitc --shard ddp {name}")
            cache[name] = (model, out)
        return cache[name]

    return get


def train(artifact, n, work, extra=()):
    """Trains on n ranks; returns (stdout, per-step losses, trained weights by name)."""
    work.mkdir(parents=True, exist_ok=True)
    p = launch(n, [str(artifact), *DATA, "--batch-size", str(GLOBAL_BATCH // n),
                   "--tensorboard", str(work / "tb"), "--metrics", str(work / "metrics.jsonl"),
                   "--export-onnx", str(work / "trained.onnx"), *extra])
    check_ok(p, f"vitc-run on {n} ranks")
    tb = event_accumulator.EventAccumulator(str(work / "tb"), size_guidance={"scalars": 0})
    tb.Reload()
    losses = np.array([e.value for e in tb.Scalars("train/loss")])
    weights = {t.name: numpy_helper.to_array(t)
               for t in onnx.load(str(work / "trained.onnx")).graph.initializer}
    return p.stdout, losses, weights


def comparable(name, w):
    """The weight without the part whose gradient is 0 in exact arithmetic:
    a constant added to every key leaves softmax unchanged, so the key
    projection's bias (the middle third of qkv.bias) gets only rounding
    noise, which AdamW scales up to steps of lr in a random direction."""
    if name.endswith("attn.qkv.bias"):
        third = w.shape[0] // 3
        return np.concatenate([w[:third], w[2 * third:]])
    return w


def epoch_line(stdout):
    line = next(l for l in stdout.splitlines() if "train loss" in l)
    return re.sub(r" \| time .*", "", line)  # timings differ


@pytest.mark.parametrize("name", ["mnist_cnn", "vit_tiny"])
def test_ranks_train_like_one_process(artifacts, tmp_path, name):
    _, artifact = artifacts(name)
    want_log, want, want_w = train(artifact, 1, tmp_path / "n1")
    assert len(want) == 51
    for n in (2, 4):
        log, got, got_w = train(artifact, n, tmp_path / f"n{n}")
        assert len(got) == len(want)
        np.testing.assert_allclose(got[0], want[0], rtol=0, atol=1e-5, err_msg=f"{n} ranks, step 1")
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=f"{n} ranks, losses")
        for k, w in want_w.items():
            np.testing.assert_allclose(comparable(k, got_w[k]), comparable(k, w), rtol=1e-4, atol=1e-4,
                                       err_msg=f"{n} ranks, weight {k}")
        # The epoch's averages (train and validation) and the test line agree too.
        assert epoch_line(log) == epoch_line(want_log), f"{n} ranks"
        test = lambda s: next(l for l in s.splitlines() if l.startswith("Test:"))
        assert test(log) == test(want_log), f"{n} ranks"
        assert f"Data parallel: {n} ranks (mpi), batch {GLOBAL_BATCH // n} per rank, " \
               f"global batch {GLOBAL_BATCH}" in log


def test_same_ranks_and_seed_reproduce_bit_for_bit(artifacts, tmp_path):
    _, artifact = artifacts("mnist_cnn")
    extra = ["--seed", "7", "--augment", "crop=2"]
    _, a, a_w = train(artifact, 2, tmp_path / "a", extra)
    _, b, b_w = train(artifact, 2, tmp_path / "b", extra)
    assert a.tobytes() == b.tobytes()
    for k in a_w:
        assert a_w[k].tobytes() == b_w[k].tobytes(), k


def test_each_rank_reports_its_model_state_and_rank_0_writes(artifacts, tmp_path):
    model, artifact = artifacts("mnist_cnn")
    p = launch(2, [str(artifact), "--limit-train", "300", "--limit-test", "50", "--threads", "1",
                   "--batch-size", "16", "--checkpoint-dir", str(tmp_path / "ckpt"),
                   "--plot", str(tmp_path / "plot.png")])
    check_ok(p, "vitc-run on 2 ranks")
    params = sum(numpy_helper.to_array(t).nbytes for t in onnx.load(str(model)).graph.initializer)
    mb = params / 2**20
    for r in (0, 1):
        m = re.search(rf"^rank {r}/2: model state ([0-9.]+) MB \(params ([0-9.]+), grads ([0-9.]+), "
                      r"optimizer ([0-9.]+)\), gathered buffers ([0-9.]+) MB$", p.stdout, re.M)
        assert m, p.stdout
        state, par, grads, opt, gathered = map(float, m.groups())
        # DDP replicates everything: AdamW keeps two moments per param.
        assert abs(par - mb) < 0.06 and abs(grads - mb) < 0.06 and abs(opt - 2 * mb) < 0.06
        assert abs(state - (par + grads + opt)) < 0.16 and gathered == 0  # each rounded to 0.1
    # One set of log lines (rank 0's), one checkpoint, one metrics file.
    assert p.stdout.count("train loss") == 1 and p.stdout.count("Test:") == 1
    assert sorted(f.name for f in (tmp_path / "ckpt").iterdir()) == ["checkpoint.vtck",
                                                                     "metrics.jsonl"]
    assert len((tmp_path / "ckpt" / "metrics.jsonl").read_text().splitlines()) == 2
    # Resuming on another number of ranks continues the run.
    p = launch(4, [str(artifact), "--limit-train", "300", "--limit-test", "50", "--threads", "1",
                   "--batch-size", "8", "--epochs", "2", "--resume", str(tmp_path / "ckpt")])
    check_ok(p, "resume on 4 ranks")
    assert "Epoch: 0002/0002 | train loss" in p.stdout


def test_unsharded_artifact_is_refused_on_several_ranks(tmp_path):
    plain = tmp_path / "plain.vtc"
    check_ok(run_tool([tool("vitc"), str(ROOT / "models" / "mnist_cnn.onnx"), "--mode", "train",
                       "-o", str(plain)]), "vitc")
    p = launch(2, [str(plain), "--limit-train", "256", "--checkpoint-dir", str(tmp_path / "ckpt")],
               timeout=120)
    assert p.returncode != 0
    for r in (0, 1):
        assert f"rank {r}/2: {plain} is not a data-parallel artifact (sharding 'none')" in p.stderr
    assert "--shard ddp" in p.stderr
    assert not (tmp_path / "ckpt" / "checkpoint.vtck").exists()
