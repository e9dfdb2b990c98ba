#!/usr/bin/env python3
"""Cluster creation time: redis-cluster-init `bootstrap` (one process per pod) against
`redis-cli --cluster create`, side by side on the test bed (tests/testbed).

For every size SxR and every run, in alternation (ours, redis-cli, ours, redis-cli, ...):
  1. a fresh bed: scratch directory, loopback /24 (more past 241 pods), dnsmasq serving the
     service's SRV records (restarted for them) and every pod's A record;
  2. all S*(1+R) redis-servers spawned at once (fresh dirs, no nodes.conf, the bed's redis.conf:
     default cluster-node-timeout 15000, repl-diskless-sync-delay 0), then polled every 10 ms
     until every one answers PING;
  3. clock starts; the tool is released: every pod's bootstrap (or the one redis-cli, given the
     masters first, ordinal 0 of each shard in shard order, then the replicas) was spawned
     before the servers as a shell blocked on a pipe, and all exec at once when it closes
     (--stagger: one pipe per pod, closed one by one evenly over the given seconds in a seeded
     random order; then the time counts from the last release, and redis-cli is not run);
  4. one checker loop polls every node over persistent connections (CLUSTER INFO and INFO
     replication, pipelined, all nodes written before any is read) every 25 ms; the clock stops
     at the end of the first round in which every node says cluster_state:ok (and
     cluster_size:S), S nodes are masters and the other S*R are replicas with
     master_link_status:up (and, staggered, every bootstrap has been released);
  5. checks after the clock: the tool exited 0 (every bootstrap, or redis-cli); all 16384
     slots served by S masters, each with R connected replicas; for ours also the bed's
     check_cluster with the creation layout (replicas follow their pod names); the DNS queries
     dnsmasq answered since just before the release, by type, and the peak RSS (wait4) of each
     tool process are recorded;
  6. everything stopped, scratch directory removed (kept, with every pod's logs, on failure).

    python3 bench/bootstrap_time.py [--sizes 3x1,10x1,30x2] [--runs 5] [--binary PATH]
                                    [--json FILE] [--keep-going] [--stagger SECONDS]
                                    [--stagger-seed SEED] [--discovery auto|srv|names]

See bench/README.md for the method and the caveat.

Python 3 standard library only; needs redis-server, redis-cli and dnsmasq on PATH.
"""

import argparse
import contextlib
import ctypes
import hashlib
import io
import json
import os
import platform
import random
import resource
import shutil
import signal
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
from dnsmasq import QUERY_TYPES  # noqa: E402
from testbed import BinaryRun, TestBed, binary_env, check_cluster  # noqa: E402
from resp import ProtocolError, RespClient, RespError, parse_info  # noqa: E402
from slots import CLUSTER_SLOTS  # noqa: E402

TOOLS = ("ours", "redis-cli", "ours-tls", "redis-cli-tls")
CLI_TOOLS = ("redis-cli", "redis-cli-tls")
TLS_TOOLS = ("ours-tls", "redis-cli-tls")
# ours-tls: ours against TLS-only servers (--tls yes, host names verified), beside ours in the
# same run, to show what TLS costs; redis-cli-tls: redis-cli --tls on the same kind of servers,
# the peer under the same cost of TLS. Neither is run unless asked for.
DEFAULT_TOOLS = ("ours", "redis-cli")
DEBUG = bool(os.environ.get("RCI_BENCH_DEBUG"))  # print every checker round to stderr
READY_POLL = 0.010      # seconds between readiness rounds (PING)
CHECK_INTERVAL = 0.025  # seconds between checker rounds
# Past this many nodes a round every 25 ms would take a large share of the two cores from the
# servers and tools being measured (at 300 nodes the checker parses 24,000 replies a second),
# so it polls every 100 ms: the resolution stays small beside a figure of tens of seconds.
LARGE_CHECK_NODES = 100
LARGE_CHECK_INTERVAL = 0.1


def check_interval(nodes: int) -> float:
    return CHECK_INTERVAL if nodes <= LARGE_CHECK_NODES else LARGE_CHECK_INTERVAL
CHECK_COMMANDS = [("CLUSTER", "INFO"), ("INFO", "replication")]
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>


class BenchError(Exception):
    """A run that did not converge or did not pass its checks."""


class StopBenchmark(Exception):
    """Raised after a failed run unless --keep-going."""


