#!/usr/bin/env python3
"""Heal over TLS: a healthy 3x1 cluster of TLS-only servers formed by `bootstrap --tls yes`
(host names verified); every pod stops, every address changes (DNS records rewritten; the
certificates name the pods' FQDNs, not their addresses, so they stay right), nodes.conf and
AOF kept, and the pods start again in a random order with random gaps, each running its
bootstrap. Expected as in plaintext (test_heal_full_restart_new_ips): one cluster at the new
addresses, every key present. Replay an order with RCI_TEST_SEED.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import form, full_restart_heals  # noqa: E402
from testbed import TestBed  # noqa: E402


def main() -> None:
    with TestBed("heal_tls_full_restart") as bed:
        rng = itest.seeded_random("heal_tls_full_restart")
        cluster = form(bed, tls=True)
        new_ips = {pod.name: bed.allocate_ip() for pod in cluster.pods}
        full_restart_heals(cluster, new_ips, rng, "a full restart over TLS with new addresses")


if __name__ == "__main__":
    itest.run(main)
