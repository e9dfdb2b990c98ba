"""Certificate material for TLS tests, made with the openssl CLI (Python's standard library cannot
make certificates): one throwaway CA per test bed and a leaf certificate per pod.

    ca = CertificateAuthority(os.path.join(bed_dir, "tls-ca"))
    leaf = ca.issue("redis-shard0-0", ["redis-shard0-0.redis-pods.default.svc.cluster.local"])
    leaf.cert_file, leaf.key_file, ca.ca_file

Every leaf is usable both as a server and as a client certificate (extendedKeyUsage serverAuth,
clientAuth): redis-server presents the same certificate on its listener and, with tls-cluster
and tls-replication, when it connects to its peers, and tls-auth-clients (default yes) makes
every client present one too.

Leaves are signed with `openssl ca` rather than `openssl x509 -req`: OpenSSL 3.0's x509 and req
can only start a certificate's validity now (-not_before/-not_after came in 3.4), while `ca`
takes -startdate/-enddate, which is what an expired or not-yet-valid certificate needs. Keys are
EC P-256: generating one takes a millisecond, so a leaf costs two openssl runs (~12 ms here).
"""

import datetime
import os
import re
import subprocess
import threading
from dataclasses import dataclass, field

# Slack on "now" for a certificate meant to be valid from now on: notBefore a few minutes back,
# so a certificate used the second it is made is valid whatever the rounding of either clock.
CLOCK_SLACK = datetime.timedelta(minutes=5)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # a CN (64 chars at most) and a file stem
_KEY_ALGORITHM = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]


class CertificateError(RuntimeError):
    """An openssl command failed; the message carries its command line and stderr."""


@dataclass(frozen=True)
class Certificate:
    """One issued leaf: PEM certificate and unencrypted private key (mode 0600)."""
    name: str
    cert_file: str
    key_file: str
    dns_names: tuple = ()
    ip_addresses: tuple = ()
    not_before: datetime.datetime = None
    not_after: datetime.datetime = None
    ca_file: str = field(default=None, compare=False)


def _openssl(args, cwd) -> None:
    """Runs `openssl <args>`, raising CertificateError with its output when it fails."""
    argv = ["openssl", *args]
    result = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise CertificateError(f"{' '.join(argv)} exited {result.returncode}:\n"
                               f"{(result.stderr or result.stdout).strip()}")


