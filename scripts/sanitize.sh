#!/usr/bin/env bash
# make test-asan: builds everything (libraries, alliance-webhook, tests) with AddressSanitizer and
# UndefinedBehaviorSanitizer in build-asan/ and runs the whole ctest suite under them.
#   scripts/sanitize.sh [extra ctest arguments, e.g. -R e2e_]
# Every sanitized process writes its reports to build-asan/sanitizer-logs/ (log_path): the tests
# spawn the real server and read only its answers, so a report from a server child would otherwise
# vanish with its temporary stderr file. Any report fails the run, even when every test passed.
# Environment: ASAN_BUILD_DIR (build-asan), JOBS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ASAN_BUILD_DIR:-build-asan}
jobs=${JOBS:-2}
scripts/ensure-packages.sh scripts/build-packages.txt
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAW_SANITIZE=ON -DAW_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs"

logs=$PWD/$build/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"

rc=0
(cd "$build" && ctest -j"$jobs" --output-on-failure "$@") || rc=$?
reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  for f in $reports; do
    echo "---- $f" >&2
    cat "$f" >&2
  done
  echo "test-asan: sanitizer reports above (from tests or the servers they started)" >&2
  exit 1
fi
exit $rc
