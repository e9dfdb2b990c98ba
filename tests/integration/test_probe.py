#!/usr/bin/env python3
"""`redis-cluster-init probe readiness|liveness` against real redis-servers, at each stage of a
3x1 cluster's life (formed by `bootstrap`, so this test does not depend on `run`):

- nothing listening at the pod's address: liveness 1, readiness 1;
- a fresh cluster-enabled server, no cluster yet: liveness 0, readiness 1 (cluster_state fail);
- the cluster formed: readiness 0 on a master and on a replica (POD_IP from the environment
  works as well as --pod-ip);
- a replica whose master was killed (its link down, before any failover): readiness 1,
  liveness still 0;
- a server with requirepass: readiness without a password 1, with a wrong one 1, with the right
  one from REDIS_PASSWORD, REDISCLI_AUTH or --password-file 0.

Every probe prints exactly one line, `<kind>: ok[: <why>]` or `<kind>: failed: <reason>`, and must
finish well within its timeout.
"""

import os
import secrets
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402
from waiting import wait_until  # noqa: E402


def probe(pod, kind, expect, what, **kwargs):
    """Runs one probe and checks its exit status and its one line of output."""
    run = pod.probe(kind, **kwargs)
    status = run.returncode
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    check(status == expect, f"{pod.name}, {what}: probe {kind} exited {status}, expected "
                            f"{expect}\n{run.describe()}")
    verdict = f"{kind}: ok" if expect == 0 else f"{kind}: failed: "
    shaped = len(lines) == 1 and (
        (lines[0] == verdict or lines[0].startswith(verdict + ": ")) if expect == 0
        else lines[0].startswith(verdict) and len(lines[0]) > len(verdict))
    check(shaped, f"{pod.name}, {what}: expected one line '{verdict}...', got {lines}")
    check(run.elapsed < 10, f"{pod.name}, {what}: probe took {run.elapsed:.1f}s")
    print(f"[probe] {pod.name}, {what}: exit {status}: {lines[0]}", flush=True)
    return run


def probe_with_pod_ip_env(pod, kind, expect, what) -> None:
    """The probe as a kubelet exec probe would run it: the address from POD_IP only."""
    argv = [pod.cluster.bed.binary, "probe", kind]
    run = pod.launch_argv(argv, {"POD_IP": pod.ip}, name="probe")
    status = run.wait(15)
    check(status == expect, f"{pod.name}, {what} (POD_IP from the environment): probe {kind} "
                            f"exited {status}, expected {expect}\n{run.describe()}")


def main() -> None:
    with TestBed("probe") as bed:
        cluster = bed.cluster(3, 1)
        pod = cluster.pod(0, 0)
        probe(pod, "liveness", 1, "nothing listening")
        probe(pod, "readiness", 1, "nothing listening")

        cluster.start()
        probe(pod, "liveness", 0, "fresh server")
        probe(pod, "readiness", 1, "fresh server, no cluster")

        cluster.wait_bootstraps(cluster.bootstrap_all(), timeout=90)
        check_cluster(cluster, timeout=30)
        for target in (cluster.pod(0, 0), cluster.pod(0, 1)):
            role = target.info("replication")["role"]
            probe(target, "readiness", 0, f"cluster formed ({role})")
            probe(target, "liveness", 0, f"cluster formed ({role})")
            probe_with_pod_ip_env(target, "readiness", 0, f"cluster formed ({role})")

        # A replica whose master is gone: its link is down well before any failover (the
        # bed's cluster-node-timeout is 15 s).
        master, replica = cluster.pod(1, 0), cluster.pod(1, 1)
        master.kill()
        wait_until(lambda: replica.info("replication").get("master_link_status") == "down", 5,
                   f"{replica.name}: its link down after its master was killed")
        probe(replica, "readiness", 1, "master killed, link down")
        probe(replica, "liveness", 0, "master killed, link down")
        check(replica.info("replication")["role"] == "slave",
              f"test error: {replica.name} was promoted during the check")

        # requirepass on a replica of shard 2 (its master has none, so its link stays up).
        password = "pw-" + secrets.token_hex(8)
        target = cluster.pod(2, 1)
        probe(target, "readiness", 0, "before requirepass")
        target.command("CONFIG", "SET", "requirepass", password)
        probe(target, "readiness", 1, "requirepass, no password given")
        probe(target, "readiness", 1, "requirepass, wrong password", password_via="env",
              password="wrong-" + secrets.token_hex(8))
        for via in ("env", "rediscli_auth", "file"):
            run = probe(target, "readiness", 0, f"requirepass, password via {via}",
                        password_via=via, password=password)
            check(password not in run.stdout + run.stderr, "the probe printed the password")
        probe(target, "liveness", 0, "requirepass, password via env", password_via="env",
              password=password)
        # A server that answers NOAUTH is alive: a missing or rotated password must not make
        # the kubelet restart it.
        probe(target, "liveness", 0, "requirepass, no password (NOAUTH is an answer)")
        probe(target, "liveness", 0, "requirepass, wrong password", password_via="env",
              password="wrong-" + secrets.token_hex(8))


if __name__ == "__main__":
    itest.run(main)
