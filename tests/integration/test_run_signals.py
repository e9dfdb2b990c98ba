#!/usr/bin/env python3
"""Signals and process hygiene of `redis-cluster-init run`, on a 3x1 cluster formed through it
with `--handover off`, with RDB persistence on (`save 3600 1`, so a clean shutdown saves):

1. SIGTERM to a master's supervisor alone (as the kubelet signals a container's PID 1): with
   --handover off it forwards it at once (the master does not hand its slots over, so it
   comes back a master: today's behaviour, kept), redis-server shuts down cleanly (dump.rdb written at shutdown, and the pod,
   started again through `run`, serves every key of its shard from it), the supervisor exits 0
   (redis-server's status) and leaves no process behind (none in its process group, none whose
   parent it was).
2. SIGKILL to a replica's redis-server itself: the supervisor exits 137 (128+9), nothing left;
   started again through `run`, the pod rejoins.
3. The supervisor as a real PID 1 (`unshare --pid --fork`, signals come from the parent
   namespace as they do from the container runtime): an orphan started by the server command
   is re-parented to it and reaped when it exits (no zombie); SIGINT is forwarded and the exit
   status is redis-server's, 0.
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed, check_cluster, key_slot, processes, proc_stat  # noqa: E402
from slots import shard_slot_range  # noqa: E402
from waiting import wait_until, wait_until_none  # noqa: E402

KEYS = 1000
ORPHAN_SECONDS = 2.0


def wait_exit(pod, timeout=20.0) -> int:
    try:
        return pod.supervisor.wait(timeout)
    except TimeoutError:
        raise AssertionError(f"{pod.name}: supervisor still running {timeout:.0f}s after the "
                             f"signal\n{pod.supervisor.describe()}") from None


def check_nothing_left(pod, supervisor_pid, server_pid) -> None:
    """Nothing of the pod survives its supervisor: not redis-server, not any other process in
    the pod's process group, none whose parent was the supervisor (zombie or orphan)."""
    def left():
        return processes(lambda p: p["pgrp"] == pod.supervisor.pid
                         or p["ppid"] == supervisor_pid or p["pid"] == server_pid)

    # A group member may take a moment to be reaped.
    wait_until_none(left, 2.0, f"{pod.name}: no process left after the supervisor exited")


def shard_keys(cluster, shard) -> int:
    first, last = shard_slot_range(shard, cluster.shards)
    return sum(1 for i in range(KEYS) if first <= key_slot(f"key:{i}") <= last)


def sigterm_master(cluster) -> None:
    pod = cluster.pod(0, 0)
    rdb = os.path.join(pod.dir, "dump.rdb")
    check(not os.path.exists(rdb), f"test error: {rdb} exists before the shutdown")
    supervisor, server = pod.supervisor_pid(), pod.server_pid()
    check(supervisor and server, f"{pod.name}: supervisor {supervisor}, server {server}")
    signalled = time.time()
    os.kill(supervisor, signal.SIGTERM)
    status = wait_exit(pod)
    check(status == 0, f"{pod.name}: supervisor exited {status} after SIGTERM, expected 0\n"
                       f"{pod.supervisor.describe()}")
    check_nothing_left(pod, supervisor, server)
    check(os.path.exists(rdb) and os.path.getmtime(rdb) >= signalled - 1,
          f"{pod.name}: no dump.rdb written at shutdown (redis-server was not shut down "
          f"cleanly)")
    print(f"[signals] SIGTERM: {pod.name} exited 0 in {pod.supervisor.elapsed:.1f}s total, "
          f"dump.rdb {os.path.getsize(rdb)} bytes", flush=True)

    pod.start()  # through `run` again, same address, same volume
    held = pod.command("DBSIZE")
    expected = shard_keys(cluster, 0)
    check(held == expected, f"{pod.name}: restarted from its dump.rdb with {held} keys, "
                            f"expected {expected}")
    check(pod.info("replication")["role"] == "master",
          f"{pod.name}: came back as {pod.info('replication')['role']}")
    check_cluster(cluster, timeout=30)
    counted = cluster.count_keys()
    check(counted == KEYS, f"after the restart the masters hold {counted} keys, not {KEYS}")


