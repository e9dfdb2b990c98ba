#!/usr/bin/env python3
"""A shard loses every pod's data (both pods back empty, its slots held only by the failed ID of
its old master).

By default the shard's ordinal-0 bootstrap reports the unserved slots and changes nothing (exit 1
at its deadline, naming --recover-lost-slots). With --recover-lost-slots it forgets the dead ID
on every node and takes the range over, empty: the cluster is whole again, the other shards'
keys are all there, and the lost shard's keys are gone (they were already).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import KEYS, form, tables  # noqa: E402
from itest import check  # noqa: E402
from cluster_check import check_cluster  # noqa: E402
from slots import key_slot, shard_slot_range  # noqa: E402
from testbed import TestBed  # noqa: E402
from waiting import wait_until  # noqa: E402


def main() -> None:
    with TestBed("heal_lost_shard") as bed:
        cluster = form(bed)
        master, replica = cluster.pod(1, 0), cluster.pod(1, 1)
        first, last = shard_slot_range(1, 3)
        lost_keys = sum(1 for i in range(KEYS) if first <= key_slot(f"key:{i}") <= last)
        old_master_id = master.node_id()
        for pod in (master, replica):
            pod.kill()
        # Every surviving node must agree the old master failed before its pods come back.
        def failed_everywhere():
            views = tables(cluster)  # the running pods: shards 0 and 2
            return all(any(n.node_id == old_master_id and "fail" in n.flags for n in nodes)
                       for nodes in views.values())

        wait_until(failed_everywhere, 20, "the old master of shard 1 FAIL in every table",
                   interval=0.1, detail=cluster.nodes_report)
        for pod in (master, replica):
            pod.restart(keep_nodes_conf=False, keep_data=False)

        refused = master.bootstrap(timeout=4)
        status = refused.wait(30)
        check(status == 1, f"without --recover-lost-slots: exit {status}, expected 1\n{refused.describe(30)}")
        check("--recover-lost-slots" in refused.stderr, "the failure does not name --recover-lost-slots")
        check(master.command("CLUSTER", "INFO").find("cluster_state:ok") < 0, "shard 1 claimed without the flag")

        runs = [master.bootstrap(timeout=40, extra_args=("--recover-lost-slots",)), replica.bootstrap(timeout=40)]
        cluster.wait_bootstraps(runs, timeout=60)
        check("DATA LOSS ACCEPTED" in runs[0].stderr, "the recovery was not logged loudly")
        check_cluster(cluster, timeout=30)
        counted = cluster.count_keys()
        check(counted == KEYS - lost_keys,
              f"the masters hold {counted} keys; expected {KEYS - lost_keys} ({lost_keys} were in shard 1)")
        for pod_name, nodes in tables(cluster).items():
            check(all(n.node_id != old_master_id for n in nodes),
                  f"{pod_name} still lists the dead owner {old_master_id[:12]}")
        print(f"[heal_lost_shard] recovered shard 1 empty; {counted} keys of the other shards intact",
              flush=True)


if __name__ == "__main__":
    itest.run(main)
