"""Shared by the benchmarks: writing their --json results."""
import json
import pathlib


def write_json(path, results):
    """Writes `results` as indented JSON to `path`, or to stdout for "-"."""
    text = json.dumps(results, indent=1)
    if path == "-":
        print(text)
    else:
        pathlib.Path(path).write_text(text + "\n")
