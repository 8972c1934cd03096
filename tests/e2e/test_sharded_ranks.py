"""`mpirun -np N vitc-run TRAIN.vtc` with `vitc --shard ddp` and `--shard fsdp` artifacts:
data-parallel training on N CPU ranks (Open MPI, --oversubscribe) against one process as
the reference. With the same global
batch (--batch-size is per rank) and --threads 1, every step's loss and the
trained weights match the one-process run (1e-5 after the first step, 1e-4
after 50), including last batches that do not split evenly, and with
dropout (the train-mode export: masks keyed by the global sample index); the
same N and seed reproduce bit for bit. Rank 0 alone writes the run's files; each rank
prints its model state. Every run has a timeout: a hang fails.

Optimizers: AdamW at lr 3e-4, losses compared; SGD with momentum 0.9 at
lr 0.002, losses and weights compared. At AdamW's default 1e-3 (or SGD at
0.05, or 0.01 with momentum 0.9)
this small model's training is chaotic: the last-bit differences of summing
a batch's gradient in another grouping (two half batches, then the ranks)
grow to 1e-3 by step 30, as they do in one process with another batch split.
And AdamW divides each gradient by its running RMS, which turns the rounding
noise of a gradient that is 0 in exact arithmetic (the attention's key bias,
a dead channel) into steps of lr in a random direction: such weights differ
between any two summation orders, so AdamW runs are compared by their
losses."""
import os
import re
import shutil
import subprocess
import sys

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
DATA = ["--limit-train", "1350", "--limit-test", "200", "--threads", "1", "--log-every", "10"]
OPTIMIZERS = {"adamw": ["--lr", "3e-4"], "sgd": ["--optimizer", "sgd", "--momentum", "0.9",
                                                "--lr", "0.002"]}


def launch(n, args, timeout=300):
    """vitc-run args as n ranks under mpirun (n = 1: one process, no launcher)."""
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    cmd = [tool("vitc-run"), *args]
    if n > 1:
        cmd = [MPIRUN, "-np", str(n), "--oversubscribe", *cmd]
    return subprocess.run(["timeout", "-k", "5", str(timeout), *cmd], capture_output=True,
                          text=True, env=env)


def source_model(name):
    """models/NAME.onnx; a train-mode export (NAME_train) is exported into
    models/generated/ on first use."""
    if not name.endswith("_train"):
        return ROOT / "models" / f"{name}.onnx"
    path = ROOT / "models" / "generated" / f"{name}.onnx"
    if not path.exists():
        p = subprocess.run([sys.executable, str(ROOT / "models" / "export_models.py"), "--out",
                            str(path.parent), "--which", name[: -len("_train")], "--exporter",
                            "torchscript", "--training"], capture_output=True, text=True)
        if p.returncode != 0 or not path.exists():
            pytest.fail(f"exporting {name} failed: {p.stderr.strip()[-1000:]}")
    return path


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """(name, optimizer, sharding) -> (source model, artifact), compiled once."""
    cache = {}

    def get(name, optimizer="adamw", shard="ddp"):
        key = (name, optimizer, shard)
        if key not in cache:
            model = source_model(name)
            out = tmp_path_factory.mktemp(name) / f"{shard}-{optimizer}.vtc"
            check_ok(run_tool([tool("vitc"), str(model), "--shard", shard, *OPTIMIZERS[optimizer],
                               "-o", str(out)]), f"vitc --shard {shard} {name} {optimizer}")
            cache[key] = (model, out)
        return cache[key]

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


def epoch_line(stdout):
    line = next(l for l in stdout.splitlines() if "train loss" in l)
    return re.sub(r" \| time .*", "", line)  # timings differ


CASES = [(shard, name, optimizer) for shard in ("ddp", "fsdp")
         for name in ("mnist_cnn", "mnist_cnn_train", "vit_tiny") for optimizer in ("adamw", "sgd")
         if shard == "ddp" or (name, optimizer) != ("mnist_cnn", "adamw")]


