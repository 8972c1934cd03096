# -*- Python -*-
import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config

config.name = "VITC"
# lit 23 runs RUN lines in its internal shell only.
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".onnxtext", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.vitc_obj_root, "tests")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "e2e", "unit", "bench"]

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.vitc_tools_dir, append_path=True)

config.substitutions.append(("%vitc_src", config.vitc_src_root))
config.substitutions.append(("%mlir_include", config.mlir_include_dir))
# use_default_substitutions() already maps %python to lit's own interpreter;
# ours (the venv, with numpy and onnx) must win.
config.substitutions.insert(0, ("%python", config.python_executable))
tools = ["vitc-opt", "vitc", "vitc-run", "FileCheck", "not", "count"]
llvm_config.add_tool_substitutions(
    [t for t in tools if shutil.which(t, path=config.vitc_tools_dir + os.pathsep + config.llvm_tools_dir)],
    [config.vitc_tools_dir, config.llvm_tools_dir])

# GPU tests declare `REQUIRES: gpu`; lit reports them UNSUPPORTED elsewhere.
if shutil.which("nvidia-smi") and os.path.exists("/dev/nvidia0"):
    config.available_features.add("gpu")

# oneDNN's AVX-512 kernels (winograd among them) need avx512_core: F, BW,
# VL and DQ.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        flags = set(next((l for l in cpuinfo if l.startswith("flags")), "").split())
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        config.available_features.add("avx512")
except OSError:
    pass

# A CUDA toolkit (libdevice, ptxas) lets the CUDA codegen tests link
# libdevice and build cubins; no GPU is needed for them.
cuda_path = os.environ.get("CUDA_ROOT") or os.environ.get("CUDA_HOME") or "/usr/local/cuda"
if os.path.exists(os.path.join(cuda_path, "nvvm", "libdevice", "libdevice.10.bc")) and \
        os.path.exists(os.path.join(cuda_path, "bin", "ptxas")):
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%cuda_path", cuda_path))

# The collectives' MPI tests (tests/lit/runtime/collectives) declare
# `REQUIRES: mpi`: mpirun, and vitc built with the MPI communicator. mpirun
# refuses root without these.
collectives_test = os.path.join(config.vitc_tools_dir, "vitc-collectives-test")
if shutil.which("mpirun") and os.path.exists(collectives_test) and \
        subprocess.run([collectives_test, "--has-mpi"]).returncode == 0:
    config.available_features.add("mpi")
    config.environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    config.environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
# The NCCL communicator's tests: `REQUIRES: nccl` (built with NCCL), with
# `gpu` to run collectives.
if os.path.exists(collectives_test) and \
        subprocess.run([collectives_test, "--has-nccl"]).returncode == 0:
    config.available_features.add("nccl")
