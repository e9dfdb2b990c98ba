#!/usr/bin/env bash
# Installs everything the build, the test bed and the benchmark need on Debian 12.
# Idempotent: a second run only checks that the packages are there. --fuzz adds what the
# sanitizer and fuzzing job (scripts/fuzz.sh) needs: clang-16, libFuzzer, llvm-symbolizer.
set -euo pipefail

packages=(
  build-essential cmake pkg-config file clang-format
  libhiredis-dev libc-ares-dev libcli11-dev libspdlog-dev libfmt-dev catch2 libssl-dev
  redis-server redis-tools dnsmasq-base iproute2 nftables util-linux python3 python3-yaml python3-redis procps shellcheck
)
if [[ ${1:-} == --fuzz ]]; then packages+=(clang-16 libclang-rt-16-dev llvm-16); fi
# kubectl renders the Kubernetes examples for their tests (Debian's 1.20 is enough); node and npm
# run the schema check (scripts/check-manifests.sh). Only where missing: a machine with its own
# kubectl or nodejs package already owns those paths, and dpkg would refuse to overwrite them.
command -v kubectl >/dev/null || packages+=(kubernetes-client)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all build and test dependencies present"
