#!/usr/bin/env python3
"""`run` with TLS and a password: a 3x1 cluster, every pod under `run --tls yes` with its
certificate, key and the CA, redis-server's config saying nothing of ports or TLS but
`tls-auth-clients yes` (so `run` must make it TLS only: `port 0`, `tls-port`, TLS on the
cluster bus and on replication, the certificate files):

1. Cold start: the exact shape, keys written; nothing answers in plaintext on the port.
2. SIGTERM to a master's `run`: it hands its slots over to its replica over TLS, exits 0, and
   comes back at a new address as a replica; the cluster heals, every key is there.
3. `probe readiness` over TLS says ready.
5. With --preferred-endpoint hostname, a MOVED names the target's FQDN, and a client that
   checks names accepts the target's certificate for it.
6. Rotation (--tls-reload-interval 1): every pod's certificate and key renewed in place; each
   redis-server serves the new certificate within seconds, no process restarted, the cluster
   ok. A renewal whose key is not the certificate's is reported and the current one kept.
8. The periodic passes (every second here) resume the TLS sessions of the pass before, on
   every pod.
7. --plaintext-port: a replica restarted with it also serves plaintext clients there, TLS
   stays on its port, and the cluster stays ok over TLS.
4. Neither the password nor a line of a private key is in any output of the binary or on any
   process's command line (the key file's path may be).
"""

import os
import signal
import socket
import ssl
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from resp import RespClient, RespError, client_tls_context  # noqa: E402
from testbed import TestBed, check_cluster, key_slot, processes, shard_slot_range  # noqa: E402
from procs import read_cmdline  # noqa: E402
from waiting import wait_until, wait_until_none  # noqa: E402

KEYS = 1000
RELOAD_INTERVAL = 1
RECONCILE_INTERVAL = 1
PASSWORD = "tls-and-a-password-7c1e"


def key_lines(pods) -> list:
    lines = []
    for pod in pods:
        with open(pod.tls_key_file) as f:
            lines += [l for l in f.read().splitlines() if l and not l.startswith("-----")]
    return lines


PLAINTEXT_PORT = 6380


