#!/usr/bin/env python3
"""The SIGTERM handover of `run` (--handover on, the default), on a 3x1 cluster with every pod
under `run`, cluster-node-timeout 5000 ms, and a client per shard writing all along and
recording every write the cluster acknowledged (writer.py):

1. A rolling restart, as a StatefulSet update does it: per shard, ordinal 1 then ordinal 0, each
   SIGTERMed (to `run` alone, as the kubelet signals PID 1) and started again at its address.
   - A replica's SIGTERM is forwarded at once: no handover, nothing to hand.
   - A master hands its slots over: while `run` holds the signal it keeps the readiness
     marker, and `probe readiness` of the pod says not-ready because of it; its replica is the
     shard's master when the old master's supervisor has exited (long before the node timeout
     could have elected it); `run` exits 0 (redis-server's status); the old master comes back as
     the new master's replica and nothing moves it back.
   - Afterwards: every acknowledged write and every key written before is there; the longest
     time a shard went without an acknowledged write is printed, and is shorter than the node
     timeout (without a handover it is longer: the shard is down until Redis notices).
2. An idle master hands over too: its replica has not heard from it for seconds (an idle
   master pings only every 10 s) but has applied all of its stream.
3. A second SIGTERM during a handover ends it at once: the other two masters are frozen
   (SIGSTOP), so the replica cannot win its election; `run` holds the first SIGTERM, and the
   second is forwarded at once: redis-server exits long before the handover would have given
   up.
4. A master without a healthy replica (its replica killed first) shuts down at once, as
   before the handover existed, and says why.
The cluster is whole again after each part. `--handover off` is test_run_signals'.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from sampler import Sampler  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402
from writer import AckedWriters  # noqa: E402
from waiting import wait_until  # noqa: E402

KEYS = 1000
NODE_TIMEOUT_MS = 5000


def master_of(cluster, shard):
    masters = [p for p in cluster.shard_pods(shard) if p.running
               and p.info("replication")["role"] == "master"]
    check(len(masters) == 1, f"shard {shard}: masters {masters}")
    return masters[0]


def replica_of(cluster, shard, master):
    return next(p for p in cluster.shard_pods(shard) if p is not master)


def wait_exit(pod, timeout):
    try:
        return pod.supervisor.wait(timeout)
    except TimeoutError:
        raise AssertionError(f"{pod.name}: `run` still running {timeout:.0f}s after SIGTERM\n"
                             f"{pod.supervisor.describe()}") from None


class MarkerWatch(Sampler):
    """Whether the pod's handover marker existed while `run` was stopping, and whether
    `probe readiness` said not-ready because of it."""

    interval = 0.005

    def __init__(self, pod):
        self.pod = pod
        self.path = os.path.join(pod.tmp_dir, f"redis-cluster-init-{pod.port}.handover")
        self.seen = False
        self.probe_said = None

    def sample(self):
        if not os.path.exists(self.path):
            return
        self.seen = True
        if self.probe_said is None:
            run = self.pod.probe("readiness", timeout=5)
            self.probe_said = (run.returncode, run.stdout + run.stderr)


def restart_replica(cluster, pod) -> None:
    pod.signal_supervisor(signal.SIGTERM)
    status = wait_exit(pod, 10)
    check(status == 0, f"{pod.name}: `run` exited {status}\n{pod.supervisor.describe()}")
    check("no handover: this node serves no slots" in pod.supervisor.stderr,
          f"{pod.name}: a replica's `run` did not say it had nothing to hand over\n"
          f"{pod.supervisor.describe()}")
    pod.start()
    check_cluster(cluster, timeout=30, creation_layout=False)


def hand_over_master(cluster, shard, writers) -> float:
    """SIGTERMs the shard's master; returns the shard's longest write gap around it."""
    master = master_of(cluster, shard)
    replica = replica_of(cluster, shard, master)
    signalled = time.monotonic()
    with MarkerWatch(master) as watch:
        master.signal_supervisor(signal.SIGTERM)
        status = wait_exit(master, 20)
    # Right after the old master's exit: the node timeout (5 s) has not passed, so only a
    # handover can have made the replica the master by now.
    exited = time.monotonic() - signalled
    role = replica.info("replication")["role"]
    check(role == "master", f"{replica.name} is a {role} when {master.name} has exited "
                            f"({exited:.1f}s after SIGTERM): no handover\n"
                            f"{master.supervisor.describe()}")
    check(status == 0, f"{master.name}: `run` exited {status}\n{master.supervisor.describe()}")
    check("handover done" in master.supervisor.stderr,
          f"{master.name}: `run` did not log the handover\n{master.supervisor.describe()}")
    check(watch.seen, f"{master.name}: no handover marker seen at {watch.path} while it stopped")
    if watch.probe_said is not None:  # the marker may be gone before a probe process is up
        code, said = watch.probe_said
        check(code == 1 and "handing this node's slots over" in said,
              f"{master.name}: probe readiness during the handover: exit {code}: {said}")
    master.start()
    check_cluster(cluster, timeout=30, creation_layout=False)
    check(master.info("replication")["role"] == "slave",
          f"{master.name}: came back as a master after handing its slots over")
    writers.wait_for_progress(20, timeout=10)
    gap, _ = writers.writers[shard].longest_gap(since=signalled, until=time.monotonic())
    print(f"[handover] shard {shard}: {master.name} -> {replica.name}, `run` exited "
          f"{exited:.2f}s after SIGTERM, longest write gap {gap:.2f}s, probe during it: "
          f"{'not ready' if watch.probe_said else 'not sampled'}", flush=True)
    return gap


def rolling_restart(cluster) -> None:
    with AckedWriters(cluster) as writers:
        writers.wait_for_progress(50, timeout=10)
        gaps = []
        for shard in range(cluster.shards):
            master = master_of(cluster, shard)
            restart_replica(cluster, replica_of(cluster, shard, master))
            gaps.append(hand_over_master(cluster, shard, writers))
        writers.wait_for_progress(50, timeout=10)
    lost = writers.missing()
    check(not lost, f"{len(lost)} of {writers.acknowledged()} acknowledged writes lost, "
                    f"e.g. {lost[:5]}")
    check(not cluster.missing_keys(KEYS), f"keys lost: {cluster.missing_keys(KEYS)[:5]}")
    failures = {}
    for writer in writers.writers:
        for kind, count in writer.failures.items():
            failures[kind] = failures.get(kind, 0) + count
    print(f"[handover] rolling restart: {writers.acknowledged()} acknowledged writes, 0 lost; "
          f"longest gap per master restart {max(gaps):.2f}s (node timeout "
          f"{NODE_TIMEOUT_MS / 1000:.0f}s); failed writes retried, by the client's exception: "
          f"{failures or 'none'}", flush=True)
    for shard, gap in enumerate(gaps):
        check(gap < NODE_TIMEOUT_MS / 1000,
              f"shard {shard}: {gap:.2f}s without an acknowledged write across its master's "
              f"restart, as long as Redis' own failure detection would take")


def idle_master_hands_over(cluster) -> None:
    master = master_of(cluster, 2)
    replica = replica_of(cluster, 2, master)
    wait_until(lambda: int(replica.info("replication").get("master_last_io_seconds_ago", -1)) >= 2,
               15, f"{replica.name}: its master idle for 2 s", interval=0.1,
               detail=lambda: str(replica.info("replication")))
    master.signal_supervisor(signal.SIGTERM)
    status = wait_exit(master, 20)
    role = replica.info("replication")["role"]
    check(status == 0 and role == "master" and "handover done" in master.supervisor.stderr,
          f"{master.name}, idle: `run` exited {status}, {replica.name} is a {role}\n"
          f"{master.supervisor.describe()}")
    print(f"[handover] idle master: {master.name} -> {replica.name}", flush=True)
    master.start()
    check_cluster(cluster, timeout=30, creation_layout=False)


def second_signal_cuts_short(cluster) -> None:
    master = master_of(cluster, 0)
    others = [master_of(cluster, shard) for shard in (1, 2)]
    frozen = [pod.server_pid() for pod in others]
    watch = MarkerWatch(master)
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        master.signal_supervisor(signal.SIGTERM)
        wait_until(lambda: os.path.exists(watch.path), 5, f"{master.name}: a handover begun",
                   interval=0.01)
        time.sleep(0.5)
        check(master.supervisor.poll() is None,
              f"{master.name}: `run` exited although no replica could take over\n"
              f"{master.supervisor.describe()}")
        second = time.monotonic()
        master.signal_supervisor(signal.SIGTERM)
        status = wait_exit(master, 10)
        took = time.monotonic() - second
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
    check(status == 0, f"{master.name}: `run` exited {status}\n{master.supervisor.describe()}")
    check(took < 3, f"{master.name}: exited {took:.1f}s after the second SIGTERM")
    check("cutting it short" in master.supervisor.stderr,
          f"{master.name}: `run` did not say the second signal cut the handover short\n"
          f"{master.supervisor.describe()}")
    check(not os.path.exists(watch.path), f"{watch.path} left behind")
    print(f"[handover] second SIGTERM: `run` exited {took:.2f}s after it", flush=True)
    master.start()
    check_cluster(cluster, timeout=40, creation_layout=False)


def no_healthy_replica(cluster) -> None:
    master = master_of(cluster, 1)
    replica = replica_of(cluster, 1, master)
    replica.kill()
    signalled = time.monotonic()
    master.signal_supervisor(signal.SIGTERM)
    status = wait_exit(master, 10)
    took = time.monotonic() - signalled
    check(status == 0, f"{master.name}: `run` exited {status}\n{master.supervisor.describe()}")
    check("no handover (not possible): no healthy replica" in master.supervisor.stderr,
          f"{master.name}: `run` did not say why it did not hand over\n"
          f"{master.supervisor.describe()}")
    print(f"[handover] no healthy replica: `run` exited {took:.2f}s after SIGTERM", flush=True)
    master.start()
    replica.start()
    check_cluster(cluster, timeout=40, creation_layout=False)


def main() -> None:
    with TestBed("run_handover") as bed:
        cluster = bed.cluster(3, 1, node_timeout_ms=NODE_TIMEOUT_MS, redis_config=["save 3600 1"])
        cluster.start_supervised()
        check_cluster(cluster, timeout=30)
        cluster.write_keys(KEYS)
        cluster.wait_replicas_synced()
        rolling_restart(cluster)
        idle_master_hands_over(cluster)
        second_signal_cuts_short(cluster)
        no_healthy_replica(cluster)
        check(not cluster.missing_keys(KEYS), f"keys lost: {cluster.missing_keys(KEYS)[:5]}")


if __name__ == "__main__":
    itest.run(main)
