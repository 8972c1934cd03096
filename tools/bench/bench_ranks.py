#!/usr/bin/env python3
"""Training across CPU ranks (issue #11): `mpirun -np N vitc-run` with DDP and FSDP
artifacts against the same model in one process. A benchmark, not a test: it
fails only on a tool that does not work.

  tools/bench/bench_ranks.py [--models mnist_cnn,vit_tiny] [--ranks 1,2]
                             [--shards ddp,fsdp] [--limit 6000] [--batch-size 64]
                             [--json results.json] [--work-dir DIR]

For each model and strategy: `vitc MODEL.onnx --shard S` once, then one epoch of
Fashion-MNIST (the first --limit images, no validation split) at each rank count
with the same global batch (--batch-size / N per rank) and --threads 1 per rank,
so N ranks use N cores. Reported per run: img/s (vitc-run's epoch metric, the
global batch over the epoch's training time, on rank 0), each rank's model
state and peak RSS (the rank lines and the epoch metric), the bytes a rank sends
per step (ring cost, counted by the runtime) and the share of step time rank 0
spent waiting for collectives (what the overlap did not hide). Ranks are
processes on this machine: communication is shared memory through Open MPI,
not a network; the numbers say what the runtime costs, not what a cluster does.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(pathlib.Path(__file__).parent))
from benchjson import write_json  # noqa: E402

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="mnist_cnn,vit_tiny")
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--shards", default="ddp,fsdp")
    ap.add_argument("--limit", type=int, default=6000, help="training images (default 6000)")
    ap.add_argument("--batch-size", type=int, default=64, help="global batch (default 64)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps")
    ap.add_argument("--build", default=os.environ.get("VITC_BUILD", str(ROOT / "build")))
    ap.add_argument("--json", help="write the results here ('-': stdout)")
    ap.add_argument("--work-dir", help="keep the artifacts here (default: a temporary directory)")
    return ap.parse_args()


def model_path(name):
    path = ROOT / "models" / f"{name}.onnx"
    return path if path.exists() else ROOT / "models" / "generated" / f"{name}.onnx"


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(map(str, cmd))}\n{p.stderr[-3000:]}")
    return p.stdout


def train(build, artifact, n, args, metrics):
    cmd = [f"{build}/bin/vitc-run", str(artifact), "--limit-train", str(args.limit), "--val-split",
           "0", "--limit-test", "500", "--epochs", "1", "--batch-size", str(args.batch_size // n),
           "--threads", "1", "--log-every", "1000000", "--metrics", str(metrics)]
    if args.max_steps:
        cmd += ["--max-steps", str(args.max_steps)]
    if n > 1:
        cmd = ["mpirun", "-np", str(n), "--oversubscribe", "--bind-to", "core", *cmd]
    out = run(["timeout", "3000", *cmd])
    epoch = json.loads(pathlib.Path(metrics).read_text().splitlines()[0])
    result = {"ranks": n, "img_per_s": round(epoch["img_per_s"], 1),
              "peak_rss_mb_rank0": round(epoch["peak_rss_mb"], 1)}
    states = re.findall(r"^rank (\d+)/\d+: model state ([0-9.]+) MB .*gathered buffers ([0-9.]+) MB$",
                        out, re.M)
    if states:
        result["model_state_mb"] = [float(s) for _, s, _ in states]
        result["gathered_mb"] = float(states[0][2])
    m = re.search(r"^Collectives: ([0-9.]+) MB \((\d+) bytes\).*waited ([0-9.]+) s of ([0-9.]+) s",
                  out, re.M)
    if m:
        result["sent_mb_per_step"] = float(m.group(1))
        result["wait_share"] = round(float(m.group(3)) / max(float(m.group(4)), 1e-9), 3)
    return result


def main():
    args = parse_args()
    work = pathlib.Path(args.work_dir or tempfile.mkdtemp(prefix="vitc-bench-ranks-"))
    work.mkdir(parents=True, exist_ok=True)
    results = {"machine": {"cpus": os.cpu_count()}, "runs": []}
    for name in args.models.split(","):
        for shard in args.shards.split(","):
            artifact = work / f"{name}-{shard}.vtc"
            if not artifact.exists():
                run([f"{args.build}/bin/vitc", str(model_path(name)), "--shard", shard, "-o",
                     str(artifact)])
            for n in map(int, args.ranks.split(",")):
                r = train(args.build, artifact, n, args, work / f"{name}-{shard}-{n}.jsonl")
                r.update(model=name, shard=shard)
                results["runs"].append(r)
                print(json.dumps(r), flush=True)
    if args.json:
        write_json(args.json, results)
    if not args.work_dir:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
