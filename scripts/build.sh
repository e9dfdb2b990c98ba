#!/usr/bin/env bash
# Configures and builds the release binary (fully static) and the unit tests into build/.
# Extra arguments go to cmake's configure step, e.g. -DRCI_WERROR=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
echo "build: build/redis-cluster-init, $(stat -c %s build/redis-cluster-init) bytes, $(file -b build/redis-cluster-init | grep -o "statically linked" || echo "NOT statically linked")"