@pytest.mark.parametrize("shard,name,optimizer", CASES)
def test_ranks_train_like_one_process(artifacts, tmp_path, shard, name, optimizer):
    _, artifact = artifacts(name, optimizer, shard)
    want_log, want, want_w = train(artifact, 1, tmp_path / "n1")
    assert len(want) == 51
    for n in (2, 4):
        log, got, got_w = train(artifact, n, tmp_path / f"n{n}")
        assert len(got) == len(want)
        np.testing.assert_allclose(got[0], want[0], rtol=0, atol=1e-5, err_msg=f"{n} ranks, step 1")
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=f"{n} ranks, losses")
        for k, w in want_w.items():
            if optimizer == "sgd":
                np.testing.assert_allclose(got_w[k], w, rtol=1e-4, atol=1e-4,
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


def rank_state(stdout, r, n):
    """(state, params, grads, optimizer, gathered) in MB from rank r's line."""
    m = re.search(rf"^rank {r}/{n}: model state ([0-9.]+) MB \(params ([0-9.]+), grads ([0-9.]+), "
                  r"optimizer ([0-9.]+)\), gathered buffers ([0-9.]+) MB$", stdout, re.M)
    assert m, stdout
    return tuple(map(float, m.groups()))


@pytest.mark.parametrize("n", [2, 4])
def test_fsdp_rank_holds_its_share_of_the_model_state(artifacts, tmp_path, n):
    """Per-rank model state under FSDP <= 16 P / N (AdamW: params, grads, two
    moments in f32) + two units + 5%, a unit being the largest layer."""
    model, artifact = artifacts("mnist_cnn", "adamw", "fsdp")
    p = launch(n, [str(artifact), "--limit-train", "200", "--limit-test", "50", "--threads", "1",
                   "--batch-size", "8", "--max-steps", "2"])
    check_ok(p, f"FSDP on {n} ranks")
    weights = {t.name: numpy_helper.to_array(t).nbytes
               for t in onnx.load(str(model)).graph.initializer}
    total = sum(weights.values()) / 2**20
    layers = {}
    for name, nbytes in weights.items():
        layers[name.rsplit(".", 1)[0]] = layers.get(name.rsplit(".", 1)[0], 0) + nbytes
    unit = max(layers.values()) / 2**20
    for r in range(n):
        state, params, grads, opt, gathered = rank_state(p.stdout, r, n)
        print(f"rank {r}/{n}: model state {state} MB, bound {16 * total / n + 2 * unit:.1f} MB")
        assert state <= (4 * total / n * 4 + 2 * unit) * 1.05
        assert abs(params - total / n) < 0.1 and abs(opt - 2 * total / n) < 0.15
        assert abs(gathered - unit) < 0.1


def test_checkpoints_reshard_across_ranks_and_strategies(artifacts, tmp_path):
    """An FSDP run saved at 4 ranks resumes at 2 ranks, in one process and as
    DDP, and its second epoch continues as the uninterrupted run's does."""
    _, fsdp = artifacts("mnist_cnn", "sgd", "fsdp")
    _, ddp = artifacts("mnist_cnn", "sgd", "ddp")
    base = ["--limit-train", "480", "--limit-test", "64", "--threads", "1", "--epochs", "2",
            "--lr", "0.002"]

    def losses(work):
        tb = event_accumulator.EventAccumulator(str(work), size_guidance={"scalars": 0})
        tb.Reload()
        return {e.step: e.value for e in tb.Scalars("train/loss")}

    whole = launch(4, [str(fsdp), *base, "--batch-size", "6", "--tensorboard", str(tmp_path / "tb")])
    check_ok(whole, "uninterrupted FSDP run at 4 ranks")
    want = losses(tmp_path / "tb")
    first = launch(4, [str(fsdp), *base, "--batch-size", "6", "--max-steps", "18",
                       "--checkpoint-dir", str(tmp_path / "ckpt")])
    check_ok(first, "FSDP at 4 ranks, stopped after epoch 1")
    # Each rank wrote its shard file, rank 0 the index (only the older
    # checkpoints' shard files are gone).
    assert sorted(f.name for f in (tmp_path / "ckpt").iterdir()) == [
        "checkpoint.step18.rank0of4.vtck", "checkpoint.step18.rank1of4.vtck",
        "checkpoint.step18.rank2of4.vtck", "checkpoint.step18.rank3of4.vtck",
        "checkpoint.vtck", "metrics.jsonl"]
    for n, artifact, what in ((2, fsdp, "fsdp2"), (1, fsdp, "fsdp1"), (2, ddp, "ddp2")):
        work = tmp_path / what
        shutil.copytree(tmp_path / "ckpt", work / "ckpt")
        p = launch(n, [str(artifact), *base, "--batch-size", str(24 // n), "--resume",
                       str(work / "ckpt"), "--tensorboard", str(work / "tb")])
        check_ok(p, f"resume as {what}")
        got = losses(work / "tb")
        assert sorted(got) == list(range(19, 37)), what
        np.testing.assert_allclose([got[s] for s in got], [want[s] for s in got], rtol=1e-4,
                                   atol=1e-4, err_msg=what)


def step_bytes(stdout):
    m = re.search(r"^Collectives: [0-9.]+ MB \(([0-9]+) bytes\) sent per rank in the last step", stdout,
                  re.M)
    assert m, stdout
    return int(m.group(1))


@pytest.mark.parametrize("n", [2, 4])
def test_communication_per_step(artifacts, tmp_path, n):
    """What a step sends, counted by the runtime (ring cost): DDP all-reduces
    the gradients once, 2 P (N-1)/N bytes (plus the loss and hit count);
    FSDP gathers the params for the forward pass and again for the backward
    pass (the biases, which the backward pass does not read, once), and
    reduce-scatters the gradients: 3 P (N-1)/N, P counted with each param
    padded to N equal blocks."""
    model, ddp = artifacts("mnist_cnn", "sgd", "ddp")
    _, fsdp = artifacts("mnist_cnn", "sgd", "fsdp")
    sizes = [numpy_helper.to_array(t).size for t in onnx.load(str(model)).graph.initializer]
    params = 4 * sum(sizes)
    padded = 4 * sum(-(-s // n) * n for s in sizes)
    run = lambda artifact: launch(n, [str(artifact), "--limit-train", "200", "--limit-test", "50",
                                      "--threads", "1", "--batch-size", "8", "--max-steps", "2"])
    p = run(ddp)
    check_ok(p, "DDP")
    scalars = 2 * (n - 1) * (4 + 8) // n  # loss (f32) and hits (i64)
    assert step_bytes(p.stdout) == 2 * (n - 1) * params // n + scalars
    p = run(fsdp)
    check_ok(p, "FSDP")
    got = step_bytes(p.stdout)
    ring = (n - 1) * padded // n
    print(f"FSDP at {n} ranks: {got} bytes per step, {got / ring:.2f} x P (N-1)/N")
    assert 2.99 * ring < got <= 3 * ring + 64  # + the loss, hits and norm


@pytest.mark.parametrize("reduce_dtype", ["f32", "bf16"])
def test_bf16_fsdp_trains_like_one_process(tmp_path, reduce_dtype):
    """--precision bf16 under FSDP: the matmul weights are gathered in bf16
    from f32 master shards, gradients reduced in f32 (or bf16 with
    --reduce-dtype bf16, half the traffic); the losses follow the
    one-process run within bf16's precision."""
    artifact = tmp_path / "bf16.vtc"
    check_ok(run_tool([tool("vitc"), str(ROOT / "models" / "vit_tiny.onnx"), "--shard", "fsdp",
                       "--precision", "bf16", "--reduce-dtype", reduce_dtype, "--lr", "3e-4",
                       "-o", str(artifact)]), "vitc --shard fsdp --precision bf16")
    _, want, _ = train(artifact, 1, tmp_path / "n1")
    log, got, _ = train(artifact, 2, tmp_path / "n2")
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-2 if reduce_dtype == "f32" else 5e-2)
    bf16_traffic = step_bytes(log)
    f32 = tmp_path / "f32.vtc"
    check_ok(run_tool([tool("vitc"), str(ROOT / "models" / "vit_tiny.onnx"), "--shard", "fsdp",
                       "--lr", "3e-4", "-o", str(f32)]), "vitc --shard fsdp")
    f32_traffic = step_bytes(train(f32, 2, tmp_path / "f32")[0])
    # The matmul weights (most of the params) move in bf16.
    assert bf16_traffic < (0.75 if reduce_dtype == "f32" else 0.6) * f32_traffic
