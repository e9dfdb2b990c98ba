#!/usr/bin/env python3
"""Heal (issue 3): an ordinal-0 pod (created as its shard's master) loses its volume: it comes
back with no nodes.conf and no data, as a new node ID, and its bootstrap runs. It must never
become an empty master nor claim its shard's slots: it joins as a replica of the node Redis
promoted, and its former ID leaves every table. Two phases on one 3x1 cluster:

A. shard 0: the master crashes, its replica is promoted, then the pod returns at the SAME
   address (only the pod name it announced tells the old ID is this pod).
B. shard 2: the master crashes and the pod returns at once at a NEW address, before Redis has
   failed the old ID over; its bootstrap starts right away and must wait for the promotion
   (the old ID still holds the slots), then join.

After each phase: the shard's range is served by the promoted pod, the returned pod replicates
it (link up), the old ID is gone from every table, every key is there.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import (check_replicates, form, healed, healed_but_ghost, keys_intact, role, tables,
                  wait_forgotten, wait_promoted)  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed  # noqa: E402
from slots import shard_slot_range  # noqa: E402

BOOTSTRAP_TIMEOUT = 40


def lose_volume(pod, old_id, *, new_ip):
    """Crash (if still running), then come back empty: new node ID, no keys."""
    pod.restart(crash=True, new_ip=new_ip, keep_nodes_conf=False, keep_data=False)
    check(pod.node_id() != old_id, f"{pod.name}: kept its node ID without a nodes.conf")
    check(pod.command("DBSIZE") == 0, f"{pod.name}: data survived keep_data=False")


def finish_bootstrap(pod, run, what):
    try:
        status = run.wait(BOOTSTRAP_TIMEOUT + 15)
    except TimeoutError:
        status = None
    check(status == 0, f"{pod.name}: bootstrap exited {status} after {what}\n{run.describe(60)}\n"
                       f"CLUSTER NODES as each pod sees it:\n{pod.cluster.nodes_report()}")
    print(f"[heal_lost_volume_master] {pod.name}: bootstrap exit 0 after {run.elapsed:.1f}s",
          flush=True)


def check_rejoined(cluster, returned, promoted, shard, old_id, what):
    """The shard's range stays with `promoted`; `returned` (new ID) replicates it."""
    views = healed_but_ghost(cluster, old_id, what, creation_layout=False)
    by_pod = {v.pod.name: v for v in views}
    first, last = shard_slot_range(shard, cluster.shards)
    served = by_pod[promoted.name].myself
    check(served.is_master and served.slots == [(first, last)],
          f"{promoted.name}: expected the master of {first}-{last}, is {served.flags} with "
          f"{served.slots}")
    check_replicates(views, returned, promoted)
    wait_forgotten(cluster, old_id, returned.name)
    healed(cluster, what, creation_layout=False)  # strict: no extra node left
    keys_intact(cluster, what)


def main() -> None:
    with TestBed("heal_lost_volume_master") as bed:
        cluster = form(bed)

        # A. Failover first, then the pod returns empty at its old address.
        master, replica = cluster.pod(0, 0), cluster.pod(0, 1)
        old_id = master.node_id()
        master.kill()
        wait_promoted(cluster, replica, after=f"{master.name} crashed")
        lose_volume(master, old_id, new_ip=False)
        what = f"{master.name} lost its volume after a failover (same address)"
        finish_bootstrap(master, master.bootstrap(timeout=BOOTSTRAP_TIMEOUT), what)
        check_rejoined(cluster, master, replica, 0, old_id, what)

        # B. The pod returns empty at a new address before the failover, bootstrap at once.
        master, replica = cluster.pod(2, 0), cluster.pod(2, 1)
        old_ip, old_id = master.ip, master.node_id()
        lose_volume(master, old_id, new_ip=True)
        run = master.bootstrap(timeout=BOOTSTRAP_TIMEOUT)
        started = time.monotonic()
        # Until Redis promotes the replica, the old ID holds the range: the returned pod must
        # not claim any of it meanwhile (it is empty; serving would answer with no keys).
        new_id = master.node_id()
        while role(replica)["role"] != "master":
            check(time.monotonic() - started < 20,
                  f"{replica.name} not promoted 20s after {master.name} crashed\n"
                  f"{cluster.nodes_report()}")
            claims = {name: entry.slots for name, nodes in tables(cluster).items()
                      for entry in nodes if entry.node_id == new_id and entry.slots}
            check(not claims, f"{master.name} (new, empty) holds slots before the failover, "
                              f"as seen by {claims}\n{cluster.nodes_report()}")
            time.sleep(0.05)
        promoted_after = time.monotonic() - started
        print(f"[heal_lost_volume_master] {replica.name} promoted {promoted_after:.1f}s after "
              f"{master.name} returned empty", flush=True)
        what = f"{master.name} lost its volume and returned at {master.ip} (was {old_ip}) " \
               f"before the failover"
        finish_bootstrap(master, run, what)
        # Its first rounds run within milliseconds, the promotion takes a node timeout (2 s):
        # unless the machine stalled that long, it must have said what it waited for.
        waits = [line for line in run.stderr.splitlines() if "waiting for:" in line]
        if promoted_after >= 1.0:
            check(any("shard 2 has no master" in line for line in waits),
                  f"{master.name}: its log never said what it waited for\n{run.describe(60)}")
            print(f"[heal_lost_volume_master] {master.name} said: "
                  f"{waits[0].split('waiting for: ')[1]}", flush=True)
        else:
            print("[heal_lost_volume_master] promotion came before its first round could wait; "
                  "the log check is skipped", flush=True)
        check_rejoined(cluster, master, replica, 2, old_id, what)


if __name__ == "__main__":
    itest.run(main)
