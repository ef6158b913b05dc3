#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets with clang-14 in build-fuzz/, seeds their corpora from
# the fixtures and runs each target for SECONDS (default 60). Exits non-zero if any target found a
# crash, a leak, a timeout or an out-of-memory; the reproducer is in build-fuzz/artifacts/<target>/.
#   fuzz/run.sh [SECONDS] [TARGET...]
# Environment: FUZZ_BUILD_DIR (build-fuzz), FUZZ_JOBS (2: compile jobs), FUZZ_TIMEOUT (10: seconds
# one input may take before it counts as a hang).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
build=${FUZZ_BUILD_DIR:-build-fuzz}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_admission fuzz_decoder fuzz_cidr fuzz_config fuzz_manifests fuzz_patch)

scripts/ensure-packages.sh scripts/build-packages.txt fuzz/packages.txt
cmake -S . -B "$build" -DAW_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF -DAW_WERROR=ON >/dev/null
cmake --build "$build" -j"${FUZZ_JOBS:-2}" --target fuzz_all fuzz_seed_corpus
fuzz/seed.sh "$build"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
declare -A dict=([fuzz_admission]=json [fuzz_decoder]=json [fuzz_patch]=json [fuzz_config]=yaml
                 [fuzz_manifests]=yaml [fuzz_cidr]=cidr)
failed=()
summary=()
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  artifacts=$build/artifacts/$t
  log=$build/logs/$t.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  args=(-max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout="${FUZZ_TIMEOUT:-10}"
        -print_final_stats=1 -artifact_prefix="$artifacts/")
  [ -n "${dict[$t]:-}" ] && args+=(-dict="fuzz/dicts/${dict[$t]}.dict")
  echo "== $t: ${seconds}s, corpus $(find "$corpus" -type f | wc -l) inputs" >&2
  rc=0
  "$build/fuzz/$t" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  line="$t: ${execs:-?} executions, corpus $(find "$corpus" -type f | wc -l), exit $rc"
  if [ "$rc" -ne 0 ] || [ -z "$execs" ]; then
    failed+=("$t")
    line+=" -- FAILED (log: $log)"
    grep -E '^==[0-9]+==|ERROR|SUMMARY|FUZZ INVARIANT|runtime error|^    #[0-9]+ ' "$log" | head -40 >&2 || true
    ls -1 "$artifacts" >&2 || true
  fi
  summary+=("$line")
done
echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}; reproduce with $build/fuzz/TARGET ARTIFACT" >&2
  exit 1
fi
