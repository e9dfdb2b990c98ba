#!/usr/bin/env bash
# Installs what is needed, builds with warnings as errors, and runs every test: the unit tests
# and the integration tests (real redis-servers, dnsmasq and the binary) through CTest, the
# version matrix's included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh -DRCI_WERROR=ON
bash scripts/build-servers.sh  # the version matrix's servers, once; skipped without tarballs
cd build
ctest --output-on-failure --timeout 600 "$@"