def speaks_plaintext(pod, port=None) -> bool:
    """Whether a plaintext PING gets a RESP answer at the pod's port (or `port`)."""
    try:
        with socket.create_connection((pod.ip, port or pod.port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith((b"+", b"-"))
    except OSError:
        return False


def moved_to_names(cluster) -> None:
    """--preferred-endpoint hostname: a redirect names the FQDN, which the target's certificate
    holds (a client checking names accepts it at that name)."""
    pod, target = cluster.pod(0, 0), cluster.pod(1, 0)
    key = next(k for k in (f"k{i}" for i in range(100000))
               if shard_slot_range(1, cluster.shards)[0] <= key_slot(k) <= shard_slot_range(1, cluster.shards)[1])
    try:
        pod.command("SET", key, "v")
        check(False, f"{pod.name}: SET of a shard-1 key was not redirected")
    except RespError as error:
        words = str(error).split()
        check(words[0] == "MOVED" and words[2] == f"{target.dns_name}:{target.port}",
              f"the redirect does not name {target.dns_name}: {error}")
    strict = client_tls_context(cluster.tls_ca_file, pod.tls_cert_file, pod.tls_key_file,
                                check_hostname=True)
    with RespClient(target.ip, target.port, password=PASSWORD, tls=strict,
                    server_hostname=target.dns_name) as client:
        check(client.command("PING") == "PONG", "no PONG over a name-checked TLS connection")
    print(f"[run-tls] --preferred-endpoint hostname: MOVED names {target.dns_name}, whose "
          f"certificate a name-checking client accepts", flush=True)


def served_certificate(pod) -> bytes:
    """The certificate the pod's redis-server presents now (DER)."""
    with pod.client(timeout=2.0) as client:
        return client.peer_certificate()


def renew_in_place(pod, ca, rotations: int) -> bytes:
    """Issues the pod a new certificate and key and moves them over the old files, as the
    kubelet swaps a renewed Secret's files; returns the new certificate (DER)."""
    staging = os.path.join(pod.dir, f"renewal-{rotations}")
    new = ca.issue(pod.certificate.name, [pod.dns_name, pod.name], out_dir=staging)
    os.replace(new.key_file, pod.tls_key_file)
    os.replace(new.cert_file, pod.tls_cert_file)
    with open(pod.tls_cert_file) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def wait_until_served(pods, wanted: dict, timeout: float) -> float:
    def stale():
        return [p.name for p in pods if served_certificate(p) != wanted[p.name]]

    return wait_until_none(stale, timeout, "every pod serving its renewed certificate",
                           interval=0.1)


def rotation(cluster) -> None:
    """Every pod's certificate and key renewed in place (same CA): within the check interval
    each redis-server serves the new one, no process restarted, the cluster stays ok. Then a
    renewal whose key is not the certificate's: reported, the current certificate kept."""
    ca = cluster.bed.certificate_authority
    supervisors = {p.name: p.supervisor_pid() for p in cluster.pods}
    wanted = {p.name: renew_in_place(p, ca, 1) for p in cluster.pods}
    took = wait_until_served(cluster.pods, wanted, timeout=RELOAD_INTERVAL + 10)
    check(supervisors == {p.name: p.supervisor_pid() for p in cluster.pods},
          "a pod's `run` restarted during the rotation")
    for pod in cluster.pods:
        check("TLS: loaded the renewed certificate" in pod.supervisor.stderr,
              f"{pod.name}: no log line for the renewal\n{pod.supervisor.describe()}")
    check_cluster(cluster, timeout=20, creation_layout=False)
    print(f"[run-tls] rotation: all 6 pods serve their renewed certificates {took:.1f}s after "
          f"the files changed (check every {RELOAD_INTERVAL}s), no restart, cluster ok",
          flush=True)

    pod, other = cluster.pod(1, 0), cluster.pod(2, 0)
    served = served_certificate(pod)
    staging = os.path.join(pod.dir, "renewal-bad")
    bad = ca.issue(pod.certificate.name, [pod.dns_name], out_dir=staging)
    with open(other.tls_key_file) as f:
        foreign_key = f.read()
    with open(pod.tls_key_file + ".new", "w") as f:
        f.write(foreign_key)
    os.chmod(pod.tls_key_file + ".new", 0o600)
    os.replace(pod.tls_key_file + ".new", pod.tls_key_file)
    os.replace(bad.cert_file, pod.tls_cert_file)
    wait_until(lambda: "do not load" in pod.supervisor.stderr, RELOAD_INTERVAL + 10,
               f"{pod.name}: a renewal that does not load reported", interval=0.1,
               detail=pod.supervisor.describe)
    check("is not the key of the certificate" in pod.supervisor.stderr,
          f"{pod.name}: the report does not say why\n{pod.supervisor.describe()}")
    check(served_certificate(pod) == served, f"{pod.name}: a renewal that does not load changed "
                                             f"the served certificate")
    check(pod.command("PING") == "PONG", f"{pod.name}: stopped answering")
    print(f"[run-tls] a renewal with another pod's key: reported, {pod.name} keeps serving its "
          f"current certificate", flush=True)


def main() -> None:
    with TestBed("run_tls") as bed:
        cluster = bed.cluster(3, 1, tls=True, password=PASSWORD, node_timeout_ms=5000,
                              redis_config=["save 3600 1"])
        cluster.start_supervised(run_args=["--preferred-endpoint", "hostname",
                                           "--tls-reload-interval", str(RELOAD_INTERVAL),
                                           "--reconcile-interval", str(RECONCILE_INTERVAL)])
        check_cluster(cluster, timeout=40)
        cluster.write_keys(KEYS)
        cluster.wait_replicas_synced()
        plaintext = [p.name for p in cluster.pods if speaks_plaintext(p)]
        check(not plaintext, f"answering in plaintext: {plaintext}")
        server = cluster.pod(0, 0).server_pid()
        argv = read_cmdline(server) or []
        for option in ("--port", "--tls-port", "--tls-cluster", "--tls-replication"):
            check(option in argv, f"redis-server's argv lacks {option}: {argv}")
        print("[run-tls] 3x1 under run --tls yes: TLS only, the exact shape", flush=True)
        moved_to_names(cluster)

        master = cluster.pod(0, 0)
        replica = cluster.pod(0, 1)
        master.signal_supervisor(signal.SIGTERM)
        status = master.supervisor.wait(20)
        role = replica.info("replication")["role"]
        check(status == 0 and role == "master" and "handover done" in master.supervisor.stderr,
              f"{master.name}: exit {status}, {replica.name} is a {role}\n"
              f"{master.supervisor.describe()}")
        master.restart(new_ip=True)
        check_cluster(cluster, timeout=40, creation_layout=False)
        check(master.info("replication")["role"] == "slave", f"{master.name} came back a master")
        counted = cluster.count_keys()
        check(counted == KEYS, f"{counted} keys after the handover and the move, not {KEYS}")
        print(f"[run-tls] SIGTERM: handed over over TLS, back at {master.ip} as a replica, "
              f"{KEYS} keys", flush=True)

        rotation(cluster)

        run = replica.probe("readiness", password_via="file")
        check(run.returncode == 0, f"probe readiness over TLS: {run.returncode} {run.stdout}")

        # Each periodic pass connects to every pod anew: it resumes the TLS sessions of the
        # pass before (no certificate signed or checked again).
        wait_until_none(lambda: [p.name for p in cluster.pods if "TLS session resumed" not in p.supervisor.stderr],
                        20, "every pod's periodic passes resuming TLS sessions", interval=0.2)
        print(f"[run-tls] periodic passes resume their TLS sessions on every pod ({len(cluster.pods)})", flush=True)

        kept = cluster.pod(1, 1)
        kept.restart(run_args=list(kept.run_args) + ["--plaintext-port", str(PLAINTEXT_PORT)])
        check_cluster(cluster, timeout=40, creation_layout=False)
        check(speaks_plaintext(kept, PLAINTEXT_PORT) and not speaks_plaintext(kept),
              f"{kept.name} with --plaintext-port {PLAINTEXT_PORT}: plaintext there "
              f"{speaks_plaintext(kept, PLAINTEXT_PORT)}, on its TLS port {speaks_plaintext(kept)}")
        print(f"[run-tls] --plaintext-port {PLAINTEXT_PORT}: {kept.name} serves plaintext clients there, TLS on "
              f"{kept.port}, the cluster ok", flush=True)

        secrets = key_lines(cluster.pods) + [PASSWORD]
        for pod in cluster.pods:
            for run in pod.runs:
                text = run.stdout + run.stderr
                check(not [s for s in secrets if s in text],
                      f"{pod.name}: a secret is in the output of {' '.join(run.argv[1:3])}")
        for proc in processes(lambda p: True):
            cmdline = " ".join(read_cmdline(proc["pid"]) or [])
            check(not [s for s in secrets if s in cmdline], f"a secret on a command line: {proc}")
        print("[run-tls] no password or key line in any output or argv", flush=True)


if __name__ == "__main__":
    itest.run(main)
