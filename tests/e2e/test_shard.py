"""`vitc --shard ddp|fsdp`: data-parallel training steps. In one process (a
world of one) they must train exactly like the unsharded step: the averages
over one rank are the values themselves, a gather of one shard is the whole.
The flag's errors name the flag."""
import re

import pytest

from conftest import ROOT, check_ok, run_tool, tool

MODEL = ROOT / "models" / "mnist_cnn.onnx"


def train_log(artifact, tmp_path, name):
    proc = run_tool([tool("vitc-run"), str(artifact), "--epochs", "1", "--limit-train", "1280",
                     "--limit-test", "256", "--batch-size", "64", "--log-every", "1",
                     "--metrics", str(tmp_path / f"{name}.jsonl")])
    check_ok(proc, f"vitc-run {name}")
    return proc.stdout


@pytest.mark.parametrize("shard", ["ddp", "fsdp"])
def test_sharded_step_in_one_process_trains_like_the_unsharded_step(tmp_path, shard):
    plain, ddp = tmp_path / "plain.vtc", tmp_path / f"{shard}.vtc"
    check_ok(run_tool([tool("vitc"), str(MODEL), "--mode", "train", "-o", str(plain)]), "vitc")
    check_ok(run_tool([tool("vitc"), str(MODEL), "--shard", shard, "-o", str(ddp)]),
             f"vitc --shard {shard}")
    info = lambda artifact: run_tool([tool("vitc-run"), str(artifact), "--info"]).stdout
    assert f"sharding {shard}" in info(ddp)
    assert "sharding" not in info(plain)
    want, got = train_log(plain, tmp_path, "plain"), train_log(ddp, tmp_path, "ddp")
    losses = lambda log: re.findall(r"Loss: ([0-9.]+)", log)
    assert len(losses(want)) == 18  # 1280 images less the 10% validation split, batch 64
    assert losses(got) == losses(want)
    accuracy = lambda log: re.findall(r"acc ([0-9.]+)%", log)
    assert accuracy(got) == accuracy(want)


def test_shard_flag_errors(tmp_path):
    out = tmp_path / "x.vtc"
    proc = run_tool([tool("vitc"), str(MODEL), "--shard", "ddp", "--mode", "inference", "-o", str(out)])
    assert proc.returncode != 0
    assert "--shard needs --mode train" in proc.stderr
    proc = run_tool([tool("vitc"), str(MODEL), "--shard", "tp", "-o", str(out)])
    assert proc.returncode != 0
    assert "--shard" in proc.stderr and "tp" in proc.stderr
    assert not out.exists()


def test_reduce_dtype_flag_errors(tmp_path):
    out = tmp_path / "x.vtc"
    proc = run_tool([tool("vitc"), str(MODEL), "--mode", "train", "--reduce-dtype", "bf16", "-o", str(out)])
    assert proc.returncode != 0
    assert "--reduce-dtype needs --shard ddp or fsdp" in proc.stderr
    proc = run_tool([tool("vitc"), str(MODEL), "--shard", "ddp", "--reduce-dtype", "f16", "-o", str(out)])
    assert proc.returncode != 0
    assert "--reduce-dtype=f16: expected 'f32' or 'bf16'" in proc.stderr
    assert not out.exists()
