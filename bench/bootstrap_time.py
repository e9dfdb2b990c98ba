#!/usr/bin/env python3
"""Cluster creation time: redis-cluster-init `bootstrap` (one process per pod) against
`redis-cli --cluster create`, side by side on the test bed (tests/testbed).

For every size SxR and every run, in alternation (ours, redis-cli, ours, redis-cli, ...):
  1. a fresh bed: scratch directory, loopback /24, dnsmasq holding every pod's A record;
  2. all S*(1+R) redis-servers spawned at once (fresh dirs, no nodes.conf, the bed's redis.conf:
     default cluster-node-timeout 15000, repl-diskless-sync-delay 0), then polled every 10 ms
     until every one answers PING;
  3. clock starts; the tool is released: every pod's bootstrap (or the one redis-cli, given the
     masters first, ordinal 0 of each shard in shard order, then the replicas) was spawned
     before the servers as a shell blocked on a pipe, and all exec at once when it closes;
  4. one checker loop polls every node over persistent connections (CLUSTER INFO and INFO
     replication, pipelined, all nodes written before any is read) every 25 ms; the clock stops
     at the end of the first round in which every node says cluster_state:ok (and
     cluster_size:S), S nodes are masters and the other S*R are replicas with
     master_link_status:up;
  5. checks after the clock: the tool exited 0 (every bootstrap, or redis-cli); all 16384
     slots served by S masters, each with R connected replicas; for ours also the bed's
     check_cluster with the creation layout (replicas follow their pod names);
  6. everything stopped, scratch directory removed (kept, with every pod's logs, on failure).

    python3 bench/bootstrap_time.py [--sizes 3x1,10x1,30x2] [--runs 5] [--binary PATH]
                                    [--json FILE] [--keep-going]

See bench/README.md for the method and the caveat.

Python 3 standard library only; needs redis-server, redis-cli and dnsmasq on PATH.
"""

import argparse
import contextlib
import hashlib
import io
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "testbed"))

import procs  # noqa: E402
from testbed import BinaryRun, TestBed, binary_env, check_cluster  # noqa: E402
from resp import ProtocolError, RespError, encode_command  # noqa: E402
from slots import CLUSTER_SLOTS  # noqa: E402

TOOLS = ("ours", "redis-cli")
DEBUG = bool(os.environ.get("RCI_BENCH_DEBUG"))  # print every checker round to stderr
READY_POLL = 0.010      # seconds between readiness rounds (PING)
CHECK_INTERVAL = 0.025  # seconds between checker rounds
CHECK_COMMANDS = (encode_command(("CLUSTER", "INFO"))
                  + encode_command(("INFO", "replication")))


class BenchError(Exception):
    """A run that did not converge or did not pass its checks."""


class StopBenchmark(Exception):
    """Raised after a failed run unless --keep-going."""


RUN_FAILURES = (BenchError, AssertionError, TimeoutError, RuntimeError, OSError, RespError,
                ProtocolError)


# --- a tiny persistent RESP connection for the checker -------------------------------------------

