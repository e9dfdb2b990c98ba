"""A real DNS server (dnsmasq) serving the headless service's pod records, plus a tiny DNS client
to confirm what it answers: the binary resolves through c-ares, so the bed must give it a real
server, and every record change is confirmed by a query before the test goes on.
"""

import os
import random
import socket
import struct
import subprocess
import threading
import time

from procs import ProcessRegistry, stop

RCODE_NOERROR = 0
RCODE_NXDOMAIN = 3
_RCODE_NAMES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
                5: "REFUSED"}
_TYPE_A = 1
_CLASS_IN = 1


class DnsAnswer:
    """The part of a DNS response the bed cares about: response code and A records."""

    def __init__(self, rcode: int, addresses: list):
        self.rcode = rcode
        self.addresses = addresses

    @property
    def rcode_name(self) -> str:
        return _RCODE_NAMES.get(self.rcode, str(self.rcode))

    def __repr__(self):
        return f"DnsAnswer({self.rcode_name}, {self.addresses})"


def _encode_name(name: str) -> bytes:
    labels = [label for label in name.rstrip(".").split(".") if label]
    return b"".join(bytes([len(label)]) + label.encode() for label in labels) + b"\0"


def _skip_name(packet: bytes, offset: int) -> int:
    """Offset just past a (possibly compressed) name."""
    while True:
        length = packet[offset]
        if length == 0:
            return offset + 1
        if length & 0xC0 == 0xC0:  # compression pointer: two bytes, ends the name
            return offset + 2
        offset += 1 + length


def dns_query(server: tuple, name: str, timeout=0.5, attempts=4) -> DnsAnswer:
    """Asks `server` (host, port) for the A records of `name` over UDP."""
    query_id = random.randrange(1 << 16)
    packet = (struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 0)  # RD set, one question
              + _encode_name(name) + struct.pack(">HH", _TYPE_A, _CLASS_IN))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        for _ in range(attempts):
            sock.sendto(packet, server)
            try:
                while True:
                    reply, _ = sock.recvfrom(4096)
                    if len(reply) >= 12 and struct.unpack(">H", reply[:2])[0] == query_id:
                        return _parse_answer(reply)
            except socket.timeout:
                continue
    raise TimeoutError(f"no DNS answer from {server[0]}:{server[1]} for {name}")


def _parse_answer(reply: bytes) -> DnsAnswer:
    _, flags, questions, answers, _, _ = struct.unpack(">HHHHHH", reply[:12])
    offset = 12
    for _ in range(questions):
        offset = _skip_name(reply, offset) + 4
    addresses = []
    for _ in range(answers):
        offset = _skip_name(reply, offset)
        rtype, rclass, _, length = struct.unpack(">HHIH", reply[offset:offset + 10])
        offset += 10
        if rtype == _TYPE_A and rclass == _CLASS_IN and length == 4:
            addresses.append(socket.inet_ntoa(reply[offset:offset + 4]))
        offset += length
    return DnsAnswer(flags & 0xF, addresses)


