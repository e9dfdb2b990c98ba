#!/usr/bin/env python3
"""A master partitioned away (harness issue): a 3x1 cluster under `run` (node timeout 2 s), pods
as network namespaces (IPv4), a redis-py RedisCluster writer per shard recording every
acknowledged write. Shard 0's master loses its link (it reaches nothing, DNS included, and
nothing reaches it) and stays cut off while the majority fails it over to its replica and the
writers go on there; its `run` keeps running all along. Then the link comes back.

The old master must rejoin as a replica of the promoted node (link up, no slots), with no
ghost left (six nodes in every table, none failed), every pod's `run` still running, and the
writers' figures printed: acknowledged writes lost (Redis replicates asynchronously, so a
crash-like failover may lose the last writes shard 0's master acknowledged before the cut:
reported, not hidden; any other loss fails the test) and the longest gap without an
acknowledged write per shard.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import check_replicates, form, healed, wait_promoted  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed  # noqa: E402
from writer import AckedWriters  # noqa: E402


def main() -> None:
    itest.require_network("ipv4")
    with TestBed("partition_master", network="ipv4") as bed:
        cluster = form(bed, supervised=True)
        old_master, replica = cluster.pod(0, 0), cluster.pod(0, 1)
        with AckedWriters(cluster) as writers:
            writers.wait_for_progress(50, timeout=20)
            cut_at = time.monotonic()
            bed.isolate(old_master)
            wait_promoted(cluster, replica, after=f"{old_master.name} was cut off", timeout=30)
            writers.wait_for_progress(50, timeout=60)  # shard 0 is written on the new master
            check(old_master.supervisor.poll() is None,
                  f"{old_master.name}: `run` ended while cut off\n{old_master.supervisor.describe()}")
            bed.heal()
            healed_at = time.monotonic()
            views = healed(cluster, f"{old_master.name} came back from a partition",
                           timeout=60, creation_layout=False)
            rejoined = time.monotonic() - healed_at
            check_replicates(views, old_master, replica)
            writers.wait_for_progress(50, timeout=20)
        for pod in cluster.pods:
            check(pod.supervisor.poll() is None, f"{pod.name}: `run` ended\n{pod.supervisor.describe()}")
        print(f"[partition_master] rejoined as a replica {rejoined:.1f}s after the partition "
              f"healed", flush=True)
        writers.check_crash_losses("partition_master", "cut", cut_at, crashed_shard=0)


if __name__ == "__main__":
    itest.run(main)
