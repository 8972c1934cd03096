"""Finding the processes of an mpirun job, for the fault tests (lit's
tests/lit/runtime/collectives/Inputs/fault.py and tests/e2e/test_rank_faults.py):
the ranks whose command line holds a tag unique to the job."""
import os


def job_processes(tag, program):
    """Pids, sorted, of the processes running `program` (a path ending in
    it) whose command line holds `tag`; never this process."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if args[0].endswith(program.encode()) and tag.encode() in b" ".join(args):
            pids.append(int(entry))
    return sorted(pids)
