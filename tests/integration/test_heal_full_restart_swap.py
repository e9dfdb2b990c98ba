#!/usr/bin/env python3
"""Heal (issue 3), full restart where two pods SWAP addresses: a healthy 3x1 cluster formed by
`bootstrap`; every pod stops; the masters of shards 0 and 1 take each other's old address and
every other pod a new one (DNS records rewritten), nodes.conf and AOF kept; pods start again in
a random order with random gaps, each running its bootstrap. Every node's nodes.conf then names
the wrong node at two addresses. Expected: one cluster, every node knows every other at its
current address, cluster_state:ok, each shard served by one of its own pods with its slot
range, every key present. Replay an order with RCI_TEST_SEED.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import form, full_restart_heals  # noqa: E402
from testbed import TestBed  # noqa: E402


def main() -> None:
    with TestBed("heal_full_restart_swap") as bed:
        rng = itest.seeded_random("heal_full_restart_swap")
        cluster = form(bed)
        new_ips = {pod.name: bed.allocate_ip() for pod in cluster.pods}
        a, b = cluster.pod(0, 0), cluster.pod(1, 0)
        new_ips[a.name], new_ips[b.name] = b.ip, a.ip
        print(f"[{bed.name}] {a.name} takes {b.ip}, {b.name} takes {a.ip}", flush=True)
        full_restart_heals(cluster, new_ips, rng, "a full restart with two addresses swapped")


if __name__ == "__main__":
    itest.run(main)
