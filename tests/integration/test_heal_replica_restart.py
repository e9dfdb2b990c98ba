#!/usr/bin/env python3
"""Heal (issue 3): in a healthy 3x1 cluster formed by `bootstrap`, a replica restarts (clean
stop) with its nodes.conf at the same address, and its bootstrap runs again: it must be a
replica of its shard's current master, link up, node ID kept, every key intact.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import form, healed, keys_intact, rebootstrap, role  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed  # noqa: E402


def main() -> None:
    with TestBed("heal_replica_restart") as bed:
        cluster = form(bed)
        replica, master = cluster.pod(1, 1), cluster.pod(1, 0)
        node_id = replica.node_id()
        replica.restart(crash=False)
        check(replica.node_id() == node_id, f"{replica.name}: came back as a new node")
        rebootstrap(replica)
        healed(cluster, f"{replica.name} restarted at the same address")
        repl = role(replica)
        check(repl["role"] == "slave" and repl["master_host"] == master.ip,
              f"{replica.name}: {repl.get('role')} of {repl.get('master_host')}, expected a "
              f"replica of {master.name} at {master.ip}")
        keys_intact(cluster, f"{replica.name} restarted")
        check(replica.command("DBSIZE") == master.command("DBSIZE"), "replica not in sync")


if __name__ == "__main__":
    itest.run(main)
