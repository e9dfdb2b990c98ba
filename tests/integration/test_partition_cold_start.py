#!/usr/bin/env python3
"""Partition at cold start (harness issue): pods as network namespaces (IPv4); before any
bootstrap runs, the two pods of one shard are cut off from the other four (every packet
between the sides dropped silently; DNS answers both). Every pod's `bootstrap` starts at once.

While the partition holds, the minority must never form a cluster of its own: its pods hold no
slot and know no node of the other side, sampled every 100 ms from the first bootstrap on,
and no slot is ever claimed by two nodes anywhere. The partition is kept until the majority has
formed what it can (its masters serve their shards' slots and know each other) and every
minority bootstrap has gone through five observation rounds (each one a decision: to wait); then it heals, and every
bootstrap must exit 0 with the cluster in its exact creation shape and every key written
readable.

Twice: the minority without the pod that creates shard 0 (shard 2's pods), and with it (shard
0's pods).
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from cluster_check import parse_cluster_nodes  # noqa: E402
from itest import check  # noqa: E402
from resp import parse_info  # noqa: E402
from slots import shard_slot_range  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402

ROUND = re.compile(r"observation round (\d+)")  # the binary's debug line for each round
ROUNDS = 5  # rounds every minority bootstrap must have decided in before the partition heals
KEYS = 1000


def tables(pods) -> dict:
    """pod -> its parsed CLUSTER NODES, for the pods that answer."""
    views = {}
    for pod in pods:
        try:
            views[pod] = parse_cluster_nodes(pod.command("CLUSTER", "NODES", timeout=1.0))
        except OSError:
            pass
    return views


def double_claims(views: dict) -> list:
    """Slots that two different nodes claim, over every table read."""
    owner, doubles = {}, []
    for nodes in views.values():
        for node in nodes:
            for first, last in node.slots:
                for slot in range(first, last + 1):
                    if owner.setdefault(slot, node.node_id) != node.node_id:
                        doubles.append(slot)
    return sorted(set(doubles))


def minority_problems(minority, majority, views: dict) -> list:
    """What would make the minority a cluster of its own: a slot, or a node of the majority."""
    majority_ips = {pod.ip for pod in majority}
    problems = []
    for pod in minority:
        for node in views.get(pod, []):
            if node.slots:
                problems.append(f"{pod.name} sees node {node.node_id[:12]} holding {node.slots}")
            if node.ip in majority_ips:
                problems.append(f"{pod.name} knows {node.ip} of the majority")
    return problems


def majority_formed(cluster, majority, minority_shard, views: dict) -> bool:
    """The majority's masters serve their own shards' slots and know each other."""
    masters = [cluster.pod(s, 0) for s in range(cluster.shards) if s != minority_shard]
    ids = {}
    for master in masters:
        me = next((n for n in views.get(master, []) if "myself" in n.flags), None)
        if me is None or me.slots != [shard_slot_range(master.shard, cluster.shards)]:
            return False
        ids[master] = me.node_id
    return all({n.node_id for n in views[m]} >= set(ids.values()) for m in masters)


def rounds(run) -> int:
    """How many observation rounds `run` has completed (each ends in a decision, logged when it
    changes)."""
    return max((int(n) for n in ROUND.findall(run.stderr)), default=0)


def round_with_minority(minority_shard: int) -> None:
    name = f"partition_cold_start_{minority_shard}"
    with TestBed(name, network="ipv4") as bed:
        cluster = bed.cluster(3, 1, node_timeout_ms=2000)
        cluster.start()
        minority = cluster.shard_pods(minority_shard)
        majority = [pod for pod in cluster.pods if pod not in minority]
        bed.partition(minority)
        runs = cluster.bootstrap_all(timeout=90)
        minority_runs = [run for run in runs if run.pod in minority]
        started, samples = time.monotonic(), 0
        deadline = started + 60
        while True:
            views = tables(cluster.pods)
            samples += 1
            problems = minority_problems(minority, majority, views)
            doubles = double_claims(views)
            check(not problems, f"{name}: the minority formed a cluster of its own: {problems}\n"
                                f"{cluster.nodes_report()}")
            check(not doubles, f"{name}: slots claimed twice: {doubles[:10]}...\n"
                               f"{cluster.nodes_report()}")
            exited = [run for run in minority_runs if run.poll() is not None]
            check(not exited, f"{name}: a minority bootstrap ended during the partition:\n"
                              f"{exited[0].describe() if exited else ''}")
            if (majority_formed(cluster, majority, minority_shard, views)
                    and all(rounds(run) >= ROUNDS for run in minority_runs)):
                break
            check(time.monotonic() < deadline,
                  f"{name}: the majority did not form, or the minority did not wait, in 60s "
                  f"(minority rounds {[rounds(r) for r in minority_runs]})\n{cluster.nodes_report()}")
            time.sleep(0.1)
        held = time.monotonic() - started
        print(f"[{name}] partition held {held:.1f}s ({samples} samples): the majority formed, "
              f"the minority's bootstraps went {[rounds(r) for r in minority_runs]} rounds "
              f"without a slot", flush=True)
        bed.heal()
        healed_at = time.monotonic()
        cluster.wait_bootstraps(runs, timeout=90)
        converged = time.monotonic() - healed_at
        check_cluster(cluster)
        cluster.write_keys(KEYS)
        check(cluster.count_keys() == KEYS, f"{name}: keys not all readable")
        print(f"[{name}] one cluster, exact shape, {converged:.1f}s after the partition healed",
              flush=True)
        for pod in cluster.pods:
            info = parse_info(pod.command("CLUSTER", "INFO"))
            check(info["cluster_known_nodes"] == "6", f"{pod.name}: {info['cluster_known_nodes']} known nodes")


def main() -> None:
    itest.require_network("ipv4")
    round_with_minority(2)
    round_with_minority(0)


if __name__ == "__main__":
    itest.run(main)
