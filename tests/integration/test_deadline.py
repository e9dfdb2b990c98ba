#!/usr/bin/env python3
"""Deadlines: in a 3x0 cluster the only pod of shard 2 is missing, so its slots stay uncovered
and no pod can reach cluster_state:ok. The other pods' bootstraps (--timeout 5) must exit 1 at
their deadline -- not earlier, since a missing pod may still appear, and not much later -- with
an error that names redis-shard2-0 and why:
  A. its DNS name does not exist (NXDOMAIN);
  B. its name resolves but nothing listens there (connection refused).
In B, shard 0's bootstrap also writes its reason to --termination-log (where Kubernetes reads
the message `kubectl describe pod` shows): the file must hold the same lines as its error log,
within Kubernetes' 4096 bytes. Shard 1's bootstrap is given none and writes nothing: the default
path, /dev/termination-log, does not exist outside Kubernetes (and is never created).
Finally (C) the pod appears: every bootstrap must now exit 0 and the cluster be correct, so the
failed attempts left nothing behind that blocks the real one.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402

TIMEOUT = 5
SLACK = 5.0  # seconds past the deadline still accepted (a last observation may be in flight)
MISSING = "redis-shard2-0"


def expect_deadline(runs, reasons, phase) -> None:
    """Each run exits 1 within [TIMEOUT - 0.5, TIMEOUT + SLACK] seconds, and its error output
    (the binary runs at --log-level error) names the missing pod and one of `reasons`."""
    for run in runs:
        status = run.wait(TIMEOUT + SLACK + 10)
        text = run.stderr
        check(status == 1, f"{phase}: {run.pod.name} exited {status}, expected 1\n"
                           f"{run.describe()}")
        check(TIMEOUT - 0.5 <= run.elapsed <= TIMEOUT + SLACK,
              f"{phase}: {run.pod.name} exited after {run.elapsed:.1f}s, expected about "
              f"{TIMEOUT}s (--timeout {TIMEOUT})\n{run.describe()}")
        check(MISSING in text, f"{phase}: {run.pod.name}'s error does not name {MISSING}:\n"
                               f"{run.describe()}")
        check(any(reason in text.lower() for reason in reasons),
              f"{phase}: {run.pod.name}'s error does not say why {MISSING} is missing (expected "
              f"one of {reasons}):\n{run.describe()}")
        print(f"[deadline] {phase}: {run.pod.name} exit 1 after {run.elapsed:.1f}s: "
              f"{text.strip().splitlines()[-1]}", flush=True)


def check_termination_message(run, path) -> None:
    """The file holds the error lines of the run's log, message text only, in order."""
    check(os.path.exists(path), f"B: {run.pod.name} wrote no {path}\n{run.describe()}")
    with open(path) as f:
        message = f.read()
    check(len(message.encode()) <= 4096, f"B: the termination message is {len(message)} bytes")
    check("did not converge" in message and MISSING in message,
          f"B: the termination message does not say why:\n{message}")
    logged = [line.split(" error ", 1)[1] for line in run.stderr.splitlines() if " error " in line]
    check(message.splitlines() == logged[:len(message.splitlines())],
          f"B: the termination message is not the error log's lines:\n{message}\n---\n"
          f"{run.stderr}")
    print(f"[deadline] B: termination message of {run.pod.name}: {len(message)} bytes, "
          f"{len(message.splitlines())} lines", flush=True)


def main() -> None:
    with TestBed("deadline") as bed:
        cluster = bed.cluster(3, 0)
        present = [cluster.pod(0, 0), cluster.pod(1, 0)]
        missing = cluster.pod(2, 0)
        cluster.start(pods=present)

        runs = cluster.bootstrap_all(pods=present, timeout=TIMEOUT, log_level="error")
        expect_deadline(runs, ("nxdomain", "not found", "does not exist", "no such", "resolve"),
                        "A (no DNS record)")

        missing.publish()
        message_file = os.path.join(present[0].dir, "termination-log")
        runs = [present[0].bootstrap(timeout=TIMEOUT, log_level="error",
                                     extra_args=("--termination-log", message_file)),
                present[1].bootstrap(timeout=TIMEOUT, log_level="error")]
        expect_deadline(runs, ("refused", "connect"), "B (nothing listening)")
        check_termination_message(runs[0], message_file)
        check(not os.path.exists("/dev/termination-log"),
              "B: a bootstrap without --termination-log created /dev/termination-log")

        missing.start()
        runs = cluster.bootstrap_all()
        cluster.wait_bootstraps(runs, timeout=90)
        check_cluster(cluster, timeout=30)


if __name__ == "__main__":
    itest.run(main)
