#!/usr/bin/env python3
"""The least-privilege ACL user the README documents, taken from the README itself (its
`ACL SETUSER rci-init ...` line), so the documentation cannot drift from what works:

1. A 3x1 cold start where every bootstrap authenticates as that user (`--user rci-init`): the
   exact shape, keys counted.
2. The same rules less `+cluster|meet`, in a cluster of its own: every bootstrap stops at once
   (exit 1, long before its deadline), its final message naming the refused command and
   NOPERM.
3. Scaling, with the README's second line (`ACL SETUSER rci-init ~* ...`) added: a 3x1
   cluster as that user scaled out to 4 shards (`plan` as that user counting the keys first):
   every bootstrap exits 0, the layout's exact shape, every key there. Then the same less
   `+cluster|setslot`: the new shard's bootstrap stops at once, naming 'cluster|setslot'. And
   less `+restore-asking`, with keys to move: the source's MIGRATE is allowed and the
   destination refuses what it sends; MIGRATE relays that inside a generic ERR, and the new
   shard's bootstrap still stops at once, naming 'restore-asking' (NOPERM).
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from slots import creation_slots, layout_ranges, scaled_layout  # noqa: E402
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


def documented_scaling_rules() -> list:
    """The rules of the README's second line, `ACL SETUSER rci-init ~* ...`: what scaling adds."""
    with open(README) as f:
        match = re.search(r"^ACL SETUSER rci-init (~\*.*)$", f.read(), re.MULTILINE)
    check(match is not None, "README.md has no `ACL SETUSER rci-init ~* ...` line for scaling")
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

        scaling = documented_scaling_rules()
        scale_out_as_user(bed, rules + scaling, "scaling")
        for refused, namespace in (("cluster|setslot", "nosetslot"), ("restore-asking", "norestore")):
            short = [r for r in scaling if r != f"+{refused}"]
            check(len(short) == len(scaling) - 1, f"test error: the scaling rules lack +{refused}: {scaling}")
            refused_scale_out(bed, rules + short, namespace, refused)


def scale_out_as_user(bed, rules, namespace) -> None:
    cluster = cluster_with(bed, rules, namespace, 3, 1)
    cluster.wait_bootstraps(cluster.bootstrap_all(extra_args=["--user", USER], timeout=DEADLINE),
                            timeout=DEADLINE + 30)
    cluster.write_keys(KEYS)
    added = cluster.set_shards(4)
    cluster.layout = layout_ranges(scaled_layout(creation_slots(3), 4))
    cluster.start(added)
    shown = cluster.pod(0, 0).run_binary("plan", extra_args=["--user", USER])
    check(shown.returncode == 0 and re.search(r"keys: \d+ of 500 to move", shown.stdout),
          f"plan as {USER} does not count the keys to move:\n{shown.describe()}")
    runs = [pod.bootstrap(extra_args=["--user", USER], timeout=60) for pod in cluster.pods]
    cluster.wait_bootstraps(runs, timeout=90)
    check_cluster(cluster, timeout=30, creation_layout=False)
    missing = cluster.missing_keys(KEYS)
    check(not missing, f"keys missing after scaling out as {USER}: {missing[:5]}")
    print(f"[acl] 3x1 -> 4x1 as {USER} with the README's two lines ({len(rules)} rules): every "
          f"bootstrap exited 0, the layout holds, {KEYS} keys there", flush=True)


def refused_scale_out(bed, rules, namespace, refused) -> None:
    cluster = cluster_with(bed, rules, namespace, 3, 0)
    cluster.wait_bootstraps(cluster.bootstrap_all(extra_args=["--user", USER], timeout=DEADLINE),
                            timeout=DEADLINE + 30)
    cluster.write_keys(KEYS)
    added = cluster.set_shards(4)
    cluster.start(added)
    started = time.monotonic()
    run = added[0].bootstrap(extra_args=["--user", USER], timeout=DEADLINE)
    cluster.wait_bootstraps([run], timeout=DEADLINE + 30, expect=1)
    took = time.monotonic() - started
    check(took < DEADLINE / 2 and "NOPERM" in run.stderr and f"'{refused}'" in run.stderr,
          f"{run.pod.name}: without +{refused}, no quick exit naming the command:\n{run.describe()}")
    missing = cluster.missing_keys(KEYS)
    check(not missing, f"keys missing after the refused scale-out: {missing[:5]}")
    print(f"[acl] without +{refused}: the new shard's bootstrap exits 1 in {took:.2f}s, naming "
          f"'{refused}' (NOPERM); every key there", flush=True)


if __name__ == "__main__":
    itest.run(main)
