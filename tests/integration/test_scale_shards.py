#!/usr/bin/env python3
"""Scaling shards (the scaling issue), one scenario per argument (all without one):

  3to4, 3to5      scale-out: an Nx1 cluster formed by `bootstrap`; SHARDS raised, the new
                  shards' pods started; every pod's bootstrap runs with the new --shards, all
                  at once, as a StatefulSet update does.
  4to3, 5to3      scale-in: SHARDS lowered; every pod's bootstrap runs with it, the surplus
                  shards' pods too (their StatefulSets still run). Then the user deletes the
                  surplus StatefulSets, and the remaining pods' next bootstrap forgets their nodes.
  3to4-killed     3to4, with the bootstrap that drives the moves (the new shard's master's)
                  SIGKILLed at random moments five times once it imports, each time started
                  again, then left to finish.
  3to4-source-failover
                  3to4, with shard 0's master (the first source) SIGKILLed once the new shard
                  has taken 128 of its slots and not all: Redis promotes its replica, the move
                  finishes from the promoted node, the killed pod comes back as its replica.
                  (A crash failover may lose writes its master acknowledged and had not
                  replicated: shard 0's writer's losses are reported, the others' asserted 0.)
  3to4-busykey    3to4, found half done: the new shard's master already met, one of the slots
                  it is to take open (IMPORTING on it, MIGRATING on shard 0's master) and its
                  keys copied over by an earlier MIGRATE whose reply was lost (MIGRATE COPY
                  here), then written again on the source. The move's MIGRATE meets BUSYKEY
                  (relayed by the source as "ERR Target instance replied with error: BUSYKEY")
                  and sends the batch again with REPLACE: the source's newer values win.
  3to4-tls, 4to3-tls
                  3to4 and 4to3 on TLS-only servers (tls-cluster, tls-replication,
                  tls-auth-clients): the moves' MIGRATE goes over TLS between the servers,
                  and the bootstraps check every certificate against its pod's FQDN (in
                  4to3, a surplus node's: reached at its table address, checked against the
                  name it announces).
  3to4-demoted    3to4, the new shard's master found a replica of shard 0's master, as Redis
                  leaves it when an epoch collision gives the slots it took back to the
                  source's promoted replica (made here with CLUSTER REPLICATE before any
                  bootstrap): it becomes an empty master again (CLUSTER RESET SOFT) and takes
                  its slots as in 3to4.

A redis-py writer per shard writes all along (the writers of shards that go, or whose slots
move, write into slots that move). Expected, every time: every bootstrap exits 0 once the
layout holds (surplus pods saying "drained: ... safe to delete StatefulSet <name>"); each master
serves exactly what the layout rule gives its shard (computed here by the bed's own reading of
the rule, slots.scaled_layout); the exact shape of the new cluster; no slot left open; no
master holding keys outside the slots it serves (a key left behind or doubled); every key and
every acknowledged write there (a migration loses none: asserted); unless a master is killed,
no error reached the writers other than MOVED, ASK and TRYAGAIN (and redis-py's own slot-map
faults). The writers' longest gaps are printed.
"""

import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import form, keys_intact  # noqa: E402
from itest import check  # noqa: E402
from slots import CLUSTER_SLOTS, creation_slots, key_slot, layout_ranges, scaled_layout, shard_slot_range  # noqa: E402
from testbed import TestBed, check_cluster, open_slots  # noqa: E402
from waiting import wait_until  # noqa: E402
from writer import AckedWriters  # noqa: E402

# The source-failover scenario crashes the source once the destination has taken this many of
# its slots.
TAKEN_BEFORE_CRASH = 128

SCENARIOS = {
    "3to4": dict(before=3, after=4, keys=20000),
    "4to3": dict(before=4, after=3, keys=20000),
    "3to5": dict(before=3, after=5, keys=10000),
    "5to3": dict(before=5, after=3, keys=10000),
    "3to4-killed": dict(before=3, after=4, keys=20000, kills=5),
    "3to4-source-failover": dict(before=3, after=4, keys=20000, fail_source=True),
    "3to4-busykey": dict(before=3, after=4, keys=5000, busykey=True),
    "3to4-demoted": dict(before=3, after=4, keys=5000, demoted_master=True),
    "3to4-tls": dict(before=3, after=4, keys=5000, tls=True),
    "4to3-tls": dict(before=4, after=3, keys=5000, tls=True),
}

# Keys of the slot the busykey scenario finds half moved.
BUSY_KEYS = 20


def serving(pods) -> list:
    """The pods among `pods` whose node serves slots."""
    return [pod.name for pod in pods if pod.served_slots()]


def slot_map(pod) -> list:
    return sorted((entry[0], entry[1], entry[2][2]) for entry in pod.command("CLUSTER", "SLOTS"))


