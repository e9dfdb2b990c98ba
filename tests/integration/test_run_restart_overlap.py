#!/usr/bin/env python3
"""Two masters of a 3x1 cluster (all pods under `redis-cluster-init run`) restart close
together, as in a node drain: master A (shard 0) crashes and comes back at its own address, and
half a second later, while A's bootstrap is still running, master B (shard 2) crashes and comes
back at a new address (DNS rewritten, volume kept).

What must hold: nobody MEETs B's old address. B's node ID is known everywhere; the new address
must reach every table through B's own pings, or through a MEET to the address B answers at now,
verified. A MEET to the old address would hit a dead address here, and in Kubernetes one that
may already belong to another pod (possibly of another cluster). Redis creates a `handshake`
entry only for a MEET, so a handshake entry at B's old address in any table is the evidence; the
tables are sampled every 50 ms while the cluster heals. Then the cluster must be correct again
(B at its new address in every table) sooner than the cluster-node-timeout (15 s), after which
Redis would drop a stray handshake by itself, and hold every key.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from sampler import Sampler  # noqa: E402
from testbed import ClusterCheckError, TestBed, check_cluster, observe_pod  # noqa: E402

KEYS = 1000
HEAL_WITHIN = 12.0  # seconds; the node timeout is 15 s


def check_healed(cluster, what: str, timeout: float) -> None:
    try:
        check_cluster(cluster, timeout=timeout)
    except ClusterCheckError as error:
        raise ClusterCheckError(f"after {what}: {error}\nCLUSTER NODES as each pod sees it:\n"
                                f"{cluster.nodes_report()}") from None


class HandshakeWatch(Sampler):
    """Samples every pod's CLUSTER NODES every 50 ms; records handshake entries at `address`."""

    def __init__(self, cluster, address):
        self.cluster = cluster
        self.address = address
        self.seen = {}  # pod name -> first sighting (seconds after start, node line)
        self.started = time.monotonic()

    def sample(self):
        for pod in self.cluster.pods:
            view = observe_pod(pod, password=self.cluster.password, timeout=0.5)
            for node in view.nodes:
                if node.ip == self.address and "handshake" in node.flags:
                    self.seen.setdefault(pod.name, (time.monotonic() - self.started,
                                                    f"{node.node_id} {node.endpoint} "
                                                    f"{','.join(sorted(node.flags))}"))


def main() -> None:
    with TestBed("run_restart_overlap") as bed:
        cluster = bed.cluster(3, 1, redis_config=["appendonly yes"])
        cluster.start_supervised(run_args=["--reconcile-interval", "3"])
        check_cluster(cluster, timeout=30)
        cluster.write_keys(KEYS)
        cluster.wait_replicas_synced()
        a, b = cluster.pod(0, 0), cluster.pod(2, 0)
        old_ip = b.ip
        with HandshakeWatch(cluster, old_ip) as watch:
            started = time.monotonic()
            a.restart(crash=True)                 # same address; its bootstrap starts
            time.sleep(0.5)
            b.restart(crash=True, new_ip=True)    # while A's bootstrap runs
            what = f"{a.name} restarted and {b.name} moved from {old_ip} to {b.ip}"
            healed, not_healed = None, None
            try:
                check_healed(cluster, what, timeout=HEAL_WITHIN)
                healed = time.monotonic() - started
            except AssertionError as error:
                not_healed = error
            time.sleep(0.2)
        # The MEET, if any, explains a slow heal: report it first.
        check(not watch.seen,
              f"after {what}: CLUSTER MEET sent to {b.name}'s old address {old_ip} "
              f"(handshake entries there): "
              + "; ".join(f"{name} at +{t:.2f}s: {line}"
                          for name, (t, line) in sorted(watch.seen.items()))
              + (f"\nand the cluster had not healed after {HEAL_WITHIN:.0f}s: {not_healed}"
                 if not_healed else ""))
        if not_healed:
            raise not_healed
        print(f"[restart_overlap] healed {healed:.1f}s after {what}", flush=True)
        counted = cluster.count_keys()
        check(counted == KEYS, f"after {what}: the masters hold {counted} keys, expected {KEYS}")


if __name__ == "__main__":
    itest.run(main)