def _free_port(host: str) -> int:
    """A port free for both UDP and TCP on `host` right now (dnsmasq listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
            return port


class Dnsmasq:
    """dnsmasq in the foreground as a child, authoritative for `domain`: names under it that have
    no record get NXDOMAIN, nothing is forwarded anywhere. Records live one file per name in a
    hostsdir, which dnsmasq watches with inotify, so a change needs no signal or restart.
    """

    HOST = "127.0.0.1"

    def __init__(self, workdir: str, domain: str, registry: ProcessRegistry):
        self.workdir = workdir
        self.domain = domain
        self.hostsdir = os.path.join(workdir, "hosts")
        self.log_path = os.path.join(workdir, "dnsmasq.log")
        self._registry = registry
        self._proc = None
        self.port = None

    @property
    def address(self) -> tuple:
        return (self.HOST, self.port)

    @property
    def server_arg(self) -> str:
        """The value for the binary's --dns-server."""
        return f"{self.HOST}:{self.port}"

    def start(self, attempts=5) -> None:
        """Starts dnsmasq on a free port and returns once it answers and picks up records."""
        os.makedirs(self.hostsdir, exist_ok=True)
        last_error = None
        for _ in range(attempts):  # another process may grab the port between probe and bind
            self.port = _free_port(self.HOST)
            with open(self.log_path + ".stderr", "ab") as stderr:
                self._proc = self._registry.spawn(self._argv(), stdout=subprocess.DEVNULL,
                                                  stderr=stderr)
            try:
                self._wait_answering()
                self._self_check()
                return
            except (RuntimeError, TimeoutError) as error:
                last_error = error
                stop(self._proc, grace=1.0)
        raise RuntimeError(f"dnsmasq did not start: {last_error}\n{self.log_tail()}")

    def _argv(self) -> list:
        return ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll",
                f"--listen-address={self.HOST}", "--bind-interfaces", f"--port={self.port}",
                f"--hostsdir={self.hostsdir}", f"--local=/{self.domain}/",
                "--user=root", "--group=root", "--log-queries",
                f"--log-facility={self.log_path}", "--pid-file=", "--conf-file=/dev/null"]

    def _wait_answering(self, timeout=5.0) -> None:
        deadline = time.monotonic() + timeout
        probe = f"dnsmasq-startup-probe.{self.domain}"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"dnsmasq exited with status {self._proc.returncode}")
            try:
                dns_query(self.address, probe, timeout=0.1, attempts=1)
                return
            except (TimeoutError, OSError):
                time.sleep(0.02)
        raise TimeoutError(f"dnsmasq not answering on {self.server_arg} after {timeout}s")

    def _self_check(self) -> None:
        """Proves the two behaviours tests rely on: an absent name is NXDOMAIN (not a timeout or
        REFUSED), and a record written to the hostsdir is served and can be taken back.
        """
        name = f"dnsmasq-self-check.{self.domain}"
        answer = self.query(name)
        if answer.rcode != RCODE_NXDOMAIN:
            raise RuntimeError(f"absent name {name} answered {answer}, expected NXDOMAIN")
        self.set_record(name, "127.0.0.254")
        self.remove_record(name)

    def query(self, name: str) -> DnsAnswer:
        return dns_query(self.address, name)

    def _record_path(self, name: str) -> str:
        return os.path.join(self.hostsdir, name.rstrip("."))

    def set_record(self, name: str, ip: str, timeout=5.0) -> None:
        """Points `name` at `ip` (replacing any earlier address) and waits until dnsmasq says so.
        The file is written aside and renamed in, so inotify never sees a half-written file.
        """
        path = self._record_path(name)
        scratch = os.path.join(self.workdir, f".{os.path.basename(path)}.tmp")
        with open(scratch, "w") as f:
            f.write(f"{ip} {name}\n")
        os.rename(scratch, path)
        self._wait_for(name, lambda a: a.rcode == RCODE_NOERROR and a.addresses == [ip],
                       f"{name} -> {ip}", timeout)

    def remove_record(self, name: str, timeout=5.0) -> None:
        """Deletes the record of `name` and waits until dnsmasq answers NXDOMAIN for it."""
        try:
            os.unlink(self._record_path(name))
        except FileNotFoundError:
            pass
        self._wait_for(name, lambda a: a.rcode == RCODE_NXDOMAIN, f"{name} NXDOMAIN", timeout)

    def _wait_for(self, name, predicate, what, timeout) -> None:
        deadline = time.monotonic() + timeout
        while True:
            answer = self.query(name)
            if predicate(answer):
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"dnsmasq still answers {answer} for {name}, wanted {what}")
            time.sleep(0.01)

    def log_text(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=20) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def _flush_log(self) -> str:
        """The log text, once everything dnsmasq answered so far is in it: asks for a marker
        name and waits until that query shows up."""
        marker = f"log-flush-{random.randrange(1 << 30)}.{self.domain}"
        self.query(marker)
        deadline = time.monotonic() + 5.0
        while True:
            text = self.log_text()
            if marker in text:
                return text
            if time.monotonic() >= deadline:
                raise TimeoutError("dnsmasq did not log the marker query")
            time.sleep(0.01)

    def log_mark(self) -> int:
        """A position in the log; queries(since=mark) then lists only what came after it."""
        return len(self._flush_log())

    def queries(self, since=0) -> list:
        """Queries dnsmasq answered after log position `since`, as (type, name) pairs, e.g.
        ('A', 'redis-shard0-0.redis-pods.default.svc.cluster.local'); the bed's own log-flush
        markers are left out."""
        found = []
        for line in self._flush_log()[since:].splitlines():
            _, sep, rest = line.partition(": query[")
            if sep:
                qtype, _, tail = rest.partition("] ")
                name = tail.split(" ")[0]
                if not name.startswith("log-flush-"):
                    found.append((qtype, name))
        return found


def _query_name(packet: bytes) -> str:
    """The name asked in a DNS query packet (the first question), or "" if it cannot be read."""
    labels, i = [], 12
    try:
        while packet[i]:
            length = packet[i]
            labels.append(packet[i + 1:i + 1 + length].decode(errors="replace"))
            i += length + 1
    except IndexError:
        return ""
    return ".".join(labels)


class SilencingProxy:
    """A DNS server in front of `upstream` (host, port) that never answers a question about
    `silenced` (any name holding it) and forwards every other one: a name whose lookups time
    out, as on a DNS server that drops queries under load. A thread per query; stop with
    close()."""

    def __init__(self, upstream: tuple, silenced: str):
        self.upstream = upstream
        self.silenced = silenced
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def server_arg(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                packet, client = self.sock.recvfrom(4096)
            except OSError:
                return
            if not self.silenced or self.silenced not in _query_name(packet):
                threading.Thread(target=self._forward, args=(packet, client), daemon=True).start()

    def _forward(self, packet: bytes, client) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as upstream:
            upstream.settimeout(2.0)
            try:
                upstream.sendto(packet, self.upstream)
                self.sock.sendto(upstream.recvfrom(4096)[0], client)
            except OSError:
                pass

    def stop_silencing(self) -> None:
        """From now on every question is forwarded."""
        self.silenced = ""

    def close(self) -> None:
        self.sock.close()
