#!/usr/bin/env python3
"""Scaling shards under `run`, as a StatefulSet update does it: SHARDS 3 -> 4 on a live 3x1
cluster with keys, every pod under `run`, a redis-py writer per shard all along.

1. The new shard's two pods start under `run` with SHARDS=4 and a bootstrap deadline
   (--timeout 2) far shorter than the move: their bootstrap phase ends unconverged ("serving
   anyway"), and `run`'s periodic passes go on with the move until the layout of 4 holds, then
   say so ("converged in a periodic pass"). Meanwhile the six old pods still run with
   SHARDS=3, as pods not yet restarted by the update do: they converged under it before, so
   their periodic passes start no move back (none of them logs a migrate-slots step, and their
   masters keep serving what the layout of 4 leaves them) and they say why.
2. The old pods are restarted with SHARDS=4, shard by shard, replica first, then the master
   (which hands over on SIGTERM): the layout holds after each restart and at the end, no slot
   is left open, no master holds keys outside its slots, every key and every acknowledged write
   is there.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import form, keys_intact  # noqa: E402
from itest import check  # noqa: E402
from slots import creation_slots, layout_ranges, ranges_of, scaled_layout  # noqa: E402
from testbed import TestBed, check_cluster, open_slots  # noqa: E402
from waiting import wait_until  # noqa: E402
from writer import AckedWriters  # noqa: E402

KEYS = 20000
RECONCILE_INTERVAL = 2
BOOTSTRAP_DEADLINE = 2


def layout_holds(cluster) -> bool:
    """Whether each shard's master serves exactly what the layout gives the shard."""
    for shard, ranges in cluster.layout.items():
        masters = [pod for pod in cluster.shard_pods(shard) if pod.info("replication")["role"] == "master"]
        if len(masters) != 1 or ranges_of(masters[0].served_slots()) != [tuple(r) for r in ranges]:
            return False
    return True


def new_shard_moves_under_run(cluster, old_pods, name) -> None:
    added = cluster.set_shards(4)
    cluster.layout = layout_ranges(scaled_layout(creation_slots(3), 4))
    started = time.monotonic()
    cluster.start_supervised(added, run_args=["--reconcile-interval", str(RECONCILE_INTERVAL)],
                             timeout=BOOTSTRAP_DEADLINE)
    master = added[0]
    wait_until(lambda: "bootstrap did not converge" in master.supervisor.stderr, 30,
               f"{master.name}: its bootstrap phase ending unconverged", interval=0.1,
               detail=master.supervisor.describe)
    check(not layout_holds(cluster), "test error: the layout held when the bootstrap phase ended")
    _, took = wait_until(lambda: layout_holds(cluster), 120, "the layout of 4 shards holding",
                         interval=0.2, detail=cluster.nodes_report)
    for pod in added:
        wait_until(lambda: "converged in a periodic pass" in pod.supervisor.stderr, 30,
                   f"{pod.name}: a periodic pass converging", interval=0.1, detail=pod.supervisor.describe)
    moves = master.supervisor.stderr.count("migrate-slots:")
    print(f"[{name}] {master.name}'s bootstrap phase ended unconverged after {BOOTSTRAP_DEADLINE}s; its periodic "
          f"passes finished the move ({moves} migrate-slots steps in all) {time.monotonic() - started:.1f}s after "
          f"the new pods started", flush=True)
    for pod in old_pods:
        check("migrate-slots" not in pod.supervisor.stderr,
              f"{pod.name}, still with SHARDS=3, moved slots:\n{pod.supervisor.describe()}")
    said = [pod.name for pod in old_pods if "converged under SHARDS=3 before" in pod.supervisor.stderr]
    check(said, "no old master said why its periodic passes start no move")
    print(f"[{name}] the old pods (SHARDS=3) started no move back; {', '.join(said)} said why", flush=True)


def restart_old_pods(cluster, old_pods, name) -> None:
    for shard in range(3):
        pods = [pod for pod in old_pods if pod.shard == shard]
        pods.sort(key=lambda pod: pod.info("replication")["role"] == "master")  # the replica first
        for pod in pods:
            pod.restart()
            # The exact shape, each master serving exactly its shard's slots of the layout.
            check_cluster(cluster, timeout=40, creation_layout=False)
    print(f"[{name}] the old pods restarted with SHARDS=4, replica then master per shard: the layout "
          f"held after each", flush=True)


def main() -> None:
    name = "run_scale_shards"
    with TestBed(name) as bed:
        cluster = form(bed, supervised=True, keys=KEYS,
                       run_args=("--reconcile-interval", str(RECONCILE_INTERVAL)))
        old_pods = list(cluster.pods)
        with AckedWriters(cluster) as writers:
            writers.wait_for_progress(50, timeout=20)
            new_shard_moves_under_run(cluster, old_pods, name)
            restart_old_pods(cluster, old_pods, name)
            writers.wait_for_progress(50, timeout=20)
        check(not open_slots(cluster.pods), f"slots left open: {open_slots(cluster.pods)}")
        misplaced = cluster.keys_outside_served_slots()
        check(not misplaced, f"masters holding keys outside their slots (pod, keys, in own slots): {misplaced}")
        keys_intact(cluster, "scaling 3 -> 4 shards under run", keys=KEYS)
        lost = writers.report(name)
        check(not lost, f"acknowledged writes lost: {lost[:10]}")


if __name__ == "__main__":
    itest.run(main)
