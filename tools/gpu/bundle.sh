#!/usr/bin/env bash
# Packs what the GPU check (tools/gpu/check.sh) needs on a machine that has
# a GPU but no MLIR/LLVM and gets only 64 MiB of the tree: the runtime and
# vitc-run with the shared libraries they need that such a machine may lack
# (oneDNN, protobuf, OpenMPI; never libcuda or NCCL, which it has), the CUDA
# unit tests, the models' ONNX files and their artifacts compiled here, and
# a Fashion-MNIST subset as .npy. Prints the bundle's size.
#   tools/gpu/bundle.sh [--target cuda|cuda-emulator] [--large] [-o build/gpu-bundle.tar.xz]
# cuda-emulator builds the same bundle for the emulated GPU, to rehearse the
# check here (tools/gpu/check.sh --rehearse). --large adds the benchmark
# models (ViT-B/16 inference in fp32 and bf16 and its bf16 training step,
# ResNet-50's bf16 training step) with their weights files slimmed
# (tools/gpu/weights.py): the check refills them from a seed.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=${VITC_BUILD:-build}
target=cuda
large=
out=$build/gpu-bundle.tar.xz
while (($#)); do
  case $1 in
    --target) target=$2; shift 2 ;;
    --large) large=1; shift ;;
    -o) out=$2; shift 2 ;;
    *) echo "bundle.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/models" "$stage/artifacts" "$stage/data"

# Binaries and every shared library they load that is not the C/C++ base
# system or the driver stack the GPU machine brings.
cp "$build/bin/vitc-run" "$build/bin/vitc-cuda-driver-tests" "$stage/bin/"
cp "$build"/lib/libvitc_*.so "$stage/lib/"
base='^(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|ld-linux-x86-64|libz|libcuda|libnccl)\.so'
for binary in "$stage"/bin/* "$stage"/lib/*.so; do
  ldd "$binary" | awk '/=> \//{print $3}'
done | sort -u | while read -r lib; do
  name=$(basename "$lib")
  [[ $name =~ $base ]] || [[ $lib == "$root/$build/"* ]] || cp -L "$lib" "$stage/lib/$name"
done
# vitc-run finds its libraries through the bundle's lib/, not the build's.
for binary in "$stage"/bin/*; do
  [ -w "$binary" ] || chmod u+w "$binary"
done

# Models: the test suite's small ones (both exporters) and a BatchNorm CNN.
models=(mnist_cnn mnist_cnn_dynamo vit_tiny vit_tiny_dynamo)
for m in "${models[@]}"; do
  cp "models/$m.onnx" "$stage/models/"
  "$build/bin/vitc" "models/$m.onnx" --target "$target" -o "$stage/artifacts/$m.vtc"
done
# Training: the MNIST CNN's step on the GPU target and on the CPU (the
# reference the GPU's losses are checked against), and the BatchNorm CNN.
for m in mnist_cnn cnn_bn_train; do
  "$build/bin/vitc" "models/$m.onnx" --mode train --optimizer adamw --lr 1e-4 \
    --target "$target" -o "$stage/artifacts/$m.train.gpu"
  "$build/bin/vitc" "models/$m.onnx" --mode train --optimizer adamw --lr 1e-4 \
    -o "$stage/artifacts/$m.train.cpu"
done
echo "$target" > "$stage/TARGET"

# The benchmark models: compiled here with their weights in files of their
# own, which stay here; what travels is the weights table and the entries
# that must stay exact. cubins for the H100/H200 (sm_90): no JIT at load.
if [ -n "$large" ]; then
  mkdir -p "$stage/large"
  gpu=()
  [ "$target" = cuda ] && gpu=(--gpu-arch sm_90 --gpu-format cubin)
  .venv/bin/python models/export_models.py --which vit_b_16,resnet50 --out models/generated >/dev/null
  weights=$(mktemp -d)
  compile() { # name model flags...
    local name=$1 model=$2; shift 2
    "$build/bin/vitc" "models/generated/$model.onnx" --target "$target" "${gpu[@]}" "$@" \
      -o "$stage/large/$name.vtc" --weights-file "$weights/$name.vtw"
    "$build/bin/vitc-run" "$stage/large/$name.vtc" --weights-table > "$stage/large/$name.json"
    .venv/bin/python tools/gpu/weights.py slim "$stage/large/$name.json" "$weights/$name.vtw" \
      -o "$stage/large/$name.slim.npz"
  }
  compile vit_b_16 vit_b_16
  compile vit_b_16.bf16 vit_b_16 --precision bf16
  compile vit_b_16.train.bf16 vit_b_16 --mode train --precision bf16 --optimizer adamw
  compile resnet50.train.bf16 resnet50 --mode train --precision bf16 --optimizer sgd --momentum 0.9
  rm -rf "$weights"
  cp tools/gpu/weights.py tools/gpu/torch_peer.py "$stage/"
fi

# Fashion-MNIST as .npy (vitc-run --dataset npy): 12000 training and 2000
# test images, uint8, small enough to travel.
.venv/bin/python tools/gpu/make_data.py --out "$stage/data" --train 12000 --test 2000

cp tools/gpu/check.py "$stage/"
cp models/export_models.py "$stage/models/"
mkdir -p "$(dirname "$out")"
tar -C "$stage" -cJf "$out" .
size=$(stat -c %s "$out")
echo "bundle: $out ($((size / 1024 / 1024)) MiB, $size bytes; target $target)"