RUN_FAILURES = (BenchError, AssertionError, TimeoutError, RuntimeError, OSError, RespError,
                ProtocolError)


# --- the checker's connections: the bed's RESP client, one per pod, kept open ------------------

class Conn(RespClient):
    """The bed's RESP client to one pod, kept open for pipelined polling: the checker sends to
    every pod, then receives from each, so the nodes answer in parallel. A short connect
    timeout (a pod not up yet is skipped this round), a longer one for replies.
    """

    def __init__(self, pod, connect_timeout=0.5, reply_timeout=5.0):
        super().__init__(pod.ip, pod.port, password=pod.cluster.password or None,
                         timeout=connect_timeout, tls=pod.cluster.tls_context)
        self.pod = pod
        self.set_timeout(reply_timeout)


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
                conn.send([("PING",)])
                if conn.receive(1) == ["PONG"]:
                    conns[pod.name] = conn
                    continue
            except (OSError, ProtocolError):
                pass
            conn.close()
        if len(conns) < len(pods):
            if time.monotonic() > deadline:
                missing = [p.name for p in pods if p.name not in conns]
                raise BenchError(f"redis-servers not ready after {timeout}s: {missing}")
            time.sleep(READY_POLL)
    return conns


def poll_until_converged(cluster, conns, t0, timeout, hold=None) -> dict:
    """The checker loop (same for both tools). Returns the times (seconds after t0) at which
    every node first said cluster_state:ok, and at which the full condition held (and, with
    `hold`, hold() too: the staggered mode's "every bootstrap released")."""
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
                info, repl = conn.receive(2)
            except (OSError, ProtocolError) as error:
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
        if (all_ok and size_ok and linked == want_replicas and masters == cluster.shards
                and (hold is None or hold())):
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
        time.sleep(max(0.0, check_interval(total) - (now - started)))


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


def server_counters(cluster) -> dict:
    """What the servers spent, summed over every node once the clock has stopped: their CPU
    seconds (INFO cpu), the client connections they accepted (INFO stats; the checker's few
    included) and the cluster bus MEETs they received (CLUSTER INFO). Over TLS every accepted
    connection and every MEET's bus link is a handshake, which is where TLS's cost lies."""
    totals = {"cpu_seconds": 0.0, "connections": 0, "meets": 0}
    for pod in cluster.pods:
        cpu, stats = pod.info("cpu"), pod.info("stats")
        totals["cpu_seconds"] += float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])
        totals["connections"] += int(stats["total_connections_received"])
        cluster_info = parse_info(pod.command("CLUSTER", "INFO"))
        totals["meets"] += int(cluster_info.get("cluster_stats_messages_meet_received", 0))
    return totals


