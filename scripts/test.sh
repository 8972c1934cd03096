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

status=0
step() { echo; echo "=== $1"; shift; "$@" || status=1; }

step "lit tests" .venv/bin/lit -sv "$build/tests"
step "unit tests" ctest --test-dir "$build" --output-on-failure
step "ONNX backend node tests" .venv/bin/python tests/onnx_node/run_node_tests.py --jobs 2
marker=()
[ -n "${VITC_TEST_QUICK:-}" ] && marker=(-m "not large")
step "end-to-end tests" .venv/bin/python -m pytest -q tests/e2e "${marker[@]}"

echo
[ $status = 0 ] && echo "all test suites passed" || echo "some test suites FAILED"
exit $status
