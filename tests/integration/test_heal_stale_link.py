#!/usr/bin/env python3
"""Heal (issue 3): a replica's replication link is left pointing at its master's old address
(master_link_status:down) although its cluster table has the master's new one; re-running the
replica's bootstrap must repair it (CLUSTER REPLICATE to the shard's current master): link up
to the new address, keys intact.

Where a stale link comes from (cluster.c, Redis 7.0): a replica re-points its replication only
when its master's own PING, arriving on a connection the master opened, carries a new address.
When gossip from another node brings the new address first (it does so only for a node that
is failing in the replica's view), the table is corrected but the replication link is not;
the master's PING that follows then carries no news. The node drain that provokes it:
  1. the master's pod dies; the other nodes mark it FAIL (no failover: the replicas are set
     with cluster-replica-no-failover, so the shard keeps its master);
  2. the replica's pod comes back at a new address (nodes.conf kept): the master's nodes.conf
     now holds a dead address for it;
  3. the master's pod comes back at a new address. It PINGs the other masters; once they
     see it healthy (Redis clears a returning master's FAIL a while after the crash), they
     gossip its new address to the replica. The master itself cannot reach the replica until
     the replica PINGs it, unless it learns the replica's address by gossip first, which Redis
     does only for a node it sees failing, a node timeout after its start. To take that race
     out, the master's node timeout is long (60 s) when it comes back.
The test requires the stale link to be there before the replica's bootstrap runs (otherwise it
would not test the repair) and the link to be up to the master's new address after it.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import (PERSISTENT, check_replicates, form, healed, keys_intact, rebootstrap, role,
                  tables, wait_for)  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed  # noqa: E402


def address_in_table(pod, node_id):
    """The ip of node_id in pod's own table, or None."""
    node = next((n for n in tables_of(pod) if n.node_id == node_id), None)
    return node.ip if node else None


def tables_of(pod):
    return tables(pod.cluster)[pod.name]


def main() -> None:
    with TestBed("heal_stale_link") as bed:
        cluster = form(bed, redis_config=PERSISTENT + ["cluster-replica-no-failover yes"])
        master, replica = cluster.pod(1, 0), cluster.pod(1, 1)
        master_id, master_old_ip = master.node_id(), master.ip

        master.kill()
        took = wait_for(lambda: all(any(n.node_id == master_id and "fail" in n.flags
                                        for n in nodes) for nodes in tables(cluster).values()),
                        20, f"{master.name} marked FAIL by every node", cluster)
        print(f"[{bed.name}] {master.name} marked FAIL everywhere {took:.1f}s after the crash",
              flush=True)

        replica.restart(new_ip=True)  # clean stop, nodes.conf kept; no bootstrap yet
        print(f"[{bed.name}] {replica.name} back at {replica.ip}", flush=True)

        master.ip = bed.allocate_ip()
        master.redis_config = ["cluster-node-timeout 60000"]
        master.publish()
        master.start(wait=True)
        check(master.node_id() == master_id, f"{master.name}: came back as a new node")
        took = wait_for(lambda: address_in_table(replica, master_id) == master.ip, 20,
                        f"{replica.name} learns {master.name}'s address {master.ip}", cluster,
                        interval=0.02)
        print(f"[{bed.name}] {replica.name} learned {master.name}'s new address {took:.1f}s "
              f"after it started", flush=True)
        wait_for(lambda: address_in_table(master, replica.node_id()) == replica.ip, 15,
                 f"{master.name} learns {replica.name}'s address {replica.ip}", cluster)
        rebootstrap(master)
        repl = role(replica)
        print(f"[{bed.name}] before {replica.name}'s bootstrap: master_host "
              f"{repl.get('master_host')} (master now at {master.ip}, was {master_old_ip}), "
              f"master_link_status:{repl.get('master_link_status')}", flush=True)
        check(repl.get("master_host") == master_old_ip
              and repl.get("master_link_status") == "down",
              f"{replica.name}: the stale link was not provoked (replication {repl}), so its "
              f"repair cannot be tested")

        rebootstrap(replica)
        repl = role(replica)
        check(repl.get("master_host") == master.ip,
              f"{replica.name}: still replicates {repl.get('master_host')} after its bootstrap")
        views = healed(cluster, f"{master.name} moved from {master_old_ip} to {master.ip} and "
                                f"{replica.name}'s bootstrap ran", timeout=20)
        check_replicates(views, replica, master)
        keys_intact(cluster, f"{master.name} and {replica.name} moved")


if __name__ == "__main__":
    itest.run(main)
