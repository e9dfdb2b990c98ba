#!/usr/bin/env python3
"""Identity at cold start: one pod's DNS record points at a node of another cluster.

Cluster B (3x0, namespace "b") is formed first. Then cluster A (3x1, namespace "a") starts
cold, but the record of A's redis-shard2-1 points at B's redis-shard0-0, a master serving
slots 0-5460 whose table does not contradict A's (A has none yet). The node there announces
B's pod name, not A's: A's pods must not count it in their quorum, must not read its table as
a holder of A's slots (A's shard 0 claims 0-5460 all the same) and must never MEET it. A's
other five bootstraps converge; B is unchanged (3 known nodes, its epochs and slots); no node
of either cluster knows one of the other. Then the record is corrected, A's redis-shard2-1
starts, its bootstrap joins, and A is whole.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import tables  # noqa: E402
from itest import check  # noqa: E402
from resp import parse_info  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402


def node_ids(cluster) -> set:
    return {pod.node_id() for pod in cluster.pods if pod.running}


def foreign_known(cluster, foreign_ids) -> list:
    return [f"{name} knows {n.node_id} at {n.ip}" for name, nodes in tables(cluster).items()
            for n in nodes if n.node_id in foreign_ids]


def main() -> None:
    with TestBed("identity_foreign_record") as bed:
        b = bed.cluster(3, 0, namespace="b", node_timeout_ms=2000)
        b.start()
        b.wait_bootstraps(b.bootstrap_all(timeout=40), timeout=50)
        check_cluster(b, timeout=30)
        b_before = {pod.name: pod.command("CLUSTER", "NODES") for pod in b.pods}
        b_ids = node_ids(b)

        a = bed.cluster(3, 1, namespace="a", node_timeout_ms=2000)
        stale, foreign = a.pod(2, 1), b.pod(0, 0)
        others = [pod for pod in a.pods if pod is not stale]
        a.start(others)
        bed.dns.set_record(stale.dns_name, foreign.ip)
        print(f"[identity] a/{stale.name}'s record -> {foreign.ip} (b/{foreign.name}, "
              f"node {foreign.node_id()[:8]}, slots 0-5460)", flush=True)

        runs = a.bootstrap_all(others, timeout=40)
        a.wait_bootstraps(runs, timeout=50)
        print(f"[identity] a: the five other bootstraps converged, slowest "
              f"{max(r.elapsed for r in runs):.1f}s", flush=True)
        warned = [run for run in runs
                  if f"pod {stale.name}'s address {foreign.ip}:{foreign.port} answers as node" in run.stderr]
        check(warned, "no bootstrap of a reported the foreign node at a/" + stale.name
              + "'s address\n" + runs[0].describe(40))
        for run in runs:
            check(f"CLUSTER MEET {foreign.ip} " not in run.stderr,
                  f"{run.pod.name} MEETs the foreign node:\n{run.describe(60)}")
        owner = a.pod(0, 0).command("CLUSTER", "NODES")
        check("0-5460" in next(line for line in owner.splitlines() if "myself" in line),
              f"a's shard 0 did not claim 0-5460 (the foreign holder was read as a holder):\n{owner}")

        time.sleep(2.0)  # a node timeout: a MEET that slipped through would have spread by now
        a_ids = node_ids(a)
        merged = foreign_known(a, b_ids) + foreign_known(b, a_ids)
        check(not merged, "the clusters merged:\n" + "\n".join(merged))
        for pod in b.pods:
            info = parse_info(pod.command("CLUSTER", "INFO"))
            check(info.get("cluster_known_nodes") == "3" and info.get("cluster_state") == "ok",
                  f"b/{pod.name} changed: {info}")
            def ids_and_slots(text):
                return sorted(f"{line.split()[0]} {' '.join(line.split()[8:])}" for line in text.splitlines())
            before = ids_and_slots(b_before[pod.name])
            now = ids_and_slots(pod.command("CLUSTER", "NODES"))
            check(before == now, f"b/{pod.name}'s slots changed:\n{before}\n{now}")

        stale.publish()
        stale.start()
        a.wait_bootstraps([stale.bootstrap(timeout=40)], timeout=50)
        check_cluster(a, timeout=30)
        print("[identity] record corrected: a is whole, b untouched", flush=True)


if __name__ == "__main__":
    itest.run(main)
