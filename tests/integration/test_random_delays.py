#!/usr/bin/env python3
"""Random start orders: in each round a fresh 3x1 cluster's redis-servers and bootstraps start in
a random order with random delays (0-1.5 s each, independently: a bootstrap may start before its
own redis-server or before any peer has a DNS record). A pod's DNS record appears when its
redis-server starts, as a pod's does when it gets its IP. Every round must end with every
bootstrap exiting 0 and one correct cluster.

Rounds run a few at a time, each in its own namespace and addresses, to keep the test short;
RCI_ROUNDS and RCI_TEST_SEED change how many rounds run and replay an order.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402

ROUNDS = int(os.environ.get("RCI_ROUNDS", "20"))
ROUNDS_AT_ONCE = 4
MAX_DELAY = 1.5
SHARDS, REPLICAS = 3, 1
BOOTSTRAP_TIMEOUT = 30


class Round:
    """One cluster and its random start schedule."""

    def __init__(self, bed, number, rng):
        self.number = number
        self.cluster = bed.cluster(SHARDS, REPLICAS, namespace=f"round{number}")
        self.events = sorted(
            [(rng.uniform(0, MAX_DELAY), "server", pod) for pod in self.cluster.pods]
            + [(rng.uniform(0, MAX_DELAY), "bootstrap", pod) for pod in self.cluster.pods],
            key=lambda event: event[0])
        self.runs = []

    def schedule_text(self) -> str:
        return ", ".join(f"{at:.2f}s {what} {pod.name}" for at, what, pod in self.events)

    def fire(self, what, pod) -> None:
        if what == "server":
            pod.publish()
            pod.start(wait=False)
        else:
            self.runs.append(pod.bootstrap(timeout=BOOTSTRAP_TIMEOUT))

    def verify(self) -> None:
        """Every bootstrap exits 0, the cluster is correct and takes writes."""
        for pod in self.cluster.pods:
            pod.wait_ready()
        self.cluster.wait_bootstraps(self.runs, timeout=BOOTSTRAP_TIMEOUT + 15)
        check_cluster(self.cluster, timeout=20)
        self.cluster.write_keys(100)
        counted = self.cluster.count_keys()
        check(counted == 100, f"wrote 100 keys, the masters hold {counted}")


def play(rounds) -> None:
    """Fires the events of several rounds on one shared timeline."""
    timeline = sorted((at, index, what, pod) for index, r in enumerate(rounds)
                      for at, what, pod in r.events)
    start = time.monotonic()
    for at, index, what, pod in timeline:
        time.sleep(max(0.0, start + at - time.monotonic()))
        rounds[index].fire(what, pod)


def main() -> None:
    rng = itest.seeded_random("random_delays")
    failures = []
    with TestBed("random_delays") as bed:
        for first in range(0, ROUNDS, ROUNDS_AT_ONCE):
            batch = [Round(bed, n, rng) for n in range(first, min(first + ROUNDS_AT_ONCE, ROUNDS))]
            play(batch)
            for r in batch:
                try:
                    r.verify()
                    slowest = max(r.runs, key=lambda run: run.elapsed)
                    print(f"[random_delays] round {r.number} ok (slowest bootstrap "
                          f"{slowest.pod.name}, {slowest.elapsed:.1f}s)", flush=True)
                except (AssertionError, TimeoutError, RuntimeError) as error:
                    failures.append(f"round {r.number}: schedule {r.schedule_text()}\n{error}")
                    print(f"[random_delays] round {r.number} FAILED\n"
                          f"{r.cluster.diagnostics()}", file=sys.stderr, flush=True)
            for r in batch:  # free the CPU for the next batch
                for pod in r.cluster.pods:
                    pod.stop()
    check(not failures, f"{len(failures)} of {ROUNDS} rounds failed:\n" + "\n".join(failures))


if __name__ == "__main__":
    itest.run(main)
