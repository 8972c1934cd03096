"""Assembles every kernel vitc generates for a model with `ptxas -v` and
reports the spills (issue #12: no generated kernel may spill registers to
local memory). Exits 1 when a kernel spills.

  python3 tools/gpu/ptxas_spills.py MODEL.onnx [vitc flags...] [--arch sm_90]
The model is compiled with `vitc --target cuda --emit=llvm`, whose gpu.binary
ops hold each kernel module's PTX."""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
ASSEMBLY = re.compile(r'assembly = "((?:[^"\\]|\\.)*)"')
PROPERTIES = re.compile(r"Function properties for (\S+)\n\s*(\d+) bytes stack frame, "
                        r"(\d+) bytes spill stores, (\d+) bytes spill loads")


def unescape(text):
    """MLIR string escapes: \\XX hex bytes, \\\\ and \\"."""
    out, i = bytearray(), 0
    raw = text.encode()
    while i < len(raw):
        if raw[i] == 0x5C and i + 1 < len(raw):
            nxt = raw[i + 1:i + 3]
            if re.fullmatch(rb"[0-9A-Fa-f]{2}", nxt):
                out.append(int(nxt, 16))
                i += 3
                continue
            out.append(raw[i + 1])
            i += 2
            continue
        out.append(raw[i])
        i += 1
    return out.decode()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--ptxas", default=os.environ.get("PTXAS", "/usr/local/cuda/bin/ptxas"))
    parser.add_argument("--vitc", default=str(ROOT / os.environ.get("VITC_BUILD", "build") / "bin/vitc"))
    args, flags = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        ir = pathlib.Path(tmp) / "model.mlir"
        proc = subprocess.run([args.vitc, args.model, "--target", "cuda", "--gpu-arch", args.arch,
                               "--emit=llvm", "-o", str(ir)] + flags,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"vitc failed: {proc.stderr.strip()}")
        modules = ASSEMBLY.findall(ir.read_text())
        kernels, spilling = 0, []
        for n, ptx in enumerate(modules):
            path = pathlib.Path(tmp) / f"m{n}.ptx"
            path.write_text(unescape(ptx).rstrip("\0"))
            proc = subprocess.run([args.ptxas, "-v", "--gpu-name", args.arch, str(path),
                                   "-o", os.devnull], capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit(f"ptxas failed on module {n}: {proc.stderr.strip()[-1000:]}")
            for name, stack, stores, loads in PROPERTIES.findall(proc.stderr):
                kernels += 1
                if int(stores) or int(loads):
                    spilling.append(f"{name}: {stores} bytes spill stores, {loads} bytes spill loads")
    print(f"{len(modules)} modules, {kernels} kernels, {len(spilling)} spilling")
    for line in spilling:
        print("  " + line)
    return 1 if spilling or not kernels else 0


if __name__ == "__main__":
    sys.exit(main())
