#!/usr/bin/env python3
"""Heal: the pod that was creating the cluster dies halfway. On a fresh 3x1 bed, a half-done
creation is left by hand: shard 0's and shard 1's first pods have their config epochs (1, 2)
and their own slot ranges, and shard0-0 has MEETed shard1-0 only (nothing for shard 2 yet).
Then shard0-0's redis-server crashes (SIGKILL, nodes.conf kept) and comes back, and every pod's
`bootstrap` runs at once: the creation must finish with the creation layout, every slot
covered exactly once, keys written and counted back.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import KEYS, PERSISTENT, healed, keys_intact, tables, wait_for  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed, shard_slot_range  # noqa: E402


def main() -> None:
    with TestBed("heal_half_done_create") as bed:
        cluster = bed.cluster(3, 1, node_timeout_ms=2000, redis_config=list(PERSISTENT))
        cluster.start()
        first, second = cluster.pod(0, 0), cluster.pod(1, 0)

        # The half-done creation, as a creator that died after its first steps leaves it.
        check(shard_slot_range(0, 3) == (0, 5460) and shard_slot_range(1, 3) == (5461, 10922),
              f"unexpected slot split {shard_slot_range(0, 3)} {shard_slot_range(1, 3)}")
        for epoch, pod in ((1, first), (2, second)):
            low, high = shard_slot_range(pod.shard, cluster.shards)
            check(pod.command("CLUSTER", "SET-CONFIG-EPOCH", str(epoch)) == "OK",
                  f"{pod.name}: SET-CONFIG-EPOCH {epoch} refused")
            check(pod.command("CLUSTER", "ADDSLOTSRANGE", str(low), str(high)) == "OK",
                  f"{pod.name}: ADDSLOTSRANGE {low} {high} refused")
        check(first.command("CLUSTER", "MEET", second.ip, str(second.port)) == "OK",
              f"{first.name}: MEET {second.ip} refused")
        first_id, second_id = first.node_id(), second.node_id()

        def met():
            views = tables(cluster)
            a = {n.node_id: n for n in views[first.name]}
            b = {n.node_id: n for n in views[second.name]}
            return (second_id in a and first_id in b
                    and not any("handshake" in n.flags for n in (a[second_id], b[first_id])))

        took = wait_for(met, 15, f"{first.name} and {second.name} know each other", cluster)
        print(f"[heal] half-done creation in place: {first.name} (epoch 1, 0-5460) met "
              f"{second.name} (epoch 2, 5461-10922) after {took:.1f}s; shard 2 untouched",
              flush=True)

        # The creator's redis-server crashes and comes back with its nodes.conf.
        first.restart(crash=True)
        check(first.node_id() == first_id, f"{first.name}: came back as a new node")
        mine = {n.node_id: n for n in tables(cluster)[first.name]}
        check(mine[first_id].slots == [(0, 5460)] and second_id in mine,
              f"{first.name}: nodes.conf lost the half-done creation after the crash:\n"
              f"{first.command('CLUSTER', 'NODES')}")

        started = time.monotonic()
        runs = cluster.bootstrap_all(timeout=40)
        cluster.wait_bootstraps(runs, timeout=50)
        print(f"[heal] all {len(runs)} bootstraps exited 0 after "
              f"{time.monotonic() - started:.1f}s", flush=True)
        healed(cluster, "the creator died halfway")
        check(first.node_id() == first_id and second.node_id() == second_id,
              "a half-created master changed its node ID")
        cluster.write_keys(KEYS)
        keys_intact(cluster, "finishing the half-done creation")


if __name__ == "__main__":
    itest.run(main)
