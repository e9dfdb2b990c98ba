#!/usr/bin/env python3
"""Heal: an address is reused by a node of another cluster. Cluster A (3x1, namespace "a") and
cluster B (3x0, namespace "b") are formed in the same bed by `bootstrap`. A's redis-shard2-1
stops and its DNS name then points at one of B's masters, as when B's pod got the address A's
pod had. `plan --json` as A's redis-shard0-0 must not MEET B's node and must warn of "another
cluster"; A's redis-shard0-0's `bootstrap` (A is converged) exits 0; afterwards no node of
either cluster knows a node ID of the other (they did not merge) and A's keys are all there.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import KEYS, PERSISTENT, rebootstrap, tables  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402


def form(bed, shards, replicas, namespace, keys):
    started = time.monotonic()
    cluster = bed.cluster(shards, replicas, namespace=namespace, node_timeout_ms=2000,
                          redis_config=list(PERSISTENT))
    cluster.start()
    runs = cluster.bootstrap_all(timeout=40)
    cluster.wait_bootstraps(runs, timeout=50)
    check_cluster(cluster, timeout=30)
    if keys:
        cluster.write_keys(keys)
        check(cluster.count_keys() == keys, f"{namespace}: keys not all written")
        cluster.wait_replicas_synced()
    print(f"[{bed.name}] {namespace}: {shards}x{replicas} formed, {keys} keys, in "
          f"{time.monotonic() - started:.1f}s", flush=True)
    return cluster


def ids(cluster) -> set:
    return {pod.node_id() for pod in cluster.pods if pod.running}


def known_foreign(cluster, foreign_ids) -> list:
    """(pod, node line) for every node of `foreign_ids` some running pod of `cluster` knows."""
    return [f"{name} knows {n.node_id} at {n.ip} ({','.join(sorted(n.flags))})"
            for name, nodes in tables(cluster).items() for n in nodes if n.node_id in foreign_ids]


def main() -> None:
    with TestBed("heal_foreign_node") as bed:
        a = form(bed, 3, 1, "a", KEYS)
        b = form(bed, 3, 0, "b", 0)
        a_ids, b_ids = ids(a), ids(b)
        check(not a_ids & b_ids, "the clusters share a node ID")

        gone, foreign, asker = a.pod(2, 1), b.pod(2, 0), a.pod(0, 0)
        gone.stop()
        bed.dns.set_record(gone.dns_name, foreign.ip)
        print(f"[heal] a/{gone.name} stopped; {gone.dns_name} -> {foreign.ip} "
              f"(b/{foreign.name}, node {foreign.node_id()})", flush=True)

        run = asker.run_binary("plan", timeout=30, extra_args=["--json"])
        status = run.poll()
        try:
            plan = json.loads(run.stdout)
        except ValueError:
            raise AssertionError(f"a/{asker.name}: `plan --json` printed no JSON (exit "
                                 f"{status})\n{run.describe(60)}") from None
        print(f"[heal] a/{asker.name} plan (exit {status}): {json.dumps(plan)}", flush=True)
        meets = [action for action in plan["actions"] if foreign.ip in json.dumps(action)]
        check(not meets, f"a/{asker.name}: plan acts on b/{foreign.name}'s address "
                         f"{foreign.ip}: {meets}")
        check(any("another cluster" in warning for warning in plan["warnings"]),
              f"a/{asker.name}: no warning mentions \"another cluster\": {plan['warnings']}\n"
              f"{run.describe(60)}")

        rebootstrap(asker)
        time.sleep(2.0)  # one node timeout: a MEET that slipped through would be gossip by now
        a_knows = known_foreign(a, b_ids)
        b_knows = known_foreign(b, a_ids)
        check(not a_knows and not b_knows,
              "the clusters merged:\n" + "\n".join(a_knows + b_knows)
              + f"\nA:\n{a.nodes_report()}\nB:\n{b.nodes_report()}")
        counted = a.count_keys()  # a's masters; its stopped replica is left out
        check(counted == KEYS, f"a's masters hold {counted} keys, expected {KEYS}")
        print(f"[heal] {counted} keys intact in a, b untouched", flush=True)
        check(b.count_keys() == 0, "b holds keys it was never given")


if __name__ == "__main__":
    itest.run(main)
