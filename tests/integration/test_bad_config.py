#!/usr/bin/env python3
"""Bad configuration, by flag or environment variable, must end the binary with exit code 2 and a
one-line message on stderr naming the option, before any network traffic: dnsmasq must log no
query and nothing may connect to the pod's address while the bad cases run.

Then the other side of the parse: a two-digit shard (redis-shard10-0) is shard 10, not shard 1;
flags win over the environment; HOSTNAME stands in for POD_NAME.
"""

import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from testbed import TestBed  # noqa: E402

# (what is wrong, flags to set (None removes the flag), environment, names the message may use)
BAD_CASES = [
    ("--shards below 3", {"--shards": "2"}, {}, ["--shards"]),
    ("--shards not a number", {"--shards": "abc"}, {}, ["--shards"]),
    ("--replicas negative", {"--replicas": "-1"}, {}, ["--replicas"]),
    ("--replicas not a number", {"--replicas": "abc"}, {}, ["--replicas"]),
    ("--pod-name without shard number", {"--pod-name": "redis-shard-0"}, {}, ["--pod-name"]),
    ("--pod-name without dash before shard", {"--pod-name": "redisshard1-0"}, {},
     ["--pod-name"]),
    ("--pod-name without ordinal", {"--pod-name": "redis-shard1"}, {}, ["--pod-name"]),
    # (A shard at or above --shards is no error: the pod is surplus and drains; scale-in.)
    ("--pod-name ordinal out of range", {"--pod-name": "redis-shard0-2"}, {},
     ["--pod-name", "--replicas"]),
    ("bootstrap without --pod-ip", {"--pod-ip": None}, {}, ["--pod-ip", "POD_IP"]),
    ("--pod-ip not an address", {"--pod-ip": "not-an-ip"}, {}, ["--pod-ip"]),
    ("bootstrap without --service", {"--service": None}, {}, ["--service", "GOVERNING_SERVICE"]),
    ("bootstrap without --namespace", {"--namespace": None}, {},
     ["--namespace", "POD_NAMESPACE"]),
    ("--port above 65535", {"--port": "70000"}, {}, ["--port"]),
    ("--port zero", {"--port": "0"}, {}, ["--port"]),
    ("--bus-port above 65535", {"--bus-port": "70000"}, {}, ["--bus-port"]),
    ("--timeout zero", {"--timeout": "0"}, {}, ["--timeout"]),
    ("--timeout negative", {"--timeout": "-5"}, {}, ["--timeout"]),
    ("--timeout not a number", {"--timeout": "soon"}, {}, ["--timeout"]),
    ("--log-format unknown", {"--log-format": "xml"}, {}, ["--log-format"]),
    ("--log-level unknown", {"--log-level": "verbose"}, {}, ["--log-level"]),
    ("--dns-server port too big", {"--dns-server": "127.0.0.1:99999"}, {}, ["--dns-server"]),
    ("--dns-server port not a number", {"--dns-server": "127.0.0.1:abc"}, {}, ["--dns-server"]),
    ("--password-file missing", {"--password-file": "/nonexistent/redis-password"}, {},
     ["--password-file"]),
    ("SHARDS not a number", {"--shards": None}, {"SHARDS": "x"}, ["SHARDS"]),
    ("REPLICAS negative", {"--replicas": None}, {"REPLICAS": "-1"}, ["REPLICAS"]),
    ("POD_NAME malformed", {"--pod-name": None}, {"POD_NAME": "redis-shard-x"}, ["POD_NAME"]),
    ("REDIS_PORT too big", {}, {"REDIS_PORT": "99999"}, ["REDIS_PORT"]),
    ("BOOTSTRAP_TIMEOUT zero", {"--timeout": None}, {"BOOTSTRAP_TIMEOUT": "0"},
     ["BOOTSTRAP_TIMEOUT"]),
    ("LOG_FORMAT unknown", {}, {"LOG_FORMAT": "xml"}, ["LOG_FORMAT"]),
    ("DNS_SERVER bad port", {"--dns-server": None}, {"DNS_SERVER": "127.0.0.1:port"},
     ["DNS_SERVER"]),
    ("unknown flag", {"--no-such-option": "1"}, {}, ["--no-such-option"]),
]