class Conn:
    """One persistent connection to one pod, for pipelined polling: send() writes the request,
    read(n) collects n replies (bulk strings as str, errors as BenchError values). Parsing is
    minimal on purpose: the checker must not load the machine it measures.
    """

    def __init__(self, pod, timeout=0.5):
        self.pod = pod
        self.sock = socket.create_connection((pod.ip, pod.port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(5.0)
        self.buf = bytearray()

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def read(self, count: int) -> list:
        replies = []
        while len(replies) < count:
            parsed = self._parse()
            if parsed is None:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise OSError(f"{self.pod.name}: connection closed")
                self.buf += chunk
                continue
            replies.append(parsed)
        return replies

    def _parse(self):
        end = self.buf.find(b"\r\n")
        if end < 0:
            return None
        kind, head = self.buf[:1], bytes(self.buf[1:end])
        if kind in (b"+", b"-", b":"):
            del self.buf[:end + 2]
            text = head.decode(errors="replace")
            return BenchError(text) if kind == b"-" else text
        if kind == b"$":
            length = int(head)
            if length < 0:
                del self.buf[:end + 2]
                return ""
            stop = end + 2 + length
            if len(self.buf) < stop + 2:
                return None
            data = bytes(self.buf[end + 2:stop]).decode(errors="replace")
            del self.buf[:stop + 2]
            return data
        raise OSError(f"{self.pod.name}: unexpected reply {bytes(self.buf[:40])!r}")


def fields(text) -> dict:
    if not isinstance(text, str):
        return {}
    out = {}
    for line in text.split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            out[key] = value
    return out


# --- one run ---------------------------------------------------------------------------------------

def wait_servers_ready(pods, timeout=30.0) -> dict:
    """Polls every pod (~10 ms) until each answers PING; returns pod name -> open Conn."""
    conns = {}
    deadline = time.monotonic() + timeout
    ping = encode_command(("PING",))
    while len(conns) < len(pods):
        for pod in pods:
            if pod.name in conns:
                continue
            if pod.proc.poll() is not None:
                raise BenchError(f"{pod.label}: redis-server exited with {pod.proc.returncode}")
            try:
                conn = Conn(pod)
            except OSError:
                continue
            try:
                conn.send(ping)
                if conn.read(1) == ["PONG"]:
                    conns[pod.name] = conn
                    continue
            except OSError:
                pass
            conn.close()
        if len(conns) < len(pods):
            if time.monotonic() > deadline:
                missing = [p.name for p in pods if p.name not in conns]
                raise BenchError(f"redis-servers not ready after {timeout}s: {missing}")
            time.sleep(READY_POLL)
    return conns


def poll_until_converged(cluster, conns, t0, timeout) -> dict:
    """The checker loop (same for both tools). Returns the times (seconds after t0) at which
    every node first said cluster_state:ok, and at which the full condition held."""
    pods = cluster.pods
    total = len(pods)
    want_replicas = cluster.shards * cluster.replicas
    first_all_ok = None
    rounds = 0
    last = {}
    while True:
        started = time.monotonic()
        states = {}
        live = []
        for pod in pods:
            conn = conns.get(pod.name)
            if conn is None:
                try:
                    conn = conns[pod.name] = Conn(pod)
                except OSError as error:
                    states[pod.name] = f"unreachable: {error}"
                    continue
            try:
                conn.send(CHECK_COMMANDS)
                live.append(conn)
            except OSError as error:
                conn.close()
                conns.pop(pod.name, None)
                states[pod.name] = f"send failed: {error}"
        all_ok = len(live) == total
        known_ok = size_ok = True
        linked = 0
        masters = 0
        for conn in live:
            try:
                info, repl = conn.read(2)
            except OSError as error:
                conn.close()
                conns.pop(conn.pod.name, None)
                states[conn.pod.name] = f"read failed: {error}"
                all_ok = False
                continue
            info, repl = fields(info), fields(repl)
            last[conn.pod.name] = (info, repl)
            if info.get("cluster_state") != "ok":
                all_ok = False
            if info.get("cluster_known_nodes") != str(total):
                known_ok = False
            if info.get("cluster_size") != str(cluster.shards):
                size_ok = False
            role = repl.get("role")
            if role == "slave" and repl.get("master_link_status") == "up":
                linked += 1
            elif role == "master":
                masters += 1
        now = time.monotonic()
        rounds += 1
        if all_ok and first_all_ok is None:
            first_all_ok = now - t0
        if DEBUG:
            print(f"[check] {now - t0:6.3f} ok={all_ok} known={known_ok} size={size_ok} "
                  f"linked={linked} masters={masters} "
                  + " ".join(f"{n[-3:]}:{i.get('cluster_state')}/{i.get('cluster_known_nodes')}"
                             f"/{i.get('cluster_size')}/{r.get('role')}/"
                             f"{r.get('master_link_status', '-')}"
                             for n, (i, r) in sorted(last.items())), file=sys.stderr)
        if all_ok and size_ok and linked == want_replicas and masters == cluster.shards:
            # known_ok (every node already knows all others) is not required: gossip completes
            # the mesh seconds later for both tools; recorded for the JSON only.
            return {"seconds": now - t0, "all_ok_seconds": first_all_ok, "check_rounds": rounds,
                    "mesh_complete_at_stop": known_ok}
        if now - t0 > timeout:
            lines = [f"{name}: {state}" for name, state in states.items()]
            for name, (info, repl) in sorted(last.items()):
                lines.append(f"{name}: cluster_state:{info.get('cluster_state')} known:"
                             f"{info.get('cluster_known_nodes')} size:{info.get('cluster_size')}"
                             f" role:{repl.get('role')} link:{repl.get('master_link_status')}")
            raise BenchError(f"{cluster.shards}x{cluster.replicas} did not converge within "
                             f"{timeout:.0f}s (linked replicas {linked}/{want_replicas}, masters "
                             f"{masters}/{cluster.shards}):\n  " + "\n  ".join(lines))
        time.sleep(max(0.0, CHECK_INTERVAL - (now - started)))


def verify_shape(cluster):
    """Tool-agnostic shape, right after the clock stops: all 16384 slots served by exactly
    `shards` masters (CLUSTER SLOTS of one node), and each master with exactly `replicas`
    connected replicas (INFO replication of every pod: Redis's own replica migration can move
    replicas between masters while a cluster forms)."""
    reply = cluster.pods[0].command("CLUSTER", "SLOTS")
    covered = sum(entry[1] - entry[0] + 1 for entry in reply)
    owners = {tuple(entry[2][:2]) for entry in reply}
    if covered != CLUSTER_SLOTS or len(owners) != cluster.shards:
        raise BenchError(f"CLUSTER SLOTS: {covered} slots covered by {len(owners)} masters, "
                         f"expected {CLUSTER_SLOTS} by {cluster.shards}")
    uneven = []
    for pod in cluster.pods:
        info = pod.info("replication")
        if info.get("role") == "master" and info.get("connected_slaves") != str(cluster.replicas):
            uneven.append(f"{pod.name} has {info.get('connected_slaves')}")
    if uneven:
        raise BenchError(f"masters without exactly {cluster.replicas} replica(s): "
                         + ", ".join(uneven))


def redis_cli_argv(cluster) -> list:
    """Masters first (ordinal 0 of each shard, in shard order), then the replicas, so that
    redis-cli gives shard S's slot range to shard S's ordinal 0 as ours does."""
    masters = [cluster.pod(s, 0) for s in range(cluster.shards)]
    replicas = [p for p in cluster.pods if p.ordinal != 0]
    return (["redis-cli", "--cluster", "create"]
            + [f"{p.ip}:{p.port}" for p in masters + replicas]
            + ["--cluster-replicas", str(cluster.replicas), "--cluster-yes"])


@contextlib.contextmanager
def quiet_bed(name, binary):
    """A TestBed whose start-up chatter is swallowed; on failure it keeps its scratch directory
    and writes every pod's diagnostics there."""
    bed = TestBed(name, binary=binary)
    with contextlib.redirect_stdout(io.StringIO()):
        bed.__enter__()
    try:
        yield bed
    except BaseException:
        # Every pod's logs (90 of them for 30x2) go to a file in the kept directory, not the
        # terminal.
        path = os.path.join(bed.dir, "diagnostics.txt")
        with open(path, "w") as f, contextlib.redirect_stderr(f):
            bed.__exit__(*sys.exc_info())
        print(f"[bench] run failed; bed kept in {bed.dir}, every pod's logs in {path}",
              file=sys.stderr, flush=True)
        raise
    bed.__exit__(None, None, None)


class Gate:
    """Processes spawned ahead of time, each a shell blocked reading a pipe, that all exec their
    real command the moment release() closes the pipe's write end: every pod's bootstrap then
    starts at the same instant, as in Kubernetes where each pod runs its own, instead of one
    after another from this script (spawning 90 processes on 2 loaded cores takes seconds, and
    the first ones started would steal the CPU from the loop spawning the rest).
    """

    SHELL = 'read _ <&3; exec 3<&-; exec "$0" "$@"'

    def __init__(self):
        self._read, self._write = os.pipe()
        self.procs = []

    def spawn(self, argv, env, stdout, stderr, cwd=None) -> subprocess.Popen:
        proc = subprocess.Popen(["/bin/sh", "-c", self.SHELL] + list(argv), env=env,
                                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, cwd=cwd,
                                pass_fds=(self._read,), start_new_session=True)
        self.procs.append(proc)
        return proc

    def wait_blocked(self, timeout=30.0) -> None:
        """Returns once every shell sits in its read: their start-up cost stays off the clock."""
        deadline = time.monotonic() + timeout
        pending = list(self.procs)
        while pending:
            pending = [p for p in pending if not _blocked_on_pipe(p.pid)]
            if not pending:
                break
            if time.monotonic() > deadline:
                raise BenchError(f"{len(pending)} gated process(es) not waiting after {timeout}s")
            time.sleep(0.005)
        os.close(self._read)
        self._read = None

    def release(self) -> None:
        os.close(self._write)
        self._write = None

    def close(self) -> None:
        """Stops whatever is still running (the bed stops the rest) and closes the pipe."""
        for fd in (self._read, self._write):
            if fd is not None:
                os.close(fd)
        self._read = self._write = None
        for proc in self.procs:
            procs.kill(proc)


def _blocked_on_pipe(pid) -> bool:
    try:
        with open(f"/proc/{pid}/wchan") as f:
            wchan = f.read()
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    if state != "S":
        return False
    return "pipe" in wchan or wchan in ("", "0")  # no wchan exposed: a sleeping shell will do


def cpu_busy(seconds=0.3) -> float:
    """Fraction of the machine's CPU time spent busy over `seconds` (other work running)."""
    def sample():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def wait_idle(threshold, patience) -> tuple:
    """Samples the machine's CPU use until it is below `threshold` (other people's jobs share
    this machine) or `patience` seconds have passed; returns (last busy fraction, seconds
    waited). Runs go ahead either way; the busy fraction is recorded with each."""
    started = time.monotonic()
    while True:
        busy = cpu_busy()
        waited = time.monotonic() - started
        if busy < threshold or waited >= patience:
            return busy, waited


def _children_cpu_since(before) -> float:
    """CPU seconds of the children reaped since `before`: once the tool's processes have been
    waited for (the redis-servers and dnsmasq are reaped only at teardown), the tool's own."""
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_once(tool, shards, replicas, binary, timeout, idle_below, idle_wait) -> dict:
    with quiet_bed(f"bench-{shards}x{replicas}-{tool}", binary) as bed:
        gate = Gate()
        try:
            return _run_in_bed(bed, gate, tool, shards, replicas, timeout, idle_below,
                               idle_wait)
        finally:
            gate.close()


def _run_in_bed(bed, gate, tool, shards, replicas, timeout, idle_below, idle_wait) -> dict:
    cluster = bed.cluster(shards, replicas)
    # Identical preparation for both tools, all before any redis-server starts: DNS records,
    # then the tool's process(es), gated.
    for pod in cluster.pods:
        pod.publish()
    if tool == "ours":
        runs = []
        for pod in cluster.pods:
            argv, env = pod.invocation("bootstrap", timeout=int(timeout), log_level="warn")
            stem = os.path.join(pod.dir, f"bootstrap-{len(pod.runs) + 1}")
            with open(stem + ".stdout", "wb") as out, open(stem + ".stderr", "wb") as err:
                proc = gate.spawn(argv, binary_env(env), out, err)
            run = BinaryRun(pod, argv, env, proc, stem + ".stdout", stem + ".stderr")
            pod.runs.append(run)  # the bed's diagnostics show it on failure
            runs.append(run)
    else:
        cli_out = os.path.join(cluster.dir, "redis-cli.out")
        with open(cli_out, "wb") as out:
            cli = gate.spawn(redis_cli_argv(cluster), None, out, subprocess.STDOUT,
                             cwd=cluster.dir)
        cli_exit = []  # stamped when it happens, not when we get round to looking
        threading.Thread(target=lambda: (cli.wait(), cli_exit.append(time.monotonic())),
                         daemon=True).start()
    gate.wait_blocked()
    busy, idle_waited = wait_idle(idle_below, idle_wait)

    spawn_started = time.monotonic()
    for pod in cluster.pods:
        pod.start(wait=False)
    conns = wait_servers_ready(cluster.pods)
    t0 = time.monotonic()  # --- clock starts: every redis-server accepts connections ---
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    gate.release()
    cpu0 = time.process_time()
    try:
        result = poll_until_converged(cluster, conns, t0, timeout)
    finally:
        for conn in conns.values():
            conn.close()
    result["checker_cpu_seconds"] = time.process_time() - cpu0
    # --- clock stopped; everything below is verification ---
    result.update(tool=tool, size=f"{shards}x{replicas}", nodes=len(cluster.pods),
                  servers_ready_seconds=t0 - spawn_started, cpu_busy_before=busy,
                  idle_waited_seconds=idle_waited)
    if tool == "ours":
        cluster.wait_bootstraps(runs, timeout=60)
        for run in runs:
            run.poll()
        result["tool_exit_seconds"] = max(run.finished for run in runs) - t0
        result["tool_cpu_seconds"] = _children_cpu_since(children0)
        verify_shape(cluster)
        # The bed's full verdict: shard S served by its ordinal 0 with S's range, every other pod
        # of S its replica, every node knowing all the others (gossip may still be completing).
        check_cluster(cluster, timeout=60, creation_layout=True)
    else:
        try:
            status = cli.wait(timeout=60)
        except subprocess.TimeoutExpired:
            status = None
        deadline = time.monotonic() + 1.0
        while not cli_exit and time.monotonic() < deadline:
            time.sleep(0.001)
        result["tool_exit_seconds"] = cli_exit[0] - t0 if cli_exit else None
        result["tool_cpu_seconds"] = _children_cpu_since(children0)
        if status != 0:
            with open(cli_out, errors="replace") as f:
                tail = "".join(f.readlines()[-30:])
            raise BenchError(f"redis-cli --cluster create: exit {status}\n{tail}")
        verify_shape(cluster)
    return result


# --- driver ----------------------------------------------------------------------------------------

def parse_sizes(text) -> list:
    sizes = []
    for item in text.split(","):
        shards, sep, replicas = item.strip().lower().partition("x")
        if not sep or not shards.isdigit() or not replicas.isdigit() or int(shards) < 3:
            raise argparse.ArgumentTypeError(f"bad size {item!r}: want SxR with S >= 3")
        sizes.append((int(shards), int(replicas)))
    return sizes


def snapshot_binary(path, workdir) -> tuple:
    """Copies the binary aside (a concurrent rebuild must not change it mid-benchmark) and
    returns (copy, sha256); retries a few times while it is being rewritten."""
    last = None
    for _ in range(20):
        try:
            copy = os.path.join(workdir, "redis-cluster-init")
            shutil.copyfile(path, copy)
            os.chmod(copy, 0o755)
            subprocess.run([copy, "--version"], check=True, capture_output=True, timeout=10)
            with open(copy, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            return copy, digest
        except (OSError, subprocess.SubprocessError) as error:
            last = error
            time.sleep(3)
    raise SystemExit(f"cannot use binary {path}: {last}")


def machine() -> dict:
    version = subprocess.run(["redis-server", "--version"], capture_output=True,
                             text=True).stdout.strip()
    version = " ".join(w for w in version.split() if not w.startswith(("sha=", "build=")))
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python":
            platform.python_version(), "redis": version, "loadavg_at_start": load}


def summarize(results, failures, sizes) -> list:
    rows = []
    for shards, replicas in sizes:
        size = f"{shards}x{replicas}"
        row = {"size": size, "nodes": shards * (replicas + 1)}
        for tool in TOOLS:
            times = [r["seconds"] for r in results if r["size"] == size and r["tool"] == tool]
            failed = sum(1 for f in failures if f["size"] == size and f["tool"] == tool)
            row[tool] = ({"runs": len(times), "failed": failed, "min": min(times),
                          "median": statistics.median(times), "max": max(times)}
                         if times else {"runs": 0, "failed": failed} if failed else None)
        if row["ours"] and row["ours"]["runs"] and row["redis-cli"] and row["redis-cli"]["runs"]:
            row["median_ratio"] = row["ours"]["median"] / row["redis-cli"]["median"]
        rows.append(row)
    return rows


def print_table(rows, results, info, runs):
    print()
    print("Time from 'every redis-server answers PING' to 'every node cluster_state:ok, "
          "every replica master_link_status:up' (seconds)")
    header = (f"{'size':>5} {'nodes':>5} | {'ours: runs':>13} {'min':>6} {'median':>6} "
              f"{'max':>6} | {'redis-cli: runs':>15} {'min':>6} {'median':>6} {'max':>6} | "
              f"{'median ratio ours/cli':>21}")
    print(header)
    print("-" * len(header))

    def cells(stats, width):
        if not stats:
            return f"{'-':>{width}} {'-':>6} {'-':>6} {'-':>6}"
        count = str(stats["runs"]) + (f" +{stats['failed']} failed" if stats["failed"] else "")
        if not stats["runs"]:
            return f"{count:>{width}} {'-':>6} {'-':>6} {'-':>6}"
        return (f"{count:>{width}} {stats['min']:>6.2f} {stats['median']:>6.2f} "
                f"{stats['max']:>6.2f}")

    for row in rows:
        ratio = f"{row['median_ratio']:>21.2f}" if "median_ratio" in row else f"{'-':>21}"
        print(f"{row['size']:>5} {row['nodes']:>5} | {cells(row['ours'], 13)} | "
              f"{cells(row['redis-cli'], 15)} | {ratio}")
    busy = [r["cpu_busy_before"] for r in results]
    noisy = sum(1 for b in busy if b >= info.get("idle_below", 1.0))
    with open("/proc/loadavg") as f:
        load_end = " ".join(f.read().split()[:3])
    caveat = (
        f"Caveat: one machine with {info['cpus']} CPU cores runs everything: every "
        f"redis-server, every bootstrap process (one per pod: {max(r['nodes'] for r in results)} "
        f"at once for the largest size, where Kubernetes would give each pod its own CPU), "
        f"redis-cli, dnsmasq and this checker, all over loopback. Other work on the machine: "
        f"load average {' '.join(info['loadavg_at_start'])} at start, {load_end} at the end; "
        f"CPU use just before each run median {statistics.median(busy):.0%}, max "
        f"{max(busy):.0%}" + (f" ({noisy} run(s) started above {info['idle_below']:.0%} after "
                              f"waiting)" if noisy else "") + ". "
        f"{info['redis']}; cluster-node-timeout 15000 and repl-diskless-sync-delay 0 for both; "
        f"{runs} alternating run(s) per size, fresh servers each. redis-cli gets the masters "
        f"first in shard order (same slot split as ours) but picks which master each replica "
        f"follows itself; ours follows pod names. Checker resolution ~"
        f"{CHECK_INTERVAL * 1000:.0f} ms.")
    print()
    print(textwrap.fill(caveat, width=100))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("3x1,10x1,30x2"),
                        help="comma-separated SHARDSxREPLICAS (default 3x1,10x1,30x2)")
    parser.add_argument("--runs", type=int, default=5,
                        help="runs per tool and size, alternating (default 5)")
    parser.add_argument("--binary", default=os.environ.get("RCI_BINARY")
                        or os.path.join(REPO, "build", "redis-cluster-init"),
                        help="redis-cluster-init (default $RCI_BINARY or build/redis-cluster-init)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds a run may take to converge before the benchmark fails")
    parser.add_argument("--idle-below", type=float, default=0.25, metavar="FRACTION",
                        help="before each run, wait until the machine's CPU use is below this "
                             "(default 0.25) ...")
    parser.add_argument("--idle-wait", type=float, default=20.0, metavar="SECONDS",
                        help="... but no longer than this (default 20); 0 disables waiting")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help="which to run, comma-separated (default ours,redis-cli)")
    parser.add_argument("--keep-going", action="store_true",
                        help="record a failed run and go on (it is left out of the statistics "
                             "and the exit status is 1) instead of stopping at the first")
    parser.add_argument("--json", metavar="FILE", help="write raw timings and summary here")
    args = parser.parse_args()
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if not tools or any(t not in TOOLS for t in tools):
        parser.error(f"--tools: choose from {', '.join(TOOLS)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    missing = [t for t in ("redis-server", "redis-cli", "dnsmasq") if shutil.which(t) is None]
    if missing:
        parser.error(f"not installed: {', '.join(missing)}")

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)  # unwinds through the bed: every process is stopped
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    workdir = tempfile.mkdtemp(prefix="rci-bench-")
    results, failures = [], []
    info = machine()
    info["idle_below"] = args.idle_below
    try:
        binary, digest = snapshot_binary(os.path.abspath(args.binary), workdir)
        info.update(binary=os.path.abspath(args.binary), binary_sha256=digest)
        print(f"[bench] binary {args.binary} (sha256 {digest[:12]}), {info['redis']}, "
              f"{info['cpus']} CPUs, load {' '.join(info['loadavg_at_start'])}", flush=True)
        for shards, replicas in args.sizes:
            for number in range(1, args.runs + 1):
                for tool in tools:
                    label = f"{shards}x{replicas} run {number}/{args.runs} {tool:>9}"
                    try:
                        result = run_once(tool, shards, replicas, binary, args.timeout,
                                          args.idle_below, args.idle_wait)
                    except RUN_FAILURES as error:
                        failures.append({"size": f"{shards}x{replicas}", "tool": tool,
                                         "run": number, "error": f"{type(error).__name__}: "
                                                                 f"{error}"})
                        print(f"[bench] {label}: FAILED: {type(error).__name__}: {error}",
                              file=sys.stderr, flush=True)
                        if not args.keep_going:
                            raise StopBenchmark() from error
                        continue
                    finally:
                        time.sleep(0.5)  # let the teardown's last exits settle
                    result["run"] = number
                    results.append(result)
                    exit_text = (f", tool exited at {result['tool_exit_seconds']:.2f}s"
                                 if result.get("tool_exit_seconds") is not None else "")
                    print(f"[bench] {label}: "
                          f"{result['seconds']:6.2f}s (all cluster_state:ok at "
                          f"{result['all_ok_seconds']:.2f}s{exit_text}; servers ready "
                          f"{result['servers_ready_seconds']:.2f}s after spawn; machine "
                          f"{result['cpu_busy_before']:.0%} busy before"
                          + (f", waited {result['idle_waited_seconds']:.0f}s for it"
                             if result["idle_waited_seconds"] >= 1 else "")
                          + f"; CPU: {tool} {result['tool_cpu_seconds']:.2f}s, checker "
                            f"{result['checker_cpu_seconds']:.2f}s)",
                          flush=True)
    except StopBenchmark:
        pass
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    rows = summarize(results, failures, args.sizes)
    if results:
        print_table(rows, results, info, args.runs)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "runs_per_size": args.runs,
                       "check_interval_seconds": CHECK_INTERVAL, "results": results,
                       "summary": rows, "failures": failures},
                      f, indent=2)
            f.write("\n")
    if failures:
        print(f"\nFAIL: {len(failures)} run(s) failed:", file=sys.stderr)
        for failure in failures:
            first_line = failure["error"].splitlines()[0]
            print(f"  {failure['size']} run {failure['run']} {failure['tool']}: {first_line}",
                  file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
