"""Shared helpers for the end-to-end tests: where the tools are, and running
them. Tools come from $VITC_BUILD/bin (default build/bin, relative to the
repo root); a missing tool fails the test rather than skipping it, so a broken
build cannot pass as green."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def pytest_configure(config):
    config.addinivalue_line("markers", "large: big models (ResNet-18, ViT-B/16); deselect with -m 'not large'")


def build_dir():
    b = pathlib.Path(os.environ.get("VITC_BUILD", "build"))
    return b if b.is_absolute() else ROOT / b


def tool(name):
    path = build_dir() / "bin" / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built (build vitc, or set VITC_BUILD)")
    return str(path)


def run_tool(args, timeout=600):
    """Runs a tool; returns the CompletedProcess (text, stdout+stderr kept apart)."""
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def check_ok(proc, what):
    assert proc.returncode == 0, (f"{what} failed (exit {proc.returncode}):\n"
                                  f"{proc.stderr.strip()[-2000:]}\n{proc.stdout.strip()[-500:]}")


def import_vitc():
    """The Python binding (runtime/python/vitc) over this build's
    libvitc_runtime.so; a missing library fails the test."""
    import sys
    lib = build_dir() / "lib" / "libvitc_runtime.so"
    if not lib.exists():
        pytest.fail(f"{lib} is not built (build vitc_runtime, or set VITC_BUILD)")
    os.environ["VITC_RUNTIME_LIBRARY"] = str(lib)
    if str(ROOT / "runtime/python") not in sys.path:
        sys.path.insert(0, str(ROOT / "runtime/python"))
    import vitc
    return vitc
