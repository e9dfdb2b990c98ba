#!/usr/bin/env python3
"""Heal (issue 3): in a healthy 3x1 cluster formed by `bootstrap`, a replica crashes (SIGKILL)
and comes back at a NEW address (its DNS record rewritten) with its nodes.conf and data; its
bootstrap runs again. Every node's table must hold it at the new address (link connected), and
it must replicate its shard's master again, link up, keys intact.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import check_replicates, form, healed, keys_intact, rebootstrap, tables  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed  # noqa: E402


def main() -> None:
    with TestBed("heal_replica_new_ip") as bed:
        cluster = form(bed)
        replica, master = cluster.pod(2, 1), cluster.pod(2, 0)
        node_id, old_ip = replica.node_id(), replica.ip
        started = time.monotonic()
        replica.restart(crash=True, new_ip=True)
        check(replica.ip != old_ip and replica.node_id() == node_id,
              f"{replica.name}: expected node {node_id} at a new address")
        rebootstrap(replica)
        what = f"{replica.name} moved from {old_ip} to {replica.ip}"
        views = healed(cluster, what)
        for pod_name, nodes in tables(cluster).items():
            entry = next((n for n in nodes if n.node_id == node_id), None)
            check(entry is not None and entry.ip == replica.ip,
                  f"{pod_name}: has {replica.name} at {entry and entry.endpoint}, expected "
                  f"{replica.ip}")
        check_replicates(views, replica, master)
        print(f"[heal_replica_new_ip] healed {time.monotonic() - started:.1f}s after the crash",
              flush=True)
        keys_intact(cluster, what)


if __name__ == "__main__":
    itest.run(main)
