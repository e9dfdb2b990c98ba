#!/usr/bin/env python3
"""Heal (issue 3): a master moves to a new address (SIGKILL, new IP, nodes.conf and AOF kept)
and its replica's replication link is left pointing at the old address
(master_link_status:down); re-running the replica's bootstrap must repair it (CLUSTER
REPLICATE to the shard's current master): link up to the new address, keys intact.

How the stale link is provoked: the replica is told not to fail over
(cluster-replica-no-failover yes, so the shard keeps its master), the master stays down until
the other masters mark it FAIL, then comes back at its new address and runs its bootstrap
while the replica is frozen (SIGSTOP, released afterwards).
Redis updates a replica's replication target only when the master's own PING brings the new
address; when gossip from another node brings it first, the replica's table is corrected but
its link keeps the old address. That is a race: the test prints whether the link was actually
stale before the replica's bootstrap ran, and in every case requires the bootstrap to leave the
link up to the master's current address.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import (check_replicates, form, healed, keys_intact, rebootstrap, role, tables,
                  wait_for)  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed  # noqa: E402


def main() -> None:
    with TestBed("heal_stale_link") as bed:
        cluster = form(bed)
        master, replica = cluster.pod(1, 0), cluster.pod(1, 1)
        master_id, old_ip = master.node_id(), master.ip
        replica.command("CONFIG", "SET", "cluster-replica-no-failover", "yes")
        master.kill()

        def failed_everywhere():
            return all(any(n.node_id == master_id and "fail" in n.flags for n in nodes)
                       for name, nodes in tables(cluster).items())
        took = wait_for(failed_everywhere, 20, f"{master.name} marked FAIL by every node",
                        cluster)
        print(f"[heal_stale_link] {master.name} marked FAIL everywhere {took:.1f}s after the "
              f"crash", flush=True)
        # The replica is frozen (SIGSTOP) while the master comes back, so that the master's
        # own PING and the other masters' gossip about its new address wait in its sockets
        # together: whichever it reads first decides whether its link is repaired by Redis.
        os.kill(replica.server_pid(), signal.SIGSTOP)
        try:
            master.restart(crash=True, new_ip=True)  # already dead: new address, volume kept
            check(master.node_id() == master_id, f"{master.name}: came back as a new node")
            rebootstrap(master)
            time.sleep(1.0)  # the other masters gossip the new address to the frozen replica
        finally:
            os.kill(replica.server_pid(), signal.SIGCONT)
        # Give Redis time to repair the link by itself (it may, see above).
        time.sleep(3.0)
        repl = role(replica)
        stale = repl.get("master_host") != master.ip
        print(f"[heal_stale_link] before {replica.name}'s bootstrap: master_host "
              f"{repl.get('master_host')} (master now at {master.ip}, was {old_ip}), "
              f"master_link_status:{repl.get('master_link_status')} -> "
              f"{'STALE LINK REPRODUCED' if stale else 'Redis repaired the link by itself'}",
              flush=True)
        rebootstrap(replica)
        views = healed(cluster, f"{master.name} moved from {old_ip} to {master.ip} and "
                                f"{replica.name}'s bootstrap ran", timeout=20)
        check_replicates(views, replica, master)
        keys_intact(cluster, f"{master.name} moved")


if __name__ == "__main__":
    itest.run(main)
