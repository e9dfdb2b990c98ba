"""Steps shared by the heal tests (tests/integration/test_heal_*.py): form a 3x1 cluster with a
short node timeout and AOF on, write keys, re-run a pod's bootstrap after a fault, and check the
cluster healed, with the evidence (every node's CLUSTER NODES and replication link, the
binary's output) in the failure message.
"""

import time

from cluster_check import (ClusterCheckError, check_cluster, cluster_problems, observe_pod,
                           parse_cluster_nodes)
from itest import check
from waiting import wait_until, wait_until_none

KEYS = 1000
# AOF with fsync on every write: a pod killed with SIGKILL comes back with every key it had.
PERSISTENT = ["appendonly yes", "appendfsync always"]


def form(bed, *, node_timeout_ms=2000, supervised=False, run_args=("--reconcile-interval", "3"),
         redis_config=PERSISTENT, keys=KEYS, tls=False, shards=3):
    """A healthy `shards`x1 cluster (by `bootstrap` for every pod, or under `run`; TLS-only
    servers when `tls`), keys written and replicated."""
    started = time.monotonic()
    cluster = bed.cluster(shards, 1, node_timeout_ms=node_timeout_ms,
                          redis_config=list(redis_config), tls=tls)
    if supervised:
        cluster.start_supervised(run_args=list(run_args))
    else:
        cluster.start()
        runs = cluster.bootstrap_all(timeout=60)
        cluster.wait_bootstraps(runs, timeout=75)
    check_cluster(cluster, timeout=30)
    cluster.write_keys(keys)
    check(cluster.count_keys() == keys, "keys not all written")
    cluster.wait_replicas_synced()
    print(f"[{bed.name}] {shards}x1 formed ({'run' if supervised else 'bootstrap'}), {keys} keys "
          f"written, in {time.monotonic() - started:.1f}s", flush=True)
    return cluster


def rebootstrap(pod, timeout=40):
    """Runs the pod's `bootstrap` to completion; raises with its output and every node's table
    unless it exits 0."""
    started = time.monotonic()
    run = pod.bootstrap(timeout=timeout)
    try:
        status = run.wait(timeout + 15)
    except TimeoutError:
        status = None
    if status != 0:
        raise AssertionError(f"{pod.name}: bootstrap exited {status}\n{run.describe(60)}\n"
                             f"CLUSTER NODES as each pod sees it:\n{pod.cluster.nodes_report()}")
    print(f"[heal] {pod.name} ({pod.ip}): bootstrap exit 0 after "
          f"{time.monotonic() - started:.1f}s", flush=True)
    return run


def healed(cluster, what, timeout=30.0, creation_layout=True):
    """check_cluster with every node's table in the message when it fails."""
    started = time.monotonic()
    try:
        views = check_cluster(cluster, timeout=timeout, creation_layout=creation_layout)
    except ClusterCheckError as error:
        raise ClusterCheckError(f"after {what}: {error}\nCLUSTER NODES as each pod sees it:\n"
                                f"{cluster.nodes_report()}\nlast binary runs:\n"
                                f"{last_runs(cluster)}") from None
    print(f"[heal] healed after {what} ({time.monotonic() - started:.1f}s of checking)",
          flush=True)
    return views


def healed_but_ghost(cluster, ghost_id, what, timeout=30.0, creation_layout=True):
    """healed(), minus the problems only a pod's former identity (ghost_id, unreachable, left
    in the tables after the pod lost its volume) causes: one unknown node, one node too many."""
    total = cluster.shards * (cluster.replicas + 1)
    views = []

    def problems():
        views[:] = [observe_pod(pod, password=cluster.password) for pod in cluster.pods]
        return [p for p in cluster_problems(cluster, views, creation_layout=creation_layout)
                if not (f"unknown node {ghost_id[:12]}" in p
                        or f"cluster_known_nodes:{total + 1}," in p)]

    took = wait_until_none(problems, timeout, f"after {what}: not healed",
                           detail=lambda: f"CLUSTER NODES as each pod sees it:\n"
                                          f"{cluster.nodes_report()}\nlast binary runs:\n"
                                          f"{last_runs(cluster)}")
    print(f"[heal] healed (ghost {ghost_id[:12]} aside) after {what} ({took:.1f}s of checking)",
          flush=True)
    return views


def wait_forgotten(cluster, node_id, whose, timeout=10.0) -> float:
    """Waits until no running pod's table holds node_id (the former identity of pod `whose`);
    returns how long it took."""
    def holders():
        return [name for name, nodes in tables(cluster).items()
                if any(n.node_id == node_id for n in nodes)]
    took = wait_for(lambda: not holders(), timeout,
                    f"old node ID {node_id[:12]} of {whose} forgotten by every node", cluster)
    print(f"[heal] old node ID {node_id[:12]} of {whose} gone from every table "
          f"{took:.1f}s later", flush=True)
    return took


