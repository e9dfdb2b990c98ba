#!/usr/bin/env python3
"""`redis-cluster-init run` with server commands and timings that users hit:

1. the user's config says `daemonize yes` (Debian's stock redis.conf does): redis-server must
   still run in the foreground as the supervisor's child, and the pod join the cluster;
2. the config comes partly from stdin (`redis-server redis.conf -`): the supervisor's own
   arguments must go before the trailing `-`, so the stdin config is read and in force;
3. the server command cannot be executed: the supervisor exits 127 (as a shell would) with one
   error line naming the command;
4. SIGTERM while the supervisor is still checking whether redis-server may start (its first
   observation round, slowed by a DNS server that never answers): it exits 128+15 and never
   starts redis-server.

Pods 1 and 2 are two pods of one 3x0 cluster whose third pod runs plainly; 3 and 4 are pods
of clusters of their own, in other namespaces of the same bed.
"""

import os
import signal
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import wait_for  # noqa: E402
from itest import check  # noqa: E402
from procs import read_cmdline  # noqa: E402
from testbed import TestBed, check_cluster, proc_stat  # noqa: E402

STDIN_SETTING = ("maxmemory-policy", "allkeys-lru")


def check_foreground_child(pod) -> None:
    supervisor, server = pod.supervisor_pid(), pod.server_pid()
    check(supervisor is not None and pod.supervisor.poll() is None,
          f"{pod.name}: the supervisor is not running\n{pod.supervisor.describe()}")
    check(server is not None and proc_stat(server)["ppid"] == supervisor,
          f"{pod.name}: redis-server is not the supervisor's child (daemonized?)")


def stdin_config_pod(pod):
    """Starts `pod` with part of its config on redis-server's stdin, as `redis.conf -`."""
    feed = f"printf '{' '.join(STDIN_SETTING)}\\n' | exec redis-server \"$@\""
    pod.start_supervised(wait=False, server_command=["sh", "-c", feed, "sh", pod.config_path, "-"])


def silent_dns_server():
    """A DNS server on a free loopback port that takes queries and never answers: a UDP socket
    that reads nothing, and a TCP listener on the same port that accepts (in the kernel) and
    never replies (SRV is asked over TCP). Returns (udp, tcp); the port is udp's."""
    while True:
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind(("127.0.0.1", udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(16)
        return udp, tcp


def main() -> None:
    with TestBed("run_server_command") as bed:
        cluster = bed.cluster(3, 0)
        daemonizing, from_stdin, plain = cluster.pods
        for pod in cluster.pods:
            pod.publish()
        daemonizing.redis_config = ["daemonize yes"]
        daemonizing.start_supervised(wait=False)
        stdin_config_pod(from_stdin)
        plain.start_supervised(wait=False)
        for pod in cluster.pods:
            pod.wait_ready()
        check_cluster(cluster, timeout=30)
        check_foreground_child(daemonizing)
        print(f"[{bed.name}] daemonize yes: redis-server stayed the supervisor's child, the "
              f"cluster formed", flush=True)
        argv = read_cmdline(from_stdin.server_pid())
        check(argv[-1] == "-", f"{from_stdin.name}: '-' is not redis-server's last argument: {argv}")
        setting = from_stdin.command("CONFIG", "GET", STDIN_SETTING[0])
        check(setting == list(STDIN_SETTING),
              f"{from_stdin.name}: the config given on stdin is not in force: {setting}")
        print(f"[{bed.name}] config from stdin: read ({' '.join(setting)}), '-' kept last",
              flush=True)

        missing = bed.cluster(3, 0, namespace="missing").pod(0, 0)
        missing.publish()
        run = missing.start_supervised(wait=False, server_command=["redis-server-missing"])
        status = run.wait(20)
        check(status == 127, f"{missing.label}: exited {status}, expected 127\n{run.describe()}")
        errors = [line for line in run.stderr.splitlines() if " error " in line]
        check(len(errors) == 1 and "redis-server-missing: cannot execute" in errors[0],
              f"{missing.label}: expected one error line naming the command\n{run.describe()}")
        print(f"[{bed.name}] unexecutable server command: exit 127, said: {errors[0]}",
              flush=True)

        dns, dns_tcp = silent_dns_server()
        try:
            stopped = bed.cluster(3, 0, namespace="stopped").pod(0, 0)
            stopped.publish()
            run = stopped.start_supervised(wait=False, options_via="env",
                                           extra_env={"DNS_SERVER": f"127.0.0.1:{dns.getsockname()[1]}"})
            # Once it says it checks, it is inside its first observation round, where DNS waits
            # up to 2 s for the silent server.
            wait_for(lambda: "is missing or empty" in run.stderr, 10,
                     f"{stopped.label}: `run` checking whether redis-server may start")
            check(run.poll() is None, f"{stopped.label}: exited before the signal\n{run.describe()}")
            os.kill(stopped.supervisor_pid(), signal.SIGTERM)
            status = run.wait(10)
            check(status == 128 + signal.SIGTERM,
                  f"{stopped.label}: exited {status} on SIGTERM before the start, expected 143\n"
                  f"{run.describe()}")
            check(not os.path.exists(stopped.log_path),
                  f"{stopped.label}: redis-server was started after the stop request "
                  f"({stopped.log_path} exists)")
            print(f"[{bed.name}] SIGTERM during the start check: exit 143 after "
                  f"{run.elapsed:.1f}s, redis-server never started", flush=True)
        finally:
            dns.close()
            dns_tcp.close()


if __name__ == "__main__":
    itest.run(main)
