"""A Kubernetes-less test bed for redis-cluster-init: real redis-servers as "pods" on their own
loopback addresses, a real dnsmasq serving the headless service's records, and the real binary.

    with TestBed("cold_start") as bed:
        cluster = bed.cluster(shards=3, replicas=1)
        cluster.start()                          # DNS records + redis-servers, waits until ready
        runs = cluster.bootstrap_all()           # the binary's `bootstrap` for every pod
        cluster.wait_bootstraps(runs)            # every one must exit 0
        check_cluster(cluster)                   # independent judgement of the result

    Pods can also run as they do in Kubernetes, under the binary's `run` supervisor (PID-1 style:
    it starts redis-server itself and bootstraps it):

        runs = cluster.start_supervised()        # `redis-cluster-init run -- redis-server conf`
        check_cluster(cluster)

Layout: one scratch directory per bed; one loopback /24 per bed (127.a.b.0, never 127.0.0.1,
where a system redis may listen), pods taking .10 to .250 and, past 241 addresses, going on into
the next free /24s (127.a.b+1.0, ...); one directory per pod holding its redis.conf, nodes.conf,
logs and the binary's captured output. DNS: every pod's A record once published, and, unless a
cluster is made with srv=False, the service's SRV records naming every pod from the start.
Every process is a child in its own process group and is stopped when the bed closes, whatever
happened.

Network namespaces: TestBed(name, network="ipv4"|"ipv6") (or RCI_BED_NETWORK) runs each pod in a
network namespace of its own, on a bridge in the test's own private namespace (netns.py), with
addresses from 198.18.0.0/15 or fd72:6369::/64 (AAAA records only): IPv6-only clusters, and
faults the loopback bed cannot make (bed.isolate(pod), bed.partition(groups), bed.heal()).

TLS: bed.cluster(..., tls=True) makes every redis-server TLS-only, with a certificate per pod from
the bed's CA (certs.py); every connection the bed makes goes through Cluster.client(), which
speaks TLS for such a cluster, and the binary is given its TLS options.
"""

import hashlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import netns
import procs
import servers
from certs import CertificateAuthority
from cluster_check import ClusterCheckError, check_cluster, observe_pod  # noqa: F401 (re-export)
from cluster_check import parse_cluster_nodes
from dnsmasq import Dnsmasq, dns_query  # noqa: F401 (re-export)
from procs import ProcessRegistry
from resp import ProtocolError, RespClient, RespError, client_tls_context, parse_info
from slots import key_slot, shard_slot_range  # noqa: F401 (re-export)
from waiting import wait_until, wait_until_none

REDIS_PORT = 6379
REDIS_BUS_PORT = 16379
FIRST_HOST, LAST_HOST = 10, 250  # the pod addresses of each /24 the bed takes

# Every environment variable the binary reads: cleared before each run so the developer's own
# environment (HOSTNAME in a container, say) cannot change what a test means.
# What /proc shows as a server process: every server of the matrix (servers.py) is one of these.
SERVER_COMMS = ("redis-server", "valkey-server")
BINARY_ENV_VARS = ("POD_NAME", "HOSTNAME", "POD_IP", "GOVERNING_SERVICE", "POD_NAMESPACE",
                   "CLUSTER_DOMAIN", "SHARDS", "REPLICAS", "REDIS_PORT", "REDIS_BUS_PORT",
                   "DNS_SERVER", "REDIS_PASSWORD_FILE", "REDIS_PASSWORD", "REDISCLI_AUTH",
                   "REDIS_USER", "BOOTSTRAP_TIMEOUT", "LOG_FORMAT", "LOG_LEVEL",
                   "CONNECT_TIMEOUT_MS", "COMMAND_TIMEOUT_MS", "REPLICA_MIGRATION",
                   "ON_BOOTSTRAP_FAILURE", "RECONCILE_INTERVAL", "STOP_GRACE", "RECOVER_LOST_SLOTS",
                   "DISCOVERY", "REDIS_PORT_NAME", "HANDOVER", "HANDOVER_TIMEOUT", "TERMINATION_LOG",
                   "TLS", "TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CA_CERT_FILE", "TMPDIR")

# The redis.conf directives of a TLS pod that the binary's `run` puts on redis-server's command
# line itself, so a supervised pod's redis.conf leaves them out (Pod.listener_config): a cluster
# that then forms over TLS proves the supervisor added them. A plaintext pod's `port` is one too.
SUPERVISOR_ADDS = frozenset(("port", "tls-port", "tls-cert-file", "tls-key-file",
                             "tls-ca-cert-file", "tls-cluster", "tls-replication"))

_SECRET_VARS = ("REDIS_PASSWORD", "REDISCLI_AUTH")


def binary_env(extra=None) -> dict:
    """The environment for a run of the binary: ours minus everything it would read, plus
    `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in BINARY_ENV_VARS}
    env.update(extra or {})
    return env


# Log lines that say nothing about a failure and would crowd out the ones that do in a tail:
# redis-server's start-up chatter and the binary's debug trace of every command it sends.
_NOISE = ("WARNING Memory overcommit", "oO0OoO0OoO0Oo", "Configuration loaded",
          "monotonic clock", "Server initialized")
_COMMAND_TRACE = re.compile(r" debug \S+:\d+: [A-Z]")


def _tail(path: str, lines: int) -> str:
    """The last `lines` informative lines of a log file (display only, never asserted on)."""
    try:
        with open(path, errors="replace") as f:
            kept = [line for line in f.read().splitlines()
                    if not any(n in line for n in _NOISE) and not _COMMAND_TRACE.search(line)]
    except FileNotFoundError:
        return "(no file)"
    return "\n".join(kept[-lines:])


def _indent(text: str, prefix="    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines()) or prefix + "(empty)"


class BinaryRun:
    """One run of the binary for one pod; stdout and stderr go to files in the pod's directory
    (numbered, so reruns keep earlier output).
    """

    def __init__(self, pod, argv, env, proc, stdout_path, stderr_path):
        self.pod = pod
        self.argv = argv
        self.env = env
        self.proc = proc
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path
        self.started = time.monotonic()
        self.finished = None
        # A waiter thread stamps the exit time when it happens, not when a test gets round to
        # looking: run times are part of what the tests report.
        threading.Thread(target=self._stamp_exit, daemon=True).start()

    def _stamp_exit(self) -> None:
        self.proc.wait()
        self.finished = time.monotonic()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def poll(self):
        """The exit status, or None while it runs."""
        status = self.proc.poll()
        if status is not None and self.finished is None:
            self.finished = time.monotonic()
        return status

    @property
    def returncode(self):
        return self.poll()

    @property
    def elapsed(self) -> float:
        """Seconds from start to exit (or until now while it runs)."""
        self.poll()
        return (self.finished or time.monotonic()) - self.started

    def wait(self, timeout: float) -> int:
        """Waits for the exit status; raises TimeoutError (leaving it running) after `timeout`."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{self.pod.name}: bootstrap still running after {timeout:.0f}s\n"
                               f"{self.describe()}") from None
        self.poll()
        return self.proc.returncode

    def kill(self) -> None:
        procs.kill(self.proc)
        self.poll()

    @property
    def stdout(self) -> str:
        with open(self.stdout_path, errors="replace") as f:
            return f.read()

    @property
    def stderr(self) -> str:
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def describe(self, lines=40) -> str:
        status = self.poll()
        state = "running" if status is None else f"exit {status}"
        env = " ".join(f"{k}={'(redacted)' if k in _SECRET_VARS else v}"
                       for k, v in self.env.items())
        command = f"{env} {' '.join(self.argv[1:])}".strip()
        return (f"{self.pod.label}: {command} -> {state} after {self.elapsed:.1f}s"
                f"\n  stderr ({self.stderr_path}):\n{_indent(_tail(self.stderr_path, lines))}"
                f"\n  stdout:\n{_indent(_tail(self.stdout_path, 10))}")


