#!/usr/bin/env bash
# Installs what is needed, builds with warnings as errors, and runs every test: the unit tests
# and the integration tests (real redis-servers, dnsmasq and the binary) through CTest, the
# version matrix's included; then the sanitizer and fuzzing job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh -DRCI_WERROR=ON
bash scripts/build-servers.sh  # the version matrix's servers, once; skipped without tarballs
(cd build && ctest --output-on-failure --timeout 600 "$@")
# Sanitizers (ASan, UBSan) over the unit tests and a set of integration tests, the fuzzers'
# corpora replayed, each fuzzer run for 10 s: see fuzz/README.md.
bash scripts/fuzz.sh --seconds 10
