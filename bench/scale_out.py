#!/usr/bin/env python3
"""Scale-out time: moving the keys of a 3x1 cluster to 4 shards, redis-cluster-init against
`redis-cli --cluster add-node` + `rebalance --cluster-use-empty-masters`, side by side on the
test bed (tests/testbed), on identical data.

For every run, in alternation (ours, redis-cli, ours, ...):
  1. a fresh bed: a 3x1 cluster formed by `bootstrap`, then --keys keys (key:0 .. key:N-1,
     each 16 bytes) written straight to their slots' masters and replicated;
  2. shard 3's two redis-servers started (empty), their DNS records and the SRV records
     published, as a StatefulSet for the new shard does;
  3. clock starts; then
       ours:      every pod's `bootstrap --shards 4` (all eight, at once, as a rolling update
                  restarts them); the clock stops when every one has exited 0, which each does
                  only once the layout of 4 shards holds;
       redis-cli: `add-node` of shard 3's ordinal 0 (empty master), `rebalance
                  --cluster-use-empty-masters`, then `add-node --cluster-slave
                  --cluster-master-id` of its replica (which needs the new master known: it is
                  by then); the clock stops when the last has exited 0;
  4. checks after the clock: every key there (read back from its slot's master), every
     master's keys inside its own slots, no slot left open; then the slots whose owner changed
     and the keys in them (counted by CRC16 here) are recorded.

    python3 bench/scale_out.py [--keys 200000] [--runs 3] [--binary PATH] [--concurrency N]
                               [--cli-pipeline N]

Both tools move keys in batches: ours --migration-batch (default 100 keys per MIGRATE),
redis-cli --cluster-pipeline (default 10; --cli-pipeline sets it). See bench/README.md.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "testbed"))

from cluster_check import parse_cluster_nodes  # noqa: E402
from slots import CLUSTER_SLOTS, key_slot  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402
from waiting import wait_until  # noqa: E402


def slot_owner_ids(pod) -> list:
    """The node ID serving each slot, from CLUSTER SLOTS of `pod`."""
    owners = [None] * CLUSTER_SLOTS
    for first, last, master, *_ in pod.command("CLUSTER", "SLOTS"):
        for slot in range(first, last + 1):
            owners[slot] = master[2]
    return owners


def form(bed, keys: int):
    cluster = bed.cluster(3, 1)
    cluster.start()
    cluster.wait_bootstraps(cluster.bootstrap_all(timeout=60), timeout=75)
    check_cluster(cluster, timeout=30)
    cluster.write_keys(keys)
    cluster.wait_replicas_synced(timeout=120)
    return cluster


def run_ours(cluster, added, concurrency: int) -> float:
    started = time.monotonic()
    env = {"MIGRATION_CONCURRENCY": str(concurrency)}
    runs = [pod.bootstrap(timeout=600, extra_env=env) for pod in cluster.pods]
    cluster.wait_bootstraps(runs, timeout=620)
    return time.monotonic() - started


def redis_cli(cluster, *args) -> None:
    argv = ["redis-cli", *cluster.redis_cli_args(), "--cluster", *args, "--cluster-yes"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")


def agreed(cluster, members, new_id) -> bool:
    """Whether every member's table lists every member (the new master `new_id` among them),
    none in handshake, each with the same slots: what redis-cli's cluster check requires."""
    views = set()
    for pod in members:
        table = parse_cluster_nodes(pod.command("CLUSTER", "NODES"))
        if len(table) != len(members) or any("handshake" in node.flags for node in table):
            return False
        view = frozenset((node.node_id, tuple(node.slots)) for node in table)
        views.add(view)
        if not any(node == new_id for node, _ in view):
            return False
    return len(views) == 1


