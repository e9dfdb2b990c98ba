#!/usr/bin/env python3
"""A pod of a 3x1 cluster run through `redis-cluster-init run` crashes (SIGKILL to its whole
process group: supervisor and redis-server) and Kubernetes brings it back at a new address:
its DNS record is rewritten and it starts again through `run`, its volume (nodes.conf,
appendonly files) kept. First a replica, then a master, then every pod at once (so that no
node's nodes.conf holds a valid address for any peer). Each time the cluster must heal with no
other help: every node's table has the pod at its new address with links connected, replicas
linked to their master's current address, the creation layout kept, every key still there.

AOF is on (appendonly yes) so that a master killed with SIGKILL comes back with its data: a
master without persistence would come back empty and its replica would follow it (that is
Redis, not the binary). Every supervisor reconciles every 3 s (--reconcile-interval) so that
repairs which need a peer's maintenance pass happen within the test.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from testbed import ClusterCheckError, TestBed, check_cluster  # noqa: E402

KEYS = 1000
# After a full restart, an entry a node holds for another shard's replica at its old address is
# corrected by gossip only once Redis marks it PFAIL, a node timeout later: 5 s keeps the test
# short, and is still long enough that no failover starts while a pod is down for a moment.
NODE_TIMEOUT_MS = 5000


def check_healed(cluster, what: str, timeout=30.0) -> None:
    try:
        check_cluster(cluster, timeout=timeout)
    except ClusterCheckError as error:
        raise ClusterCheckError(f"after {what}: {error}\nCLUSTER NODES as each pod sees it:\n"
                                f"{cluster.nodes_report()}") from None


def crash_and_move(cluster, pod) -> None:
    old_ip = pod.ip
    node_id = pod.node_id()
    started = time.monotonic()
    pod.restart(crash=True, new_ip=True)  # SIGKILL to the group; new IP published; `run` again
    check(pod.node_id() == node_id, f"{pod.name}: came back as a new node ({pod.node_id()}, "
                                    f"was {node_id}): its nodes.conf was not used")
    what = f"{pod.name} moved from {old_ip} to {pod.ip}"
    check_healed(cluster, what)
    print(f"[restart_new_ip] healed {time.monotonic() - started:.1f}s after {what}", flush=True)
    counted = cluster.count_keys()
    check(counted == KEYS, f"after {what}: the masters hold {counted} keys, expected {KEYS}")
    cluster.wait_replicas_synced()


def crash_and_move_all(cluster) -> None:
    """Every pod crashes and every pod comes back at a new address, all at once: no node's
    nodes.conf holds a valid address for any peer, so only DNS can bring them together."""
    ids = {pod.name: pod.node_id() for pod in cluster.pods}
    for pod in cluster.pods:
        pod.kill()
    for pod in cluster.pods:
        pod.ip = cluster.bed.allocate_ip()
        pod.publish()
    started = time.monotonic()
    for pod in cluster.pods:
        pod.start(wait=False)  # through `run`, with the options it was first started with
    for pod in cluster.pods:
        pod.wait_ready()
    for pod in cluster.pods:
        check(pod.node_id() == ids[pod.name], f"{pod.name}: came back as a new node")
    what = "every pod moved at once"
    check_healed(cluster, what)
    print(f"[restart_new_ip] healed {time.monotonic() - started:.1f}s after {what}", flush=True)
    counted = cluster.count_keys()
    check(counted == KEYS, f"after {what}: the masters hold {counted} keys, expected {KEYS}")
    cluster.wait_replicas_synced()


def main() -> None:
    with TestBed("run_restart_new_ip") as bed:
        cluster = bed.cluster(3, 1, redis_config=["appendonly yes"],
                              node_timeout_ms=NODE_TIMEOUT_MS)
        cluster.start_supervised(run_args=["--reconcile-interval", "3"])
        check_cluster(cluster, timeout=30)
        cluster.write_keys(KEYS)
        cluster.wait_replicas_synced()
        crash_and_move(cluster, cluster.pod(1, 1))  # a replica
        crash_and_move(cluster, cluster.pod(2, 0))  # a master
        crash_and_move_all(cluster)                   # a full restart, every address new
        for pod in cluster.pods:
            check(pod.supervisor.poll() is None, f"{pod.name}: supervisor exited\n"
                                                 f"{pod.supervisor.describe()}")


if __name__ == "__main__":
    itest.run(main)
