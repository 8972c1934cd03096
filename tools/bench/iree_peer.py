#!/usr/bin/env python3
"""IREE as a peer of bench_cpu.py: import an ONNX model, compile it for the
host CPU (llvm-cpu), and time it on the local-task driver with T threads.

IREE is a benchmark-only dependency, kept out of requirements-dev.txt (its
compiler wheel is ~400 MB): pip install -r tools/bench/requirements-bench.txt

Compiling: the ONNX file gets a static batch dim (a copy with the batch fixed
by onnx.tools.update_model_dims), iree-import-onnx turns it into MLIR (torch
dialect, weights inline), and iree-compile builds one .vmfb per (model, batch)
with IREE_COMPILE_FLAGS plus any extra flags. IREE compiles the dynamic-batch
model too, but ran ResNet-18 at batch 8 ~5% slower so: static is its best
case. Where the copy does not compile as it is (ViT-B/16's TorchScript export:
ONNX shape inference loses the rank behind a Reshape of computed shape), its
shape computations are constant-folded by onnxscript's optimizer and it is
compiled again; the notes say so. The .vmfb is cached in the work dir under a key of the model file,
IREE's version, the flags and the host CPU, so a rerun does not pay ViT-B/16's
compile again.

Timing: each (model, batch, threads) runs in a child process of its own,
`iree_peer.py run VMFB --threads T ...`, because the local-task driver reads
its task-topology flags once, when the process first creates it; the child
sets --task_topology_group_count=T (exactly T worker threads, the count vitc
and onnxruntime get) before it creates the device (`ps -L` shows T busy iree-worker threads and
an idle caller). Its timer covers the call
and the copy of the output to the host; the input is uploaded once, before.
"""
import argparse
import hashlib
import json
import pathlib
import platform
import subprocess
import sys
import time

import numpy as np

IREE_COMPILE_FLAGS = ["--iree-hal-target-device=local",
                      "--iree-hal-local-target-device-backends=llvm-cpu",
                      "--iree-llvmcpu-target-cpu=host",
                      # Neither is on by default for llvm-cpu in IREE 3.13, and
                      # each is worth a multiple (batch 1, 1 thread): data
                      # tiling (packed matmuls) takes ViT-B/16 from 2.5 s to
                      # ~0.5 s, im2col (convolutions as matmuls) ResNet-18 from
                      # 144 to ~70 ms. Ukernels (--iree-llvmcpu-enable-ukernels
                      # =all), O3 and data-tiled convolutions did not help.
                      "--iree-opt-data-tiling",
                      "--iree-global-opt-use-im2col-for-convs"]
INSTALL_HINT = "pip install -r tools/bench/requirements-bench.txt"


def available():
    """None when IREE's compiler and runtime import, else why not."""
    try:
        import iree.compiler  # noqa: F401
        import iree.runtime  # noqa: F401
    except ImportError as e:
        return f"{e} ({INSTALL_HINT})"
    return None


def version():
    from iree.compiler import version as cv
    from iree.runtime import version as rv
    return f"compiler {cv.VERSION}, runtime {rv.VERSION}"


def _host_cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith(("model name", "flags")):
                yield line
    except OSError:
        yield platform.processor()


def _first_line(text, fallback):
    lines = [l for l in (text or "").strip().splitlines() if l.strip()]
    err = [l for l in lines if "error" in l.lower()]
    return (err or lines or [fallback])[0].strip()[:300]