def with_flags(argv: list, changes: dict) -> list:
    """argv with each flag in `changes` set to a new value, added, or (value None) removed."""
    result = list(argv)
    for flag, value in changes.items():
        if flag in result:
            at = result.index(flag)
            del result[at:at + 2]
        if value is not None:
            result += [flag, value]
    return result


def run_case(pod, argv, env, timeout=10.0):
    run = pod.launch_argv(argv, env)
    status = run.wait(timeout)
    return status, run


def check_bad_case(pod, base_argv, case) -> str:
    """Runs one bad case; returns a description of what is wrong with the outcome, or ''."""
    what, flags, env, names = case
    argv = with_flags(base_argv, flags)
    status, run = run_case(pod, argv, env)
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    problems = []
    if status != 2:
        problems.append(f"exit {status}, expected 2")
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr, expected 1")
    if not any(name in run.stderr for name in names):
        problems.append(f"message names none of {names}")
    if not problems:
        return ""
    shown_env = " ".join(f"{k}={v}" for k, v in env.items())
    return (f"{what}: {'; '.join(problems)}\n    command: {shown_env} {' '.join(argv[1:])}\n"
            f"    stderr: {run.stderr.strip()[:500]!r}")


def check_unknown_subcommand(pod, base_argv) -> str:
    argv = [base_argv[0], "frobnicate"] + base_argv[2:]
    status, run = run_case(pod, argv, {})
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    if status == 2 and len(lines) == 1 and "frobnicate" in run.stderr:
        return ""
    return (f"unknown subcommand: exit {status} (expected 2), stderr "
            f"{run.stderr.strip()[:300]!r} (expected one line naming 'frobnicate')")


def check_accepted(pod, argv, env, what) -> str:
    """A configuration that must parse: `plan` may fail to observe (exit 1) but not reject it."""
    status, run = run_case(pod, argv, env, timeout=30)
    if status != 2:
        return ""
    return f"{what}: rejected as bad configuration (exit 2): {run.stderr.strip()[:300]!r}"


def check_no_traffic(bed, listener, mark) -> str:
    """Nothing asked dnsmasq and nothing connected to the pod's address since `mark`."""
    problems = []
    queries = bed.dns.queries(since=mark)
    if queries:
        problems.append(f"bad configurations caused DNS queries: {queries[:10]}")
    try:
        peer = listener.accept()[1]
        problems.append(f"a bad configuration connected to the pod's address (from {peer})")
    except BlockingIOError:
        pass
    return "\n".join(problems)


def main() -> None:
    with TestBed("bad_config") as bed:
        cluster = bed.cluster(3, 1)
        pod = cluster.pod(0, 0)
        # Something to connect to at the pod's address: any connection would be queued here.
        listener = socket.socket()
        listener.bind((pod.ip, pod.port))
        listener.listen(16)
        listener.setblocking(False)
        base_argv, _ = pod.invocation("bootstrap", timeout=3, log_level="info")
        mark = bed.dns.log_mark()
        failures = [check_bad_case(pod, base_argv, case) for case in BAD_CASES]
        failures.append(check_unknown_subcommand(pod, base_argv))
        failures.append(check_no_traffic(bed, listener, mark))
        listener.close()

        plan_argv, _ = pod.invocation("plan", timeout=3, log_level="info")
        mark = bed.dns.log_mark()
        failures += [
            check_accepted(pod, with_flags(plan_argv, {"--pod-name": "redis-shard10-0",
                                                       "--shards": "11"}),
                           {}, "redis-shard10-0 with 11 shards"),
            check_accepted(pod, with_flags(plan_argv, {"--pod-name": "redis-shard2-10",
                                                       "--replicas": "10"}),
                           {}, "redis-shard2-10 with 10 replicas"),
            check_accepted(pod, plan_argv, {"SHARDS": "x", "POD_NAME": "bad"},
                           "bad SHARDS and POD_NAME overridden by flags"),
            check_accepted(pod, with_flags(plan_argv, {"--pod-name": None}),
                           {"HOSTNAME": "redis-shard1-1"}, "pod name from HOSTNAME"),
        ]
        # Guards the no-traffic check itself: runs that get past the parse do show up in the log.
        check(bed.dns.queries(since=mark), "valid `plan` runs left no query in dnsmasq's log")
        failures = [f for f in failures if f]
        check(not failures, f"{len(failures)} configuration(s) not handled as expected:\n"
                            + "\n".join(failures))


if __name__ == "__main__":
    itest.run(main)
