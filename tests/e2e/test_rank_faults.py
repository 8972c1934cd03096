"""Faults in a sharded training job never hang it: `mpirun -np 2 vitc-run DDP.vtc`
with one rank killed, stopped, or running another model ends every process
with a non-zero exit, in bounded time, with a message that names what went wrong;
the checkpoint of the last finished epoch stays loadable."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, check_ok, run_tool, tool

sys.path.insert(0, str(ROOT / "tests" / "support"))
from job_processes import job_processes  # noqa: E402

MPIRUN = shutil.which("mpirun")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="no mpirun: multi-rank tests need Open MPI")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def compile_ddp(model, out, shard="ddp"):
    check_ok(run_tool([tool("vitc"), str(ROOT / "models" / model), "--shard", shard, "-o", str(out)]),
             f"vitc --shard {shard} {model}")
    return out


def ranks_of(tag):
    """Pids of this job's vitc-run processes (their command line holds tag)."""
    return job_processes(tag, "vitc-run")


def start_job(cmd):
    return subprocess.Popen(["timeout", "-k", "5", "120", *cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=ENV, start_new_session=True)


def wait_for_training(job, tag, ckpt=None):
    """Waits until both ranks run (and, given ckpt, the first checkpoint exists)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and job.poll() is None:
        if len(ranks_of(tag)) == 2 and (ckpt is None or (ckpt / "checkpoint.vtck").exists()):
            time.sleep(0.5)  # inside the step loop
            return ranks_of(tag)
        time.sleep(0.1)
    job.kill()
    pytest.fail(f"the job did not start training: {job.communicate()[0][-2000:]}")


def finish(job, tag, limit):
    """The job's exit status and output; fails if it outlives `limit` seconds or leaves ranks."""
    start = time.monotonic()
    try:
        out, _ = job.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        out, _ = job.communicate()
        pytest.fail(f"the job hung for {limit} s after the fault:\n{out[-2000:]}")
    elapsed = time.monotonic() - start
    deadline = time.monotonic() + 2
    while ranks_of(tag) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = ranks_of(tag)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"ranks left after mpirun: {left}"
    assert job.returncode != 0, out[-2000:]
    return job.returncode, out, elapsed


def train_cmd(artifact, work, *extra):
    # A long run (20 epochs of 6000 images) that the fault interrupts.
    return [MPIRUN, "-np", "2", "--oversubscribe", tool("vitc-run"), str(artifact),
            "--limit-train", "6000", "--limit-test", "100", "--epochs", "20", "--batch-size", "16",
            "--threads", "1", "--checkpoint-dir", str(work / "ckpt"), *extra]


@pytest.mark.parametrize("victim", [0, 1])
def test_a_killed_rank_ends_the_job(tmp_path, victim):
    artifact = compile_ddp("mnist_cnn.onnx", tmp_path / "ddp.vtc")
    tag = str(tmp_path)
    job = start_job(train_cmd(artifact, tmp_path))
    pids = wait_for_training(job, tag)
    os.kill(pids[victim], signal.SIGKILL)
    code, out, elapsed = finish(job, tag, limit=10)
    assert elapsed < 10


def test_a_stopped_rank_ends_the_job_at_the_collective_timeout(tmp_path):
    artifact = compile_ddp("mnist_cnn.onnx", tmp_path / "ddp.vtc")
    tag = str(tmp_path)
    job = start_job(train_cmd(artifact, tmp_path, "--collective-timeout", "5"))
    pids = wait_for_training(job, tag)
    os.kill(pids[1], signal.SIGSTOP)
    code, out, elapsed = finish(job, tag, limit=5 + 5)
    # The waiting rank's watchdog names itself and the collective, and exits 75.
    assert "vitc collectives watchdog: rank 0/2: collective #" in out, out[-2000:]
    assert "has not completed after" in out and "(timeout 5 s)" in out
    # ... and the peer it waits for.
    assert "waiting for rank 1, which does not answer (stopped, or stuck outside MPI)" in out
    assert code == 75


def test_ranks_running_different_models_report_the_mismatch(tmp_path):
    """A rank started on another artifact issues other collectives: with
    --check-collectives the ranks report the first one that differs instead
    of reducing unrelated buffers (or hanging)."""
    cnn = compile_ddp("mnist_cnn.onnx", tmp_path / "cnn.vtc")
    vit = compile_ddp("vit_tiny.onnx", tmp_path / "vit.vtc")
    flags = ["--limit-train", "200", "--limit-test", "50", "--batch-size", "8", "--threads", "1",
             "--check-collectives", "--collective-timeout", "60"]
    tag = str(tmp_path)
    job = start_job([MPIRUN, "--oversubscribe", "-np", "1", tool("vitc-run"), str(cnn), *flags,
                     ":", "-np", "1", tool("vitc-run"), str(vit), *flags])
    code, out, elapsed = finish(job, tag, limit=30)
    # The first collectives agree (the loss and hit count of the step); the
    # gradients' bucket differs (the CNN's 1.2 M values, the ViT's 0.2 M):
    # both ranks name it, with every rank's version.
    for r in (0, 1):
        m = re.search(rf"rank {r}/2: collective #(\d+) all_reduce\(mean, f32, \d+ elements.*: collective "
                      r"mismatch \(check-collectives\): rank 0 issued #\1 all_reduce\(mean, f32, (\d+) "
                      r"elements, \d+ bytes\); rank 1 issued #\1 all_reduce\(mean, f32, (\d+) elements", out)
        assert m and m.group(2) != m.group(3), out[-2000:]


@pytest.mark.parametrize("shard", ["ddp", "fsdp"])
def test_a_job_killed_while_training_leaves_the_last_checkpoint_resumable(tmp_path, shard):
    """Under FSDP every rank writes a shard file and rank 0 the index last:
    killing rank 0 at any point leaves an index whose shard files exist."""
    artifact = compile_ddp("mnist_cnn.onnx", tmp_path / f"{shard}.vtc", shard)
    tag = str(tmp_path)
    job = start_job(train_cmd(artifact, tmp_path, "--checkpoint-every", "20"))
    pids = wait_for_training(job, tag, tmp_path / "ckpt")
    time.sleep(0.3)
    os.kill(pids[0], signal.SIGKILL)  # rank 0 writes the checkpoints
    finish(job, tag, limit=10)
    p = subprocess.run(["timeout", "120", MPIRUN, "-np", "2", "--oversubscribe", tool("vitc-run"),
                        str(artifact), "--limit-train", "6000", "--limit-test", "100",
                        "--epochs", "20", "--batch-size", "16", "--threads", "1", "--max-steps", "1",
                        "--resume", str(tmp_path / "ckpt")], capture_output=True, text=True, env=ENV)
    check_ok(p, "resuming on 2 ranks")
