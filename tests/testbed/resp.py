"""A minimal RESP2 client over a plain or TLS socket: enough to inspect and drive redis-server
from tests without redis-py (PyPI is out of reach) and without putting a password on any command
line.
"""

import socket
import ssl


class RespError(Exception):
    """An error reply from the server, e.g. 'NOAUTH Authentication required.'."""


class ProtocolError(Exception):
    """The connection closed or sent something that is not RESP."""


def encode_command(args) -> bytes:
    """Encodes one command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, bytes):
            data = arg
        else:
            data = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def client_tls_context(ca_file, cert_file, key_file, check_hostname=False) -> ssl.SSLContext:
    """A client context that verifies the server's chain against `ca_file` and presents
    cert_file/key_file (redis-server's tls-auth-clients, on by default, demands a client
    certificate). check_hostname=False (the bed's own clients: they connect by IP, and the
    pods' certificates name their DNS names only); True makes every connection need a
    server_hostname that the server's certificate names."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = check_hostname  # verify_mode stays CERT_REQUIRED either way
    context.load_verify_locations(cafile=ca_file)
    context.load_cert_chain(certfile=cert_file, keyfile=key_file)
    return context


def _connect(host, port, timeout, tls, server_hostname) -> socket.socket:
    """A connected socket, TLS-wrapped (handshake done) when `tls` is given."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname=server_hostname)
    except BaseException:
        sock.close()
        raise
    return sock


class RespClient:
    """One connection to one redis-server. Replies come back as Python values: str for simple and
    bulk strings, int, None for nulls, lists for arrays; an error reply raises RespError (inside
    an array it is returned as a RespError value instead).
    """

    def __init__(self, host, port, password=None, user=None, timeout=2.0, tls=None,
                 server_hostname=None):
        """tls: an ssl.SSLContext (see client_tls_context()) to speak TLS, handshake included in
        the connect (and in `timeout`); None for plaintext. server_hostname: the name sent as SNI
        and, when the context checks host names, the name the server's certificate must carry.
        """
        self.address = f"{host}:{port}"
        self._sock = _connect(host, port, timeout, tls, server_hostname)
        self._reader = self._sock.makefile("rb")
        if password:
            if user:
                self.command("AUTH", user, password)
            else:
                self.command("AUTH", password)

    def peer_certificate(self) -> bytes:
        """The server's certificate (DER) on a TLS connection."""
        return self._sock.getpeercert(binary_form=True)

    def close(self):
        try:
            self._reader.close()
        finally:
            self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def command(self, *args):
        """Sends one command and returns its reply."""
        self._sock.sendall(encode_command(args))
        reply = self._read_reply()
        if isinstance(reply, RespError):
            raise reply
        return reply

    def set_timeout(self, seconds: float) -> None:
        """The read timeout from now on (the one given at connect covers the connect)."""
        self._sock.settimeout(seconds)

    def send(self, commands) -> None:
        """Sends commands without reading their replies: a poller writes to every node first
        and reads the replies after, so the nodes answer in parallel (see receive)."""
        self._sock.sendall(b"".join(encode_command(c) for c in commands))

    def receive(self, count: int) -> list:
        """The replies to `count` commands sent before, in order (errors as RespError values)."""
        return [self._read_reply() for _ in range(count)]

    def pipeline(self, commands):
        """Sends many commands in one write and returns their replies in order (errors as values):
        writing thousands of keys one round trip at a time would dominate a test's run time.
        """
        self.send(commands)
        return self.receive(len(commands))

    def _read_line(self) -> bytes:
        line = self._reader.readline()
        if not line.endswith(b"\r\n"):
            raise ProtocolError(f"{self.address}: connection closed")
        return line[:-2]

    def _read_reply(self):
        line = self._read_line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode(errors="replace")
        if kind == b"-":
            return RespError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            length = int(rest)
            if length < 0:
                return None
            data = self._reader.read(length + 2)
            if len(data) != length + 2:
                raise ProtocolError(f"{self.address}: connection closed inside a bulk string")
            return data[:-2].decode(errors="replace")
        if kind == b"*":
            count = int(rest)
            if count < 0:
                return None
            return [self._read_reply() for _ in range(count)]
        raise ProtocolError(f"{self.address}: unexpected reply line {line!r}")


def parse_info(text: str) -> dict:
    """Parses INFO / CLUSTER INFO output ('key:value' lines) into a dict of strings."""
    fields = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    return fields
