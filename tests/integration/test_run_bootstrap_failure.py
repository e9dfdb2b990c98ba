#!/usr/bin/env python3
"""What `redis-cluster-init run` does when its bootstrap misses the deadline (--timeout 3),
here because the pod is alone: none of its peers exists yet, so no quorum can be observed.

- --on-bootstrap-failure exit: the supervisor stops redis-server (SIGTERM) and exits 1; nothing
  of the pod is left.
- the default, keep-running: the supervisor keeps redis-server serving and keeps reconciling
  (--reconcile-interval 2); once the peers arrive (started through `run` themselves), the
  cluster forms with this pod in it, slots and all.
- --on-bootstrap-failure exit with a server that ignores SIGTERM (as redis-server does when its
  final save fails): the supervisor kills it after --stop-grace (1 s) and exits 1.

Three clusters in separate namespaces of one bed, side by side.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed, check_cluster, processes  # noqa: E402

DEADLINE = 3
STOP_GRACE = 1
# Stands in for a redis-server that will not stop: it ignores SIGTERM and never answers.
STUBBORN_SERVER = ["python3", "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                    "time.sleep(600)"]


def main() -> None:
    with TestBed("run_bootstrap_failure") as bed:
        quitter = bed.cluster(3, 0, namespace="exit")
        stayer = bed.cluster(3, 0, namespace="keep")
        lone_quitter, lone_stayer = quitter.pod(0, 0), stayer.pod(0, 0)
        lone_quitter.publish()
        lone_stayer.publish()
        lone_quitter.start_supervised(timeout=DEADLINE,
                                      run_args=["--on-bootstrap-failure", "exit"])
        lone_stayer.start_supervised(timeout=DEADLINE, run_args=["--reconcile-interval", "2"])
        stubborn = bed.cluster(3, 0, namespace="stubborn").pod(0, 0)
        stubborn.publish()
        stubborn.start_supervised(wait=False, timeout=DEADLINE, server_command=STUBBORN_SERVER,
                                  run_args=["--on-bootstrap-failure", "exit",
                                            "--stop-grace", str(STOP_GRACE)])
        supervisor = lone_quitter.supervisor_pid()
        server = lone_quitter.server_pid()

        try:
            status = lone_quitter.supervisor.wait(DEADLINE + 15)
        except TimeoutError:
            raise AssertionError(f"{lone_quitter.label}: --on-bootstrap-failure exit: still "
                                 f"running {DEADLINE + 15}s after start\n"
                                 f"{lone_quitter.supervisor.describe()}") from None
        check(status == 1, f"{lone_quitter.label}: --on-bootstrap-failure exit: exited "
                           f"{status}, expected 1\n{lone_quitter.supervisor.describe()}")
        elapsed = lone_quitter.supervisor.elapsed
        check(elapsed >= DEADLINE - 0.5, f"{lone_quitter.label}: gave up after {elapsed:.1f}s, "
                                         f"before its {DEADLINE}s deadline")
        left = processes(lambda p: p["pgrp"] == lone_quitter.supervisor.pid
                         or p["ppid"] == supervisor or p["pid"] == server)
        check(not left, f"{lone_quitter.label}: processes left after exit: {left}")
        print(f"[bootstrap_failure] exit: supervisor exited 1 after {elapsed:.1f}s, redis-server "
              f"stopped", flush=True)

        status = stubborn.supervisor.wait(DEADLINE + STOP_GRACE + 15)
        elapsed = stubborn.supervisor.elapsed
        check(status == 1, f"{stubborn.label}: exited {status}, expected 1\n"
                           f"{stubborn.supervisor.describe()}")
        check(DEADLINE + STOP_GRACE - 0.5 <= elapsed <= DEADLINE + STOP_GRACE + 5,
              f"{stubborn.label}: exited after {elapsed:.1f}s, expected about "
              f"{DEADLINE + STOP_GRACE}s (deadline, then the stop grace)")
        left = processes(lambda p: p["pgrp"] == stubborn.supervisor.pid)
        check(not left, f"{stubborn.label}: processes left after exit: {left}")
        print(f"[bootstrap_failure] a server ignoring SIGTERM was killed after --stop-grace "
              f"{STOP_GRACE}s; supervisor exited 1 after {elapsed:.1f}s", flush=True)

        time.sleep(max(0.0, DEADLINE + 1 - lone_stayer.supervisor.elapsed))
        check(lone_stayer.supervisor.poll() is None,
              f"{lone_stayer.label}: keep-running: the supervisor exited after the deadline\n"
              f"{lone_stayer.supervisor.describe()}")
        check(lone_stayer.command("PING") == "PONG",
              f"{lone_stayer.label}: keep-running: redis-server does not answer")
        started = time.monotonic()
        stayer.start_supervised(pods=stayer.pods[1:])
        check_cluster(stayer, timeout=30)
        print(f"[bootstrap_failure] keep-running: cluster formed {time.monotonic() - started:.1f}s "
              f"after the peers arrived", flush=True)
        check(lone_stayer.supervisor.poll() is None, f"{lone_stayer.label}: supervisor exited")


if __name__ == "__main__":
    itest.run(main)
