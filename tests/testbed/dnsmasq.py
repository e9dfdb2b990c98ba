"""A real DNS server (dnsmasq) serving the headless service's records, plus a tiny DNS client
to confirm what it answers: the binary resolves through c-ares, so the bed must give it a real
server, and every record change is confirmed by a query before the test goes on.

Records: each pod's A record is a file in an inotify-watched hostsdir (changes are live); the
service's SRV records (`_<port-name>._tcp.<service>.<namespace>.svc.<domain>`, one per pod)
are `srv-host` lines in a conf file, which dnsmasq reads only at start, so adding them restarts
dnsmasq on the same port.
"""

import collections
import contextlib
import os
import random
import re
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time

from procs import ProcessRegistry, stop
from waiting import wait_until


def _family(host: str) -> int:
    """The socket family of a numeric address: the bed's DNS runs on IPv6 in an IPv6 bed."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def host_port(host: str, port: int) -> str:
    """host:port, an IPv6 address in brackets (as the binary's --dns-server takes it)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

RCODE_NOERROR = 0
RCODE_NXDOMAIN = 3
_RCODE_NAMES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
                5: "REFUSED"}
_TYPE_A = 1
_TYPE_AAAA = 28
_TYPE_SRV = 33
_TYPE_OPT = 41
_CLASS_IN = 1
_FLAG_TC = 0x0200
# The query types the bed counts in dnsmasq's log (query_counts() also lists any other seen).
QUERY_TYPES = ("A", "AAAA", "SRV")


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


SrvRecord = collections.namedtuple("SrvRecord", "priority weight port target")


class SrvAnswer:
    """An SRV response: response code, the SRV records (targets without the final dot), and
    the addresses (A and AAAA) the additional section gives per name (`unreadable_additional`:
    how many additional records had an owner name that cannot be read). `transport` says which
    answer this is: "udp", or "tcp" when the UDP answer was truncated (`udp_truncated`) and the
    query was asked again over TCP; `size` is the message's length in bytes."""

    def __init__(self, rcode, records, additional, transport, udp_truncated, size,
                 unreadable_additional=0):
        self.rcode = rcode
        self.records = records
        self.additional = additional
        self.transport = transport
        self.udp_truncated = udp_truncated
        self.size = size
        self.unreadable_additional = unreadable_additional

    @property
    def rcode_name(self) -> str:
        return _RCODE_NAMES.get(self.rcode, str(self.rcode))

    @property
    def targets(self) -> list:
        return sorted(record.target for record in self.records)

    def __repr__(self):
        unreadable = (f", {self.unreadable_additional} unreadable"
                      if self.unreadable_additional else "")
        return (f"SrvAnswer({self.rcode_name}, {len(self.records)} record(s), "
                f"{len(self.additional)} name(s) in additional{unreadable}, {self.transport}, "
                f"{self.size} bytes{', UDP truncated' if self.udp_truncated else ''})")


def _encode_name(name: str) -> bytes:
    labels = [label for label in name.rstrip(".").split(".") if label]
    return b"".join(bytes([len(label)]) + label.encode() for label in labels) + b"\0"


def _skip_name(packet: bytes, offset: int) -> int:
    """Offset just past a (possibly compressed) name: found without following pointers, so it
    holds even when the name itself cannot be read."""
    while True:
        length = packet[offset]
        if length == 0:
            return offset + 1
        if length & 0xC0 == 0xC0:  # compression pointer: two bytes, ends the name
            return offset + 2
        offset += 1 + length


def _read_name(packet: bytes, offset: int) -> str:
    """The (possibly compressed) name at `offset`, without the final dot. A pointer must point
    back, before the name that holds it (so a broken packet cannot loop); ValueError if not."""
    labels = []
    while True:
        length = packet[offset]
        if length & 0xC0 == 0xC0:
            target = ((length & 0x3F) << 8) | packet[offset + 1]
            if target >= offset:
                raise ValueError(f"DNS name pointer at {offset} to {target} does not point back")
            offset = target
        elif length & 0xC0:
            raise ValueError(f"DNS label type {length:#x} at {offset}")
        elif length == 0:
            return ".".join(labels)
        else:
            labels.append(packet[offset + 1:offset + 1 + length].decode(errors="replace"))
            offset += 1 + length


