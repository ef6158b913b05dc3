#!/usr/bin/env bash
# Builds the seed corpora in BUILD_DIR/corpus/<target>/ (default build-fuzz) from the repository's
# fixtures: test/rules/fixtures/*.yaml, examples/, test/webhook/cli/check/, the CIDR test strings.
# Generated, never committed. Needs BUILD_DIR/fuzz/fuzz_seed_corpus (fuzz/run.sh builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
tool=$build/fuzz/fuzz_seed_corpus
if [ ! -x "$tool" ]; then
  echo "seed.sh: $tool is not built (cmake --build $build --target fuzz_seed_corpus)" >&2
  exit 1
fi
# The seed tool is sanitized too; a leak report in it must not pass unnoticed.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} "$tool" . "$build/corpus"