class Pod:
    """One redis-server standing in for a StatefulSet pod `<prefix>-shard<S>-<O>`."""

    def __init__(self, cluster, shard: int, ordinal: int, ip: str):
        self.cluster = cluster
        self.shard = shard
        self.ordinal = ordinal
        self._ip = ip
        self.port = REDIS_PORT
        self.bus_port = REDIS_BUS_PORT
        self.name = f"{cluster.prefix}-shard{shard}-{ordinal}"
        self.dir = os.path.join(cluster.dir, self.name)
        self.proc = None           # redis-server, or the `run` supervisor (or its wrapper)
        self.supervisor = None     # the BinaryRun of the current `run`, when supervised
        self._run_options = None   # how start_supervised() was called: start() repeats it
        self.runs = []  # every BinaryRun, oldest first
        self.redis_config = []     # this pod's own redis.conf lines, after the cluster's (they win)
        self._certificate = None   # issued on first use, for a TLS cluster
        os.makedirs(self.dir, exist_ok=True)
        if cluster.bed.net is not None:
            cluster.bed.net.add_pod(self.label, ip)

    @property
    def ip(self) -> str:
        return self._ip

    @ip.setter
    def ip(self, ip: str) -> None:
        """The pod's address from now on (its redis.conf takes it at the next start); in a
        namespace bed its interface gets it at once, as a rescheduled pod's would."""
        if self.cluster.bed.net is not None:
            self.cluster.bed.net.set_address(self.label, ip)
        self._ip = ip

    @property
    def exec_prefix(self) -> list:
        """What this pod's processes start under: its network namespace, in a namespace bed."""
        net = self.cluster.bed.net
        return [] if net is None else net.exec_prefix(self.label)

    def __repr__(self):
        return f"Pod({self.label} {self.ip})"

    @property
    def label(self) -> str:
        """The pod name, qualified by namespace when a bed holds several clusters."""
        return f"{self.cluster.namespace}/{self.name}"

    @property
    def dns_name(self) -> str:
        return self.cluster.dns_name(self.name)

    @property
    def config_path(self) -> str:
        return os.path.join(self.dir, "redis.conf")

    @property
    def nodes_conf_path(self) -> str:
        return os.path.join(self.dir, "nodes.conf")

    @property
    def log_path(self) -> str:
        return os.path.join(self.dir, "redis.log")

    @property
    def tmp_dir(self) -> str:
        """The pod's own /tmp (TMPDIR of every run of the binary as this pod)."""
        path = os.path.join(self.dir, "tmp")
        os.makedirs(path, exist_ok=True)
        return path

    # --- DNS ------------------------------------------------------------------------------------

    def publish(self) -> None:
        """Adds (or updates) this pod's A record, as Kubernetes does once the pod has an IP."""
        self.cluster.bed.dns.set_record(self.dns_name, self.ip)

    def unpublish(self) -> None:
        """Removes this pod's A record: its name then answers NXDOMAIN."""
        self.cluster.bed.dns.remove_record(self.dns_name)

    # --- TLS ----------------------------------------------------------------------------------

    @property
    def certificate(self):
        """This pod's certificate (a TLS cluster only), issued on first use by the bed's CA into
        the pod's directory, as a mounted Secret would hold it. Its subjectAltName is the pod's
        FQDN and bare name, not its IP: an IP changes when the pod moves (restart with
        new_ip=True) and the binary verifies peers by name, so the certificate never has to
        follow the pod."""
        if not self.cluster.tls:
            raise ValueError(f"{self.label}: not a TLS cluster")
        if self._certificate is None:
            self._certificate = self.cluster.bed.certificate_authority.issue(
                self.name, [self.dns_name, self.name], out_dir=self.dir)
        return self._certificate

    def use_certificate(self, certificate) -> None:
        """Serves and presents `certificate` (certs.Certificate) from the pod's next start on:
        one of another CA, or one for another pod's name, as a misconfigured Secret would."""
        self._certificate = certificate

    @property
    def tls_cert_file(self) -> str:
        return self.certificate.cert_file

    @property
    def tls_key_file(self) -> str:
        return self.certificate.key_file

    def tls_options(self) -> dict:
        """The binary's TLS options for this pod, flag -> (environment variable, value); empty
        for a plaintext cluster."""
        if not self.cluster.tls:
            return {}
        return {
            "--tls": ("TLS", "yes"),
            "--tls-cert-file": ("TLS_CERT_FILE", self.tls_cert_file),
            "--tls-key-file": ("TLS_KEY_FILE", self.tls_key_file),
            "--tls-ca-cert-file": ("TLS_CA_CERT_FILE", self.cluster.tls_ca_file),
        }

    def tls_flags(self) -> list:
        """tls_options() as command-line flags."""
        return [arg for flag, (_, value) in self.tls_options().items() for arg in (flag, value)]

    # --- redis-server ---------------------------------------------------------------------------

    def listener_config(self, supervised: bool) -> list:
        """The redis.conf lines saying how redis-server listens: plaintext `port`, or, for a TLS
        cluster, TLS only (`port 0`, `tls-port`, the certificate, key and CA, TLS on the cluster
        bus and the replication link, client certificates required). A supervised pod leaves
        out what the supervisor adds itself (SUPERVISOR_ADDS: change it there)."""
        if self.cluster.tls:
            directives = [("port", 0), ("tls-port", self.port),
                          ("tls-cert-file", self.tls_cert_file),
                          ("tls-key-file", self.tls_key_file),
                          ("tls-ca-cert-file", self.cluster.tls_ca_file),
                          ("tls-cluster", "yes"), ("tls-replication", "yes"),
                          ("tls-auth-clients", "yes")]
        else:
            directives = [("port", self.port)]
        return [f"{name} {value}" for name, value in directives
                if not (supervised and name in SUPERVISOR_ADDS)]

    def write_config(self, supervised=None) -> None:
        """redis.conf for this pod. cluster-announce-ip is required on loopback aliases (the bus
        would otherwise connect from 127.0.0.1); the diskless sync delay would make every replica
        link 5 s late; the password goes in the file, never on a command line.

        supervised (default: whether the pod runs under `run`): leave out what the supervisor
        must add itself (port, cluster-enabled, cluster-announce-ip, requirepass, masterauth,
        and for TLS what listener_config() says), so a cluster that forms proves it did; and
        keep redis-server's argv readable in /proc (set-proc-title no) so tests can see what
        the supervisor passed.
        """
        supervised = self.supervised if supervised is None else supervised
        lines = [f"bind {self.ip}"] + self.listener_config(supervised)
        if not supervised:
            lines += ["cluster-enabled yes", f"cluster-announce-ip {self.ip}"]
        lines += [
            "cluster-config-file nodes.conf",
            f"cluster-node-timeout {self.cluster.node_timeout_ms}",
            f"dir {self.dir}",
            "daemonize no",
            f"logfile {self.log_path}",
            "protected-mode no",
            "repl-diskless-sync-delay 0",
            "appendonly no",
            'save ""',
        ]
        if supervised:
            lines.append("set-proc-title no")
        if self.cluster.password and not supervised:
            lines += [f"requirepass {self.cluster.password}",
                      f"masterauth {self.cluster.password}"]
        lines += list(self.cluster.redis_config) + list(self.redis_config)
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.config_path, 0o600)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def supervised(self) -> bool:
        """Whether this pod runs under the binary's `run` (start_supervised() was called)."""
        return self._run_options is not None

    def start(self, wait=True) -> None:
        """Starts redis-server (config rewritten first, so a moved pod binds its new address);
        a supervised pod is started again through `run`, with the options it was first given."""
        if self.supervised:
            self.start_supervised(wait=wait, **self._run_options)
            return
        if self.running:
            raise RuntimeError(f"{self.label}: redis-server already running")
        self.write_config()
        with open(os.path.join(self.dir, "redis.stdout"), "ab") as out:
            self.proc = self.cluster.bed.registry.spawn([*self.exec_prefix,
                                                         servers.selected().server_path,
                                                         self.config_path],
                                                        stdout=out, stderr=subprocess.STDOUT,
                                                        cwd=self.dir)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=10.0) -> None:
        """Waits until redis-server answers PING (not LOADING), polling every 20 ms."""
        def pong():
            if self.proc is None or self.proc.poll() is not None:
                status = None if self.proc is None else self.proc.returncode
                what = "the `run` supervisor" if self.supervised else "redis-server"
                run = f"\n{self.supervisor.describe()}" if self.supervised else ""
                raise RuntimeError(f"{self.label}: {what} exited with status {status}\n"
                                   f"{_indent(_tail(self.log_path, 20))}{run}")
            return self.command("PING", timeout=0.5) == "PONG"

        wait_until(pong, timeout, f"{self.label}: redis-server at {self.ip}:{self.port} ready",
                   interval=0.02, tolerate=(OSError, RespError, ProtocolError), error=TimeoutError,
                   detail=lambda: _indent(_tail(self.log_path, 20)))

    def stop(self) -> None:
        """Clean shutdown (SIGTERM): redis-server saves nodes.conf and exits. A supervised pod
        gets it as the kubelet sends it, to the supervisor alone (which forwards it); whatever is
        left of its process group after 10 s is killed."""
        if self.proc is None:
            return
        if self.supervised:
            self.signal_supervisor(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10.0)
            except subprocess.TimeoutExpired:
                pass
        procs.stop(self.proc, grace=10.0)

    def kill(self) -> None:
        """A crash (SIGKILL): nothing is flushed. The whole process group goes: for a supervised
        pod, the supervisor and its redis-server, as when a container is killed."""
        if self.proc is not None:
            procs.kill(self.proc)

    def restart(self, *, crash=False, new_ip=False, keep_nodes_conf=True, keep_data=True,
                publish=True, wait=True, **run_changes) -> None:
        """Stops (or kills) the pod and starts it again, optionally as Kubernetes may bring it
        back: at a new address (its DNS record rewritten when `publish`), without nodes.conf, or
        with an empty volume (which takes nodes.conf too). `wait`: as start()'s. For a pod under
        `run`, `run_changes` change how start_supervised() was called, from now on.
        """
        if run_changes:
            if not self.supervised:
                raise ValueError(f"{self.label}: run options for a pod not under `run`")
            self._run_options.update(run_changes)
        if crash:
            self.kill()
        else:
            self.stop()
        if new_ip:
            self.ip = self.cluster.bed.allocate_ip()
        if not keep_data:
            for entry in os.listdir(self.dir):
                if entry.endswith((".rdb", ".aof")) or entry == "appendonlydir":
                    path = os.path.join(self.dir, entry)
                    shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
        if not keep_nodes_conf or not keep_data:
            try:
                os.unlink(self.nodes_conf_path)
            except FileNotFoundError:
                pass
        if publish:
            self.publish()
        self.start(wait=wait)

    # --- the pod under `redis-cluster-init run` ------------------------------------------------

    def start_supervised(self, wait=True, *, run_args=(), server_args=(), server_command=None,
                         wrapper=(), timeout=60, **invocation_kwargs) -> BinaryRun:
        """Starts this pod the way its container would: `redis-cluster-init run [cluster options]
        [run_args] -- redis-server <redis.conf> [server_args]`, the supervisor starting
        redis-server itself. The config omits what the supervisor must add (see write_config).

        server_command replaces `redis-server <redis.conf>` (e.g. a shell wrapper); wrapper is
        put in front of the binary's argv (e.g. `unshare --pid --fork` to make it PID 1);
        timeout is the bootstrap deadline (--timeout); the other keyword arguments are
        invocation()'s. start() and restart() repeat the same call. Waits until redis-server
        answers PING when `wait`.
        """
        if self.running:
            raise RuntimeError(f"{self.label}: already running")
        self._run_options = dict(run_args=tuple(run_args), server_args=tuple(server_args),
                                 server_command=server_command, wrapper=tuple(wrapper),
                                 timeout=timeout, **invocation_kwargs)
        self.write_config(supervised=True)
        command = (list(server_command) if server_command
                   else [servers.selected().server_path, self.config_path])
        argv, env = self.invocation("run", timeout=timeout,
                                    extra_args=[*run_args, "--", *command, *server_args],
                                    **invocation_kwargs)
        run = self.launch_argv(list(wrapper) + argv, env, name="run")
        self.supervisor = run
        self.proc = run.proc
        if wait:
            self.wait_ready()
        return run

    @property
    def run_args(self) -> tuple:
        """The `run` options start_supervised() was last called with (run_args)."""
        return self._run_options["run_args"] if self._run_options else ()

    def supervisor_pid(self):
        """Pid of the `run` process itself (inside the wrapper, if any), or None."""
        if self.supervisor is None or self.supervisor.poll() is not None:
            return None
        for pid in [self.supervisor.pid] + procs.descendants(self.supervisor.pid):
            argv = procs.read_cmdline(pid)
            if argv and len(argv) > 1 and argv[0] == self.cluster.bed.binary and argv[1] == "run":
                return pid
        return None

    def server_pid(self, timeout=5.0):
        """Pid of this pod's redis-server: the supervisor's child once it has exec'd
        redis-server (waits up to `timeout` for that), or the bare redis-server's; None if
        there is none."""
        if not self.supervised:
            return self.proc.pid if self.running else None
        def server():
            parent = self.supervisor_pid()
            if parent is None:
                raise LookupError("no supervisor")
            for pid in procs.descendants(parent):
                info = proc_stat(pid)
                if info and info["comm"] in SERVER_COMMS and info["state"] != "Z":
                    return pid
            return None

        try:
            pid, _ = wait_until(server, timeout, f"{self.label}: redis-server under `run`",
                                interval=0.02, error=LookupError)
            return pid
        except LookupError:
            return None

    def signal_supervisor(self, sig) -> None:
        """Sends `sig` to the supervisor alone, as the kubelet signals a container's PID 1."""
        pid = self.supervisor_pid()
        if pid is not None:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def probe(self, kind, *, password_via=None, password=None, timeout=15.0, extra_args=(),
              extra_env=None) -> BinaryRun:
        """Runs `redis-cluster-init probe <kind> --pod-ip <ip> --port <port>` (and the TLS flags
        of a TLS cluster) to completion and returns the run (its returncode, stdout, stderr).
        password_via: None (no password), "file", "env" (REDIS_PASSWORD) or "rediscli_auth";
        the password is `password`, else the cluster's."""
        password = password if password is not None else self.cluster.password
        argv = [self.cluster.bed.binary, "probe", kind, "--pod-ip", self.ip,
                "--port", str(self.port), *self.tls_flags()]
        env = {}
        if password_via == "file":
            path = os.path.join(self.dir, "probe-password")
            with open(path, "w") as f:
                f.write(password + "\n")
            os.chmod(path, 0o600)
            argv += ["--password-file", path]
        elif password_via == "env":
            env["REDIS_PASSWORD"] = password
        elif password_via == "rediscli_auth":
            env["REDISCLI_AUTH"] = password
        elif password_via is not None:
            raise ValueError(f"password_via: {password_via!r}")
        env.update(extra_env or {})
        run = self.launch_argv(argv + list(extra_args), env, name="probe")
        run.wait(timeout)
        return run

    def client(self, timeout=2.0) -> RespClient:
        """A connection to this pod's redis-server, as the cluster's clients connect."""
        return self.cluster.client(self.ip, self.port, timeout=timeout)

    def command(self, *args, timeout=2.0):
        """Runs one command on this pod's redis-server (authenticated when the cluster has a
        password) and returns the reply."""
        with self.client(timeout=timeout) as client:
            return client.command(*args)

    def info(self, section="replication") -> dict:
        return parse_info(self.command("INFO", section))

    def node_id(self) -> str:
        return self.command("CLUSTER", "MYID")

    def own_node(self):
        """This pod's own line of its CLUSTER NODES, parsed (cluster_check.NodeLine: its slots
        without the importing and migrating markers)."""
        return next(n for n in parse_cluster_nodes(self.command("CLUSTER", "NODES")) if "myself" in n.flags)

    def served_slots(self) -> list:
        """The slots this pod's node serves, as its own table says."""
        return [slot for first, last in self.own_node().slots for slot in range(first, last + 1)]

    # --- the binary -----------------------------------------------------------------------------

    def password_file(self) -> str:
        """A 0600 file holding the cluster password, as a mounted Secret would."""
        path = os.path.join(self.dir, "password")
        with open(path, "w") as f:
            f.write(self.cluster.password + "\n")
        os.chmod(path, 0o600)
        return path

    def invocation(self, subcommand="bootstrap", *, timeout=60, log_level="debug",
                   options_via="flags", password_via="file", extra_args=(), extra_env=None):
        """argv and the environment variables to set for running the binary as this pod.

        options_via: "flags" passes every option on the command line, "env" only through the
        environment variables a Kubernetes manifest would set. A TLS cluster's pods get the TLS
        options too (tls_options()).
        password_via: "file" (--password-file / REDIS_PASSWORD_FILE), "env" (REDIS_PASSWORD),
        "rediscli_auth" (REDISCLI_AUTH) or None (no password given).
        """
        cluster, bed = self.cluster, self.cluster.bed
        options = {
            "--pod-name": ("POD_NAME", self.name),
            "--pod-ip": ("POD_IP", self.ip),
            "--service": ("GOVERNING_SERVICE", cluster.service),
            "--namespace": ("POD_NAMESPACE", cluster.namespace),
            "--cluster-domain": ("CLUSTER_DOMAIN", bed.cluster_domain),
            "--shards": ("SHARDS", str(cluster.shards)),
            "--replicas": ("REPLICAS", str(cluster.replicas)),
            "--dns-server": ("DNS_SERVER", bed.dns.server_arg),
            "--timeout": ("BOOTSTRAP_TIMEOUT", str(timeout)),
            "--log-level": ("LOG_LEVEL", log_level),
        }
        if cluster.password and password_via == "file":
            options["--password-file"] = ("REDIS_PASSWORD_FILE", self.password_file())
        options.update(self.tls_options())
        argv = [bed.binary, subcommand]
        env = {}
        for flag, (variable, value) in options.items():
            if options_via == "flags":
                argv += [flag, value]
            elif options_via == "env":
                env[variable] = value
            else:
                raise ValueError(f"options_via must be 'flags' or 'env', not {options_via!r}")
        if cluster.password and password_via == "env":
            env["REDIS_PASSWORD"] = cluster.password
        elif cluster.password and password_via == "rediscli_auth":
            env["REDISCLI_AUTH"] = cluster.password
        env.update(extra_env or {})
        return argv + list(extra_args), env

    def bootstrap(self, **kwargs) -> BinaryRun:
        """Starts `redis-cluster-init bootstrap` for this pod in the background (see
        invocation() for the keyword arguments)."""
        return self.launch("bootstrap", **kwargs)

    def launch(self, subcommand, **kwargs) -> BinaryRun:
        """Starts any subcommand for this pod in the background."""
        return self.launch_argv(*self.invocation(subcommand, **kwargs))

    def launch_argv(self, argv, env=None, name=None) -> BinaryRun:
        """Starts the binary with exactly `argv` and, of the variables it reads, only those in
        `env`; output goes to <name>-<n>.stdout/.stderr in the pod's directory (name: the
        subcommand, argv[1], unless given)."""
        number = len(self.runs) + 1
        name = name or (argv[1] if len(argv) > 1 else "run")
        stem = os.path.join(self.dir, f"{name}-{number}")
        # Each pod is a container of its own, with its own /tmp: where `run` keeps its handover
        # marker, which `probe readiness` of the same pod reads.
        env = {"TMPDIR": self.tmp_dir, **(env or {})}
        with open(stem + ".stdout", "wb") as out, open(stem + ".stderr", "wb") as err:
            proc = self.cluster.bed.registry.spawn([*self.exec_prefix, *argv], stdout=out,
                                                   stderr=err, env=binary_env(env))
        run = BinaryRun(self, argv, dict(env or {}), proc, stem + ".stdout", stem + ".stderr")
        self.runs.append(run)
        return run

    def run_binary(self, subcommand, timeout=30.0, **kwargs) -> BinaryRun:
        """Runs a subcommand (status, discover, plan, ...) to completion and returns the run."""
        run = self.launch(subcommand, **kwargs)
        run.wait(timeout)
        return run

    def diagnostics(self, lines=25) -> str:
        state = "running" if self.running else "stopped"
        what = "run supervisor" if self.supervised else "redis-server"
        text = [f"=== {self.label} ({self.ip}, {what} {state}) ==="]
        shown = self.runs[-2:]
        if self.supervisor is not None and self.supervisor not in shown:
            shown = [self.supervisor] + shown[-1:]
        for run in shown:
            text.append(run.describe(lines))
        text.append(f"  redis.log:\n{_indent(_tail(self.log_path, 12))}")
        return "\n".join(text)


