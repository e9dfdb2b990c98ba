#!/usr/bin/env python3
"""`run` never starts an empty redis-server where live replicas would copy it. In a 3x1 cluster
under `run` (AOF on, node timeout 2 s):

A. The master of shard 2 crashes and its pod comes straight back at the SAME address with an
   empty volume (no nodes.conf, no data). Its replica still replicates that address: a
   redis-server started there now would make it full-sync the empty dataset and drop the
   shard's last copy (measured on bare servers: within a second). `run` must hold redis-server
   back, saying why, until Redis has promoted the replica; the replica keeps its keys all along;
   then the pod joins as a replica of the promoted node and its former ID is forgotten.
B. A replica's pod comes back empty at the same address: nobody replicates a replica, so `run`
   starts redis-server at once and it rejoins as before.
C. As A for shard 0, but SIGTERM reaches `run` while it holds redis-server back (the pod is
   deleted meanwhile): it exits at once with 143 and never starts redis-server; started again,
   it waits for the promotion as in A.
D. As A for shard 1, with the pod's DNS going through a server that never answers about one
   unrelated pod (shard 0's replica): a lookup that never answers must not use up the round
   and leave its probes no time, or no replica would answer and the empty server would start.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import (check_replicates, form, healed, healed_but_ghost, keys_intact, role,
                  wait_for, wait_forgotten)  # noqa: E402
from itest import check  # noqa: E402
from dnsmasq import SilencingProxy  # noqa: E402
from resp import ProtocolError, RespError  # noqa: E402
from testbed import TestBed  # noqa: E402

HELD_BACK = "not starting redis-server yet"
CHECKED = "is missing or empty: redis-server will start as a new node"


def answers(pod) -> bool:
    """Whether any redis-server answers at the pod's address (an error reply is an answer)."""
    try:
        pod.command("PING", timeout=0.5)
        return True
    except RespError:
        return True
    except (OSError, ProtocolError):
        return False


def check_rejoined_empty(cluster, pod, master, old_id, what) -> None:
    """`pod`, back empty, replicates `master`; its former ID is gone; every key is there."""
    views = healed_but_ghost(cluster, old_id, what, creation_layout=False)
    check_replicates(views, pod, master)
    wait_forgotten(cluster, old_id, pod.name)
    healed(cluster, what, creation_layout=False)  # strict: no extra node left
    keys_intact(cluster, what)


def held_back_until_promoted(cluster, master, replica, while_held=None, **run_changes) -> None:
    """`master`'s pod returns empty at its own address before the failover: redis-server must
    not answer there until `replica` is promoted, the replica keeps every key, `run` says why
    it waits, and the pod then rejoins as a replica of the promoted node. `while_held` is
    called once `run` has said it holds redis-server back."""
    old_id, replica_keys = master.node_id(), replica.command("DBSIZE")
    check(replica_keys > 0, f"{replica.name}: holds no keys before the fault")
    master.restart(crash=True, keep_data=False, wait=False, **run_changes)
    started = time.monotonic()
    while True:
        elapsed = time.monotonic() - started
        if while_held and HELD_BACK in master.supervisor.stderr:
            while_held()
            while_held = None
        # Whether a server answers is read before the replica's role: a server that starts
        # right after the promotion must not count as one started before it.
        server_up = answers(master)
        if role(replica)["role"] == "master":
            break
        check(elapsed < 20, f"{replica.name} not promoted 20s after {master.name} crashed\n"
                            f"{master.supervisor.describe(40)}\n{cluster.nodes_report()}")
        check(not server_up, f"{master.name}: an empty redis-server answers at {master.ip} "
                             f"{elapsed:.1f}s after the crash, while {replica.name} still "
                             f"replicates that address\n{master.supervisor.describe(40)}")
        kept = replica.command("DBSIZE")
        check(kept == replica_keys, f"{replica.name}: holds {kept} keys, had {replica_keys}")
        time.sleep(0.05)
    print(f"[run_lost_volume] {replica.name} promoted {time.monotonic() - started:.1f}s "
          f"after {master.name} crashed; redis-server held back until then", flush=True)
    master.wait_ready(timeout=15)
    said = [line for line in master.supervisor.stderr.splitlines() if HELD_BACK in line]
    check(said, f"{master.name}: `run` never said why it waited\n"
                f"{master.supervisor.describe(40)}")
    print(f"[run_lost_volume] {master.name} said: {said[0]}", flush=True)
    check_rejoined_empty(cluster, master, replica, old_id,
                         f"{master.name} returned empty at its own address")


def main() -> None:
    with TestBed("run_lost_volume") as bed:
        cluster = form(bed, supervised=True)

        # A. A master's pod returns empty at its own address before the failover.
        held_back_until_promoted(cluster, cluster.pod(2, 0), cluster.pod(2, 1))

        # B. A replica's pod returns empty at its own address: nothing to wait for.
        replica, master = cluster.pod(1, 1), cluster.pod(1, 0)
        old_id = replica.node_id()
        replica.restart(crash=True, keep_data=False)
        log = replica.supervisor.stderr
        check(CHECKED in log, f"{replica.name}: `run` did not see that nodes.conf was gone\n"
                              f"{replica.supervisor.describe(40)}")
        check(HELD_BACK not in log, f"{replica.name}: `run` held a replica back\n"
                                    f"{replica.supervisor.describe(40)}")
        check_rejoined_empty(cluster, replica, master, old_id,
                             f"{replica.name} returned empty at its own address")

        # C. Stopped while held back, then started again.
        master, replica = cluster.pod(0, 0), cluster.pod(0, 1)
        old_id = master.node_id()
        master.restart(crash=True, keep_data=False, wait=False)
        wait_for(lambda: HELD_BACK in master.supervisor.stderr, 10,
                 f"{master.name}: `run` holding redis-server back", cluster)
        check(role(replica)["role"] != "master", f"{replica.name} promoted before the test "
                                                 f"could stop {master.name}'s `run`")
        stopped = time.monotonic()
        master.signal_supervisor(signal.SIGTERM)
        status = master.supervisor.wait(10)
        took = time.monotonic() - stopped
        check(status == 128 + signal.SIGTERM, f"{master.name}: `run` exited {status} on SIGTERM "
                                              f"while waiting\n{master.supervisor.describe(40)}")
        check("redis-server as pid" not in master.supervisor.stderr,
              f"{master.name}: redis-server was started\n{master.supervisor.describe(40)}")
        print(f"[run_lost_volume] {master.name}: `run` exited {status} {took:.2f}s after SIGTERM, "
              f"redis-server never started", flush=True)
        master.start(wait=False)
        master.wait_ready(timeout=20)
        check(role(replica)["role"] == "master",
              f"{master.name}: redis-server answers before {replica.name} was promoted")
        check_rejoined_empty(cluster, master, replica, old_id,
                             f"{master.name} returned empty again after its `run` was stopped")

        # D. As A, while one unrelated name's lookups never get an answer (until `run` has
        #    decided to hold redis-server back: the pod must then reach that pod to forget its
        #    former ID there).
        #    The proxy answers UDP only, and SRV goes over TCP: the pod asks each pod's name
        #    (as with a DNS server without SRV), which is what this case is about.
        proxy = SilencingProxy(bed.dns.address, cluster.pod(0, 1).name)
        try:
            held_back_until_promoted(cluster, cluster.pod(1, 0), cluster.pod(1, 1),
                                     while_held=proxy.stop_silencing, options_via="env",
                                     extra_env={"DNS_SERVER": proxy.server_arg, "DISCOVERY": "names"})
        finally:
            proxy.close()


if __name__ == "__main__":
    itest.run(main)
