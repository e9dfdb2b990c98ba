#!/usr/bin/env python3
"""Heal (issue 3): in a healthy 3x1 cluster formed by `bootstrap` (node timeout 2 s), the master
of shard 0 crashes (SIGKILL); its replica is promoted by Redis. The old master then comes back
with its nodes.conf and AOF at a NEW address, and its bootstrap runs. It must rejoin as a
replica of the promoted node (link up), the shard's slots must stay with the promoted node,
every node's table must hold it at its new address, and every key must be there.

A redis-py RedisCluster writer per shard writes all along; its figures are printed: a crash
failover may lose the writes the master acknowledged but had not yet sent to its replica
(Redis replicates asynchronously), so the count is reported, not asserted; every other
acknowledged write must be there.

check_cluster runs with creation_layout=False (shard 0 is now served by pod 0-1); the roles
are asserted explicitly.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import (check_replicates, form, healed, keys_intact, rebootstrap, tables,
                  wait_promoted)  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed  # noqa: E402
from slots import shard_slot_range  # noqa: E402
from writer import AckedWriters  # noqa: E402


def main() -> None:
    with TestBed("heal_failover_return") as bed:
        cluster = form(bed)
        old_master, replica = cluster.pod(0, 0), cluster.pod(0, 1)
        old_id, replica_id, old_ip = old_master.node_id(), replica.node_id(), old_master.ip
        with AckedWriters(cluster) as writers:
            writers.wait_for_progress(50, timeout=20)
            crashed_at = time.monotonic()
            old_master.kill()
            wait_promoted(cluster, replica, after=f"{old_master.name} crashed")
            writers.wait_for_progress(50, timeout=60)  # shard 0 is written on the new master
            old_master.restart(crash=True, new_ip=True)  # already dead; new address, volume kept
            check(old_master.node_id() == old_id, f"{old_master.name}: came back as a new node")
            rebootstrap(old_master)
            what = f"{old_master.name} returned at {old_master.ip} (was {old_ip}) after a failover"
            views = healed(cluster, what, creation_layout=False)
            writers.wait_for_progress(50, timeout=20)
        by_pod = {v.pod.name: v for v in views}
        first, last = shard_slot_range(0, cluster.shards)
        check(by_pod[replica.name].myself.is_master
              and by_pod[replica.name].myself.slots == [(first, last)],
              f"{replica.name}: expected the master of {first}-{last}, is "
              f"{by_pod[replica.name].myself.flags} with {by_pod[replica.name].myself.slots}")
        check(replica.node_id() == replica_id, f"{replica.name}: changed its node ID")
        check_replicates(views, old_master, replica)
        for pod_name, nodes in tables(cluster).items():
            entry = next(n for n in nodes if n.node_id == old_id)
            check(entry.ip == old_master.ip, f"{pod_name}: has {old_master.name} at "
                                             f"{entry.endpoint}, expected {old_master.ip}")
        keys_intact(cluster, what)
        writers.check_crash_losses("heal_failover_return", "crash", crashed_at, crashed_shard=0)


if __name__ == "__main__":
    itest.run(main)