def sigkill_server(cluster) -> None:
    pod = cluster.pod(1, 1)
    supervisor, server = pod.supervisor_pid(), pod.server_pid()
    check(supervisor and server, f"{pod.name}: supervisor {supervisor}, server {server}")
    os.kill(server, signal.SIGKILL)
    status = wait_exit(pod)
    check(status == 128 + signal.SIGKILL,
          f"{pod.name}: supervisor exited {status} after its redis-server was SIGKILLed, "
          f"expected {128 + signal.SIGKILL}\n{pod.supervisor.describe()}")
    check_nothing_left(pod, supervisor, server)
    print(f"[signals] SIGKILL of redis-server: supervisor of {pod.name} exited 137", flush=True)
    pod.start()  # the container restarts
    check_cluster(cluster, timeout=30)


def pid1_reaps_and_forwards(cluster) -> None:
    pod = cluster.pod(2, 1)
    pod.stop()
    check(pod.supervisor.returncode == 0, f"{pod.name}: exit {pod.supervisor.returncode} on "
                                          f"SIGTERM")
    # The server command leaves an orphan behind, which the kernel hands to the namespace's
    # PID 1: the supervisor.
    script = f'(sleep {ORPHAN_SECONDS} &); exec redis-server "$@"'
    pod.start_supervised(wrapper=["unshare", "--pid", "--fork", "--kill-child"],
                         server_command=["sh", "-c", script, "sh", pod.config_path])
    supervisor = pod.supervisor_pid()
    check(supervisor is not None, f"{pod.name}: supervisor not found under unshare")
    orphans = [p for p in processes(lambda p: p["ppid"] == supervisor)
               if p["comm"] == "sleep"]
    check(orphans, f"test error: the orphan was not re-parented to the supervisor (children: "
                   f"{processes(lambda p: p['ppid'] == supervisor)})")
    orphan = orphans[0]["pid"]
    wait_until(lambda: proc_stat(orphan) is None, ORPHAN_SECONDS + 5,
               f"{pod.name}: the orphan {orphan} reaped by the supervisor (PID 1)",
               detail=lambda: f"it is still there: {proc_stat(orphan)}")
    check(pod.running and pod.command("PING") == "PONG", f"{pod.name}: stopped serving")
    check_cluster(cluster, timeout=30)

    server = pod.server_pid()
    os.kill(supervisor, signal.SIGINT)
    status = wait_exit(pod)  # unshare exits with its child's status
    check(status == 0, f"{pod.name}: PID-1 supervisor exited {status} after SIGINT, expected 0"
                       f"\n{pod.supervisor.describe()}")
    check_nothing_left(pod, supervisor, server)
    print("[signals] PID 1: orphan reaped, SIGINT forwarded, exit 0", flush=True)


def main() -> None:
    with TestBed("run_signals") as bed:
        cluster = bed.cluster(3, 1, redis_config=["save 3600 1"])
        cluster.start_supervised(run_args=["--handover", "off"])
        check_cluster(cluster, timeout=30)
        check(cluster.pod(0, 0).command("CONFIG", "GET", "save") == ["save", "3600 1"],
              "test bed error: persistence is not configured")
        cluster.write_keys(KEYS)
        cluster.wait_replicas_synced()
        sigterm_master(cluster)
        sigkill_server(cluster)
        if subprocess.run(["unshare", "--pid", "--fork", "true"],
                          stderr=subprocess.DEVNULL).returncode == 0:
            pid1_reaps_and_forwards(cluster)
        else:
            print("[signals] unshare --pid not permitted here: PID-1 part skipped", flush=True)


if __name__ == "__main__":
    itest.run(main)
