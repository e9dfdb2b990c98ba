#!/usr/bin/env bash
# The sanitizer and fuzzing job: builds everything with clang-16, AddressSanitizer and
# UndefinedBehaviorSanitizer into build-fuzz/, then
#   1. runs the unit tests and a representative set of integration tests under them,
#   2. replays every fuzzer's checked-in corpus (fuzz/corpus/<target>: real servers' output,
#      and every input that once crashed),
#   3. fuzzes each target for a bounded time (--seconds, default 20), from a copy of its corpus.
# Any sanitizer report, crash or failed test fails the job. A new crash is left in
# build-fuzz/crashes/<target>/: add it to fuzz/corpus/<target>/ with a unit test once fixed.
#
#   scripts/fuzz.sh [--seconds N] [--no-integration]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=20
integration=true
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --no-integration) integration=false; shift ;;
    *) echo "fuzz: unknown argument $1 (expected --seconds N, --no-integration)" >&2; exit 2 ;;
  esac
done

bash scripts/setup-debian.sh --fuzz
# -O1 with line tables: quick to build, fast enough to fuzz, and reports name source lines.
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" -DRCI_FUZZ=ON -DRCI_STATIC=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)"

# Leaks count as failures; a report names the source line (llvm-symbolizer-16 is in the path).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-16

echo "fuzz: unit tests under ASan and UBSan"
(cd build-fuzz && ctest --output-on-failure -R '^unit:' -j"$(nproc)")
if $integration; then
  # The binary built with the sanitizers, driven by the bed: creation, healing, run mode, TLS.
  # Not test_hostile_peer: it bounds the binary's memory with ulimit -v, under which ASan
  # cannot map its shadow memory.
  echo "fuzz: integration tests with the sanitized binary"
  (cd build-fuzz && ctest --output-on-failure --timeout 600 \
    -R '^integration: test_(cold_start|heal_failover_return|heal_lost_volume_master|run_cold_start|run_handover|tls|heal_full_restart_new_ips|bad_config)$')
fi

mkdir -p build-fuzz/crashes
status=0
for source in fuzz/fuzz_*.cpp; do
  target=$(basename "$source" .cpp)
  corpus=fuzz/corpus/$target
  work=build-fuzz/corpus/$target
  crashes=build-fuzz/crashes/$target
  rm -rf "$work" && mkdir -p "$work" "$crashes"
  [[ -d $corpus ]] && cp "$corpus"/* "$work"/
  echo "fuzz: $target: replaying $(find "$work" -type f | wc -l) corpus inputs, then fuzzing ${seconds}s"
  if ! build-fuzz/fuzz/"$target" -runs=0 "$work" >"build-fuzz/$target.replay.log" 2>&1; then
    echo "fuzz: $target: a corpus input fails; see build-fuzz/$target.replay.log" >&2
    tail -n 30 "build-fuzz/$target.replay.log" >&2
    status=1
    continue
  fi
  if ! build-fuzz/fuzz/"$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -artifact_prefix="$crashes/" "$work" >"build-fuzz/$target.fuzz.log" 2>&1; then
    echo "fuzz: $target: found a crash: $(ls "$crashes")" >&2
    tail -n 40 "build-fuzz/$target.fuzz.log" >&2
    status=1
    continue
  fi
  grep -E '^#[0-9]+.*DONE' "build-fuzz/$target.fuzz.log" | tail -n 1 | sed "s/^/fuzz: $target: /" || true
done
exit $status
