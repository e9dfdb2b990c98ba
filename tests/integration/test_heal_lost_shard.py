#!/usr/bin/env python3
"""A shard loses every pod's data (both pods back empty, its slots held only by the failed ID of
its old master). One scenario per argument (both without one):

  created   a 3x1 cluster as creation left it; shard 1 is lost (its slots one contiguous range).
  scaled    a 3x1 cluster scaled out to 4 shards; shard 2 is lost. It kept 10923-15018, and
            its creation range of 4 shards, 8192-12287, is mostly shards 1's and 3's now: the
            old master is known by the pod name it announced, not by that range.

By default the shard's ordinal-0 bootstrap reports the unserved slots and changes nothing (exit 1
at its deadline, naming --recover-lost-slots). With --recover-lost-slots it forgets the dead ID
on every node and takes the slots over, empty: the cluster is whole again with the same layout,
the other shards' keys are all there, and the lost shard's keys are gone (they were already).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import KEYS, form, tables  # noqa: E402
from itest import check  # noqa: E402
from cluster_check import check_cluster  # noqa: E402
from slots import creation_slots, key_slot, layout_ranges, ranges_of, scaled_layout  # noqa: E402
from testbed import TestBed  # noqa: E402
from waiting import wait_until  # noqa: E402


def scaled_out(cluster) -> None:
    """Scales the 3x1 `cluster` out to 4 shards, as test_scale_shards does."""
    added = cluster.set_shards(4)
    cluster.layout = layout_ranges(scaled_layout(creation_slots(3), 4))
    cluster.start(added)
    cluster.wait_bootstraps([pod.bootstrap(timeout=60) for pod in cluster.pods], timeout=90)
    check_cluster(cluster, timeout=30, creation_layout=False)


def lose_and_recover(cluster, shard, name) -> None:
    master, replica = cluster.pod(shard, 0), cluster.pod(shard, 1)
    lost_slots = set(master.served_slots())
    lost_keys = sum(1 for i in range(KEYS) if key_slot(f"key:{i}") in lost_slots)
    keys_before = cluster.count_keys()
    old_master_id = master.node_id()
    for pod in (master, replica):
        pod.kill()
    # Every surviving node must agree the old master failed before its pods come back.
    def failed_everywhere():
        views = tables(cluster)  # the running pods: the other shards
        return all(any(n.node_id == old_master_id and "fail" in n.flags for n in nodes)
                   for nodes in views.values())

    wait_until(failed_everywhere, 20, f"the old master of shard {shard} FAIL in every table",
               interval=0.1, detail=cluster.nodes_report)
    for pod in (master, replica):
        pod.restart(keep_nodes_conf=False, keep_data=False)

    refused = master.bootstrap(timeout=4)
    status = refused.wait(30)
    check(status == 1, f"without --recover-lost-slots: exit {status}, expected 1\n{refused.describe(30)}")
    check("--recover-lost-slots" in refused.stderr, "the failure does not name --recover-lost-slots")
    check(master.command("CLUSTER", "INFO").find("cluster_state:ok") < 0, f"shard {shard} claimed without the flag")

    runs = [master.bootstrap(timeout=40, extra_args=("--recover-lost-slots",)), replica.bootstrap(timeout=40)]
    cluster.wait_bootstraps(runs, timeout=60)
    check("DATA LOSS ACCEPTED" in runs[0].stderr, "the recovery was not logged loudly")
    check_cluster(cluster, timeout=30, creation_layout=cluster.shards == 3)
    check(set(master.served_slots()) == lost_slots, f"{master.name} does not serve the lost shard's slots again")
    counted = cluster.count_keys()
    check(counted == keys_before - lost_keys,
          f"the masters hold {counted} keys; expected {keys_before - lost_keys} ({lost_keys} were in shard {shard})")
    for pod_name, nodes in tables(cluster).items():
        check(all(n.node_id != old_master_id for n in nodes),
              f"{pod_name} still lists the dead owner {old_master_id[:12]}")
    print(f"[{name}] recovered shard {shard} empty ({len(lost_slots)} slots in {len(ranges_of(lost_slots))} "
          f"ranges); {counted} keys of the other shards intact", flush=True)


def main() -> None:
    for scenario in itest.chosen_from_argv(["created", "scaled"], "scenario"):
        with TestBed(f"heal_lost_shard_{scenario}") as bed:
            cluster = form(bed)
            if scenario == "scaled":
                scaled_out(cluster)
            lose_and_recover(cluster, 2 if scenario == "scaled" else 1, f"heal_lost_shard {scenario}")


if __name__ == "__main__":
    itest.run(main)