def _build_query(name: str, qtype: int, edns_size=None) -> tuple:
    """(id, packet) of a query with RD set; with `edns_size`, an OPT record offering that UDP
    size (c-ares 1.18, the binary's, sends none by default: answers over 512 bytes come
    truncated over UDP)."""
    query_id = random.randrange(1 << 16)
    packet = (struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 1 if edns_size else 0)
              + _encode_name(name) + struct.pack(">HH", qtype, _CLASS_IN))
    if edns_size:
        packet += b"\0" + struct.pack(">HHIH", _TYPE_OPT, edns_size, 0, 0)
    return query_id, packet


def _udp_exchange(server: tuple, query_id: int, packet: bytes, name: str, timeout,
                  attempts) -> bytes:
    with socket.socket(_family(server[0]), socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        for _ in range(attempts):
            sock.sendto(packet, server)
            try:
                while True:
                    reply, _ = sock.recvfrom(65535)
                    if len(reply) >= 12 and struct.unpack(">H", reply[:2])[0] == query_id:
                        return reply
            except socket.timeout:
                continue
    raise TimeoutError(f"no DNS answer from {server[0]}:{server[1]} for {name}")


def _recv_exactly(sock, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise OSError(f"DNS server closed the TCP connection after {len(data)} of "
                          f"{count} bytes")
        data += chunk
    return bytes(data)


def _tcp_exchange(server: tuple, packet: bytes, timeout) -> bytes:
    """One query over TCP: both messages carry a two-byte length prefix."""
    with socket.create_connection(server, timeout=timeout) as sock:
        sock.sendall(struct.pack(">H", len(packet)) + packet)
        length = struct.unpack(">H", _recv_exactly(sock, 2))[0]
        return _recv_exactly(sock, length)


def _rdata(packet: bytes, offset: int, rtype: int, rclass: int, length: int):
    """An A or AAAA record's address, an SRV record's SrvRecord, else None."""
    if rclass != _CLASS_IN:
        return None
    if rtype == _TYPE_A and length == 4:
        return socket.inet_ntoa(packet[offset:offset + 4])
    if rtype == _TYPE_AAAA and length == 16:
        return socket.inet_ntop(socket.AF_INET6, packet[offset:offset + 16])
    if rtype == _TYPE_SRV and length >= 7:
        priority, weight, port = struct.unpack(">HHH", packet[offset:offset + 6])
        return SrvRecord(priority, weight, port, _read_name(packet, offset + 6))
    return None


def _parse_message(reply: bytes) -> tuple:
    """(flags, answer records, additional records) of a response; a record is (name, type,
    value), value as _rdata() gives it. An additional record whose owner name cannot be read
    has name None (dnsmasq 2.90 writes broken compression pointers past 16 KiB: see
    README.md) instead of failing the whole answer."""
    _, flags, questions, answers, authority, additional = struct.unpack(">HHHHHH", reply[:12])
    offset = 12
    for _ in range(questions):
        offset = _skip_name(reply, offset) + 4
    sections = []
    for section, count in enumerate((answers, authority, additional)):
        records = []
        for _ in range(count):
            try:
                name = _read_name(reply, offset)
            except (ValueError, IndexError):
                if section != 2:
                    raise
                name = None
            offset = _skip_name(reply, offset)
            rtype, rclass, _, length = struct.unpack(">HHIH", reply[offset:offset + 10])
            offset += 10
            records.append((name, rtype, _rdata(reply, offset, rtype, rclass, length)))
            offset += length
        sections.append(records)
    return flags, sections[0], sections[2]


def dns_query(server: tuple, name: str, timeout=0.5, attempts=4, ipv6=False) -> DnsAnswer:
    """Asks `server` (host, port) for the A records of `name` over UDP (AAAA with `ipv6`)."""
    qtype = _TYPE_AAAA if ipv6 else _TYPE_A
    query_id, packet = _build_query(name, qtype)
    flags, answers, _ = _parse_message(_udp_exchange(server, query_id, packet, name, timeout,
                                                     attempts))
    return DnsAnswer(flags & 0xF, [value for _, rtype, value in answers
                                   if rtype == qtype and value is not None])


def srv_query(server: tuple, name: str, timeout=0.5, attempts=4, tcp=True, edns_size=None,
              force_tcp=False) -> SrvAnswer:
    """Asks `server` for the SRV records of `name` over UDP and, when that answer is truncated
    (TC) and `tcp`, again over TCP, as a stub resolver does; returns the answer used.
    `force_tcp` asks over TCP straight away; `edns_size` offers a larger UDP answer (EDNS0)."""
    query_id, packet = _build_query(name, _TYPE_SRV, edns_size)
    truncated = False
    if not force_tcp:
        reply = _udp_exchange(server, query_id, packet, name, timeout, attempts)
        truncated = bool(struct.unpack(">H", reply[2:4])[0] & _FLAG_TC)
    if force_tcp or (truncated and tcp):
        reply = _tcp_exchange(server, packet, timeout=max(timeout, 5.0))
    flags, answers, additional = _parse_message(reply)
    records = [value for _, rtype, value in answers if rtype == _TYPE_SRV and value is not None]
    addresses, unreadable = {}, 0
    for owner, rtype, value in additional:
        if owner is None:
            unreadable += 1
        elif rtype in (_TYPE_A, _TYPE_AAAA) and value is not None:
            addresses.setdefault(owner, []).append(value)
    return SrvAnswer(flags & 0xF, records, addresses, "tcp" if force_tcp or (truncated and tcp)
                     else "udp", truncated, len(reply), unreadable)


def _free_port(host: str) -> int:
    """A port free for both UDP and TCP on `host` right now (dnsmasq listens on both)."""
    while True:
        with socket.socket(_family(host), socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = udp.getsockname()[1]
            with socket.socket(_family(host), socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
            return port


def _question_type(query: bytes) -> int:
    """The type asked in a query's first question, or 0 if it cannot be read."""
    try:
        offset = _skip_name(query, 12)
        return struct.unpack(">H", query[offset:offset + 2])[0]
    except (IndexError, struct.error):
        return 0


def _with_edns_size(query: bytes, size: int) -> bytes:
    """The query with its EDNS (OPT) UDP payload size set to `size`, an OPT record added when it
    has none; unchanged if its additional section holds anything but one bare OPT record."""
    _, _, questions, answers, authorities, additionals = struct.unpack(">HHHHHH", query[:12])
    offset = 12
    try:
        for _ in range(questions):
            offset = _skip_name(query, offset) + 4
    except IndexError:
        return query
    if answers or authorities or additionals > 1:
        return query
    if additionals == 0:
        opt = b"\0" + struct.pack(">HHIH", 41, size, 0, 0)
        return query[:10] + struct.pack(">H", 1) + query[12:offset] + opt
    if query[offset:offset + 3] != b"\0\0\x29":
        return query
    return query[:offset + 3] + struct.pack(">H", size) + query[offset + 5:]


class TcpFront:
    """What a cluster DNS gives TCP and dnsmasq does not: dnsmasq forks a process per TCP
    connection (at most 20, with an accept queue of 32), so 300 pods asking at once over TCP
    (an SRV answer of 300 pods does not fit UDP) waited more than 15 s for an answer on this
    machine, where CoreDNS answers TCP from goroutines. The front listens on a port of its own,
    UDP and TCP: a UDP query goes to dnsmasq as it is; a TCP query goes to dnsmasq over UDP with
    a 64 KB EDNS size (loopback carries it unfragmented; dnsmasq runs with --edns-packet-max
    to match) and its answer back over TCP. Every query reaches dnsmasq, which logs it: query
    counts stay what the binary asked.

    One thread, one selector, nothing blocks: a thread per connection made 300 connections
    opened at once queue for Python's GIL (each passing it on every 5 ms on a busy machine),
    and the answers came 10 to 15 s late. A query dnsmasq has not answered in 5 s is dropped
    (its TCP connection closed, as a server that gives up does). Stop with close()."""

    EDNS_SIZE = 65000
    UPSTREAM_TIMEOUT = 5.0

    def __init__(self, upstream: tuple, address: tuple):
        self.upstream = upstream
        self.udp = socket.socket(_family(address[0]), socket.SOCK_DGRAM)
        self.tcp = socket.socket(_family(address[0]), socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.udp.bind(address)
        self.tcp.bind(address)
        self.tcp.listen(4096)
        self.udp.setblocking(False)
        self.tcp.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.pending = {}  # upstream socket -> (deadline, reply function)
        self.closed = False

    def serve_forever(self) -> None:
        self.selector.register(self.udp, selectors.EVENT_READ, self._on_udp_query)
        self.selector.register(self.tcp, selectors.EVENT_READ, self._on_accept)
        while not self.closed:
            for key, _ in self.selector.select(timeout=0.5):
                try:
                    key.data(key.fileobj)
                except OSError:
                    pass
            self._drop_expired()

    def _ask(self, query: bytes, reply) -> None:
        """Sends `query` to dnsmasq on a socket of its own; reply(answer) once it answers."""
        upstream = socket.socket(_family(self.upstream[0]), socket.SOCK_DGRAM)
        upstream.setblocking(False)
        upstream.sendto(query, self.upstream)
        self.pending[upstream] = (time.monotonic() + self.UPSTREAM_TIMEOUT, reply)
        self.selector.register(upstream, selectors.EVENT_READ, self._on_upstream_answer)

    def _on_upstream_answer(self, upstream) -> None:
        answer = upstream.recv(65535)
        _, reply = self.pending.pop(upstream)
        self._close(upstream)
        reply(answer)

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for upstream, (deadline, reply) in list(self.pending.items()):
            if now >= deadline:
                del self.pending[upstream]
                self._close(upstream)
                reply(None)

    def _on_udp_query(self, udp) -> None:
        packet, client = udp.recvfrom(65535)

        def reply(answer):
            if answer is not None:
                with contextlib.suppress(OSError):
                    self.udp.sendto(answer, client)
        self._ask(packet, reply)

    def _on_accept(self, tcp) -> None:
        conn, _ = tcp.accept()
        conn.setblocking(False)
        state = {"in": b"", "out": b"", "waiting": 0, "eof": False}
        self.selector.register(conn, selectors.EVENT_READ, lambda c: self._on_tcp(c, state))

    def _on_tcp(self, conn, state) -> None:
        """Reads length-prefixed queries (a client may send several on one connection) and
        writes whatever answers are ready."""
        if not state["eof"]:
            try:
                data = conn.recv(65535)
            except BlockingIOError:  # woken to write, nothing to read
                data = None
            if data == b"":
                state["eof"] = True
            state["in"] += data or b""
            while len(state["in"]) >= 2:
                length = struct.unpack(">H", state["in"][:2])[0]
                if len(state["in"]) < 2 + length:
                    break
                query, state["in"] = state["in"][2:2 + length], state["in"][2 + length:]
                state["waiting"] += 1
                self._ask(_with_edns_size(query, self.EDNS_SIZE),
                          lambda answer, q=query: self._tcp_answer(conn, state, q, answer))
        self._flush(conn, state)

    def _tcp_answer(self, conn, state, query: bytes, answer) -> None:
        state["waiting"] -= 1
        if answer is None:  # dnsmasq gave no answer: give up on the connection
            self._close(conn)
            return
        answer = query[:2] + answer[2:]
        state["out"] += struct.pack(">H", len(answer)) + answer
        self._flush(conn, state)

    def _flush(self, conn, state) -> None:
        if conn.fileno() < 0:
            return
        try:
            if state["out"]:
                sent = conn.send(state["out"])
                state["out"] = state["out"][sent:]
        except BlockingIOError:
            pass
        except OSError:
            self._close(conn)
            return
        if state["eof"] and not state["out"] and not state["waiting"]:
            self._close(conn)
            return
        wanted = (0 if state["eof"] else selectors.EVENT_READ) | (selectors.EVENT_WRITE if state["out"] else 0)
        registered = conn in self.selector.get_map()
        if wanted and registered:
            self.selector.modify(conn, wanted, lambda c: self._on_tcp(c, state))
        elif wanted:
            self.selector.register(conn, wanted, lambda c: self._on_tcp(c, state))
        elif registered:  # the client has sent all it will; its answers are on their way
            self.selector.unregister(conn)

    def _close(self, sock) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(sock)
        sock.close()

    def close(self) -> None:
        self.closed = True
        self.udp.close()
        self.tcp.close()


def _spawn_front(registry: ProcessRegistry, upstream: tuple, host: str, log_path: str):
    """The front as a process of its own (a thread of the test's process would share its GIL
    with the benchmark's checker, which polls hundreds of nodes); returns (process, port)."""
    port = _free_port(host)
    with open(log_path, "ab") as log:
        proc = registry.spawn([sys.executable, os.path.abspath(__file__), "front", host, str(port),
                               str(upstream[1])], stdout=log, stderr=log)
    return proc, port


class Dnsmasq:
    """dnsmasq in the foreground as a child, authoritative for `domain`: names under it that have
    no record get NXDOMAIN, nothing is forwarded anywhere. A records live one file per name in a
    hostsdir, which dnsmasq watches with inotify, so a change needs no signal or restart. SRV
    records are srv-host lines in a conf file that dnsmasq reads only at start (SIGHUP does not
    re-read them): serve_srv() rewrites it and restarts dnsmasq on the same port.
    """

    def __init__(self, workdir: str, domain: str, registry: ProcessRegistry, host="127.0.0.1"):
        self.host = host  # the tester's address in a network-namespace bed
        self.workdir = workdir
        self.domain = domain
        self.hostsdir = os.path.join(workdir, "hosts")
        self.conf_path = os.path.join(workdir, "dnsmasq.conf")
        self.log_path = os.path.join(workdir, "dnsmasq.log")
        self.srv = {}      # SRV name -> [(target, port)], as served
        self.restarts = 0  # how often dnsmasq was restarted (by serve_srv())
        self._registry = registry
        self._proc = None
        self.port = None
        self._front_proc = None
        self.front_port = None  # TcpFront's, which the binary is given

    @property
    def address(self) -> tuple:
        return (self.host, self.port)

    @property
    def server_arg(self) -> str:
        """The value for the binary's --dns-server: the front (see TcpFront), which passes
        every query on to dnsmasq."""
        return host_port(self.host, self.front_port)

    def start(self, attempts=5) -> None:
        """Starts dnsmasq on a free port and returns once it answers and picks up records."""
        os.makedirs(self.hostsdir, exist_ok=True)
        self._write_conf()
        last_error = None
        for _ in range(attempts):  # another process may grab the port between probe and bind
            self.port = _free_port(self.host)
            self._spawn()
            try:
                self._wait_answering()
                self._self_check()
                self._front_proc, self.front_port = _spawn_front(
                    self._registry, self.address, self.host, self.log_path + ".front")
                self._wait_answering(port=self.front_port)
                self._prioritize()
                return
            except (RuntimeError, TimeoutError) as error:
                last_error = error
                stop(self._proc, grace=1.0)
        raise RuntimeError(f"dnsmasq did not start: {last_error}\n{self.log_tail()}")

    def _prioritize(self) -> None:
        """In Kubernetes the DNS server (CoreDNS) runs in pods of its own, on CPU of its own. Here
        it shares two cores with every redis-server and bootstrap. A nice value is not enough:
        the scheduler shares a core by weight, and 300 runnable processes at nice 0 leave one
        at nice -10 about 3% of a core (-20: about 20%), while dnsmasq spends about 7 ms on each
        SRV answer of 300 pods; its answers then came 5 s late, which no real cluster shows. So
        both run under the round-robin real-time policy at its lowest priority: whenever they
        have work, they run (neither ever spins; the kernel caps real-time tasks at 95% of
        each second anyway). Root only; without it, a nice value if allowed, else as they are."""
        for proc in (self._proc, self._front_proc):
            try:
                os.sched_setscheduler(proc.pid, os.SCHED_RR, os.sched_param(1))
                continue
            except (PermissionError, ProcessLookupError, OSError):
                pass
            try:
                os.setpriority(os.PRIO_PROCESS, proc.pid, -10)
            except (PermissionError, ProcessLookupError):
                pass

    def _spawn(self) -> None:
        with open(self.log_path + ".stderr", "ab") as stderr:
            self._proc = self._registry.spawn(self._argv(), stdout=subprocess.DEVNULL,
                                              stderr=stderr)

    def _argv(self) -> list:
        # --conf-file also keeps dnsmasq from reading the system's /etc/dnsmasq.conf.
        return ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll",
                f"--listen-address={self.host}", "--bind-interfaces", f"--port={self.port}",
                f"--hostsdir={self.hostsdir}", f"--local=/{self.domain}/",
                "--user=root", "--group=root", "--log-queries",
                f"--edns-packet-max={TcpFront.EDNS_SIZE}",
                f"--log-facility={self.log_path}", "--pid-file=", f"--conf-file={self.conf_path}"]

    def _write_conf(self) -> None:
        """The conf file: one srv-host line per SRV record (priority and weight 0), written
        aside and renamed in."""
        lines = [f"srv-host={name},{target},{port}"
                 for name, targets in self.srv.items() for target, port in targets]
        scratch = self.conf_path + ".tmp"
        with open(scratch, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        os.rename(scratch, self.conf_path)

    def serve_srv(self, name: str, targets, replace=False) -> None:
        """Serves one SRV record under `name` per (target, port) of `targets` from now on, as
        Kubernetes does for a headless service's named port: rewrites the conf file, restarts
        dnsmasq on the same port (so every --dns-server handed out stays right) and returns
        once it answers `name` with exactly those records. A binary running meanwhile sees DNS
        down for the restart (some tens of ms): add SRV records before starting binaries.
        `replace`: the records of `name` change (the service's pods did), rather than being new.
        """
        name = name.rstrip(".")
        if name in self.srv and not replace:
            raise ValueError(f"SRV records for {name} are served already")
        self.srv[name] = [(target.rstrip("."), int(port)) for target, port in targets]
        self._write_conf()
        self.restart()

    def restart(self, attempts=5) -> None:
        """Stops dnsmasq and starts it again on the same port with the conf file as it is now;
        returns once it answers every SRV name with its records and every name in the hostsdir
        with its address. The log goes on in the same file (marks stay valid)."""
        last_error = None
        for _ in range(attempts):  # the port is free again once dnsmasq has exited
            stop(self._proc, grace=2.0)
            self._spawn()
            try:
                self._wait_answering()
                self._confirm_records()
                self._prioritize()
                self.restarts += 1
                return
            except (RuntimeError, TimeoutError) as error:
                last_error = error
                time.sleep(0.1)
        stop(self._proc, grace=1.0)
        raise RuntimeError(f"dnsmasq did not restart on port {self.port}: {last_error}\n"
                           f"{self.log_tail()}")

    def _confirm_records(self) -> None:
        """Every SRV name answers exactly its records (over TCP when they do not fit UDP), and
        every record published before a restart is served again."""
        for name, targets in self.srv.items():
            expected = sorted(targets)
            self._wait_for_srv(name, lambda a, e=expected: a.rcode == RCODE_NOERROR and sorted(
                (r.target, r.port) for r in a.records) == e, f"{len(expected)} SRV record(s)")
        for entry in os.listdir(self.hostsdir):
            with open(os.path.join(self.hostsdir, entry)) as f:
                ip, _, name = f.read().strip().partition(" ")
            self._wait_for(name, lambda a, ip=ip: a.addresses == [ip], f"{name} -> {ip}", 5.0)

    def _wait_for_srv(self, name, predicate, what, timeout=5.0) -> None:
        self._wait_for(name, predicate, what, timeout, ask=self.srv_query, label=f"SRV {name}")

    def srv_query(self, name: str, **kwargs) -> SrvAnswer:
        """The SRV answer for `name` (over TCP if UDP's is truncated); see srv_query()."""
        return srv_query(self.address, name, **kwargs)

    def _wait_answering(self, timeout=5.0, port=None) -> None:
        """Until dnsmasq answers on its port (or, with `port`, through the front there)."""
        probe = f"dnsmasq-startup-probe.{self.domain}"
        proc = self._proc if port is None else self._front_proc
        port = self.port if port is None else port

        def answers():
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited with status {proc.returncode}")
            return dns_query((self.host, port), probe, timeout=0.1, attempts=1)

        wait_until(answers, timeout, f"dnsmasq answering on {self.host}:{port}", interval=0.02,
                   tolerate=(TimeoutError, OSError), error=TimeoutError)

    def _self_check(self) -> None:
        """Proves the two behaviours tests rely on: an absent name is NXDOMAIN (not a timeout or
        REFUSED), and a record written to the hostsdir is served and can be taken back.
        """
        name = f"dnsmasq-self-check.{self.domain}"
        answer = self.query(name)
        if answer.rcode != RCODE_NXDOMAIN:
            raise RuntimeError(f"absent name {name} answered {answer}, expected NXDOMAIN")
        self.set_record(name, "2001:db8::fe" if self.ipv6 else "127.0.0.254")
        self.remove_record(name)

    @property
    def ipv6(self) -> bool:
        """Whether this is an IPv6 bed's DNS: its records are AAAA, and so are the bed's own
        queries."""
        return _family(self.host) == socket.AF_INET6

    def query(self, name: str) -> DnsAnswer:
        """The A records of `name` (AAAA in an IPv6 bed)."""
        return dns_query(self.address, name, ipv6=self.ipv6)

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

    def _wait_for(self, name, predicate, what, timeout, ask=None, label=None) -> None:
        """Asks (A records, or with `ask`) every 10 ms until the answer satisfies `predicate`."""
        ask = ask or self.query
        last = []

        def satisfied():
            last[:] = [ask(name)]
            return predicate(last[0])

        wait_until(satisfied, timeout, f"dnsmasq answering {what} for {label or name}",
                   interval=0.01, error=TimeoutError, detail=lambda: f"it still answers {last[0]}")

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

        def logged():
            text = self.log_text()
            return text if marker in text else None

        text, _ = wait_until(logged, 5.0, "dnsmasq logging the marker query", interval=0.01,
                             error=TimeoutError)
        return text

    def log_mark(self) -> int:
        """A position in the log; queries(since=mark) then lists only what came after it."""
        return len(self._flush_log())

    def queries(self, since=0) -> list:
        """Queries dnsmasq answered after log position `since`, as (type, name) pairs, e.g.
        ('A', 'redis-shard0-0.redis-pods.default.svc.cluster.local'); the bed's own log-flush
        markers are left out (its confirmations of record changes are not)."""
        return _parse_queries(self._flush_log()[since:])

    def query_counts(self, since=0) -> dict:
        """How many queries of each type dnsmasq answered after log position `since` (take the
        mark once the bed's records are set up: the bed's own confirmations count too):
        {'A': n, 'AAAA': n, 'SRV': n, 'total': n}, plus any other type seen under dnsmasq's
        name for it (e.g. 'type=65'), plus 'log_lines_lost' if dnsmasq said it dropped log
        lines (then every figure is a lower bound). For the benchmark and for tests that
        assert on DNS load."""
        text = self._flush_log()[since:]
        counts = dict.fromkeys(QUERY_TYPES, 0)
        for qtype, _ in _parse_queries(text):
            counts[qtype] = counts.get(qtype, 0) + 1
        counts["total"] = sum(counts.values())
        lost = sum(int(n) for n in re.findall(r"overflow: (\d+) log entries lost", text))
        if lost:
            counts["log_lines_lost"] = lost
        return counts


def _parse_queries(text: str) -> list:
    """(type, name) of every "query[TYPE] name from ..." line of a dnsmasq log, the bed's
    log-flush markers left out."""
    found = []
    for line in text.splitlines():
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


if __name__ == "__main__":
    # python3 dnsmasq.py front HOST PORT UPSTREAM_PORT: a TcpFront until killed.
    if len(sys.argv) == 5 and sys.argv[1] == "front":
        host = sys.argv[2]
        TcpFront((host, int(sys.argv[4])), (host, int(sys.argv[3]))).serve_forever()
