#!/usr/bin/env python3
"""Heal (issue 3): in a healthy 3x1 cluster formed by `bootstrap`, a master restarts (clean
stop, same address, nodes.conf and AOF kept) and is back well within the node timeout, before
any failover can start; its bootstrap runs again. It must still be the master of its shard's
slots (creation layout), its replica linked to it, every key intact.

The node timeout is 5 s here (not 2 s): a clean stop plus start must fit inside it with margin
on a loaded 2-core machine, or the replica would legitimately fail over.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import form, healed, keys_intact, rebootstrap, role  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed  # noqa: E402


def main() -> None:
    with TestBed("heal_master_restart") as bed:
        cluster = form(bed, node_timeout_ms=5000)
        master, replica = cluster.pod(0, 0), cluster.pod(0, 1)
        node_id = master.node_id()
        started = time.monotonic()
        master.restart(crash=False)
        down_for = time.monotonic() - started
        print(f"[heal_master_restart] {master.name} answered again after {down_for:.1f}s",
              flush=True)
        check(down_for < 4.0, f"{master.name} took {down_for:.1f}s to restart: a failover may "
                              f"legitimately have started (bed too slow)")
        check(master.node_id() == node_id, f"{master.name}: came back as a new node")
        rebootstrap(master)
        healed(cluster, f"{master.name} restarted")  # creation layout: shard 0 on pod 0-0
        check(role(master)["role"] == "master", f"{master.name}: no longer a master")
        check(role(replica)["master_host"] == master.ip, f"{replica.name}: not linked to "
                                                          f"{master.name}")
        keys_intact(cluster, f"{master.name} restarted")


if __name__ == "__main__":
    itest.run(main)
