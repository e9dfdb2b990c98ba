#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (fuzz/corpus/<target>/) from real servers: for Debian's
redis-server and each server of the version matrix that is built (scripts/build-servers.sh),
a 3x1 cluster made by the binary on the test bed, then what its nodes and dnsmasq really send:

  fuzz_cluster_nodes  CLUSTER NODES of a master and a replica, and a nodes.conf
  fuzz_info           INFO replication of both, CLUSTER INFO, `<server> --version`
  fuzz_redis_conf     a pod's redis.conf, and a server command line (words split at NUL)
  fuzz_names          pod names and addresses as the pods have them
  fuzz_dns            the raw DNS response to the service's SRV query (UDP)
  fuzz_resp           the raw bytes a server sends back to PING, CLUSTER NODES, INFO replication

    RCI_BINARY=build/redis-cluster-init python3 fuzz/make_seeds.py

Files are named <server>-<what>; running it again rewrites them (node IDs and addresses differ
from run to run, the formats do not).
"""

import os
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "testbed"))

import servers  # noqa: E402
from dnsmasq import _TYPE_SRV, _build_query, _udp_exchange  # noqa: E402
from testbed import TestBed  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")


def write(target: str, name: str, data) -> None:
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def raw_replies(pod) -> bytes:
    """What the server sends back, byte for byte, to three commands sent at once (read until
    it has been quiet for half a second)."""
    with socket.create_connection((pod.ip, pod.port), timeout=5) as sock:
        sock.sendall(b"PING\r\nCLUSTER NODES\r\nINFO replication\r\n")
        sock.settimeout(0.5)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except socket.timeout:
            pass
        return received


def seeds_for(server) -> None:
    os.environ["RCI_SERVER"] = server.name
    servers._selected = None  # noqa: SLF001 - the bed reads the selection once per process
    tag = server.name
    with TestBed(f"seeds-{tag}") as bed:
        cluster = bed.cluster(3, 1)
        cluster.start()
        cluster.wait_bootstraps(cluster.bootstrap_all(), timeout=60)
        master, replica = cluster.pod(0, 0), cluster.pod(0, 1)
        write("fuzz_cluster_nodes", f"{tag}-master", master.command("CLUSTER", "NODES"))
        write("fuzz_cluster_nodes", f"{tag}-replica", replica.command("CLUSTER", "NODES"))
        with open(os.path.join(master.dir, "nodes.conf"), "rb") as f:
            write("fuzz_cluster_nodes", f"{tag}-nodes.conf", f.read())
        write("fuzz_info", f"{tag}-replication-master", master.command("INFO", "replication"))
        write("fuzz_info", f"{tag}-replication-replica", replica.command("INFO", "replication"))
        write("fuzz_info", f"{tag}-cluster-info", master.command("CLUSTER", "INFO"))
        version = subprocess.run([server.server_path, "--version"], capture_output=True, text=True)
        write("fuzz_info", f"{tag}-version", version.stdout)
        with open(master.config_path, "rb") as f:
            write("fuzz_redis_conf", f"{tag}-redis.conf", f.read())
        write("fuzz_redis_conf", f"{tag}-command-line",
              "\0".join(["--port", str(master.port), "--cluster-enabled", "yes", "--dir", master.dir,
                         "--save", "--cluster-config-file", "nodes.conf"]))
        write("fuzz_resp", f"{tag}-master", raw_replies(master))
        write("fuzz_resp", f"{tag}-replica", raw_replies(replica))
        query_id, packet = _build_query(cluster.srv_name, _TYPE_SRV)
        write("fuzz_dns", f"{tag}-srv", _udp_exchange(bed.dns.address, query_id, packet,
                                                      cluster.srv_name, 1.0, 4))
        for pod in (master, replica):
            write("fuzz_names", f"{tag}-{pod.name}", pod.name)
            write("fuzz_names", f"{tag}-{pod.name}-ip", pod.ip)
    print(f"seeds: {server}", flush=True)


def main() -> None:
    chosen = [servers.DEBIAN] + list(servers.MATRIX)
    for name in chosen:
        os.environ["RCI_SERVER"] = name
        servers._selected = None  # noqa: SLF001
        try:
            server = servers.selected()
        except servers.ServerUnavailable as unavailable:
            print(f"seeds: skipping {name}: {unavailable}", flush=True)
            continue
        seeds_for(server)
    write("fuzz_names", "ipv6", "fd00::1")
    write("fuzz_names", "ipv6-mapped", "::ffff:10.0.0.1")


if __name__ == "__main__":
    main()