def check_plan_shows_moves(pod, moved_slots: set, keys: int, name) -> None:
    """`plan` on `pod`, run with the new SHARDS before any bootstrap: it prints the slots to move
    (the minimum), the keys they hold, and each move, and changes nothing."""
    before = slot_map(pod)
    run = pod.run_binary("plan", timeout=30)
    check(run.returncode == 0, f"plan on {pod.name} failed:\n{run.describe()}")
    out = run.stdout
    share = f"{len(moved_slots) / CLUSTER_SLOTS * 100:.1f}%"
    check(f"{len(moved_slots)} of {CLUSTER_SLOTS} slots to move ({share}); the minimum" in out,
          f"plan does not show {len(moved_slots)} slots to move as the minimum:\n{out}")
    shown = re.search(r"keys: (\d+) of (\d+) to move", out)
    # The writers add keys of their own; every key written before is counted where it is.
    in_moved = sum(1 for i in range(keys) if key_slot(f"key:{i}") in moved_slots)
    check(shown and int(shown.group(1)) >= in_moved and int(shown.group(2)) >= keys,
          f"plan counts no keys, or fewer than the {in_moved} of {keys} in the moved slots:\n{out}")
    check(slot_map(pod) == before, "plan changed the slot map")
    print(f"[{name}] plan:\n{out[out.rindex('layout of'):]}", flush=True)


def crash_source_mid_move(cluster, driver, source, replica, name) -> None:
    """SIGKILLs `source`'s redis-server once `driver` serves TAKEN_BEFORE_CRASH, not all, of the
    slots the layout moves from it; waits until Redis has promoted `replica`, then starts `source` again
    (same address and nodes.conf, as a restarted container). Returns when it was killed."""
    first, last = shard_slot_range(source.shard, 3)
    def taken_from_source():
        taken = sum(1 for slot in driver.served_slots() if first <= slot <= last)
        return TAKEN_BEFORE_CRASH <= taken < last - first + 1

    # Not at the destination's very first claim: a crash then races the claim's config epoch
    # (see ARCHITECTURE.md, "Scaling shards": the promoted replica may take the same epoch).
    wait_until(taken_from_source, 60, f"{driver.name} taking {TAKEN_BEFORE_CRASH} slots from {source.name}",
               interval=0.005)
    marker_open = bool(open_slots([driver]))
    crashed_at = time.monotonic()
    source.kill()
    _, promoted_after = wait_until(lambda: replica.info()["role"] == "master", 30,
                                   f"{replica.name} promoted", tolerate=(OSError,))
    print(f"[{name}] {source.name} SIGKILLed mid-move (a slot open on the destination: {marker_open}); "
          f"{replica.name} promoted {promoted_after:.1f}s later", flush=True)
    source.start()
    return crashed_at


def meet(source, destination) -> None:
    """`destination` met by `source`, and serving (a node that does not know every slot's owner
    yet refuses RESTORE-ASKING with CLUSTERDOWN)."""
    source.command("CLUSTER", "MEET", destination.ip, str(destination.port))
    wait_until(lambda: "cluster_state:ok" in destination.command("CLUSTER", "INFO"), 20,
               f"{destination.name} meeting the cluster")


def demoted(master, followed, name) -> None:
    """`master`, a new shard's, made a replica of `followed`, another shard's master."""
    meet(followed, master)
    master.command("CLUSTER", "REPLICATE", followed.node_id())
    wait_until(lambda: master.info("replication")["role"] == "slave", 20, f"{master.name} a replica")
    print(f"[{name}] {master.name} made a replica of {followed.name} before any bootstrap", flush=True)


def half_moved_slot(cluster, source, destination, target, name) -> dict:
    """Leaves one slot that `destination` is to take from `source` as a killed mover would: the
    destination met, the slot IMPORTING on it and MIGRATING on the source, its keys on both
    sides (MIGRATE COPY), then each written again on the source, which still serves them.
    Returns the keys with the values clients wrote last."""
    meet(source, destination)
    first, last = shard_slot_range(source.shard, 3)
    slot = min(s for s in target[destination.shard] if first <= s <= last)
    keys = []
    i = 0
    while len(keys) < BUSY_KEYS:
        if key_slot(f"busy:{i}") == slot:
            keys.append(f"busy:{i}")
        i += 1
    for key in keys:
        source.command("SET", key, "first")
    destination.command("CLUSTER", "SETSLOT", str(slot), "IMPORTING", source.node_id())
    source.command("CLUSTER", "SETSLOT", str(slot), "MIGRATING", destination.node_id())
    source.command("MIGRATE", destination.ip, str(destination.port), "", "0", "5000", "COPY", "KEYS", *keys)
    latest = {}
    for key in keys:
        source.command("SET", key, f"second:{key}")
        latest[key] = f"second:{key}"
    print(f"[{name}] slot {slot} left half moved: {len(keys)} keys on both {source.name} and "
          f"{destination.name}, newer on the source", flush=True)
    return latest


