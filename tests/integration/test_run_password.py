#!/usr/bin/env python3
"""A password-protected 3x1 cluster whose pods all run under `redis-cluster-init run`, the
password given as a mounted file (--password-file), REDIS_PASSWORD or REDISCLI_AUTH. redis.conf
holds no requirepass/masterauth: the supervisor must hand them to redis-server (an --include of a
private 0600 file) without the password ever being on a command line. Checked: the cluster forms
with requirepass and masterauth in force; the password never appears in /proc/<pid>/cmdline of a
supervisor or of anything under it (sampled every 20 ms from launch until the cluster is
correct), nor in the supervisors' output; the credentials file is gone once redis-server has
read it. Then one pod restarts with a server command that waits for the test's word before it
execs redis-server, which keeps the file there until it has been checked: private (0600 in a
0700 directory), holding the password, removed once the server listens."""

import os
import secrets
import stat
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from heal import wait_for  # noqa: E402
from itest import check  # noqa: E402
from sampler import Sampler  # noqa: E402
from procs import descendants, process_tree, read_cmdline  # noqa: E402
from resp import RespClient, RespError  # noqa: E402
from testbed import SERVER_COMMS, TestBed, check_cluster, proc_stat  # noqa: E402

# How each pod (in shard-major order) is given the password.
PASSWORD_VIA = ["file", "env", "rediscli_auth", "file", "env", "file"]


class CommandLineWatch(Sampler):
    """Samples, every 20 ms on a thread, the command line of every supervisor (with its wrapper
    processes) and of every process under it; records each that holds the secret, and how many
    samples were taken of supervisors and of redis-servers (so the check cannot be vacuous)."""

    def __init__(self, pods, secret):
        self.pods = pods
        self.secret = secret
        self.leaks = []
        self.supervisor_samples = {pod.name: 0 for pod in pods}
        self.server_samples = {pod.name: 0 for pod in pods}
        self.server_argv = {}

    interval = 0.02

    def sample(self):
        tree = process_tree()
        for pod in self.pods:
            run = pod.supervisor
            if run is None or run.poll() is not None:
                continue
            for pid in [run.pid] + descendants(run.pid, tree):
                argv = read_cmdline(pid)
                info = proc_stat(pid)
                if argv is None or info is None:
                    continue
                if argv[:2] == [pod.cluster.bed.binary, "run"]:
                    self.supervisor_samples[pod.name] += 1
                if info["comm"] in SERVER_COMMS:
                    self.server_samples[pod.name] += 1
                    self.server_argv[pod.name] = argv
                if any(self.secret in arg for arg in argv):
                    self.leaks.append(f"{pod.name}: pid {pid} ({info['comm']}) argv {argv}")


def check_password_enforced(pod, password) -> None:
    """requirepass is in force (no password: NOAUTH) and the right password is accepted."""
    with RespClient(pod.ip, pod.port) as client:
        try:
            client.command("CLUSTER", "INFO")
        except RespError as error:
            check(str(error).startswith("NOAUTH"), f"{pod.name}: unexpected refusal: {error}")
        else:
            raise AssertionError(f"{pod.name} answered without a password: requirepass not set")
    with RespClient(pod.ip, pod.port, password=password) as client:
        check(client.command("PING") == "PONG", f"{pod.name}: PING with the password failed")


def include_file(pod, argv) -> str:
    check("--include" in argv, f"{pod.name}: redis-server was not given an --include: {argv}")
    return argv[len(argv) - 1 - argv[::-1].index("--include") + 1]


def check_include_private(pod, path, password) -> None:
    mode = stat.S_IMODE(os.stat(path).st_mode)
    check(mode == 0o600, f"{pod.name}: {path} has mode {mode:o}, expected 600")
    dir_mode = stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)
    check(dir_mode == 0o700, f"{pod.name}: {os.path.dirname(path)} has mode {dir_mode:o}, "
                             f"expected 700")
    with open(path) as f:
        check(password in f.read(), f"{pod.name}: {path} does not hold the password")


def check_include_removed(pod, path) -> None:
    """The credentials file and its private directory are gone once redis-server read them."""
    wait_for(lambda: not os.path.exists(path) and not os.path.exists(os.path.dirname(path)),
             10, f"{pod.name}: {path} (and its directory) removed once redis-server read it")


def include_of_child(pod) -> str:
    """The --include path on the argv of the supervisor's child (redis-server or a wrapper)."""
    def find():
        for pid in descendants(pod.supervisor_pid() or -1):
            argv = read_cmdline(pid) or []
            if "--include" in argv:
                return include_file(pod, argv)
        return None
    wait_for(find, 10, f"{pod.name}: the supervisor's child with an --include")
    return find()


def main() -> None:
    password = "pw-" + secrets.token_hex(12)
    with TestBed("run_password") as bed:
        cluster = bed.cluster(3, 1, password=password)
        for pod in cluster.pods:
            pod.publish()
        with CommandLineWatch(cluster.pods, password) as watch:
            runs = [pod.start_supervised(wait=False, password_via=via)
                    for pod, via in zip(cluster.pods, PASSWORD_VIA)]
            for pod in cluster.pods:
                pod.wait_ready()
            check_cluster(cluster, timeout=30)
            time.sleep(0.2)  # a few more samples of the settled processes
        check(not watch.leaks, "the password appears on a command line:\n"
              + "\n".join(watch.leaks[:20]))
        unsampled = [name for name in watch.supervisor_samples
                     if not watch.supervisor_samples[name] or not watch.server_samples[name]]
        check(not unsampled, f"test error: never sampled the processes of {unsampled}")
        with open(cluster.pod(0, 0).config_path) as f:
            check(password not in f.read(), "test bed error: the password is in redis.conf")
        for pod in cluster.pods:
            check_password_enforced(pod, password)
            check_include_removed(pod, include_file(pod, watch.server_argv[pod.name]))
        cluster.write_keys(1000)
        counted = cluster.count_keys()
        check(counted == 1000, f"wrote 1000 keys, the masters hold {counted}")
        cluster.wait_replicas_synced()  # masterauth works: replicas sync with AUTH

        # A clean stop, then a start whose server command lingers before it execs redis-server:
        # the credentials file is there, private, until the server has read it.
        pod = cluster.pod(2, 1)
        pod.stop()
        check(pod.supervisor.returncode == 0,
              f"{pod.name}: supervisor exited {pod.supervisor.returncode} on SIGTERM, expected 0")
        gate = os.path.join(pod.dir, "gate")
        held = ["sh", "-c", 'while [ ! -e "$GATE" ]; do sleep 0.02; done; exec redis-server "$@"', "sh",
                pod.config_path]
        runs.append(pod.start_supervised(wait=False, server_command=held, password_via="file",
                                         extra_env={"GATE": gate}))
        path = include_of_child(pod)
        check_include_private(pod, path, password)
        open(gate, "w").close()
        pod.wait_ready()
        check_include_removed(pod, path)
        check_cluster(cluster, timeout=30)
        check_password_enforced(pod, password)
        for run in runs:
            pod = run.pod
            for where, text in (("stdout", run.stdout), ("stderr", run.stderr)):
                check(password not in text,
                      f"{pod.name}: the password appears in the supervisor's {where} "
                      f"({run.stdout_path if where == 'stdout' else run.stderr_path})")


if __name__ == "__main__":
    itest.run(main)
