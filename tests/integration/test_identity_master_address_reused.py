#!/usr/bin/env python3
"""Identity while healing: a replica's shard master is down and its address (its DNS record)
now leads to another shard's node. The node answering there announces redis-shard1-0's name,
not redis-shard0-0's, so redis-shard0-1's bootstrap must not take it for its shard's master: it
must not REPLICATE it (that would move the replica to shard 1 and leave shard 0 without a
copy). It waits, saying why, and keeps replicating shard 0's master. Once redis-shard0-0 is
back at its own address, the bootstrap converges and every key is there.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import form, healed, keys_intact, role  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed  # noqa: E402


def main() -> None:
    with TestBed("identity_master_address_reused") as bed:
        # A long node timeout: no failover while the master is away.
        cluster = form(bed, node_timeout_ms=30000)
        master, replica, elsewhere = cluster.pod(0, 0), cluster.pod(0, 1), cluster.pod(1, 0)
        master_id = master.node_id()
        master.stop()
        bed.dns.set_record(master.dns_name, elsewhere.ip)
        print(f"[identity] {master.name} stopped; its record -> {elsewhere.ip} ({elsewhere.name}'s node)",
              flush=True)

        run = replica.launch("bootstrap", timeout=3)
        status = run.wait(20)
        check(status == 1, f"{replica.name}'s bootstrap exited {status}, want 1 (waiting):\n{run.describe(60)}")
        check("CLUSTER REPLICATE" not in run.stderr,
              f"{replica.name} was sent to another shard's node:\n{run.describe(60)}")
        check("not this pod" in run.stderr or "a stale DNS record or a reused address" in run.stderr,
              f"{replica.name}'s bootstrap does not say who answers at its master's address:\n{run.describe(60)}")
        info = role(replica)
        check(info.get("role") == "slave" and info.get("master_host") == master.ip,
              f"{replica.name} no longer replicates {master.ip}: {info}")
        myself = next(line for line in replica.command("CLUSTER", "NODES").splitlines() if "myself" in line)
        check(myself.split()[3] == master_id, f"{replica.name} replicates {myself.split()[3]}, not {master_id}")

        master.publish()
        master.start()
        run = replica.launch("bootstrap", timeout=40)
        check(run.wait(50) == 0, f"{replica.name}'s bootstrap after the master returned:\n{run.describe(60)}")
        healed(cluster, "the master back at its address")
        keys_intact(cluster, "the master back at its address")


if __name__ == "__main__":
    itest.run(main)
