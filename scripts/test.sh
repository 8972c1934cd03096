#!/usr/bin/env bash
# Runs every test of vitc (building first if needed): lit/FileCheck tests of
# the importer and each pass, C++ unit tests, the ONNX backend node tests,
# and end-to-end tests against onnxruntime. GPU tests skip without a GPU.
#   VITC_TEST_QUICK=1 scripts/test.sh   skips the large models (ResNet-18, ViT-B/16)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${VITC_BUILD:-build}
export VITC_BUILD=$build
scripts/setup.sh --build-only || exit 1

# The suites run jobs side by side on few cores: OpenMP threads that spin
# between parallel regions (libgomp's default) would take the cores the other
# jobs need (docs/performance.md, "threads").
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

status=0
step() { echo; echo "=== $1"; shift; "$@" || status=1; }

# The runtime library and its unit tests built with -fsanitize=address,undefined
# (VITC_SANITIZE) in a folder of their own, against models the main build's
# vitc compiles: about 3.5 minutes on 2 cores the first time, seconds after.
sanitized() {
  local asan=${VITC_ASAN_BUILD:-build-asan}
  if [ ! -f "$asan/build.ninja" ]; then
    mkdir -p "$asan"
    CC=clang-22 CXX=clang++-22 cmake -G Ninja -S . -B "$asan" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
      -DPython3_EXECUTABLE="$PWD/.venv/bin/python" -DVITC_SANITIZE=ON -DVITC_FUZZ=OFF \
      > "$asan/configure.log" || { cat "$asan/configure.log"; return 1; }
  fi
  ninja -C "$asan" vitc_runtime vitc-runtime-tests vitc-session-tests || return 1
  UBSAN_OPTIONS=print_stacktrace=1 "$asan/bin/vitc-runtime-tests" &&
    UBSAN_OPTIONS=print_stacktrace=1 "$asan/bin/vitc-session-tests" "$build/bin/vitc" \
      models/mnist_cnn.onnx tests/unit/runtime/Inputs/session_mlp.onnxtext
}

step "lit tests" .venv/bin/lit -sv "$build/tests"
step "unit tests" ctest --test-dir "$build" --output-on-failure
step "runtime unit tests under ASan and UBSan" sanitized
step "ONNX backend node tests" .venv/bin/python tests/onnx_node/run_node_tests.py --jobs 2
marker=()
[ -n "${VITC_TEST_QUICK:-}" ] && marker=(-m "not large")
step "end-to-end tests" .venv/bin/python -m pytest -q tests/e2e "${marker[@]}"

echo
[ $status = 0 ] && echo "all test suites passed" || echo "some test suites FAILED"
exit $status