def last_runs(cluster, lines=30) -> str:
    return "\n".join(pod.runs[-1].describe(lines) for pod in cluster.pods if pod.runs)


def keys_intact(cluster, what, keys=KEYS) -> None:
    """Every key form() wrote is there, read back from its slot's master (other keys, such as
    a writer's, may be there too), and every replica has caught up with its master."""
    missing = cluster.missing_keys(keys)
    check(not missing, f"after {what}: {len(missing)} of the {keys} keys written are not there "
                       f"as written: {missing[:10]}")
    cluster.wait_replicas_synced()
    print(f"[heal] {keys} keys intact after {what}", flush=True)


def check_replicates(views, pod, master) -> None:
    """`pod` is, in its own table, a slot-less replica of `master`'s node, and its replication
    link goes to `master`'s current address and is up. `views` come from healed()."""
    me = next(v for v in views if v.pod is pod).myself
    check(not me.is_master and me.master_id == master.node_id() and not me.slots,
          f"{pod.name}: expected a replica of {master.name}, is {me.flags} of {me.master_id} "
          f"with slots {me.slots}")
    repl = role(pod)
    check(repl["role"] == "slave" and repl["master_host"] == master.ip
          and repl["master_link_status"] == "up", f"{pod.name}: replication {repl}")


def role(pod) -> dict:
    return pod.info("replication")


def wait_promoted(cluster, replica, after: str, timeout=20.0) -> float:
    """Waits until Redis has promoted `replica` (after `after`, e.g. "the crash"), prints how
    long that took and returns it."""
    took = wait_for(lambda: role(replica)["role"] == "master", timeout,
                    f"{replica.name} promoted after {after}", cluster)
    print(f"[{cluster.bed.name}] {replica.name} promoted {took:.1f}s after {after}", flush=True)
    return took


def tables(cluster) -> dict:
    """pod name -> parsed CLUSTER NODES of its redis-server."""
    return {pod.name: parse_cluster_nodes(pod.command("CLUSTER", "NODES"))
            for pod in cluster.pods if pod.running}


def wait_for(predicate, timeout, what, cluster=None, interval=0.1) -> float:
    """Waits until predicate() is true (a server that does not answer yet counts as not yet);
    returns how long it took. The failure shows every pod's table when `cluster` is given."""
    _, took = wait_until(predicate, timeout, what, interval=interval,
                         tolerate=(OSError, ValueError, KeyError),
                         detail=(cluster.nodes_report if cluster is not None else None))
    return took


def full_restart(cluster, new_ips: dict, rng, max_delay=0.5, timeout=40):
    """Every pod stops cleanly (nodes.conf and AOF kept), takes the address new_ips[pod.name]
    (DNS records rewritten), then starts, in random order with random gaps, each followed at
    once by its bootstrap (bare pods) or through `run` (supervised pods). Returns the bootstrap
    runs (empty for supervised pods)."""
    ids = {pod.name: pod.node_id() for pod in cluster.pods}
    for pod in cluster.pods:
        pod.stop()
    for pod in cluster.pods:
        pod.unpublish()
    for pod in cluster.pods:
        pod.ip = new_ips[pod.name]
    order = list(cluster.pods)
    rng.shuffle(order)
    print(f"[heal] start order: {', '.join(f'{p.name}@{p.ip}' for p in order)}", flush=True)
    runs = []
    for pod in order:
        pod.publish()
        pod.start(wait=True)
        if not pod.supervised:
            runs.append(pod.bootstrap(timeout=timeout))
        time.sleep(rng.uniform(0, max_delay))
    for pod in cluster.pods:
        check(pod.node_id() == ids[pod.name], f"{pod.name}: came back as a new node")
    return runs


def full_restart_heals(cluster, new_ips: dict, rng, what: str):
    """full_restart() of bare pods, then: every bootstrap exits 0, the cluster heals (any pod
    of a shard may have become its master), every key is there. Returns healed()'s views."""
    name = cluster.bed.name
    started = time.monotonic()
    runs = full_restart(cluster, new_ips, rng)
    cluster.wait_bootstraps(runs, timeout=55)
    print(f"[{name}] every bootstrap exited 0, slowest {max(r.elapsed for r in runs):.1f}s",
          flush=True)
    views = healed(cluster, what, creation_layout=False)
    print(f"[{name}] healed {time.monotonic() - started:.1f}s after the first start; "
          f"masters: {', '.join(v.pod.name for v in views if v.myself.is_master)}", flush=True)
    keys_intact(cluster, what)
    return views
