#!/usr/bin/env python3
"""Discovery: how a cold start finds its pods, and what it costs the DNS server.

1. SRV (the bed serves the service's SRV records, as Kubernetes does): a 3x1 cold start forms
   one correct cluster, every bootstrap says its addresses came from the SRV records, and
   dnsmasq answers at most 10 queries per pod, almost all of them SRV.
2. No SRV records (docker compose, plain DNS): `auto` falls back to each pod's own name, says
   why, and the cluster forms the same.
3. `--discovery srv` where there are no SRV records: no silent fallback; bootstrap gives up
   naming the SRV name and the DNS answer.
4. `discover` says which method answered.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402

MAX_QUERIES_PER_POD = 10


def cold_start(bed, cluster):
    cluster.start()
    mark = bed.dns.log_mark()
    runs = cluster.bootstrap_all()
    cluster.wait_bootstraps(runs, timeout=60)
    check_cluster(cluster, timeout=30)
    counts = bed.dns.query_counts(since=mark)
    per_pod = counts["total"] / len(cluster.pods)
    print(f"[{bed.name}] {cluster.label}: DNS queries {counts} ({per_pod:.1f} per pod)", flush=True)
    return runs, counts


def main() -> None:
    with TestBed("discovery") as bed:
        srv = bed.cluster(3, 1, namespace="with-srv")
        runs, counts = cold_start(bed, srv)
        for run in runs:
            check(f"addresses come from SRV records of {srv.srv_name}" in run.stderr,
                  f"{run.pod.name}: no line saying it used SRV\n{run.describe()}")
        check(counts["SRV"] >= len(srv.pods), f"each pod asks SRV at least once: {counts}")
        check(counts["A"] + counts["AAAA"] == 0, f"names looked up although SRV gave every address: {counts}")
        check(counts["total"] <= MAX_QUERIES_PER_POD * len(srv.pods),
              f"more than {MAX_QUERIES_PER_POD} DNS queries per pod: {counts}")

        output = srv.pod(1, 1).run_binary("discover", timeout=10)
        check(output.returncode == 0 and f"discovery: SRV records of {srv.srv_name}" in output.stdout,
              f"discover does not say it used SRV:\n{output.describe()}")

        names = bed.cluster(3, 1, namespace="names-only", srv=False)
        runs, counts = cold_start(bed, names)
        for run in runs:
            check("addresses come from each pod's own name (SRV " in run.stderr,
                  f"{run.pod.name}: no line saying it fell back to names and why\n{run.describe()}")
        check(counts["SRV"] <= len(names.pods), f"SRV asked again and again although absent: {counts}")

        forced = names.pod(0, 1).launch("bootstrap", timeout=2, extra_args=("--discovery", "srv"))
        forced.wait(15)
        check(forced.returncode == 1, f"--discovery srv without SRV records: exit {forced.returncode}, want 1")
        check(f"SRV {names.srv_name}: " in forced.stderr and "NXDOMAIN" in forced.stderr,
              f"--discovery srv does not say which SRV name failed and how:\n{forced.describe()}")


if __name__ == "__main__":
    itest.run(main)