def redis_cli_argv(cluster) -> list:
    """Masters first (ordinal 0 of each shard, in shard order), then the replicas, so that
    redis-cli gives shard S's slot range to shard S's ordinal 0 as ours does. Over TLS it
    presents the bed's client certificate and verifies the servers' against the bed's CA."""
    masters = [cluster.pod(s, 0) for s in range(cluster.shards)]
    replicas = [p for p in cluster.pods if p.ordinal != 0]
    tls = []
    if cluster.tls:
        client = cluster.bed.tls_client_certificate
        tls = ["--tls", "--cacert", cluster.bed.certificate_authority.ca_file,
               "--cert", client.cert_file, "--key", client.key_file]
    return (["redis-cli"] + tls + ["--cluster", "create"]
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
    """Processes spawned ahead of time, each a shell blocked reading a pipe (its stdin), that exec
    their real command the moment the pipe's write end is closed: with release() every pod's
    bootstrap starts at the same instant, as in Kubernetes where each pod runs its own, instead
    of one after another from this script (spawning 90 processes on 2 loaded cores takes
    seconds, and the first ones started would steal the CPU from the loop spawning the rest).
    With separate=True every process waits on a pipe of its own and release_one() lets them go
    one at a time (the staggered mode).

    The gated shell is not this script's child but a launcher shell's, adopted by this script (a
    child subreaper, see become_subreaper()) when the launcher exits: a process's ru_maxrss
    survives exec, and every child of this script starts out as big as this script (fork copies
    its resident pages), so a command exec'd in a child of this script would report at least
    this script's size (20 to 40 MB) as its peak RSS. Forked from the launcher, the gated shell
    starts at a shell's size (about 1.4 MB) and wait4 gives the command's own peak above that
    (see Gated). Started in the background, the gated shell and its command have SIGINT and
    SIGQUIT ignored, which nothing here sends.
    """

    GATE = 'read _; exec </dev/null; exec "$0" "$@"'
    LAUNCH = ('pidfile=$0; exec 3<&0 </dev/null; /bin/sh -c \'' + GATE + '\' "$@" 0<&3 3<&- & '
              'echo $! > "$pidfile"')

    def __init__(self, separate=False):
        self.separate = separate
        self.procs = []
        self._pipes = []  # (read fd, write fd) per process (the same pair unless separate)
        self._shared = None if separate else list(os.pipe())
        self._lock = threading.Lock()  # the staggered releaser closes pipes from its thread

    def spawn(self, argv, env, stdout, stderr, pid_path, cwd=None) -> "Gated":
        """Spawns the gated shell of `argv` (its pid goes through the file pid_path)."""
        pipe = list(os.pipe()) if self.separate else self._shared
        launcher = subprocess.Popen(["/bin/sh", "-c", self.LAUNCH, pid_path] + list(argv),
                                    env=env, stdin=pipe[0], stdout=stdout, stderr=stderr,
                                    cwd=cwd, start_new_session=True)
        proc = Gated(launcher, pid_path)
        self.procs.append(proc)
        self._pipes.append(pipe)
        return proc

    def wait_blocked(self, timeout=30.0) -> None:
        """Returns once every gated shell sits in its read: their start-up cost stays off the
        clock."""
        deadline = time.monotonic() + timeout
        for proc in self.procs:
            if proc.gated_pid(max(0.1, deadline - time.monotonic())) is None:
                raise BenchError(f"gate launcher {proc.pid} did not hand over its shell "
                                 f"(exit status {proc.launcher.returncode})")
        pending = list(self.procs)
        while pending:
            pending = [p for p in pending if not _blocked_on_pipe(p.command_pid)]
            if not pending:
                break
            if time.monotonic() > deadline:
                raise BenchError(f"{len(pending)} gated process(es) not waiting after {timeout}s")
            time.sleep(0.005)
        for pipe in self._pipes:
            self._close(pipe, 0)

    def release(self) -> None:
        """Lets every process go (one close of the shared pipe, else back to back)."""
        for pipe in self._pipes:
            self._close(pipe, 1)

    def release_one(self, index: int) -> None:
        self._close(self._pipes[index], 1)

    def _close(self, pipe, end) -> None:
        with self._lock:  # never twice: the number may belong to another file by then
            if pipe[end] is not None:
                os.close(pipe[end])
                pipe[end] = None

    def close(self) -> None:
        """Stops whatever is still running (the bed stops the rest), closes the pipes and waits
        until every command is reaped."""
        for pipe in self._pipes:
            self._close(pipe, 0)
            self._close(pipe, 1)
        for proc in self.procs:
            procs.kill(proc)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


class Gated:
    """A gated shell and the command it becomes, looked after like a subprocess.Popen (pid,
    poll(), wait(), returncode: what BinaryRun and procs.stop()/kill() use), plus what wait4
    says of it (`rusage`: see Gate) and when it exited (`exited_at`, stamped by the reaping
    thread as it happens). `pid` is the launcher's: the process group the command stays in,
    which procs.stop() signals; `command_pid` is the gated shell's (then the command's), once
    the launcher has exited.
    """

    def __init__(self, launcher: subprocess.Popen, pid_path: str):
        self.launcher = launcher
        self.pid = launcher.pid
        self.pid_path = pid_path
        self.command_pid = None
        self.returncode = None
        self.rusage = None
        self.exited_at = None
        self._adopted = threading.Event()  # the launcher has exited: command_pid is known
        self._done = threading.Event()
        threading.Thread(target=self._reap, daemon=True).start()

    def _reap(self) -> None:
        self.launcher.wait()
        try:
            with open(self.pid_path) as f:
                self.command_pid = int(f.read())
        except (OSError, ValueError):  # stopped before it could start the gated shell
            self.returncode = self.launcher.returncode
        self._adopted.set()
        if self.command_pid is not None:
            try:
                _, status, self.rusage = os.wait4(self.command_pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            except ChildProcessError:  # not adopted: become_subreaper() was not called
                self.returncode = -1
        self.exited_at = time.monotonic()
        self._done.set()

    def gated_pid(self, timeout):
        """The gated shell's pid once the launcher has exited (None if it started none)."""
        self._adopted.wait(timeout)
        return self.command_pid

    def poll(self):
        return self.returncode if self._done.is_set() else None

    def wait(self, timeout=None) -> int:
        if not self._done.wait(timeout):
            raise subprocess.TimeoutExpired(self.launcher.args, timeout)
        return self.returncode


def become_subreaper() -> None:
    """Makes this script adopt its orphaned descendants (prctl PR_SET_CHILD_SUBREAPER): a gated
    shell becomes this script's child when its launcher exits, so that wait4 can give the
    rusage of the command it execs."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def reap_orphans() -> None:
    """Reaps the adopted descendants that outlived their parent and have exited since (dnsmasq's
    TCP helper processes when dnsmasq stops first, a redis-server's fork child): called between
    runs, when every process a run started has been waited for."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
        except OSError:
            continue
        if state == "Z" and int(ppid) == me:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(int(entry), os.WNOHANG)


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


def stagger_offsets(count, seconds, rng) -> list:
    """Release offsets (seconds after the first) for `count` processes: evenly spread over
    `seconds`, the order of the pods shuffled by `rng` (seeded, so a run can be replayed)."""
    steps = [seconds * i / max(1, count - 1) for i in range(count)]
    rng.shuffle(steps)
    return steps


def release_staggered(gate, offsets, start, released) -> None:
    """Lets each gated process go at start + its offset, appending each release's time to
    `released` (run in a thread while the checker polls)."""
    for index in sorted(range(len(offsets)), key=offsets.__getitem__):
        time.sleep(max(0.0, start + offsets[index] - time.monotonic()))
        gate.release_one(index)
        released.append(time.monotonic())


def run_once(tool, shards, replicas, binary, opts, number) -> dict:
    with quiet_bed(f"bench-{shards}x{replicas}-{tool}", binary) as bed:
        gate = Gate(separate=bool(opts.stagger))
        try:
            return _run_in_bed(bed, gate, tool, shards, replicas, opts, number)
        finally:
            gate.close()


def _spawn_tool(gate, tool, cluster, opts) -> list:
    """The tool's gated process(es): a bootstrap per pod (as BinaryRuns, which the bed's
    diagnostics show on failure), or the one redis-cli."""
    if tool in CLI_TOOLS:
        with open(os.path.join(cluster.dir, "redis-cli.out"), "wb") as out:
            return [gate.spawn(redis_cli_argv(cluster), None, out, subprocess.STDOUT,
                               os.path.join(cluster.dir, "redis-cli.pid"), cwd=cluster.dir)]
    runs = []
    extra = ["--discovery", opts.discovery] if opts.discovery else []
    extra += os.environ.get("RCI_BENCH_EXTRA_ARGS", "").split()
    for pod in cluster.pods:
        argv, env = pod.invocation("bootstrap", timeout=int(opts.timeout), log_level=os.environ.get("RCI_BENCH_LOG_LEVEL", "warn"),
                                   extra_args=extra)
        stem = os.path.join(pod.dir, f"bootstrap-{len(pod.runs) + 1}")
        with open(stem + ".stdout", "wb") as out, open(stem + ".stderr", "wb") as err:
            proc = gate.spawn(argv, binary_env(env), out, err, stem + ".pid")
        run = BinaryRun(pod, argv, env, proc, stem + ".stdout", stem + ".stderr")
        pod.runs.append(run)
        runs.append(run)
    return runs


def _run_in_bed(bed, gate, tool, shards, replicas, opts, number) -> dict:
    # Identical preparation for both tools, all before any redis-server starts: the cluster
    # (its SRV records make the bed restart dnsmasq here), DNS records, then the tool's
    # process(es), gated.
    cluster = bed.cluster(shards, replicas, tls=tool in TLS_TOOLS)
    for pod in cluster.pods:
        pod.publish()
    runs = _spawn_tool(gate, tool, cluster, opts)
    gate.wait_blocked()
    busy, idle_waited = wait_idle(opts.idle_below, opts.idle_wait)

    spawn_started = time.monotonic()
    for pod in cluster.pods:
        pod.start(wait=False)
    conns = wait_servers_ready(cluster.pods)
    dns_mark = bed.dns.log_mark()  # what dnsmasq answers from here on is the tool's
    stagger = None
    t0 = time.monotonic()  # --- clock starts: every redis-server accepts connections ---
    if opts.stagger:
        seed = f"{opts.stagger_seed}:{shards}x{replicas}:{number}"
        released = []
        releaser = threading.Thread(target=release_staggered, daemon=True, args=(
            gate, stagger_offsets(len(gate.procs), opts.stagger, random.Random(seed)), t0,
            released))
        releaser.start()
        stagger = {"seconds": opts.stagger, "seed": seed}
    else:
        gate.release()
    cpu0 = time.process_time()
    try:
        result = poll_until_converged(cluster, conns, t0, opts.timeout + opts.stagger,
                                      hold=(lambda: not releaser.is_alive()) if stagger
                                      else None)
    finally:
        for conn in conns.values():
            conn.close()
    result["checker_cpu_seconds"] = time.process_time() - cpu0
    # --- clock stopped; everything below is verification ---
    if stagger:
        # Measured from the last release: the time the last pod's bootstrap took to be in a
        # converged cluster (the checker does not stop before it is released).
        last = max(released) - t0
        stagger.update(first_release_seconds=min(released) - t0, last_release_seconds=last,
                       converged_after_first_seconds=result["seconds"])
        result["seconds"] -= last
        result["all_ok_seconds"] = (None if result["all_ok_seconds"] is None
                                    else result["all_ok_seconds"] - last)
    result.update(tool=tool, size=f"{shards}x{replicas}", nodes=len(cluster.pods),
                  servers_ready_seconds=t0 - spawn_started, cpu_busy_before=busy,
                  idle_waited_seconds=idle_waited, stagger=stagger, discovery=opts.discovery)
    if tool not in CLI_TOOLS:
        cluster.wait_bootstraps(runs, timeout=60)
        status = 0
    else:
        try:
            status = runs[0].wait(timeout=60)
        except subprocess.TimeoutExpired:
            status = None
    processes = gate.procs
    exits = [p.exited_at for p in processes if p.exited_at is not None]
    result["tool_exit_seconds"] = (max(exits) - t0 - (stagger["last_release_seconds"]
                                                      if stagger else 0.0)
                                   if len(exits) == len(processes) else None)
    usages = [p.rusage for p in processes if p.rusage is not None]
    result["tool_cpu_seconds"] = sum(u.ru_utime + u.ru_stime for u in usages)
    result["peak_rss_kib"] = max((u.ru_maxrss for u in usages), default=None)
    result["rss_kib_median"] = (statistics.median(u.ru_maxrss for u in usages)
                                if usages else None)
    counts = bed.dns.query_counts(since=dns_mark)
    result["dns_queries"] = counts
    result["dns_queries_per_pod"] = counts["total"] / len(cluster.pods)
    if status != 0:
        with open(os.path.join(cluster.dir, "redis-cli.out"), errors="replace") as f:
            tail = "".join(f.readlines()[-30:])
        raise BenchError(f"redis-cli --cluster create: exit {status}\n{tail}")
    verify_shape(cluster)
    result["servers"] = server_counters(cluster)
    if tool not in CLI_TOOLS:
        # The bed's full verdict: shard S served by its ordinal 0 with S's range, every other pod
        # of S its replica, every node knowing all the others (gossip may still be completing).
        check_cluster(cluster, timeout=60, creation_layout=True)
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


def _tool_stats(runs, failed) -> dict:
    """One tool's figures for one size: times (min/median/max), DNS queries per pod (median
    over runs, in all and by type) and the peak RSS of one of its processes (max over runs)."""
    if not runs:
        return {"runs": 0, "failed": failed} if failed else None
    times = [r["seconds"] for r in runs]
    rss = [r["peak_rss_kib"] for r in runs if r.get("peak_rss_kib") is not None]
    return {"runs": len(runs), "failed": failed, "min": min(times),
            "median": statistics.median(times), "max": max(times),
            "dns_per_pod": statistics.median(r["dns_queries_per_pod"] for r in runs),
            "dns_per_pod_by_type": {
                qtype: statistics.median(r["dns_queries"].get(qtype, 0) / r["nodes"]
                                         for r in runs) for qtype in QUERY_TYPES},
            "peak_rss_kib": max(rss) if rss else None}


def summarize(results, failures, sizes) -> list:
    rows = []
    for shards, replicas in sizes:
        size = f"{shards}x{replicas}"
        row = {"size": size, "nodes": shards * (replicas + 1)}
        for tool in TOOLS:
            runs = [r for r in results if r["size"] == size and r["tool"] == tool]
            failed = sum(1 for f in failures if f["size"] == size and f["tool"] == tool)
            row[tool] = _tool_stats(runs, failed)
        if row["ours"] and row["ours"]["runs"] and row["redis-cli"] and row["redis-cli"]["runs"]:
            row["median_ratio"] = row["ours"]["median"] / row["redis-cli"]["median"]
        if row["ours"] and row["ours"]["runs"] and row["ours-tls"] and row["ours-tls"]["runs"]:
            row["tls_ratio"] = row["ours-tls"]["median"] / row["ours"]["median"]
        if row["redis-cli"] and row["redis-cli"]["runs"] and row["redis-cli-tls"] and row["redis-cli-tls"]["runs"]:
            row["cli_tls_ratio"] = row["redis-cli-tls"]["median"] / row["redis-cli"]["median"]
        if row["ours-tls"] and row["ours-tls"]["runs"] and row["redis-cli-tls"] and row["redis-cli-tls"]["runs"]:
            row["tls_median_ratio"] = row["ours-tls"]["median"] / row["redis-cli-tls"]["median"]
        rows.append(row)
    return rows


def _mib(kib) -> str:
    return "-" if kib is None else f"{kib / 1024:.1f}"


def print_table(rows, results, info, runs, stagger):
    print()
    start = (f"the release of the last bootstrap (released over {stagger:g} s)" if stagger
             else "'every redis-server answers PING'")
    print(f"Time from {start} to 'every node cluster_state:ok, every replica "
          f"master_link_status:up' (seconds); DNS queries per pod (median of runs; A/AAAA/SRV "
          f"by type); peak RSS of one tool process (MiB, max of runs)")
    header = (f"{'size':>5} {'nodes':>5} | {'ours: runs':>13} {'min':>6} {'median':>6} "
              f"{'max':>6} {'dns/pod':>7} {'A/AAAA/SRV':>16} {'RSS':>5} | "
              f"{'redis-cli: runs':>15} {'min':>6} {'median':>6} {'max':>6} {'dns/pod':>7} "
              f"{'RSS':>5} | {'median ratio ours/cli':>21}")
    print(header)
    print("-" * len(header))

    def cells(stats, width, by_type):
        blank = ["-", "-", "-", "-", "-"] + (["-"] if by_type else []) + ["-"]
        if stats and stats["runs"]:
            count = str(stats["runs"]) + (f" +{stats['failed']} failed" if stats["failed"]
                                          else "")
            kinds = stats["dns_per_pod_by_type"]
            blank = ([count, f"{stats['min']:.2f}", f"{stats['median']:.2f}",
                      f"{stats['max']:.2f}", f"{stats['dns_per_pod']:.1f}"]
                     + (["/".join(f"{kinds[k]:.1f}" for k in QUERY_TYPES)] if by_type else [])
                     + [_mib(stats["peak_rss_kib"])])
        elif stats:
            blank[0] = f"0 +{stats['failed']} failed"
        elif stagger and not by_type:
            blank = ["n/a"] * len(blank)  # one process: the stagger does not apply
        widths = [width, 6, 6, 6, 7] + ([16] if by_type else []) + [5]
        return " ".join(f"{text:>{w}}" for text, w in zip(blank, widths))

    for row in rows:
        ratio = f"{row['median_ratio']:>21.2f}" if "median_ratio" in row else f"{'-':>21}"
        print(f"{row['size']:>5} {row['nodes']:>5} | {cells(row['ours'], 13, True)} | "
              f"{cells(row['redis-cli'], 15, False)} | {ratio}")
    if any(row["ours-tls"] or row["redis-cli-tls"] for row in rows):
        print()
        print("Over TLS-only servers (tls-cluster, tls-replication and tls-auth-clients yes; ours "
              "verifies host names, redis-cli the CA), in the same run as plaintext:")
        tls_header = (f"{'size':>5} {'nodes':>5} | {'ours-tls: runs':>14} {'min':>6} "
                      f"{'median':>6} {'max':>6} {'dns/pod':>7} {'A/AAAA/SRV':>16} {'RSS':>5} | "
                      f"{'redis-cli-tls: runs':>19} {'min':>6} {'median':>6} {'max':>6} "
                      f"{'dns/pod':>7} {'RSS':>5} | {'ours/cli':>8} | "
                      f"{'tls/plaintext: ours':>19} {'cli':>5}")
        print(tls_header)
        print("-" * len(tls_header))

        def ratio_cell(row, key, width):
            return f"{row[key]:>{width}.2f}" if key in row else f"{'-':>{width}}"

        for row in rows:
            print(f"{row['size']:>5} {row['nodes']:>5} | {cells(row['ours-tls'], 14, True)} | "
                  f"{cells(row['redis-cli-tls'], 19, False)} | "
                  f"{ratio_cell(row, 'tls_median_ratio', 8)} | "
                  f"{ratio_cell(row, 'tls_ratio', 19)} {ratio_cell(row, 'cli_tls_ratio', 5)}")
    busy = [r["cpu_busy_before"] for r in results]
    noisy = sum(1 for b in busy if b >= info.get("idle_below", 1.0))
    with open("/proc/loadavg") as f:
        load_end = " ".join(f.read().split()[:3])
    staggered = (f"Staggered: the pods' bootstraps were released evenly over {stagger:g} s in a "
                 f"seeded random order (seed {info['stagger_seed']}, mixed with each run's size "
                 f"and number); redis-cli, one process, was not run (n/a). " if stagger else "")
    caveat = (
        f"{staggered}Caveat: one machine with {info['cpus']} CPU cores runs everything: every "
        f"redis-server, every bootstrap process (one per pod: {max(r['nodes'] for r in results)} "
        f"{'for' if stagger else 'at once for'} the largest size, where Kubernetes would give "
        f"each pod its own CPU), {'' if stagger else 'redis-cli, '}dnsmasq and this checker, "
        f"all over loopback. Other work on the machine: load average "
        f"{' '.join(info['loadavg_at_start'])} at start, {load_end} at the end; CPU use just "
        f"before each run median {statistics.median(busy):.0%}, max {max(busy):.0%}"
        + (f" ({noisy} run(s) started above {info['idle_below']:.0%} after waiting)" if noisy
           else "") + ". "
        f"{info['redis']}; cluster-node-timeout 15000 and repl-diskless-sync-delay 0"
        f"{'' if stagger else ' for both'}; {runs} {'' if stagger else 'alternating '}run(s) per "
        f"size, fresh servers each. "
        + ("" if stagger else "redis-cli gets the masters first in shard order (same slot split "
           "as ours) but picks which master each replica follows itself; ")
        + "ours follows pod names"
        + (f" and was given --discovery {info['discovery']}" if info.get("discovery") else "")
        + f". Checker resolution ~{CHECK_INTERVAL * 1000:.0f} ms (~{LARGE_CHECK_INTERVAL * 1000:.0f} ms "
        f"past {LARGE_CHECK_NODES} nodes). DNS: every query dnsmasq "
        f"logged from just before the release until the tool exited, over the pods (the "
        f"service's SRV records and every pod's A record are served). RSS: wait4's ru_maxrss "
        f"of each tool process, which a launcher shell started so that it is the process's own "
        f"(exact above a shell's ~1.5 MB).")
    print()
    print(textwrap.fill(caveat, width=100))


def raise_fd_limit(wanted=4096) -> None:
    """The checker holds a connection per pod and the staggered gate a pipe per pod: 300 pods
    need more than a 1024-descriptor default can spare."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def run_line(label, result) -> str:
    """The one-line report of a finished run."""
    exit_text = (f", tool exited at {result['tool_exit_seconds']:.2f}s"
                 if result.get("tool_exit_seconds") is not None else "")
    stagger = result.get("stagger")
    counts = result["dns_queries"]
    kinds = ", ".join(f"{k} {counts.get(k, 0)}" for k in QUERY_TYPES)
    return (f"[bench] {label}: {result['seconds']:6.2f}s"
            + (f" after the last release ({stagger['last_release_seconds']:.2f}s after the "
               f"first)" if stagger else "")
            + f" (all cluster_state:ok at {result['all_ok_seconds']:.2f}s{exit_text}; servers "
            f"ready {result['servers_ready_seconds']:.2f}s after spawn; machine "
            f"{result['cpu_busy_before']:.0%} busy before"
            + (f", waited {result['idle_waited_seconds']:.0f}s for it"
               if result["idle_waited_seconds"] >= 1 else "")
            + f"; CPU: {result['tool']} {result['tool_cpu_seconds']:.2f}s, checker "
            f"{result['checker_cpu_seconds']:.2f}s; DNS {counts['total']} queries, "
            f"{result['dns_queries_per_pod']:.1f}/pod ({kinds}"
            + (f"; {counts['log_lines_lost']} log lines LOST" if "log_lines_lost" in counts
               else "")
            + f"); peak RSS {_mib(result['peak_rss_kib'])} MiB; servers: CPU "
            f"{result['servers']['cpu_seconds']:.2f}s, {result['servers']['connections']} client "
            f"connections accepted, {result['servers']['meets']} MEETs received)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("3x1,10x1,30x2"),
                        help="comma-separated SHARDSxREPLICAS (default 3x1,10x1,30x2; 100x2 "
                             "is 300 pods)")
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
    parser.add_argument("--tools", default=",".join(DEFAULT_TOOLS),
                        help="which to run, comma-separated, of ours, redis-cli, ours-tls and "
                             "redis-cli-tls (the two over TLS-only servers; default "
                             "ours,redis-cli)")
    parser.add_argument("--stagger", type=float, default=0.0, metavar="SECONDS",
                        help="release the pods' bootstraps evenly over this many seconds, in a "
                             "seeded random order, and time from the last release (e.g. 10; "
                             "default 0: all at once). Ours only: redis-cli is one process")
    parser.add_argument("--stagger-seed", default="1", metavar="SEED",
                        help="seed of the staggered release order (default 1; each run mixes "
                             "in its size and number)")
    parser.add_argument("--discovery", metavar="MODE",
                        help="pass --discovery MODE (auto, srv or names) to every bootstrap; "
                             "default: pass nothing")
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
    if args.stagger < 0:
        parser.error("--stagger must not be negative")
    if args.stagger:
        if "ours" not in tools:
            parser.error("--stagger applies to ours only (redis-cli is one process)")
        tools = ["ours"]
    missing = [t for t in ("redis-server", "redis-cli", "dnsmasq") if shutil.which(t) is None]
    if missing:
        parser.error(f"not installed: {', '.join(missing)}")

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)  # unwinds through the bed: every process is stopped
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    become_subreaper()
    raise_fd_limit()

    workdir = tempfile.mkdtemp(prefix="rci-bench-")
    results, failures = [], []
    info = machine()
    info.update(idle_below=args.idle_below, stagger_seconds=args.stagger,
                stagger_seed=args.stagger_seed if args.stagger else None,
                discovery=args.discovery)
    try:
        binary, digest = snapshot_binary(os.path.abspath(args.binary), workdir)
        info.update(binary=os.path.abspath(args.binary), binary_sha256=digest)
        print(f"[bench] binary {args.binary} (sha256 {digest[:12]}), {info['redis']}, "
              f"{info['cpus']} CPUs, load {' '.join(info['loadavg_at_start'])}", flush=True)
        if args.stagger:
            print(f"[bench] staggered: bootstraps released over {args.stagger:g} s (seed "
                  f"{args.stagger_seed}); redis-cli is one process, the stagger does not apply "
                  f"to it: not run (n/a)", flush=True)
        for shards, replicas in args.sizes:
            for number in range(1, args.runs + 1):
                for tool in tools:
                    label = f"{shards}x{replicas} run {number}/{args.runs} {tool:>9}"
                    try:
                        result = run_once(tool, shards, replicas, binary, args, number)
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
                        reap_orphans()
                    result["run"] = number
                    results.append(result)
                    print(run_line(label, result), flush=True)
    except StopBenchmark:
        pass
    finally:
        if os.environ.get("RCI_KEEP_BED"):
            print(f"kept the bed in {workdir} (RCI_KEEP_BED)", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    rows = summarize(results, failures, args.sizes)
    if results:
        print_table(rows, results, info, args.runs, args.stagger)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "runs_per_size": args.runs,
                       "check_interval_seconds": CHECK_INTERVAL,
                       "large_check_interval_seconds": LARGE_CHECK_INTERVAL,
                       "large_check_nodes": LARGE_CHECK_NODES, "results": results,
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
