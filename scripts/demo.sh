#!/usr/bin/env bash
# The main job: installs what is needed, builds, brings up a local 3-shard x 1-replica Redis
# Cluster on the test bed (real redis-servers on loopback, dnsmasq as the cluster DNS), created
# by the binary's `bootstrap` in every pod at once, then prints the cluster's status.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh
exec python3 scripts/demo.py "$@"
