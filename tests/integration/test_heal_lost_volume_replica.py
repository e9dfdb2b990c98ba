#!/usr/bin/env python3
"""Heal (issue 3): in a healthy 3x1 cluster formed by `bootstrap`, a replica (ordinal 1) loses
its volume: it crashes and comes back with no nodes.conf and no data (a new node ID), same
address, and its bootstrap runs. It must join as a replica of its shard's master (link up, in
sync), with every slot untouched and every key present, and its former node ID (recognised by
the pod name it announced) must leave every node's table.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import (check_replicates, form, healed_but_ghost, keys_intact, rebootstrap,
                  wait_forgotten)  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed  # noqa: E402
from cluster_check import check_cluster  # noqa: E402


def main() -> None:
    with TestBed("heal_lost_volume_replica") as bed:
        cluster = form(bed)
        replica, master = cluster.pod(1, 1), cluster.pod(1, 0)
        owners_before = cluster.slot_owners()
        old_id = replica.node_id()
        replica.restart(crash=True, keep_nodes_conf=False, keep_data=False)
        check(replica.node_id() != old_id, f"{replica.name}: kept its node ID without a nodes.conf")
        check(replica.command("DBSIZE") == 0, f"{replica.name}: data survived keep_data=False")
        rebootstrap(replica)
        what = f"{replica.name} lost its volume"
        views = healed_but_ghost(cluster, old_id, what)
        check_replicates(views, replica, master)
        check(cluster.slot_owners() == owners_before, "slot owners changed")
        keys_intact(cluster, what)
        # Forgotten on every node, within Redis' 60 s ban window.
        wait_forgotten(cluster, old_id, replica.name)
        check_cluster(cluster, timeout=10)


if __name__ == "__main__":
    itest.run(main)
