#!/usr/bin/env python3
"""Heal (issue 3): a healthy 3x1 cluster formed by `bootstrap`; every pod stops, every address
changes (DNS records rewritten), nodes.conf and AOF kept, and the pods start again in a random
order with random gaps, each running its bootstrap. No node's nodes.conf then holds a valid
address for any peer: only DNS can bring them together. Expected: one cluster, every node knows
every other at its current address, cluster_state:ok, each shard served by one of its own pods
with its slot range, every key present. Replay an order with RCI_TEST_SEED.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import form, full_restart, healed, keys_intact  # noqa: E402
from testbed import TestBed  # noqa: E402


def main() -> None:
    with TestBed("heal_full_restart_new_ips") as bed:
        rng = itest.seeded_random("heal_full_restart_new_ips")
        cluster = form(bed)
        new_ips = {pod.name: bed.allocate_ip() for pod in cluster.pods}
        started = time.monotonic()
        runs = full_restart(cluster, new_ips, rng)
        cluster.wait_bootstraps(runs, timeout=55)
        print(f"[{bed.name}] every bootstrap exited 0, slowest {max(r.elapsed for r in runs):.1f}s",
              flush=True)
        views = healed(cluster, "a full restart with new addresses", creation_layout=False)
        print(f"[{bed.name}] healed {time.monotonic() - started:.1f}s after the first start; "
              f"masters: {', '.join(v.pod.name for v in views if v.myself.is_master)}",
              flush=True)
        keys_intact(cluster, "a full restart with new addresses")


if __name__ == "__main__":
    itest.run(main)