class Cluster:
    """The pods of one Redis Cluster (one set of StatefulSets behind one governing service).

    srv (default True): the service's SRV records are served from creation on, as Kubernetes
    always serves them (see serve_srv()); srv=False leaves them out, so a test can see the
    binary fall back to per-pod names. port_name: the service's port name in the SRV name.
    tls (default False): every redis-server speaks TLS only (client certificates required, TLS
    on the bus and replication links too), with a certificate per pod from the bed's CA; the
    bed's own clients then connect with TLS (client(), tls_context) and the binary is given
    its TLS options (Pod.invocation()).
    """

    def __init__(self, bed, shards, replicas, *, prefix="redis", namespace="default",
                 service=None, password=None, node_timeout_ms=15000, redis_config=(), srv=True,
                 port_name="redis", tls=False):
        self.bed = bed
        self.shards = shards
        self.replicas = replicas
        self.prefix = prefix
        self.namespace = namespace
        self.service = service or f"{prefix}-pods"
        self.port_name = port_name
        self.password = password
        self.node_timeout_ms = node_timeout_ms
        self.redis_config = tuple(redis_config)  # extra redis.conf lines, last (they win)
        self.tls = tls
        # What each shard should serve once its shards were scaled (shard -> [(first, last)]);
        # None: the creation ranges (check_cluster).
        self.layout = None
        # Pods of shards SHARDS no longer has, still running (set_shards(), delete_surplus()).
        self.surplus = []
        self.dir = os.path.join(bed.dir, namespace)
        self.pods = [Pod(self, shard, ordinal, bed.allocate_ip())
                     for shard in range(shards) for ordinal in range(replicas + 1)]
        if srv:
            self.serve_srv()

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.prefix}"

    @property
    def tls_ca_file(self) -> str:
        """The CA certificate the pods' certificates chain to (a TLS cluster only)."""
        if not self.tls:
            raise ValueError(f"{self.label}: not a TLS cluster")
        return self.bed.certificate_authority.ca_file

    @property
    def tls_context(self):
        """The ssl.SSLContext the bed's clients use with this cluster (chain verified, no host
        name check, the bed's client certificate), or None for a plaintext cluster."""
        return self.bed.tls_client_context if self.tls else None

    def client(self, host, port, timeout=2.0) -> RespClient:
        """A connection to any redis-server of this cluster, as the bed's clients connect:
        authenticated when the cluster has a password, over TLS when it is a TLS cluster.
        `host` may be an address or a pod's name or FQDN (what MOVED and CLUSTER SLOTS give
        under cluster-preferred-endpoint-type hostname), which the bed resolves itself: the
        machine's resolver does not know the bed's names."""
        return RespClient(self.address_of(host), port, password=self.password, timeout=timeout,
                          tls=self.tls_context)

    def address_of(self, host: str) -> str:
        """The current address of the pod named `host` (its FQDN or bare name), else `host`."""
        name = host.rstrip(".").lower()
        for pod in self.pods + self.surplus:
            if name in (pod.dns_name.lower(), pod.name):
                return pod.ip
        return host

    def redis_cli_args(self) -> list:
        """redis-cli's connection options for this cluster: the TLS ones (with the bed's client
        certificate) for a TLS cluster, none otherwise. The password is left to REDISCLI_AUTH."""
        if not self.tls:
            return []
        client = self.bed.tls_client_certificate
        return ["--tls", "--cacert", self.tls_ca_file, "--cert", client.cert_file,
                "--key", client.key_file]

    def dns_name(self, pod_name: str) -> str:
        return f"{pod_name}.{self.service}.{self.namespace}.svc.{self.bed.cluster_domain}"

    @property
    def srv_name(self) -> str:
        """The one SRV query that lists the pods: `_<port-name>._tcp.<service>.<namespace>.svc.
        <domain>`."""
        return (f"_{self.port_name}._tcp.{self.service}.{self.namespace}.svc."
                f"{self.bed.cluster_domain}")

    @property
    def serves_srv(self) -> bool:
        return self.srv_name in self.bed.dns.srv

    def serve_srv(self) -> None:
        """Has the bed's DNS answer srv_name with one record per pod (target the pod's DNS name,
        port 6379) until the bed closes, as Kubernetes does for a headless service with
        publishNotReadyAddresses: every expected pod is listed from the start, with or without
        an A record yet (the additional section carries the addresses that exist). dnsmasq
        reads SRV records only at start, so this restarts it on the same port: the cluster's
        constructor calls it (unless srv=False), before any binary of the cluster can run;
        binaries of other clusters that are running see DNS down for some tens of ms.
        """
        self.bed.dns.serve_srv(self.srv_name, [(pod.dns_name, pod.port) for pod in self.pods])

    def set_replicas(self, replicas: int) -> list:
        """Changes REPLICAS as a user does in every shard's StatefulSet: the pods with ordinals
        up to `replicas` make up the cluster (new ones get new addresses and are not started),
        the SRV records list them and no other, and every run of the binary started from now
        on gets `--replicas <replicas>`. Returns the pods beyond it, which leave the cluster's
        list still running, as the StatefulSet's scale-in is yet to delete them."""
        kept = {(pod.shard, pod.ordinal): pod for pod in self.pods}
        pods = []
        for shard in range(self.shards):
            for ordinal in range(replicas + 1):
                pod = kept.pop((shard, ordinal), None)
                pods.append(pod or Pod(self, shard, ordinal, self.bed.allocate_ip()))
        self.replicas = replicas
        self.pods = pods
        self._serve_srv_of(self.pods)
        return list(kept.values())

    def set_shards(self, shards: int) -> list:
        """Changes SHARDS as a user does, in every StatefulSet, and every run of the binary
        started from now on gets `--shards <shards>`.

        Raised: a StatefulSet per new shard; their pods get new addresses and are not started,
        the SRV records list them too. Returns the new pods.
        Lowered: the pods of shards at or above `shards` leave the cluster's list but keep
        running and stay in the SRV records (their StatefulSets still exist) until
        delete_surplus(); they are `surplus` until then. Returns them."""
        if shards >= self.shards:
            added = [Pod(self, shard, ordinal, self.bed.allocate_ip())
                     for shard in range(self.shards, shards) for ordinal in range(self.replicas + 1)]
            self.pods = sorted(self.pods + added, key=lambda pod: (pod.shard, pod.ordinal))
            self.shards = shards
            self._serve_srv_of(self.pods)
            return added
        self.surplus += [pod for pod in self.pods if pod.shard >= shards]
        self.pods = [pod for pod in self.pods if pod.shard < shards]
        self.shards = shards
        return list(self.surplus)

    def delete_surplus(self) -> None:
        """Deletes the surplus shards' StatefulSets: their servers stop, their names and SRV
        records go."""
        for pod in self.surplus:
            pod.stop()
            pod.unpublish()
        self.surplus = []
        self._serve_srv_of(self.pods)

    def _serve_srv_of(self, pods) -> None:
        self.bed.dns.serve_srv(self.srv_name, [(pod.dns_name, pod.port) for pod in pods],
                               replace=True)

    def pod(self, shard: int, ordinal: int) -> Pod:
        return self.pods[shard * (self.replicas + 1) + ordinal]

    def shard_pods(self, shard: int) -> list:
        return [p for p in self.pods if p.shard == shard]

    def start(self, pods=None, publish=True) -> None:
        """Publishes DNS records and starts redis-servers (all at once), then waits until each
        answers."""
        pods = self.pods if pods is None else pods
        for pod in pods:
            if publish:
                pod.publish()
            pod.start(wait=False)
        for pod in pods:
            pod.wait_ready()

    def start_supervised(self, pods=None, publish=True, wait=True, **kwargs) -> list:
        """Publishes DNS records and starts every pod (or `pods`) through `redis-cluster-init run`
        back to back, then waits until each redis-server answers; returns the supervisors'
        BinaryRuns. Keyword arguments: Pod.start_supervised()'s."""
        pods = self.pods if pods is None else pods
        for pod in pods:
            if publish:
                pod.publish()
        runs = [pod.start_supervised(wait=False, **kwargs) for pod in pods]
        if wait:
            for pod in pods:
                pod.wait_ready()
        return runs

    def bootstrap_all(self, pods=None, **kwargs) -> list:
        """Launches `bootstrap` for every pod (or `pods`) back to back, without waiting."""
        return [pod.bootstrap(**kwargs) for pod in (self.pods if pods is None else pods)]

    def wait_bootstraps(self, runs, timeout=90.0, expect=0) -> None:
        """Waits for every run and raises, with each offender's output, unless all exit with
        `expect`."""
        deadline = time.monotonic() + timeout
        offenders = []
        for run in runs:
            try:
                status = run.wait(max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                status = None
            if status != expect:
                offenders.append(run)
        if offenders:
            raise AssertionError(
                f"{len(offenders)} of {len(runs)} bootstrap run(s) did not exit {expect}:\n"
                + "\n".join(run.describe() for run in offenders))

    def masters(self) -> list:
        """Pods whose redis-server currently says role:master."""
        return [p for p in self.pods if p.running and p.info("replication")["role"] == "master"]

    def slot_owners(self) -> dict:
        """slot -> (ip, port) of its master, from CLUSTER SLOTS of the first running pod."""
        pod = next(p for p in self.pods if p.running)
        owners = {}
        for entry in pod.command("CLUSTER", "SLOTS"):
            first, last, master = entry[0], entry[1], entry[2]
            for slot in range(first, last + 1):
                owners[slot] = (master[0], master[1])
        return owners

    def keys_outside_served_slots(self) -> list:
        """Masters holding keys in slots they do not serve (a key left behind, or doubled, by a
        slot move): [(pod name, keys it holds, keys in its own slots)], empty when none does."""
        wrong = []
        for master in self.masters():
            served = master.served_slots()
            with self.client(master.ip, master.port, timeout=10.0) as client:
                counts = client.pipeline([("CLUSTER", "COUNTKEYSINSLOT", slot) for slot in served])
                held = client.command("DBSIZE")
            if held != sum(counts):
                wrong.append((master.name, held, sum(counts)))
        return wrong

    def write_keys(self, count: int, prefix="key") -> None:
        """Writes keys prefix:0..count-1 (value = key name), each straight to the master of its
        slot (CRC16 computed here), pipelined per master. A MOVED reply fails the test: it means
        the bed and the cluster disagree on who serves a slot.
        """
        owners = self.slot_owners()
        batches = {}
        for i in range(count):
            key = f"{prefix}:{i}"
            batches.setdefault(owners[key_slot(key)], []).append(("SET", key, key))
        for (ip, port), commands in batches.items():
            with self.client(ip, port, timeout=10.0) as client:
                for reply in client.pipeline(commands):
                    if isinstance(reply, RespError):
                        raise AssertionError(f"writing keys to {ip}:{port}: {reply}")

    def not_holding(self, expected: dict) -> list:
        """Which of `expected` (key -> value) the cluster no longer holds as written, read back
        from the master now serving each key, in pipelines of at most 1000: [(key, read)]."""
        owners = self.slot_owners()
        batches = {}
        for key in expected:
            batches.setdefault(owners[key_slot(key)], []).append(key)
        missing = []
        for (ip, port), keys in batches.items():
            with self.client(ip, port, timeout=10.0) as client:
                for start in range(0, len(keys), 1000):
                    batch = keys[start:start + 1000]
                    replies = client.pipeline([("GET", key) for key in batch])
                    missing += [(key, reply) for key, reply in zip(batch, replies)
                                if reply != expected[key]]
        return missing

    def missing_keys(self, count: int, prefix="key") -> list:
        """What write_keys(count, prefix) wrote and the cluster no longer holds as written."""
        return self.not_holding({f"{prefix}:{i}": f"{prefix}:{i}" for i in range(count)})

    def count_keys(self) -> int:
        """Total keys in the cluster: the sum of DBSIZE over masters."""
        return sum(p.command("DBSIZE") for p in self.masters())

    def wait_replicas_synced(self, timeout=30.0) -> None:
        """Waits until every replica holds as many keys as its master."""
        def lagging():
            behind = []
            for master in self.masters():
                keys = master.command("DBSIZE")
                for replica in self.shard_pods(master.shard):
                    if replica is not master and replica.command("DBSIZE") != keys:
                        behind.append(f"{replica.name} ({replica.command('DBSIZE')} keys, "
                                      f"{master.name} has {keys})")
            return behind

        wait_until_none(lagging, timeout, "replicas in sync with their masters")

    def nodes_report(self) -> str:
        """CLUSTER NODES and the replication link as each pod sees them, for failure messages
        (what a human would look at first when a cluster does not heal)."""
        text = []
        for pod in self.pods:
            try:
                nodes = pod.command("CLUSTER", "NODES")
                repl = pod.info("replication")
                link = (f"role:{repl.get('role')} master_host:{repl.get('master_host', '-')} "
                        f"master_link_status:{repl.get('master_link_status', '-')}")
            except (OSError, RespError, ProtocolError) as error:
                nodes, link = f"(cannot ask: {error})", ""
            text.append(f"--- {pod.name} at {pod.ip}: {link}\n{nodes.strip()}")
        return "\n".join(text)

    def diagnostics(self) -> str:
        return "\n".join(p.diagnostics() for p in self.pods)


def open_slots(pods) -> list:
    """(pod name, its node's own CLUSTER NODES line) for each of `pods` whose node keeps an
    importing or migrating marker ('[slot-<-id]', '[slot->-id]'): a slot move not finished.
    (parse_cluster_nodes leaves markers out of a node's slots, so the raw line is read.)"""
    return [(pod.name, line) for pod in pods
            for line in pod.command("CLUSTER", "NODES").splitlines() if "myself" in line and "[" in line]


def proc_stat(pid: int):
    """What /proc/<pid>/stat says of a live process: comm, state (R, S, Z, ...), ppid, pgrp;
    None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    comm = stat[stat.find(b"(") + 1:stat.rfind(b")")].decode(errors="replace")
    fields = stat[stat.rfind(b")") + 2:].split()
    return {"pid": pid, "comm": comm, "state": fields[0].decode(), "ppid": int(fields[1]),
            "pgrp": int(fields[2])}


def processes(predicate) -> list:
    """proc_stat() of every live process (zombies included) for which predicate(stat) holds,
    e.g. processes(lambda p: p["ppid"] == pid) or processes(lambda p: p["pgrp"] == pgid)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = proc_stat(int(entry))
            if info is not None and predicate(info):
                found.append(info)
    return found


def _pick_network(name: str) -> tuple:
    """A random 127.a.b.0/24 (salted by the test's name) whose first pod address is free on
    the Redis ports: beds of concurrent test runs must not collide, and 127.0.0.0/16 is left
    alone for system services.
    """
    seed = hashlib.sha256(f"{name}:{os.getpid()}:{time.time_ns()}".encode()).digest()
    rng = random.Random(seed)
    for _ in range(50):
        a, b = rng.randrange(16, 250), rng.randrange(0, 256)
        if _ports_free(f"127.{a}.{b}.{FIRST_HOST}"):
            return a, b
    raise RuntimeError("no free loopback network found")


def _next_network(network: tuple) -> tuple:
    """The first /24 after `network` (127.a.b+1.0, then 127.a+1.0.0 past b=255) whose first pod
    address is free on the Redis ports, as _pick_network() checks: another bed may hold it."""
    a, b = network
    for _ in range(50):
        a, b = (a, b + 1) if b < 255 else (a + 1, 0)
        if a > 254:
            break
        if _ports_free(f"127.{a}.{b}.{FIRST_HOST}"):
            return a, b
    raise RuntimeError(f"test bed ran out of addresses: no free /24 after 127.{network[0]}."
                       f"{network[1]}.0")


def _ports_free(ip: str) -> bool:
    for port in (REDIS_PORT, REDIS_BUS_PORT):
        with socket.socket() as sock:
            try:
                sock.bind((ip, port))
            except OSError:
                return False
    return True


class TestBed:
    """Scratch directory, loopback network and dnsmasq for one test; a context manager that
    stops everything it started on exit and, on failure, prints every pod's logs and keeps the
    scratch directory for a post-mortem.
    """

    __test__ = False  # not a pytest class

    def __init__(self, name: str, *, cluster_domain="cluster.local", binary=None, network=None):
        """network: "loopback" (the default, or RCI_BED_NETWORK), "ipv4" or "ipv6" (pods as
        network namespaces, see netns.py)."""
        self.name = name
        self.network = network or os.environ.get("RCI_BED_NETWORK") or "loopback"
        if self.network not in ("loopback", *netns.NETWORKS):
            raise ValueError(f"bed network must be loopback, ipv4 or ipv6, not {self.network!r}")
        self.net = None  # the PrivateNetwork of a namespace bed
        self.cluster_domain = cluster_domain
        self.binary = binary or os.environ.get("RCI_BINARY", "")
        self.registry = ProcessRegistry()
        self.clusters = []
        self.dir = None
        self.dns = None
        self.networks = []  # the /24s (a, b) the bed's pods have taken addresses in, in order
        self._next_host = FIRST_HOST
        self._ca = None
        self._tls_client_pair = None     # (certificate, ssl.SSLContext), made once
        self._tls_lock = threading.Lock()

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix=f"rci-{self.name}-")
        if self.network == "loopback":
            a, b = _pick_network(self.name)
            self.networks = [(a, b)]
            where, dns_host = f"network 127.{a}.{b}.0/24", "127.0.0.1"
        else:
            self.net = netns.PrivateNetwork(self.network)
            self.net.enter()
            where, dns_host = f"namespaces, {self.net.describe()}", self.net.tester_ip
        print(f"[bed] {self.name}: dir {self.dir}, {where}", flush=True)
        try:
            self.dns = Dnsmasq(self.dir, self.cluster_domain, self.registry, host=dns_host)
            self.dns.start()
        except BaseException:
            self.registry.stop_all()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        failed = exc_type is not None
        if failed:
            print(self.diagnostics(), file=sys.stderr, flush=True)
        self.registry.stop_all()
        if failed or os.environ.get("RCI_KEEP_BED"):
            print(f"[bed] kept {self.dir}", file=sys.stderr, flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def allocate_ip(self) -> str:
        """A loopback address no pod of this bed has used before: a moved pod never gets an
        address that another pod's nodes.conf may still remember. Hosts .10 to .250 of the
        bed's /24, then of the next free /24s, so 300 pods and their restarts fit. In a
        namespace bed: the next address of its network (netns.py)."""
        if self.net is not None:
            return self.net.allocate_ip()
        if self._next_host > LAST_HOST:
            self.networks.append(_next_network(self.networks[-1]))
            self._next_host = FIRST_HOST
        a, b = self.networks[-1]
        host = self._next_host
        self._next_host += 1
        return f"127.{a}.{b}.{host}"

    @property
    def certificate_authority(self) -> CertificateAuthority:
        """The bed's CA (in <bed dir>/tls-ca), made on first use: every TLS cluster of the bed
        trusts it, so one CA key serves them all."""
        with self._tls_lock:
            if self._ca is None:
                self._ca = CertificateAuthority(os.path.join(self.dir, "tls-ca"))
            return self._ca

    def _tls_client(self):
        """(certificate, context) of the bed's own TLS client, made once."""
        if self._tls_client_pair is None:
            ca = self.certificate_authority
            with self._tls_lock:
                if self._tls_client_pair is None:
                    cert = ca.issue("rci-test-client", ["rci-test-client"])
                    context = client_tls_context(ca.ca_file, cert.cert_file, cert.key_file)
                    self._tls_client_pair = (cert, context)
        return self._tls_client_pair

    @property
    def tls_client_certificate(self):
        """The certificate the bed's clients present to TLS pods (tls-auth-clients)."""
        return self._tls_client()[0]

    @property
    def tls_client_context(self):
        """The bed's client ssl.SSLContext: verifies the chain against the bed's CA, not host
        names (the bed connects by IP), and presents tls_client_certificate."""
        return self._tls_client()[1]

    def cluster(self, shards, replicas, **kwargs) -> Cluster:
        """A new cluster of shards x (1 + replicas) pods (see Cluster for keyword arguments);
        nothing is started yet."""
        cluster = Cluster(self, shards, replicas, **kwargs)
        self.clusters.append(cluster)
        return cluster

    # --- faults of a namespace bed (netns.py) ----------------------------------------------

    def _namespaces(self, what: str) -> netns.PrivateNetwork:
        if self.net is None:
            raise RuntimeError(f"{what} needs a namespace bed (TestBed(network='ipv4'|'ipv6'))")
        return self.net

    def isolate(self, pod) -> None:
        """Takes `pod`'s link down: it reaches nothing (DNS included), nothing reaches it."""
        self._namespaces("isolate").isolate(pod.label)
        print(f"[bed] {pod.label} isolated (link down)", flush=True)

    def partition(self, *groups) -> None:
        """Splits the pods into `groups` (lists of pods; the others form one more group): no
        packet passes between groups, silently; DNS and the bed reach everyone."""
        self._namespaces("partition").partition([[pod.label for pod in g] for g in groups])
        print(f"[bed] partition: {' | '.join(', '.join(p.name for p in g) for g in groups)} "
              f"| the rest", flush=True)

    def heal(self) -> None:
        """Undoes every isolate() and partition()."""
        self._namespaces("heal").heal()
        print("[bed] network healed", flush=True)

    def diagnostics(self) -> str:
        networks = (", ".join(f"127.{a}.{b}.0/24" for a, b in self.networks) if self.net is None
                    else self.net.describe())
        parts = [f"[bed] diagnostics for {self.name} ({self.dir}; {networks})"]
        parts += [c.diagnostics() for c in self.clusters]
        if self.dns is not None:
            parts.append(f"=== dnsmasq ===\n{_indent(self.dns.log_tail(15))}")
        return "\n".join(parts)
