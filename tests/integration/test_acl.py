#!/usr/bin/env python3
"""The least-privilege ACL user the README documents, taken from the README itself (its
`ACL SETUSER rci-init ...` line), so the documentation cannot drift from what works:

1. A 3x1 cold start where every bootstrap authenticates as that user (`--user rci-init`): the
   exact shape, keys counted.
2. The same rules less `+cluster|meet`, in a cluster of its own: every bootstrap stops at once
   (exit 1, long before its deadline), its final message naming the refused command and
   NOPERM.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
PASSWORD = "acl-test-password-41"
USER = "rci-init"
KEYS = 500
DEADLINE = 30


def documented_rules() -> list:
    """The rules of the README's `ACL SETUSER rci-init on >PASSWORD ...` line, as a list."""
    with open(README) as f:
        match = re.search(r"^ACL SETUSER rci-init (.+)$", f.read(), re.MULTILINE)
    check(match is not None, "README.md has no `ACL SETUSER rci-init ...` line")
    return match.group(1).split()


def user_line(rules) -> str:
    """The redis.conf `user` line for the rules, with the test's password."""
    return " ".join(["user", USER] + [f">{PASSWORD}" if r == ">PASSWORD" else r for r in rules])


def cluster_with(bed, rules, namespace, shards, replicas):
    cluster = bed.cluster(shards, replicas, namespace=namespace, password=PASSWORD,
                          redis_config=[user_line(rules)])
    cluster.start()
    return cluster


def main() -> None:
    rules = documented_rules()
    check("+cluster|meet" in rules, f"test error: the documented rules lack +cluster|meet: {rules}")
    with TestBed("acl") as bed:
        cluster = cluster_with(bed, rules, "default", 3, 1)
        runs = cluster.bootstrap_all(extra_args=["--user", USER], timeout=DEADLINE)
        cluster.wait_bootstraps(runs, timeout=DEADLINE + 30)
        check_cluster(cluster, timeout=30)
        cluster.write_keys(KEYS)
        check(cluster.count_keys() == KEYS, f"{cluster.count_keys()} keys, not {KEYS}")
        print(f"[acl] 3x1 cold start as {USER} with the README's {len(rules)} rules", flush=True)

        short = [r for r in rules if r != "+cluster|meet"]
        cluster = cluster_with(bed, short, "short", 3, 0)
        started = time.monotonic()
        runs = cluster.bootstrap_all(extra_args=["--user", USER], timeout=DEADLINE)
        cluster.wait_bootstraps(runs, timeout=DEADLINE + 30, expect=1)
        took = time.monotonic() - started
        check(took < DEADLINE / 2, f"the bootstraps took {took:.1f}s to give up on a NOPERM")
        for run in runs:
            check("NOPERM" in run.stderr and "cluster|meet" in run.stderr
                  and "cannot converge without help" in run.stderr,
                  f"{run.pod.name}: the final message does not name the refused command:\n"
                  f"{run.describe()}")
        print(f"[acl] without +cluster|meet: every bootstrap exits 1 in {took:.2f}s, naming "
              f"'cluster|meet' (NOPERM)", flush=True)


if __name__ == "__main__":
    itest.run(main)
