"""What every integration test script shares: skip when a tool is missing, find the binary, turn
SIGTERM (a CTest timeout) into a normal exit so cleanup runs, and report PASS/FAIL.

    def main(): ...
    if __name__ == "__main__":
        itest.run(main)
"""

import os
import random
import shutil
import signal
import sys
import time
import traceback

SKIP = 125  # CTest's SKIP_RETURN_CODE for these tests
REQUIRED_TOOLS = ("redis-server", "redis-cli", "dnsmasq")


def require_tools(tools=REQUIRED_TOOLS) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        print(f"SKIP: {', '.join(missing)} not installed", flush=True)
        sys.exit(SKIP)


def require_server() -> None:
    """The server RCI_SERVER selects (servers.py) must be built; a matrix test skips without."""
    import servers
    try:
        server = servers.selected()
    except servers.ServerUnavailable as unavailable:
        print(f"SKIP: {unavailable}", flush=True)
        sys.exit(SKIP)
    if server.name != servers.DEBIAN:
        print(f"[server] {server}", flush=True)


def require_network(network=None) -> None:
    """A namespace bed (`network`, else RCI_BED_NETWORK: ipv4 or ipv6, netns.py) needs root, ip,
    nft and a machine that allows namespaces: the test skips without, saying what is missing."""
    if (network or os.environ.get("RCI_BED_NETWORK") or "loopback") == "loopback":
        return
    import netns
    missing = netns.available()
    if missing:
        print(f"SKIP: {missing}", flush=True)
        sys.exit(SKIP)


def require_binary() -> str:
    """The binary under test, from RCI_BINARY (CTest sets it)."""
    path = os.environ.get("RCI_BINARY", "")
    if not path or not os.access(path, os.X_OK):
        fail(f"RCI_BINARY={path!r} is not an executable; build redis-cluster-init first")
    return path


def seeded_random(name: str) -> random.Random:
    """A random generator whose seed is printed, and can be forced with RCI_TEST_SEED, so a
    failing random order can be replayed."""
    seed = int(os.environ.get("RCI_TEST_SEED", time.time_ns() % 1_000_000_007))
    print(f"[{name}] seed {seed} (replay with RCI_TEST_SEED={seed})", flush=True)
    return random.Random(seed)


def chosen_from_argv(choices, what: str) -> list:
    """The test's arguments, each one of `choices` (a test's scenarios or shapes, by name);
    all of `choices`, in order, without an argument. An unknown name ends the test, naming it
    and the choices (`what`: "scenario", "shape")."""
    chosen = sys.argv[1:] or list(choices)
    unknown = [name for name in chosen if name not in choices]
    if unknown:
        raise SystemExit(f"unknown {what} {unknown}; expected some of {sorted(choices)}")
    return chosen


def fail(message: str) -> None:
    print(f"FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def check(condition: bool, message: str) -> None:
    """An assertion that survives python -O and reads as a test expectation."""
    if not condition:
        raise AssertionError(message)


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through every finally/__exit__: processes stop


def run(main, tools=REQUIRED_TOOLS, needs_binary=True) -> None:
    """Runs a test's main(): exit 0 on success, 125 when a tool is missing, 1 on any failure."""
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    require_tools(tools)
    require_server()
    require_network()
    if needs_binary:
        require_binary()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    signal.signal(signal.SIGHUP, _exit_on_sigterm)
    started = time.monotonic()
    try:
        main()
    except SystemExit:
        raise
    except BaseException as error:  # noqa: BLE001 - every failure must become exit 1
        traceback.print_exc()
        fail(f"{name}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
    print(f"PASS: {name} ({time.monotonic() - started:.1f}s)", flush=True)
    sys.exit(0)
