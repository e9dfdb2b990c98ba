#!/usr/bin/env python3
"""Peers that do not answer as a redis-server would must cost the binary a bounded time and a
bounded amount of memory, and be named in what it reports. At each pod's address stands a
small server of this test's own that, to every connection:

- huge-array:  answers "*2147483647" (an array header; hiredis 0.14 would allocate its whole
               element table, 16 GiB, at once) and then nothing;
- many-small:  answers an array of 90,000 one-element arrays (180,000 reply objects in under
               a megabyte: bytes alone are no bound on memory);
- endless-bulk: announces a 100 GB string and streams bytes until the client leaves;
- refuse:      says "-ERR max number of clients reached" and closes, as a full redis-server does;
- silent:      accepts and never answers.

Run against each of them: `probe readiness` (one connection, blocking reads); `bootstrap
--timeout 1` of a pod whose own node is the silent one; and, with every pod of a 3x0 cluster
hostile in its own way, `status` (the poll loop over every peer). Each must end within its
deadline plus a second, use under 100 MB, and say what it met. Last, `discover` of pods whose
A records are 0.0.0.0, a multicast group and the broadcast address must refuse each.
"""

import os
import resource
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from testbed import REDIS_PORT, TestBed, binary_env  # noqa: E402

MAX_RSS_KB = 100 * 1024
DEADLINE = 2


def drain(conn):
    """Reads until the client leaves."""
    while conn.recv(65536):
        pass


def serve(kind, conn):
    try:
        if kind == "huge-array":
            conn.sendall(b"*2147483647\r\n")
            drain(conn)
        elif kind == "many-small":
            # Each object is a few bytes on the wire but a reply object in memory.
            conn.sendall(b"*90000\r\n" + b"*1\r\n:1\r\n" * 90000)
            drain(conn)
        elif kind == "endless-bulk":
            conn.sendall(b"$100000000000\r\n")
            chunk = b"x" * 65536
            while True:
                conn.sendall(chunk)
        elif kind == "refuse":
            conn.sendall(b"-ERR max number of clients reached\r\n")
        elif kind == "silent":
            drain(conn)
    except OSError:
        pass
    finally:
        conn.close()


class HostilePeer:
    """A TCP server at ip:6379 that treats every connection as `kind` says."""

    def __init__(self, ip, kind):
        self.kind = kind
        self.sock = socket.create_server((ip, REDIS_PORT))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(self.kind, conn), daemon=True).start()

    def close(self):
        self.sock.close()


def limit_address_space():
    # Should the bounds regress, the binary fails here instead of exhausting the machine.
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def run_bounded(argv, limit):
    """Runs argv; returns (exit status, seconds, stdout + stderr, max RSS in KB of it)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    done = subprocess.run(argv, env=binary_env(), capture_output=True, text=True, timeout=limit + 30,
                          preexec_fn=limit_address_space)
    elapsed = time.monotonic() - started
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of any child so far: only a rise is this run's.
    return done.returncode, elapsed, done.stdout + done.stderr, rss if rss > before else 0


def check_bounded(what, status, elapsed, output, rss, says):
    print(f"[hostile_peer] {what}: exit {status} after {elapsed:.1f}s: {output.strip()[:160]}",
          flush=True)
    check(status == 1, f"{what}: exited {status}, expected 1\n{output}")
    check(elapsed < DEADLINE + 1.0, f"{what}: took {elapsed:.1f}s, deadline {DEADLINE}s\n{output}")
    check(rss < MAX_RSS_KB, f"{what}: used {rss // 1024} MB")
    check(says in output, f"{what}: does not say '{says}'\n{output}")


EXPECTED = {
    "huge-array": "more than 100000 reply objects",
    "many-small": "more than 100000 reply objects",
    "endless-bulk": "more than 4194304 bytes",
    "refuse": "max number of clients reached",
    "silent": "timed out",
}


def main() -> None:
    with TestBed("hostile_peer") as bed:
        cluster = bed.cluster(3, 0)
        kinds = ["huge-array", "endless-bulk", "refuse"]
        peers = []
        try:
            for pod, kind in zip(cluster.pods, kinds):
                pod.publish()
                peers.append(HostilePeer(pod.ip, kind))
            silent_ip, many_ip = bed.allocate_ip(), bed.allocate_ip()
            peers.append(HostilePeer(silent_ip, "silent"))
            peers.append(HostilePeer(many_ip, "many-small"))

            for ip, kind in ([(p.ip, k) for p, k in zip(cluster.pods, kinds)]
                             + [(silent_ip, "silent"), (many_ip, "many-small")]):
                argv = [bed.binary, "probe", "readiness", "--pod-ip", ip, "--timeout", str(DEADLINE)]
                check_bounded(f"probe readiness against {kind}", *run_bounded(argv, DEADLINE),
                              EXPECTED[kind])

            # bootstrap of a pod whose own redis-server accepts and never answers: its deadline
            # (1 s) holds, though each probe alone may wait 2 s for a reply.
            pod = cluster.pods[0]
            argv = [bed.binary, "bootstrap", "--pod-name", pod.name, "--pod-ip", silent_ip,
                    "--service", cluster.service, "--namespace", cluster.namespace,
                    "--shards", "3", "--dns-server", bed.dns.server_arg, "--timeout", "1"]
            status, elapsed, output, rss = run_bounded(argv, 1)
            print(f"[hostile_peer] bootstrap --timeout 1 with a silent own node: exit {status} "
                  f"after {elapsed:.1f}s", flush=True)
            check(status == 1 and elapsed < 2.0, f"bootstrap --timeout 1: exit {status} after "
                                                 f"{elapsed:.1f}s\n{output}")
            check("local redis-server" in output and "timed out" in output,
                  f"bootstrap: does not say its own node timed out\n{output}")

            argv, _ = cluster.pods[0].invocation("status", timeout=DEADLINE)
            argv += ["--connect-timeout-ms", "1000", "--command-timeout-ms", str(DEADLINE * 1000)]
            status, elapsed, output, rss = run_bounded(argv, DEADLINE)
            # status gives DNS up to 3 s, then probes every pod at once for the command timeout.
            print(f"[hostile_peer] status: exit {status} after {elapsed:.1f}s", flush=True)
            check(status == 1, f"status: exited {status}, expected 1 (no pod answers)\n{output}")
            check(elapsed < 3 + DEADLINE + 1.0, f"status: took {elapsed:.1f}s\n{output}")
            check(rss < MAX_RSS_KB, f"status: used {rss // 1024} MB")
            for kind in kinds:
                check(EXPECTED[kind] in output, f"status: does not say '{EXPECTED[kind]}' for the "
                                                f"{kind} peer\n{output}")
            # DNS answers that are no node's address: named as such by discover, never probed.
            broken = bed.cluster(3, 1, namespace="broken-dns")  # pods 1 to 3 are asked by DNS
            for pod, ip in zip(broken.pods[1:], ["0.0.0.0", "239.1.2.3", "255.255.255.255"]):
                bed.dns.set_record(pod.dns_name, ip)
            argv, _ = broken.pods[0].invocation("discover", timeout=DEADLINE)
            status, elapsed, output, rss = run_bounded(argv, DEADLINE)
            print(f"[hostile_peer] discover with broken A records: exit {status}", flush=True)
            for ip in ["0.0.0.0", "239.1.2.3", "255.255.255.255"]:
                check(f"the answer {ip} is not a usable address" in output,
                      f"discover: does not refuse the A record {ip}\n{output}")
        finally:
            for peer in peers:
                peer.close()


if __name__ == "__main__":
    itest.run(main)
