"""What the exec checks that drive the vitc tools share: running a tool,
running an artifact on numpy inputs with vitc-run, and the PASS/FAIL lines
the lit tests FileCheck."""
import os
import subprocess

import numpy as np


def run(cmd):
    """Runs `cmd`; a failure raises RuntimeError with the end of its stderr."""
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr[-1500:]}")


def evaluate(runner, artifact, values, outdir):
    """Runs `artifact` with vitc-run (`runner`) on `values` (name -> array);
    returns a function reading an output by name."""
    os.makedirs(outdir, exist_ok=True)
    cmd = [runner, artifact, "--output-dir", outdir]
    for name, value in values.items():
        path = os.path.join(outdir, f"in_{name}.npy")
        np.save(path, value)
        cmd += ["--input", f"{name}={path}"]
    run(cmd)
    return lambda name: np.load(os.path.join(outdir, f"{name}.npy"))


class Tally:
    """"PASS name" / "FAIL name: why" per case, then "N passed, M failed"."""

    def __init__(self):
        self.passed = self.failed = 0

    def report(self, name, why):
        if why:
            self.failed += 1
            print(f"FAIL {name}: {why}")
        else:
            self.passed += 1
            print(f"PASS {name}")

    def finish(self):
        """Prints the counts; the exit status of the check."""
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0
