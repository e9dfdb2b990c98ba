#!/usr/bin/env python3
"""A password-protected 3x1 cluster (requirepass + masterauth): the binary gets the password from
--password-file for some pods, REDIS_PASSWORD or REDISCLI_AUTH for others. The cluster must form,
and the password must never show: not in the binary's stdout or stderr (at debug level), not in
the command line of the binary or of anything it starts. A wrong password must fail (exit 1)
saying authentication is the problem, again without printing either password.
"""

import os
import secrets
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from procs import descendants, process_tree, read_cmdline  # noqa: E402
from resp import RespClient, RespError  # noqa: E402
from testbed import TestBed, check_cluster  # noqa: E402

# How each pod (in shard-major order) is given the password.
PASSWORD_VIA = ["file", "env", "file", "env", "file", "rediscli_auth"]


def watch_command_lines(runs, secret: str) -> list:
    """Samples, every 20 ms until all runs exit, the command line of each run's binary and its
    descendants; returns a description of every one that contains the secret (or of a run that
    exited before it could be sampled at all, which would make the check vacuous).
    """
    leaks = []
    samples = {run.pid: 0 for run in runs}
    while any(run.poll() is None for run in runs):
        tree = process_tree()
        for run in runs:
            for pid in [run.pid] + descendants(run.pid, tree):
                argv = read_cmdline(pid)
                if argv is None:
                    continue
                samples[run.pid] += pid == run.pid
                if any(secret in arg for arg in argv):
                    leaks.append(f"{run.pod.name}: pid {pid} argv {argv}")
        time.sleep(0.02)
    leaks += [f"{run.pod.name}: exited before its command line could be read"
              for run in runs if samples[run.pid] == 0]
    return leaks


def check_not_printed(runs, secret: str) -> None:
    for run in runs:
        for path, text in ((run.stdout_path, run.stdout), (run.stderr_path, run.stderr)):
            check(secret not in text, f"{run.pod.name}: the password appears in the binary's "
                                      f"output ({path})")


def check_password_enforced(pod) -> None:
    """Guards the test itself: without the password, the servers must refuse us."""
    with RespClient(pod.ip, pod.port) as client:
        try:
            client.command("CLUSTER", "INFO")
        except RespError as error:
            check(str(error).startswith("NOAUTH"), f"unexpected refusal: {error}")
            return
    raise AssertionError(f"{pod.name} answered without a password: requirepass not in force")


def check_wrong_password(pod, right: str) -> None:
    wrong = "wrong-" + secrets.token_hex(8)
    run = pod.bootstrap(timeout=3, password_via="env", extra_env={"REDIS_PASSWORD": wrong})
    status = run.wait(20)
    check(status == 1, f"{pod.name}: bootstrap with a wrong password exited {status}, expected 1"
                       f"\n{run.describe()}")
    text = run.stderr.lower()
    check(any(word in text for word in ("auth", "wrongpass", "password")),
          f"{pod.name}: a wrong password failed without saying so:\n{run.describe()}")
    for secret in (wrong, right):
        check(secret not in run.stderr + run.stdout,
              f"{pod.name}: a password appears in the output of the wrong-password run")


def main() -> None:
    password = "pw-" + secrets.token_hex(12)
    with TestBed("password") as bed:
        cluster = bed.cluster(3, 1, password=password)
        cluster.start()
        check_password_enforced(cluster.pod(0, 0))
        runs = [pod.bootstrap(password_via=via) for pod, via in zip(cluster.pods, PASSWORD_VIA)]
        leaks = watch_command_lines(runs, password)
        cluster.wait_bootstraps(runs, timeout=90)
        check(not leaks, "the password appears on a command line:\n" + "\n".join(leaks))
        check_not_printed(runs, password)
        check_cluster(cluster, timeout=30)
        cluster.write_keys(1000)
        counted = cluster.count_keys()
        check(counted == 1000, f"wrote 1000 keys, the masters hold {counted}")
        check_wrong_password(cluster.pod(1, 1), password)


if __name__ == "__main__":
    itest.run(main)
