#!/usr/bin/env bash
# The GPU check: the one script a machine with an NVIDIA GPU runs (under 10
# minutes), from a bundle built here by tools/gpu/bundle.sh (that machine has
# no MLIR/LLVM and gets 64 MiB of the tree). Results: gpu-check.json and
# gpu-check.log in $OUT (or --out DIR). Steps: see tools/gpu/check.py.
#
#   on the GPU machine:  tools/gpu/check.sh [build/gpu-bundle.tar.xz]
#                        (the device tool: run with carry ["build/gpu-bundle.tar.xz"])
#   here, first:         tools/gpu/check.sh --rehearse
#                        builds the same bundle for the emulated GPU and runs
#                        every step on it (a rehearsal, never a GPU result)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${VITC_BUILD:-build}
bundle=$build/gpu-bundle.tar.xz
out=${OUT:-$build/gpu-check}
python=python3
quick=()
while (($#)); do
  case $1 in
    --rehearse)
      bundle=$build/gpu-bundle-emulator.tar.xz
      out=$build/gpu-check-rehearsal
      python=.venv/bin/python
      quick=(--quick)
      tools/gpu/bundle.sh --target cuda-emulator -o "$bundle" || exit 1
      shift ;;
    --out) out=$2; shift 2 ;;
    *) bundle=$1; shift ;;
  esac
done
[ -f "$bundle" ] || { echo "check.sh: no bundle '$bundle' (build it with tools/gpu/bundle.sh)" >&2; exit 2; }
echo "check.sh: bundle $bundle ($(($(stat -c %s "$bundle") / 1024 / 1024)) MiB)"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
tar -xJf "$bundle" -C "$dir" || exit 1
# The bundle's libraries first; NCCL, cuBLASLt and cuDNN from the machine's
# NVIDIA wheels (nvidia-nccl, nvidia-cublas, nvidia-cudnn), wherever the
# wheels put them: vitc-run links NCCL, and the CUDA device loads
# libcublasLt for matmuls and libcudnn (with its sub-libraries, found by
# the same path) for convolutions.
wheels=$($python - <<'PY' 2>/dev/null || true
import glob, os, site
dirs = []
roots = site.getsitepackages() + [site.getusersitepackages()]
for root in roots:
    for pattern in ("libnccl.so.2", "libcublasLt.so.1[0-9]*", "libcudnn.so.9"):
        for path in glob.glob(os.path.join(root, "nvidia", "**", pattern), recursive=True):
            if os.path.dirname(path) not in dirs:
                dirs.append(os.path.dirname(path))
print(":".join(dirs))
PY
)
export LD_LIBRARY_PATH="$dir/lib${wheels:+:$wheels}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "check.sh: libraries from $dir/lib${wheels:+ and $wheels}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
PYTHONUNBUFFERED=1 timeout 570 "$python" "$dir/check.py" --out "$out" "${quick[@]}"
