#!/usr/bin/env python3
"""Pods start in reverse order, last shard's last ordinal first, one every second (DNS record,
then redis-server, then bootstrap): the first bootstraps find no peers at all (NXDOMAIN) and the
shard masters arrive last. Every bootstrap must still exit 0 and the cluster be correct.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402

GAP = 1.0  # seconds between two pods


def main() -> None:
    with TestBed("reverse_order") as bed:
        cluster = bed.cluster(3, 1)
        runs = []
        for pod in reversed(cluster.pods):
            pod.publish()
            pod.start()
            runs.append(pod.bootstrap())
            time.sleep(GAP)
        cluster.wait_bootstraps(runs, timeout=90)
        check_cluster(cluster, timeout=30)
        cluster.write_keys(1000)
        counted = cluster.count_keys()
        check(counted == 1000, f"wrote 1000 keys, the masters hold {counted}")


if __name__ == "__main__":
    itest.run(main)