def _asn1_time(moment: datetime.datetime) -> str:
    """The YYYYMMDDHHMMSSZ form `openssl ca -startdate/-enddate` takes (UTC)."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y%m%d%H%M%SZ")


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"certificate name {name!r}: must be 1-64 of [A-Za-z0-9._-] (it is the "
                         f"subject CN and the file name)")


def _subject_alt_name(dns_names, ip_addresses) -> str:
    entries = [f"DNS:{name}" for name in dns_names] + [f"IP:{ip}" for ip in ip_addresses]
    if not entries:
        raise ValueError("a leaf certificate needs at least one DNS name or IP address")
    for entry in entries:
        if "," in entry or "\n" in entry:
            raise ValueError(f"subjectAltName entry {entry!r} contains ',' or a newline")
    return ",".join(entries)


class CertificateAuthority:
    """A self-signed CA (EC P-256, 10 years) in `dir`, created at construction, and the minimal
    `openssl ca` state (config, index, issued copies) to sign leaves with arbitrary dates.
    Thread-safe: `openssl ca` rewrites its index file, so issuing is serialized.
    """

    def __init__(self, dir: str, name: str = "rci-test-ca", days: int = 3650):
        _check_name(name)
        self.dir = os.path.abspath(dir)
        self.name = name
        self._lock = threading.Lock()
        os.makedirs(os.path.join(self.dir, "issued"), exist_ok=True)
        open(os.path.join(self.dir, "index.txt"), "a").close()
        with open(self.config_file, "w") as f:
            f.write(self._config())
        _openssl(["req", "-x509", "-config", self.config_file, "-extensions", "v3_ca",
                  *_KEY_ALGORITHM, "-nodes", "-keyout", self.key_file, "-out", self.ca_file,
                  "-subj", f"/CN={name}", "-days", str(days)], cwd=self.dir)
        os.chmod(self.key_file, 0o600)

    def __repr__(self):
        return f"CertificateAuthority({self.name} in {self.dir})"

    @property
    def ca_file(self) -> str:
        """The CA certificate (PEM): what verifiers trust (tls-ca-cert-file, --cacert)."""
        return os.path.join(self.dir, "ca.crt")

    @property
    def key_file(self) -> str:
        """The CA's private key (0600)."""
        return os.path.join(self.dir, "ca.key")

    @property
    def config_file(self) -> str:
        return os.path.join(self.dir, "ca.cnf")

    def _config(self) -> str:
        """A config of our own, so the system's openssl.cnf (its default extensions, policy)
        cannot change what is issued: [req] for the CA and the requests, [bed_ca] for `ca`.
        The leaves' extensions come from a per-leaf extfile; none is copied from a request."""
        return f"""[req]
distinguished_name = dn
prompt = no
[dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ca]
default_ca = bed_ca
[bed_ca]
database = {self.dir}/index.txt
new_certs_dir = {self.dir}/issued
certificate = {self.ca_file}
private_key = {self.key_file}
rand_serial = yes
unique_subject = no
default_md = sha256
policy = policy_any
email_in_dn = no
copy_extensions = none
[policy_any]
commonName = supplied
"""

    def issue(self, name, dns_names, ip_addresses=(), days=30, not_before_days_ago=0,
              expired=False, out_dir=None) -> Certificate:
        """A leaf signed by this CA: CN `name`, subjectAltName the DNS names and IP addresses,
        extendedKeyUsage serverAuth,clientAuth, basicConstraints CA:FALSE; written as
        <out_dir>/<name>.crt and <name>.key (out_dir: the CA's directory unless given).

        Validity: from `not_before_days_ago` days ago (a few minutes earlier still, see
        CLOCK_SLACK; negative: not valid yet) for `days` days. expired=True: ended a day ago,
        having begun `days` days before that.
        """
        _check_name(name)
        dns_names, ip_addresses = tuple(dns_names), tuple(ip_addresses)
        san = _subject_alt_name(dns_names, ip_addresses)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        if expired:
            not_after = now - datetime.timedelta(days=1)
            not_before = not_after - datetime.timedelta(days=days)
        else:
            not_before = now - datetime.timedelta(days=not_before_days_ago) - CLOCK_SLACK
            not_after = not_before + datetime.timedelta(days=days)
        out_dir = os.path.abspath(out_dir or self.dir)
        os.makedirs(out_dir, exist_ok=True)
        stem = os.path.join(out_dir, name)
        cert = Certificate(name=name, cert_file=stem + ".crt", key_file=stem + ".key",
                           dns_names=dns_names, ip_addresses=ip_addresses,
                           not_before=not_before, not_after=not_after, ca_file=self.ca_file)
        with open(stem + ".ext", "w") as f:
            f.write("[leaf]\nbasicConstraints = critical,CA:FALSE\n"
                    "keyUsage = critical,digitalSignature\n"
                    "extendedKeyUsage = serverAuth,clientAuth\n"
                    f"subjectAltName = {san}\n"
                    "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n")
        try:
            _openssl(["req", "-new", "-config", self.config_file, *_KEY_ALGORITHM, "-nodes",
                      "-keyout", cert.key_file, "-out", stem + ".csr", "-subj", f"/CN={name}"],
                     cwd=out_dir)
            os.chmod(cert.key_file, 0o600)
            with self._lock:
                _openssl(["ca", "-batch", "-config", self.config_file, "-notext",
                          "-in", stem + ".csr", "-out", cert.cert_file,
                          "-startdate", _asn1_time(not_before),
                          "-enddate", _asn1_time(not_after),
                          "-extfile", stem + ".ext", "-extensions", "leaf"], cwd=out_dir)
        finally:
            for scratch in (stem + ".csr", stem + ".ext"):
                if os.path.exists(scratch):
                    os.unlink(scratch)
        return cert
