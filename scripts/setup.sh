#!/usr/bin/env bash
# Installs every dependency of vitc on Debian 12 (with the CUDA toolkit at
# /usr/local/cuda), builds it, and runs the main job on a bundled model.
#   scripts/setup.sh               install + build + main job
#   scripts/setup.sh --build-only  install + build (what scripts/test.sh uses)
# Idempotent: packages, the venv and the build are only refreshed when needed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${VITC_BUILD:-build}
# Relative paths in ccache's hashes let every clone share one compiler cache.
export CCACHE_BASEDIR="$root"

packages=(cmake ninja-build ccache pkgconf zlib1g-dev libpng-dev clang-22 libclang-rt-22-dev lld-22 llvm-22-dev llvm-22-tools libmlir-22-dev
          mlir-22-tools libonnx-dev libprotobuf-dev protobuf-compiler libopenmpi-dev openmpi-bin
          libdnnl-dev libopenblas-dev dataset-fashion-mnist python3-venv xz-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Python for tests and tools only, in a venv of our own.
if [ ! -x .venv/bin/python ] || ! cmp -s requirements-dev.txt .venv/.requirements; then
  echo "setup: preparing the Python venv (.venv)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
  cp requirements-dev.txt .venv/.requirements
fi

if [ ! -f "$build/build.ninja" ]; then
  CC=clang-22 CXX=clang++-22 cmake -G Ninja -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DPython3_EXECUTABLE="$root/.venv/bin/python"
fi
ninja -C "$build"

[ "${1:-}" = "--build-only" ] && exit 0

# The main job, part 1: compile the bundled MNIST CNN, classify real
# Fashion-MNIST test images with it, and check the result against onnxruntime.
echo "setup: main job: vitc models/mnist_cnn.onnx -> $build/mnist_cnn.vtc"
"$build/bin/vitc" models/mnist_cnn.onnx -o "$build/mnist_cnn.vtc"
.venv/bin/python tools/main_job.py --build "$build" --model models/mnist_cnn.onnx \
  --artifact "$build/mnist_cnn.vtc"

# Part 2: compile its training step and train it for one epoch on
# Fashion-MNIST (AdamW, cosine schedule), with a checkpoint, metrics, a plot,
# and the trained weights exported back into the ONNX graph.
job="$build/main-job"
rm -rf "$job" && mkdir -p "$job"
echo "setup: main job: vitc models/mnist_cnn.onnx --mode train -> $job/train"
"$build/bin/vitc" models/mnist_cnn.onnx --mode train --optimizer adamw --lr 1e-3 -o "$job/train"
"$build/bin/vitc-run" "$job/train" --dataset fashion-mnist --epochs 1 --batch-size 64 \
  --schedule cosine --checkpoint-dir "$job/ckpt" --plot "$job/training.png" \
  --export-onnx "$job/mnist_cnn_trained.onnx"

# Part 3: the same epoch as a 2-rank FSDP job (each rank holds half of the
# weights, gradients and optimizer state; global batch 64, as above). The
# timeout ends a hung job instead of the setup.
echo "setup: main job: vitc models/mnist_cnn.onnx --shard fsdp -> $job/train-fsdp; mpirun -np 2"
"$build/bin/vitc" models/mnist_cnn.onnx --shard fsdp --optimizer adamw --lr 1e-3 -o "$job/train-fsdp"
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 600 \
  mpirun -np 2 --oversubscribe "$build/bin/vitc-run" "$job/train-fsdp" \
  --dataset fashion-mnist --epochs 1 --batch-size 32 --threads 1 --schedule cosine \
  --checkpoint-dir "$job/ckpt-fsdp"
echo "setup: main job done: metrics in $job/ckpt/metrics.jsonl (2-rank FSDP: $job/ckpt-fsdp), plot $job/training.png"
