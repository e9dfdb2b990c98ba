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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import form, full_restart_heals  # noqa: E402
from testbed import TestBed  # noqa: E402


def main() -> None:
    with TestBed("heal_full_restart_new_ips") as bed:
        rng = itest.seeded_random("heal_full_restart_new_ips")
        cluster = form(bed)
        new_ips = {pod.name: bed.allocate_ip() for pod in cluster.pods}
        full_restart_heals(cluster, new_ips, rng, "a full restart with new addresses")


if __name__ == "__main__":
    itest.run(main)
