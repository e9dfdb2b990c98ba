"""Which server the bed runs: Debian's redis-server (the default), or one of the version
matrix's builds that scripts/build-servers.sh keeps in its cache.

    RCI_SERVER=redis-6.2.16 python3 tests/integration/test_cold_start.py

RCI_SERVER names a tarball of the matrix without `.tar.gz` (MATRIX); CTest's "matrix" tests set
it. A name that is not built makes the test skip (itest.run) with how to build it.
"""

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

DEBIAN = "debian"
MATRIX = ("redis-6.2.16", "redis-7.2.6", "valkey-8.0.1")


class ServerUnavailable(Exception):
    """The server RCI_SERVER names is not built (or not installed)."""


@dataclass(frozen=True)
class Server:
    name: str          # "debian" or a MATRIX entry
    server_path: str   # redis-server or valkey-server
    cli_path: str      # redis-cli or valkey-cli
    version: tuple     # (major, minor, patch), from `--version`
    family: str        # "redis" or "valkey"

    @property
    def comm(self) -> str:
        """The process name /proc/<pid>/stat shows for it (the kernel keeps 15 characters)."""
        return os.path.basename(self.server_path)[:15]

    def at_least(self, major, minor=0) -> bool:
        return self.version[:2] >= (major, minor)

    def __str__(self):
        return f"{self.family}-server {'.'.join(map(str, self.version))} ({self.name})"


def cache_dir() -> str:
    return os.environ.get("RCI_SERVER_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "redis-cluster-init", "servers")


def _version_of(server_path: str) -> tuple:
    out = subprocess.run([server_path, "--version"], capture_output=True, text=True,
                         timeout=10).stdout
    found = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    if not found:
        raise ServerUnavailable(f"{server_path} --version printed no version: {out.strip()!r}")
    return tuple(int(part) for part in found.groups())


def _debian() -> Server:
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if not server or not cli:
        raise ServerUnavailable("redis-server or redis-cli is not installed "
                                "(scripts/setup-debian.sh installs them)")
    return Server(DEBIAN, server, cli, _version_of(server), "redis")


def _built(name: str) -> Server:
    if name not in MATRIX:
        raise ServerUnavailable(f"RCI_SERVER={name!r} is not a server of the matrix; expected "
                                f"{DEBIAN} or one of {', '.join(MATRIX)}")
    entries = sorted(e for e in glob.glob(os.path.join(cache_dir(), f"{name}-*"))
                     if os.path.isfile(os.path.join(e, "COMPLETE")))
    if not entries:
        raise ServerUnavailable(f"{name} is not built in {cache_dir()}: run "
                                f"scripts/build-servers.sh (it needs the tarballs of "
                                f"../shared/servers, or RCI_SERVER_TARBALLS)")
    family = name.split("-")[0]
    bin_dir = os.path.join(entries[-1], "bin")
    server = os.path.join(bin_dir, f"{family}-server")
    cli = os.path.join(bin_dir, f"{family}-cli")
    return Server(name, server, cli, _version_of(server), family)


_selected = None


def selected() -> Server:
    """The server of this test run, from RCI_SERVER (resolved once)."""
    global _selected
    if _selected is None:
        name = os.environ.get("RCI_SERVER", DEBIAN) or DEBIAN
        _selected = _debian() if name == DEBIAN else _built(name)
    return _selected
