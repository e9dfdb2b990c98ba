#!/usr/bin/env python3
"""Heal (issue 3): in a healthy 3x1 cluster formed by `bootstrap`, a replica (ordinal 1) loses
its volume: it crashes and comes back with no nodes.conf and no data (a new node ID), same
address, and its bootstrap runs. It must join as a replica of its shard's master (link up, in
sync), with every slot untouched and every key present.

The old node ID (a ghost) is NOT required to be forgotten (not implemented yet): the check
ignores the problems it causes (an unknown node in the tables, one node too many) and the test
prints whether each node still holds it.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import form, healed, keys_intact, rebootstrap, role, tables, wait_for  # noqa: E402,F401
from itest import check  # noqa: E402
from testbed import TestBed  # noqa: E402
from cluster_check import check_cluster, cluster_problems, observe_pod  # noqa: E402


def check_ignoring_ghost(cluster, ghost_id, timeout=30.0):
    """check_cluster's verdict, minus what only the ghost entry causes."""
    total = cluster.shards * (cluster.replicas + 1)
    deadline = time.monotonic() + timeout
    while True:
        views = [observe_pod(pod, password=cluster.password) for pod in cluster.pods]
        problems = [p for p in cluster_problems(cluster, views, creation_layout=True)
                    if not (f"unknown node {ghost_id[:12]}" in p
                            or f"cluster_known_nodes:{total + 1}," in p)]
        if not problems:
            return views
        if time.monotonic() >= deadline:
            raise AssertionError(f"not healed after {timeout}s:\n  " + "\n  ".join(problems)
                                 + f"\nCLUSTER NODES as each pod sees it:\n"
                                 f"{cluster.nodes_report()}")
        time.sleep(0.05)


def main() -> None:
    with TestBed("heal_lost_volume_replica") as bed:
        cluster = form(bed)
        replica, master = cluster.pod(1, 1), cluster.pod(1, 0)
        owners_before = cluster.slot_owners()
        old_id = replica.node_id()
        replica.restart(crash=True, keep_nodes_conf=False, keep_data=False)
        new_id = replica.node_id()
        check(new_id != old_id, f"{replica.name}: kept its node ID without a nodes.conf")
        check(replica.command("DBSIZE") == 0, f"{replica.name}: data survived keep_data=False")
        rebootstrap(replica)
        started = time.monotonic()
        views = check_ignoring_ghost(cluster, old_id)
        print(f"[heal_lost_volume_replica] healed (ghost aside) after "
              f"{time.monotonic() - started:.1f}s of checking", flush=True)
        me = next(v for v in views if v.pod is replica).myself
        check(not me.is_master and me.master_id == master.node_id() and not me.slots,
              f"{replica.name}: expected a replica of {master.name}, is {me.flags} of "
              f"{me.master_id}")
        repl = role(replica)
        check(repl["master_host"] == master.ip and repl["master_link_status"] == "up",
              f"{replica.name}: replication {repl}")
        check(cluster.slot_owners() == owners_before, "slot owners changed")
        keys_intact(cluster, f"{replica.name} lost its volume")
        # The bootstrap recognised the old ID (it announced this pod's name) and forgot it on
        # every node: it must be gone from every table, within Redis' 60 s ban window.
        deadline = time.monotonic() + 10
        while True:
            holders = [pod_name for pod_name, nodes in tables(cluster).items()
                       if any(n.node_id == old_id for n in nodes)]
            if not holders:
                break
            check(time.monotonic() < deadline,
                  f"old node ID {old_id[:12]} of {replica.name} still in the tables of "
                  f"{', '.join(holders)}\n{cluster.nodes_report()}")
            time.sleep(0.05)
        check_cluster(cluster, timeout=10)

if __name__ == "__main__":
    itest.run(main)
