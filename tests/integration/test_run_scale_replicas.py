#!/usr/bin/env python3
"""REPLICAS 1 -> 2 -> 1 on a live 3x1 cluster with keys, every pod under `run`, as a user does it
in Kubernetes: edit REPLICAS in each shard's StatefulSet (which restarts its pods, a rolling
update, and creates or deletes the pods with the ordinals above it).

1. Scale out to 2: the new pods redis-shard<S>-2 start (new addresses, listed by SRV) and join
   as replicas of their shard's master; the others are restarted with REPLICAS=2, per shard
   ordinal 2, 1, then 0. The cluster has the 3x2 shape, every key is there.
2. Scale in to 1 (SRV lists the 6 pods left). One pod is restarted with REPLICAS=1 while the
   ordinal-2 pods still run: it reports them as pods no longer expected that still run, and
   forgets none (every table still lists them). Then they are stopped and deleted (DNS records
   gone): that pod's next maintenance pass forgets their three node IDs on every node. The
   others are restarted with REPLICAS=1; at the end cluster_known_nodes is 6 on every node, no
   table lists a departed node, the cluster has the 3x1 shape, every key is there.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from resp import parse_info  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402
from waiting import wait_until, wait_until_none  # noqa: E402

KEYS = 1000
RECONCILE_INTERVAL = 3


def rolling_restart(cluster) -> None:
    """Every pod restarted (same address, same volume), highest ordinal first per shard, as a
    StatefulSet update does; each time the cluster must be whole again before the next."""
    for shard in range(cluster.shards):
        for pod in reversed(cluster.shard_pods(shard)):
            pod.restart()
            check_cluster(cluster, timeout=40, creation_layout=False)


def known_ids(pod) -> set:
    return {line.split()[0] for line in pod.command("CLUSTER", "NODES").splitlines() if line.strip()}


def check_keys(cluster, what) -> None:
    counted = cluster.count_keys()
    check(counted == KEYS, f"after {what}: the masters hold {counted} keys, not {KEYS}")


def scale_out(cluster) -> list:
    added = cluster.set_replicas(2)
    check(not added, f"test error: scaling out removed {added}")
    new_pods = [cluster.pod(shard, 2) for shard in range(cluster.shards)]
    cluster.start_supervised(new_pods)
    check_cluster(cluster, timeout=40, creation_layout=False)
    rolling_restart(cluster)
    cluster.wait_replicas_synced()
    check_keys(cluster, "scaling out to 2 replicas")
    ids = {pod.name: pod.node_id() for pod in new_pods}
    print(f"[scale] 3x1 -> 3x2: {', '.join(ids)} joined as replicas", flush=True)
    return new_pods


def known_nodes(pod) -> int:
    return int(parse_info(pod.command("CLUSTER", "INFO"))["cluster_known_nodes"])


def wait_for_log(pod, text, timeout) -> None:
    wait_until(lambda: text in pod.supervisor.stderr, timeout, f"{pod.name}: '{text}' in its log",
               interval=0.1, detail=pod.supervisor.describe)


def wait_forgotten(cluster, ids, timeout) -> float:
    def left():
        return [f"{pod.name} lists {sorted(found)}" for pod in cluster.pods
                if (found := known_ids(pod) & ids)]

    return wait_until_none(left, timeout, "departed nodes forgotten by every pod", interval=0.1,
                           detail=cluster.nodes_report)


def scale_in(cluster, departed) -> None:
    departed_ids = {pod.node_id() for pod in departed}
    removed = cluster.set_replicas(1)
    check(sorted(p.name for p in removed) == sorted(p.name for p in departed),
          f"test error: scaling in removed {removed}")
    # The update restarts a pod before the scale-in deletes the others: they still run, and
    # are reported, never forgotten.
    keeper = cluster.pod(0, 1)
    keeper.restart()
    wait_for_log(keeper, "its pod still runs; not forgetting it", timeout=30)
    for pod in cluster.pods + departed:
        check(departed_ids <= known_ids(pod), f"{pod.name}: forgot a departed pod that still runs")
    print("[scale] REPLICAS=1 while the ordinal-2 pods still run: reported, kept", flush=True)
    # The scale-in deletes them: the next maintenance pass of the pod already on REPLICAS=1
    # forgets them everywhere.
    for pod in departed:
        pod.stop()
        pod.unpublish()
    took = wait_forgotten(cluster, departed_ids, timeout=30)
    print(f"[scale] the 3 departed node IDs forgotten on all 6 nodes {took:.1f}s after their pods "
          f"stopped (maintenance pass every {RECONCILE_INTERVAL}s)", flush=True)
    rolling_restart(cluster)
    for pod in cluster.pods:
        check(known_nodes(pod) == 6 and not known_ids(pod) & departed_ids,
              f"{pod.name}: cluster_known_nodes {known_nodes(pod)}\n{cluster.nodes_report()}")
    check_keys(cluster, "scaling in to 1 replica")
    print(f"[scale] 3x2 -> 3x1: cluster_known_nodes 6 everywhere, {KEYS} keys", flush=True)


def main() -> None:
    with TestBed("run_scale_replicas") as bed:
        cluster = bed.cluster(3, 1, node_timeout_ms=5000)
        cluster.start_supervised(run_args=["--reconcile-interval", str(RECONCILE_INTERVAL)])
        check_cluster(cluster, timeout=30)
        cluster.write_keys(KEYS)
        cluster.wait_replicas_synced()
        departed = scale_out(cluster)
        scale_in(cluster, departed)


if __name__ == "__main__":
    itest.run(main)
