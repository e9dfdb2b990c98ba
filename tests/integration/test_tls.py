#!/usr/bin/env python3
"""TLS everywhere (--tls yes, host names verified by default), against TLS-only redis-servers
(`port 0`, `tls-port`, `tls-cluster yes`, `tls-replication yes`, `tls-auth-clients yes`) with
certificates made by the bed's own CA for each pod's FQDN:

1. A 3x1 cold start, every bootstrap at once over TLS, with --preferred-endpoint hostname (set
   by CONFIG SET): the exact shape, keys counted. No log line holds a private key. A server
   without cluster-preferred-endpoint-type (Redis 6.2) forms the cluster without the option,
   and a bootstrap asked for it then fails at once, saying what the server lacks.
2. `probe readiness` and `probe liveness` over TLS.
3. A pod whose certificate is for another pod's name: `discover` says "host name mismatch"
   and names the certificate's names; and `--tls-verify ca` (chain only) takes it.
4. A 3x0 cluster of another namespace whose shard-2 pod has a certificate of another CA:
   every bootstrap gives up (exit 1) at its deadline, naming that pod and "unknown CA".
5. Bad TLS files are configuration errors (exit 2) naming the option and the file: a missing
   file, a key that is not the certificate's, an expired certificate.
6. `discover --tls yes` against plaintext servers (which wait silently for the rest of what they
   take for a command) says so.
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
import servers  # noqa: E402
from certs import CertificateAuthority  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402
from waiting import wait_until  # noqa: E402

KEYS = 1000


def secrets_of(pods) -> list:
    keys = []
    for pod in pods:
        with open(pod.tls_key_file) as f:
            body = [line for line in f.read().splitlines() if line and not line.startswith("-----")]
        keys += body
    return keys


def check_no_secret_logged(runs, secrets) -> None:
    for run in runs:
        text = run.stdout + run.stderr
        leaked = [s for s in secrets if s in text]
        check(not leaked, f"{run.pod.name}: a private key's line is in its output")


def cold_start(cluster) -> None:
    cluster.start()
    has_endpoint_types = servers.selected().at_least(7)
    runs = cluster.bootstrap_all(
        extra_args=["--preferred-endpoint", "hostname"] if has_endpoint_types else [])
    cluster.wait_bootstraps(runs, timeout=60)
    if has_endpoint_types:
        for pod in cluster.pods:
            setting = pod.command("CONFIG", "GET", "cluster-preferred-endpoint-type")
            check(setting == ["cluster-preferred-endpoint-type", "hostname"],
                  f"{pod.name}: --preferred-endpoint hostname left {setting}")
    else:
        refused_endpoint_type(cluster.pod(0, 0))
    check_cluster(cluster, timeout=30)
    cluster.write_keys(KEYS)
    check(cluster.count_keys() == KEYS, f"{cluster.count_keys()} keys, not {KEYS}")
    check_no_secret_logged(runs, secrets_of(cluster.pods))
    print(f"[tls] 3x1 cold start over TLS: {len(runs)} bootstraps exit 0, {KEYS} keys", flush=True)


def refused_endpoint_type(pod) -> None:
    """On a server older than 7 --preferred-endpoint hostname is refused at once, not ignored."""
    started = time.monotonic()
    run = pod.bootstrap(extra_args=["--preferred-endpoint", "hostname"], timeout=30)
    run.wait(timeout=40)
    took = time.monotonic() - started
    check(run.returncode == 1 and "has no cluster-preferred-endpoint-type" in run.stderr,
          f"{pod.name}: --preferred-endpoint hostname on {servers.selected()}: exit "
          f"{run.returncode}, expected 1 naming the missing option\n{run.stderr}")
    check(took < 10, f"{pod.name}: the refusal took {took:.1f}s, not at once")
    print(f"[tls] {servers.selected()}: --preferred-endpoint hostname refused in {took:.1f}s",
          flush=True)


def probes(cluster) -> None:
    pod = cluster.pod(0, 0)
    for kind in ("readiness", "liveness"):
        run = pod.probe(kind)
        check(run.returncode == 0, f"{pod.name}: probe {kind} over TLS exited {run.returncode}: "
                                   f"{run.stdout}{run.stderr}")
    print("[tls] probe readiness and liveness over TLS: 0", flush=True)


def host_name_mismatch(cluster) -> None:
    pod = cluster.pod(2, 1)
    impostor = cluster.bed.certificate_authority.issue(
        "wrong-name", [cluster.pod(1, 1).dns_name], out_dir=pod.dir)
    pod.use_certificate(impostor)
    pod.restart()
    observer = cluster.pod(0, 0)
    run = observer.run_binary("discover", timeout=20)
    line = next((l for l in run.stdout.splitlines() if l.startswith(pod.name)), "")
    check("host name mismatch" in line and cluster.pod(1, 1).dns_name in line,
          f"discover does not say {pod.name}'s certificate is for another name:\n{run.stdout}"
          f"{run.stderr}")
    relaxed = observer.run_binary("discover", timeout=20, extra_args=["--tls-verify", "ca"])
    line = next((l for l in relaxed.stdout.splitlines() if l.startswith(pod.name)), "")
    check("mismatch" not in line and " yes" in line,
          f"--tls-verify ca refused {pod.name}:\n{relaxed.stdout}{relaxed.stderr}")
    check("--tls-verify ca" in relaxed.stderr,
          f"--tls-verify ca was not logged as a warning:\n{relaxed.stderr}")
    print(f"[tls] {pod.name} with a certificate for another name: discover says host name "
          f"mismatch; --tls-verify ca takes it, with a warning", flush=True)


def unknown_ca(bed) -> None:
    cluster = bed.cluster(3, 0, tls=True, namespace="other-ca")
    stranger_ca = CertificateAuthority(os.path.join(bed.dir, "stranger-ca"), name="stranger")
    pod = cluster.pod(2, 0)
    pod.use_certificate(stranger_ca.issue(pod.name, [pod.dns_name], out_dir=pod.dir))
    # The bed's own clients cannot verify that server either: wait for its port, not a PING.
    others = [p for p in cluster.pods if p is not pod]
    cluster.start(others)
    pod.publish()
    pod.start(wait=False)
    def listens():
        socket.create_connection((pod.ip, pod.port), timeout=0.5).close()
        return True

    wait_until(listens, 10, f"{pod.name}: redis-server listening", interval=0.02,
               tolerate=(OSError,))
    runs = cluster.bootstrap_all(timeout=6)
    cluster.wait_bootstraps(runs, timeout=30, expect=1)
    for run in runs:
        if run.pod is pod:
            continue
        check(pod.name in run.stderr and "unknown CA" in run.stderr,
              f"{run.pod.name}: the final message does not name {pod.name} and its unknown CA:"
              f"\n{run.describe()}")
    print(f"[tls] {pod.name} with another CA's certificate: every bootstrap exits 1 naming it "
          f"and 'unknown CA'", flush=True)


def bad_files(cluster) -> None:
    pod = cluster.pod(0, 0)
    other = cluster.pod(1, 0)
    expired = cluster.bed.certificate_authority.issue("expired", [pod.dns_name], expired=True,
                                                      out_dir=pod.dir)
    missing = os.path.join(pod.dir, "no-such.crt")
    cases = [
        (["--tls-cert-file", missing], "--tls-cert-file", missing, "cannot read"),
        (["--tls-key-file", other.tls_key_file], "--tls-key-file", other.tls_key_file,
         "is not the key of the certificate"),
        (["--tls-cert-file", expired.cert_file, "--tls-key-file", expired.key_file],
         "--tls-cert-file", expired.cert_file, "expired on"),
    ]
    for changes, option, path, says in cases:
        argv, env = pod.invocation("plan")
        for i in range(0, len(changes), 2):
            argv[argv.index(changes[i]) + 1] = changes[i + 1]
        run = pod.launch_argv(argv, env)
        status = run.wait(10)
        check(status == 2 and option in run.stderr and path in run.stderr and says in run.stderr,
              f"{option} {path}: exit {status}, expected 2 naming it ('{says}'):\n{run.stderr}")
    print("[tls] a missing file, a key of another certificate, an expired certificate: exit 2, "
          "naming the option and the file", flush=True)


def plaintext_servers(bed, tls_pod) -> None:
    cluster = bed.cluster(3, 0, namespace="plain")
    cluster.start()
    pod = cluster.pod(0, 0)
    argv, env = pod.invocation("discover")
    argv += ["--tls", "yes", "--tls-cert-file", tls_pod.tls_cert_file, "--tls-key-file",
             tls_pod.tls_key_file, "--tls-ca-cert-file", tls_pod.cluster.tls_ca_file]
    run = pod.launch_argv(argv, env)
    run.wait(20)
    lines = [l for l in run.stdout.splitlines() if l.startswith("redis-shard")]
    check(len(lines) == 3 and all("as a plaintext server does" in l for l in lines),
          f"discover --tls yes against plaintext servers:\n{run.stdout}{run.stderr}")
    print("[tls] discover --tls yes against plaintext servers: 'the server sent nothing back, "
          "as a plaintext server does' for each", flush=True)


def main() -> None:
    with TestBed("tls") as bed:
        cluster = bed.cluster(3, 1, tls=True)
        cold_start(cluster)
        probes(cluster)
        bad_files(cluster)
        host_name_mismatch(cluster)
        unknown_ca(bed)
        plaintext_servers(bed, cluster.pod(0, 0))


if __name__ == "__main__":
    itest.run(main)
