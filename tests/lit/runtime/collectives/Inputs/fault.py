"""Runs vitc-collectives-test under mpirun with a fault and times the job.

  fault.py --np N --fault kill|stop|exit|mismatch [--fault-rank R]
           [--timeout S] [--check] --limit S [--exit-code C] [--expect TEXT]...

Passes when mpirun exits non-zero (with --exit-code, that code) within
--limit seconds, its output holds every --expect text, and no process of the
job is left. Prints the job's output, then one summary line for FileCheck.
A hung job is killed (its whole process group) at --limit + 30 s and fails.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "support"))
import job_processes as support  # noqa: E402


def job_processes(tag):
    """Pids of this job's ranks (their command line holds tag)."""
    return support.job_processes(tag, "vitc-collectives-test")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--np", type=int, required=True)
    parser.add_argument("--fault", required=True)
    parser.add_argument("--fault-rank", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--limit", type=float, required=True)
    parser.add_argument("--exit-code", type=int)
    parser.add_argument("--expect", action="append", default=[])
    args = parser.parse_args()

    binary = shutil.which("vitc-collectives-test")
    if not binary:
        sys.exit("fault.py: vitc-collectives-test is not on PATH")
    tag = "vitc-fault-" + uuid.uuid4().hex
    cmd = ["mpirun", "-np", str(args.np), "--oversubscribe", binary,
           "--fault", args.fault, "--fault-rank", str(args.fault_rank),
           "--timeout", str(args.timeout), "--tag", tag]
    if args.check:
        cmd.append("--check")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    hung = False
    try:
        output, _ = proc.communicate(timeout=args.limit + 30)
    except subprocess.TimeoutExpired:
        hung = True
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
    elapsed = time.monotonic() - start
    text = output.decode(errors="replace")
    print(text)

    # The ranks must be gone with mpirun (allow a moment for the reaping).
    left = job_processes(tag)
    deadline = time.monotonic() + 2
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = job_processes(tag)
    for pid in left:
        os.kill(pid, signal.SIGKILL)

    problems = []
    if hung:
        problems.append(f"hung: killed after {elapsed:.1f} s")
    if proc.returncode == 0:
        problems.append("mpirun exited 0")
    if args.exit_code is not None and proc.returncode != args.exit_code:
        problems.append(f"exit {proc.returncode}, expected {args.exit_code}")
    if elapsed > args.limit:
        problems.append(f"took {elapsed:.1f} s, limit {args.limit:g} s")
    for expected in args.expect:
        if expected not in text:
            problems.append(f"output lacks {expected!r}")
    if left:
        problems.append(f"processes left after mpirun: {left}")
    name = f"fault {args.fault} rank {args.fault_rank} np {args.np}"
    if problems:
        print(f"FAULT TEST FAILED: {name}: " + "; ".join(problems))
        return 1
    print(f"FAULT TEST PASSED: {name}: exit {proc.returncode} after "
          f"{elapsed:.1f} s (limit {args.limit:g} s), no process left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
