#!/usr/bin/env bash
# The bounded fuzz run of the ONNX importer (ctest onnx-import-fuzz):
#   run_fuzzer.sh FUZZER WORK_DIR PYTHON
# writes the seed corpus into WORK_DIR/seeds, then fuzzes for
# $VITC_FUZZ_SECONDS (default 60) from WORK_DIR/corpus (kept between runs:
# new inputs accumulate there) and the seeds. A crash, undefined behaviour,
# a leak, an allocation over 2 GiB or an input running over 10 s fails it,
# leaving the input in WORK_DIR/artifacts.
set -uo pipefail
fuzzer=$1 work=$2 python=$3
here=$(cd "$(dirname "$0")" && pwd)

"$python" "$here/make_corpus.py" "$work/seeds" || exit 1
mkdir -p "$work/corpus" "$work/artifacts"
# The fuzzer's model folder goes here: a crash skips its removal.
rm -rf "$work/tmp" && mkdir -p "$work/tmp" && export TMPDIR="$work/tmp"
"$fuzzer" "$work/corpus" "$work/seeds" \
  -max_total_time="${VITC_FUZZ_SECONDS:-60}" -rss_limit_mb=2048 -timeout=10 \
  -max_len=131072 -print_final_stats=1 -artifact_prefix="$work/artifacts/"
status=$?
if [ $status != 0 ]; then
  echo "onnx-import-fuzzer failed; the input is in $work/artifacts/." >&2
  echo "Replay it with: $fuzzer <file>; shrink it with -minimize_crash=1 -runs=10000," >&2
  echo "and keep the small result in $here/regressions/ once fixed." >&2
fi
exit $status