def compile_model(onnx_path, batch, work_dir, extra_flags=()):
    """Returns (vmfb path, compile seconds or None when cached, notes)."""
    flags = [*IREE_COMPILE_FLAGS, *extra_flags]
    import onnx
    from iree.compiler.tools.binaries import find_tool

    onnx_path = pathlib.Path(onnx_path)
    st = onnx_path.stat()
    key = hashlib.sha256("\0".join([str(onnx_path.resolve()), str(st.st_size), str(st.st_mtime_ns),
                                    version(), *flags, *_host_cpu()]).encode()).hexdigest()[:12]
    work_dir = pathlib.Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{onnx_path.stem}_b{batch}"
    vmfb = work_dir / f"{stem}_{key}.vmfb"
    notes_file = vmfb.with_suffix(".notes")
    if vmfb.exists():
        return vmfb, None, notes_file.read_text().splitlines() if notes_file.exists() else []

    t0 = time.perf_counter()
    notes = []
    model = onnx.load(str(onnx_path))
    # A static batch: fix the input's and outputs' dim 0, drop the stale
    # intermediate shapes, and let the importer's shape inference redo them.
    ins = {i.name: [batch, *[d.dim_value or d.dim_param for d in i.type.tensor_type.shape.dim][1:]]
           for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}}
    outs = {o.name: [batch, *[d.dim_value or d.dim_param for d in o.type.tensor_type.shape.dim][1:]]
            for o in model.graph.output}
    from onnx.tools import update_model_dims
    model = update_model_dims.update_inputs_outputs_dims(model, ins, outs)
    del model.graph.value_info[:]
    static = work_dir / f"{stem}.onnx"
    mlir = work_dir / f"{stem}.mlir"
    tmp_vmfb = pathlib.Path(str(vmfb) + ".tmp")

    def run(cmd, what):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            line = _first_line(p.stderr or p.stdout, f"exit {p.returncode}")
            raise RuntimeError(line if line.startswith(what) else f"{what}: {line}")

    def build(model):
        onnx.save(model, str(static))
        importer = [sys.executable, "-m", "iree.compiler.tools.import_onnx", str(static), "-o", str(mlir)]
        try:
            run(importer, "iree-import-onnx")
        except RuntimeError as first:
            # Older opsets sometimes import better upgraded (the importer
            # runs onnx.version_converter itself with --opset-version).
            try:
                run(importer + ["--opset-version", "21"], "iree-import-onnx --opset-version 21")
            except RuntimeError:
                raise first from None
            notes.append("imported after upgrading to opset 21 (onnx.version_converter)")
        run([find_tool("iree-compile"), str(mlir), *flags, "-o", str(tmp_vmfb)], "iree-compile")
        tmp_vmfb.rename(vmfb)

    try:
        try:
            build(model)
        except RuntimeError as first:
            # ONNX's shape inference loses the rank behind a Reshape whose
            # shape is computed (Shape/Slice/Mod/Concat, as in the
            # TorchScript export of nn.MultiheadAttention in ViT-B/16), and
            # IREE then fails on an op of unknown rank. With the batch static
            # those computations are constants: fold them (onnxscript's
            # optimizer, standard ONNX ops out) and try again.
            import onnxscript.optimizer
            try:
                build(onnxscript.optimizer.optimize(model))
            except RuntimeError as second:
                raise RuntimeError(f"{first} (after onnxscript.optimizer: {second})") from None
            notes.append("shape computations constant-folded by onnxscript.optimizer first "
                         f"(as imported: {str(first)[:160]})")
    finally:
        for f in (static, mlir, tmp_vmfb):
            f.unlink(missing_ok=True)
    notes_file.write_text("".join(n + "\n" for n in notes))
    return vmfb, time.perf_counter() - t0, notes


def bench(vmfb, x, threads, iters, warmup, tmp):
    """Median ms of the module's entry on x with T threads (in a child
    process), and the output of its last call."""
    tmp = pathlib.Path(tmp)
    x_path, y_path = tmp / "iree_x.npy", tmp / "iree_y.npy"
    np.save(x_path, x)
    p = subprocess.run([sys.executable, __file__, "run", str(vmfb), "--input", str(x_path),
                        "--output", str(y_path), "--threads", str(threads), "--iters", str(iters),
                        "--warmup", str(warmup)], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("iree run: " + _first_line(p.stderr or p.stdout, f"exit {p.returncode}"))
    stats = json.loads([l for l in p.stdout.splitlines() if l.startswith("{")][-1])
    return stats["p50_ms"], np.load(y_path), stats


def _run_main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("vmfb")
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args(argv)

    import iree.runtime as rt
    # Read by the local-task driver when it is created, below: exactly T
    # workers (the caller thread only waits).
    rt.flags.parse_flags(f"--task_topology_group_count={args.threads}")
    config = rt.Config(device=rt.get_driver("local-task").create_default_device())
    ctx = rt.SystemContext(config=config)
    ctx.add_vm_module(rt.VmModule.mmap(config.vm_instance, args.vmfb))
    module = ctx.modules[[n for n in ctx.modules if n != "hal"][-1]]
    # The synchronous entry (not "main_graph$async", nor "__init").
    fn_name = [f for f in module.vm_module.function_names if not f.startswith("__") and "$" not in f][0]
    fn = module[fn_name]
    x = rt.asdevicearray(config.device, np.load(args.input))
    for _ in range(args.warmup):
        fn(x).to_host()
    times = []
    for _ in range(args.iters):
        t = time.perf_counter()
        y = fn(x).to_host()
        times.append((time.perf_counter() - t) * 1e3)
    np.save(args.output, np.asarray(y))
    print(json.dumps({"function": fn_name, "p50_ms": float(np.median(times)),
                      "min_ms": float(np.min(times)), "max_ms": float(np.max(times))}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"]:
        _run_main(sys.argv[2:])
    else:
        sys.exit("usage: iree_peer.py run VMFB --input X.npy --output Y.npy --threads T")
