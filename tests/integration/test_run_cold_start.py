#!/usr/bin/env python3
"""Cold start of a 3x1 cluster in which every pod is its container's entrypoint, started at the
same moment: `redis-cluster-init run [options] -- redis-server redis.conf`. The config given to
redis-server has no port, cluster-enabled or cluster-announce-ip: the supervisor must add them.
The cluster must form correctly and hold every key written, every supervisor must keep running
(it is the container's PID 1) with redis-server as its own child.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from procs import read_cmdline  # noqa: E402
import servers  # noqa: E402
from testbed import TestBed, check_cluster, proc_stat  # noqa: E402

KEYS = 1000


def option_value(argv, name):
    """The value following the last occurrence of `name` in argv (the one redis-server keeps)."""
    values = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == name]
    return values[-1] if values else None


def check_server_under_supervisor(pod) -> None:
    """redis-server is the supervisor's own child, started with the user's arguments first and
    the supervisor's cluster arguments after them."""
    supervisor = pod.supervisor_pid()
    check(supervisor is not None, f"{pod.name}: the `run` supervisor is not running\n"
                                  f"{pod.supervisor.describe()}")
    server = pod.server_pid()
    check(server is not None, f"{pod.name}: no redis-server under the supervisor")
    check(proc_stat(server)["ppid"] == supervisor,
          f"{pod.name}: redis-server {server} is not a child of the supervisor {supervisor}")
    argv = read_cmdline(server)
    check(argv[:2] == [servers.selected().server_path, pod.config_path],
          f"{pod.name}: redis-server argv does not start with the given command: {argv}")
    wanted = {"--cluster-enabled": "yes", "--port": str(pod.port),
              "--cluster-announce-ip": pod.ip}
    for name, value in wanted.items():
        check(option_value(argv, name) == value,
              f"{pod.name}: redis-server argv lacks {name} {value}: {argv}")


def main() -> None:
    with TestBed("run_cold_start") as bed:
        cluster = bed.cluster(3, 1)
        runs = cluster.start_supervised()
        with open(cluster.pod(0, 0).config_path) as f:
            config = f.read()
        for directive in ("cluster-enabled", "cluster-announce-ip", "port "):
            check(f"\n{directive}" not in "\n" + config,
                  f"test bed error: redis.conf given to `run` sets {directive.strip()}")
        check_cluster(cluster, timeout=30)
        print(f"[{bed.name}] cluster correct; supervisors running for "
              f"{max(run.elapsed for run in runs):.1f}s", flush=True)
        cluster.write_keys(KEYS)
        counted = cluster.count_keys()
        check(counted == KEYS, f"wrote {KEYS} keys, the masters hold {counted}")
        cluster.wait_replicas_synced()
        for pod, run in zip(cluster.pods, runs):
            check(run.poll() is None, f"{pod.name}: the supervisor exited after bootstrap:\n"
                                      f"{run.describe()}")
            check_server_under_supervisor(pod)
            info = pod.command("CONFIG", "GET", "cluster-announce-ip")
            check(info == ["cluster-announce-ip", pod.ip],
                  f"{pod.name}: cluster-announce-ip is {info}, expected {pod.ip}")


if __name__ == "__main__":
    itest.run(main)