def kill_driver_repeatedly(driver, runs, index, kills, rng, name) -> list:
    """SIGKILLs `driver`'s bootstrap (runs[index]) `kills` times at random moments, starting it
    again each time; returns the moments (seconds after the previous start)."""
    moments, mid_slot = [], 0
    # From its first imported slot on, so that the kills land among the moves.
    wait_until(lambda: serving([driver]) or open_slots([driver]), 60, f"{driver.name} importing")
    for _ in range(kills):
        moment = rng.uniform(0.2, 1.5)
        time.sleep(moment)  # a random moment of the move, not a wait for a state
        if runs[index].poll() is not None:
            break  # it finished before this kill
        runs[index].kill()
        moments.append(round(moment, 2))
        if open_slots([driver]):
            mid_slot += 1
        runs[index] = driver.bootstrap(timeout=150)
    print(f"[{name}] the driving bootstrap ({driver.name}) SIGKILLed {len(moments)} times, "
          f"at {moments} s after each start; {mid_slot} of the kills left a slot open (importing)",
          flush=True)
    return moments


def scale(name, before, after, keys, kills=0, fail_source=False, busykey=False, demoted_master=False,
          tls=False) -> None:
    with TestBed(f"scale_shards_{name}") as bed:
        cluster = form(bed, keys=keys, shards=before, tls=tls)
        held = creation_slots(before)
        target = scaled_layout(held, after)
        with AckedWriters(cluster) as writers:
            writers.wait_for_progress(50, timeout=20)
            changed = cluster.set_shards(after)
            cluster.layout = layout_ranges(target)
            surplus = changed if after < before else []
            if after > before:
                cluster.start(changed)
            if busykey:
                latest = half_moved_slot(cluster, cluster.pod(0, 0), cluster.pod(after - 1, 0), target, name)
            if demoted_master:
                demoted(cluster.pod(after - 1, 0), cluster.pod(0, 0), name)
            pods = cluster.pods + surplus
            moved_slots = {slot for s in range(after) for slot in set(target[s]) - set(held.get(s, ()))}
            check_plan_shows_moves(cluster.pod(0, 0), moved_slots, keys, name)
            started = time.monotonic()
            runs = [pod.bootstrap(timeout=150) for pod in pods]
            if kills:
                driver = cluster.pod(after - 1, 0)
                seed = random.randrange(1 << 30)
                print(f"[{name}] kill moments seeded with {seed}", flush=True)
                kill_driver_repeatedly(driver, runs, pods.index(driver), kills, random.Random(seed), name)
            if fail_source:
                crashed_at = crash_source_mid_move(cluster, cluster.pod(after - 1, 0), cluster.pod(0, 0),
                                                   cluster.pod(0, 1), name)
            cluster.wait_bootstraps(runs, timeout=180)
            took = time.monotonic() - started
            print(f"[{name}] every bootstrap exited 0 {took:.1f}s after SHARDS={after}; "
                  f"{len(moved_slots)} slots moved", flush=True)
            driver_log = runs[pods.index(cluster.pod(after - 1, 0))].stderr
            if busykey:
                check("sending the batch again with REPLACE" in driver_log,
                      f"the driving bootstrap did not meet BUSYKEY:\n{driver_log[-3000:]}")
            if demoted_master:
                check("becoming an empty master again" in driver_log and "CLUSTER RESET SOFT" in driver_log,
                      f"the new shard's master was not reset to an empty master:\n{driver_log[-3000:]}")
            for pod, run in zip(pods, runs):
                if pod in surplus:
                    statefulset = f"{cluster.prefix}-shard{pod.shard}"
                    check(f"drained: shard {pod.shard}" in run.stderr
                          and f"safe to delete StatefulSet {statefulset}" in run.stderr,
                          f"{pod.name}: its bootstrap did not say the shard is drained:\n{run.describe()}")
            check(not serving(surplus), f"surplus pods still serving slots: {serving(surplus)}")
            if surplus:
                # The user deletes the drained StatefulSets; the next pass forgets their nodes.
                cluster.delete_surplus()
                cluster.wait_bootstraps([pod.bootstrap(timeout=60) for pod in cluster.pods], timeout=75)
            check_cluster(cluster, timeout=30, creation_layout=False)
            writers.wait_for_progress(50, timeout=20)
        check(not open_slots(cluster.pods), f"slots left open: {open_slots(cluster.pods)}")
        misplaced = cluster.keys_outside_served_slots()
        check(not misplaced, f"masters holding keys outside their slots (pod, keys, in own slots): {misplaced}")
        keys_intact(cluster, f"scaling {before} -> {after} shards", keys=keys)
        if busykey:
            stale = cluster.not_holding(latest)
            check(not stale, f"the half-moved slot's keys are not the source's newer values: {stale}")
        if fail_source:
            # Only what the crashed master acknowledged before the crash and had not replicated
            # may be lost (asserted by check_crash_losses).
            writers.check_crash_losses(f"scale_shards_{name}", "source crash", crashed_at, crashed_shard=0)
        else:
            lost = writers.report(f"scale_shards_{name}")
            check(not lost, f"acknowledged writes lost in the migration: {lost[:10]}")
            beyond = writers.server_errors_beyond_moves()
            check(not beyond, f"the writers saw errors other than MOVED, ASK and TRYAGAIN: {beyond}")


def main() -> None:
    for scenario in itest.chosen_from_argv(SCENARIOS, "scenario"):
        scale(scenario, **SCENARIOS[scenario])


if __name__ == "__main__":
    itest.run(main)
