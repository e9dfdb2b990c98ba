#!/usr/bin/env python3
"""Scaling out (the scaling issue): a 3x1 cluster formed by `bootstrap`, keys written, a
redis-py writer per shard writing all along. SHARDS becomes 4: shard 3's pods start, and every
pod's bootstrap runs with --shards 4, all at once, as a StatefulSet update does.

Expected: every bootstrap exits 0 once the layout holds; shard 3's ordinal 0 is its master
and serves exactly the slots the layout rule gives it (a quarter, the top of each old shard:
computed here by the bed's own reading of the rule, slots.scaled_layout), its replica follows
it; the old shards keep the rest; no slot is left open; every key and every acknowledged
write is there (a migration loses none: asserted), and the writers' longest gaps are printed.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import form, keys_intact  # noqa: E402
from itest import check  # noqa: E402
from slots import ranges_of, scaled_layout, shard_slot_range  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402
from writer import AckedWriters  # noqa: E402

KEYS = 20000


def main() -> None:
    with TestBed("scale_shards_out") as bed:
        cluster = form(bed, keys=KEYS)
        held = {s: range(shard_slot_range(s, 3)[0], shard_slot_range(s, 3)[1] + 1) for s in range(3)}
        target = scaled_layout(held, 4)
        with AckedWriters(cluster) as writers:
            writers.wait_for_progress(50, timeout=20)
            added = cluster.set_shards(4)
            cluster.layout = {s: ranges_of(slots) for s, slots in target.items()}
            cluster.start(added)
            started = time.monotonic()
            runs = [pod.bootstrap(timeout=120) for pod in cluster.pods]
            cluster.wait_bootstraps(runs, timeout=150)
            took = time.monotonic() - started
            print(f"[scale_shards_out] every bootstrap exited 0 {took:.1f}s after SHARDS=4; "
                  f"moved {sum(b - a + 1 for a, b in cluster.layout[3])} slots", flush=True)
            check_cluster(cluster, timeout=30, creation_layout=False)
            writers.wait_for_progress(50, timeout=20)
        open_slots = [(pod.name, line) for pod in cluster.pods
                      for line in pod.command("CLUSTER", "NODES").splitlines()
                      if "myself" in line and "[" in line]
        check(not open_slots, f"slots left open: {open_slots}")
        keys_intact(cluster, "scaling 3 -> 4 shards", keys=KEYS)
        lost = writers.report("scale_shards_out")
        check(not lost, f"acknowledged writes lost in the migration: {lost[:10]}")


if __name__ == "__main__":
    itest.run(main)