def run_redis_cli(cluster, added, pipeline: int) -> float:
    new_master, new_replica = added
    entry = f"{cluster.pods[0].ip}:{cluster.pods[0].port}"
    started = time.monotonic()
    redis_cli(cluster, "add-node", f"{new_master.ip}:{new_master.port}", entry)
    # add-node returns once the MEET is sent, and rebalance (then add-node of the replica)
    # refuses to run until every node agrees on the configuration: each waits for gossip to
    # get there, as a script running them must.
    new_id = new_master.node_id()
    wait_until(lambda: agreed(cluster, [pod for pod in cluster.pods if pod is not new_replica], new_id), 60,
               "every node agreeing on the nodes and their slots", interval=0.01)
    redis_cli(cluster, "rebalance", entry, "--cluster-use-empty-masters", "--cluster-pipeline", str(pipeline))
    wait_until(lambda: agreed(cluster, [pod for pod in cluster.pods if pod is not new_replica], new_id), 60,
               "every node agreeing on the nodes and their slots", interval=0.01)
    # The replica last: add-node --cluster-master-id needs the new master known at the entry
    # node, which gossip has done by the end of the rebalance.
    redis_cli(cluster, "add-node", f"{new_replica.ip}:{new_replica.port}", entry, "--cluster-slave",
              "--cluster-master-id", new_id)
    return time.monotonic() - started


def one_run(tool: str, keys: int, run: int, pipeline: int, concurrency: int) -> dict:
    with TestBed(f"bench-scale-{tool}-{run}") as bed:
        cluster = form(bed, keys)
        before = slot_owner_ids(cluster.pods[0])
        added = cluster.set_shards(4)
        cluster.start(added)
        seconds = run_ours(cluster, added, concurrency) if tool == "ours" else run_redis_cli(cluster, added, pipeline)
        missing = cluster.missing_keys(keys)
        if missing:
            raise AssertionError(f"{tool}: {len(missing)} keys missing after the move: {missing[:5]}")
        misplaced = cluster.keys_outside_served_slots()
        if misplaced:
            raise AssertionError(f"{tool}: keys outside their master's slots: {misplaced}")
        after = slot_owner_ids(cluster.pods[0])
        changed = {slot for slot in range(CLUSTER_SLOTS) if before[slot] != after[slot]}
        moved_keys = sum(1 for i in range(keys) if key_slot(f"key:{i}") in changed)
        result = {"tool": tool, "seconds": seconds, "slots_moved": len(changed), "keys_moved": moved_keys,
                  "keys": keys}
        print(f"  {tool:<9} run {run}: {seconds:6.2f} s, {len(changed)} slots and {moved_keys} keys moved "
              f"({moved_keys / keys:.1%}), {moved_keys / seconds:,.0f} keys/s", flush=True)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=200000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--binary")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="ours' --migration-concurrency (default 16, its default)")
    parser.add_argument("--cli-pipeline", type=int, default=10, help="redis-cli --cluster-pipeline (default 10)")
    args = parser.parse_args()
    if args.binary:
        os.environ["RCI_BINARY"] = os.path.abspath(args.binary)
    os.environ.setdefault("RCI_BINARY", os.path.join(REPO, "build", "redis-cluster-init"))
    print(f"3x1 -> 4x1 with {args.keys} keys, {args.runs} runs per tool, alternating "
          f"(ours: --migration-batch 100, --migration-concurrency {args.concurrency}; redis-cli: --cluster-pipeline {args.cli_pipeline})", flush=True)
    results = {"ours": [], "redis-cli": []}
    for run in range(1, args.runs + 1):
        for tool in results:
            results[tool].append(one_run(tool, args.keys, run, args.cli_pipeline, args.concurrency))
    print()
    print(f"{'tool':<10} {'runs':>4} {'min s':>7} {'median s':>9} {'max s':>7} {'keys/s':>9} "
          f"{'slots moved':>11} {'keys moved':>10} {'of keys':>8}")
    medians = {}
    for tool, rows in results.items():
        seconds = [r["seconds"] for r in rows]
        medians[tool] = statistics.median(seconds)
        keys_moved = statistics.median(r["keys_moved"] for r in rows)
        print(f"{tool:<10} {len(rows):>4} {min(seconds):>7.2f} {medians[tool]:>9.2f} {max(seconds):>7.2f} "
              f"{keys_moved / medians[tool]:>9,.0f} {statistics.median(r['slots_moved'] for r in rows):>11.0f} "
              f"{keys_moved:>10.0f} {keys_moved / args.keys:>8.1%}")
    print(f"median ratio ours/redis-cli: {medians['ours'] / medians['redis-cli']:.2f}")


if __name__ == "__main__":
    main()
