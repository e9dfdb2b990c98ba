#!/usr/bin/env python3
"""Brings up a 3x1 cluster on the test bed with redis-cluster-init and prints its status.

Every pod's redis-server starts, then every pod's `bootstrap` runs at once, as in a StatefulSet
with podManagementPolicy: Parallel. With a terminal attached, the cluster stays up until Enter
is pressed, so it can be inspected with redis-cli; otherwise it is torn down at once.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "testbed"))

from cluster_check import check_cluster  # noqa: E402
from testbed import TestBed  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the cluster up until Enter")
    args = parser.parse_args()
    binary = os.environ.get("RCI_BINARY") or os.path.join(os.path.dirname(__file__), "..", "build",
                                                           "redis-cluster-init")
    with TestBed("demo", binary=os.path.abspath(binary)) as bed:
        cluster = bed.cluster(args.shards, args.replicas)
        cluster.start()
        print(f"started {len(cluster.pods)} redis-servers; running bootstrap in every pod at once", flush=True)
        runs = cluster.bootstrap_all(log_level="info")
        cluster.wait_bootstraps(runs, timeout=120)
        slowest = max(run.elapsed for run in runs)
        print(f"every bootstrap exited 0; the slowest after {slowest:.2f} s", flush=True)
        check_cluster(cluster, timeout=30)
        status = cluster.pod(0, 0).run_binary("status", log_level="warn")
        print("\n$ redis-cluster-init status\n" + status.stdout, flush=True)
        first = cluster.pod(0, 0)
        if args.keep or sys.stdin.isatty():
            print(f"try: redis-cli -c -h {first.ip} -p {first.port} cluster nodes")
            input("press Enter to stop the cluster ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
