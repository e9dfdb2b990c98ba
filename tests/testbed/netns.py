"""Pods as network namespaces, for partitions and IPv6 (`TestBed(network="ipv4"|"ipv6")`).

The test process first moves itself into a private network and mount namespace of its own
(`PrivateNetwork.enter`): the bridge, every veth and every pod namespace live there, so nothing
touches the host's interfaces, and the pod namespaces' names (bind mounts under /run/netns, on a
tmpfs private to that mount namespace) vanish with the test. In it:

    tester namespace (the test process, dnsmasq, redis-cli, every check of the bed)
      rcibr0 bridge, the tester's address (198.18.0.1/15 or fd72:6369::1/64)
        v<n>  ---- eth0 in namespace p<n>: one pod, its address, its redis-server and binary runs

A pod's processes start under `ip netns exec p<n>` (which execs the command: the pid is the
process's own). Addresses come from 198.18.0.0/15 (benchmarking range) or the ULA
fd72:6369::/64, never reused within a bed. IPv6 addresses are added with `nodad`: duplicate
address detection would hold each new address tentative (unusable) for about a second.

Two kinds of fault:
- `isolate(pod)`: the pod's link goes down, as when its node drops off the network: it reaches
  nothing, DNS included, and nothing reaches it.
- `partition(groups)`: nftables rules in each pod's namespace drop every packet to and from the
  pods of the other groups, silently (no reset, no ICMP: connections time out as across a real
  split); DNS and the tester stay reachable from every side.
Both are undone by `heal()`.

Root only (CAP_NET_ADMIN, CAP_SYS_ADMIN); `available()` says why not otherwise.
"""

import ctypes
import ipaddress
import os
import shutil
import subprocess

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
BRIDGE = "rcibr0"
NETWORKS = {"ipv4": ipaddress.ip_network("198.18.0.0/15"),
            "ipv6": ipaddress.ip_network("fd72:6369::/64")}
FIRST_POD_HOST = 10


def available() -> str:
    """'' when this process can build the network; else why not (for a skip message)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "nft", "unshare"):
        if shutil.which(tool) is None:
            return (f"`{tool}` is not installed (scripts/setup-debian.sh installs iproute2, "
                    f"nftables and util-linux)")
    # A container may deny namespaces even to root: ask a child, not this process.
    probe = subprocess.run(["unshare", "--net", "--mount", "true"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"this machine denies new network namespaces: {probe.stderr.strip()}"
    return ""


def _run(*argv, namespace=None) -> None:
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    result = subprocess.run(prefix + list(argv), stdin=subprocess.DEVNULL, capture_output=True,
                            text=True)
    if result.returncode != 0:
        where = f" in namespace {namespace}" if namespace else ""
        raise RuntimeError(f"netns: `{' '.join(argv)}`{where} failed ({result.returncode}): "
                           f"{result.stderr.strip()}")


def _unshare(flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"unshare: {os.strerror(errno)} (must be root and single-threaded)")


class PrivateNetwork:
    """The bridge, the tester's address and one namespace per pod, in a network of one family."""

    def __init__(self, family: str):
        if family not in NETWORKS:
            raise ValueError(f"network family must be one of {sorted(NETWORKS)}, not {family!r}")
        self.family = family
        self.network = NETWORKS[family]
        self.tester_ip = str(self.network.network_address + 1)
        self._next_host = FIRST_POD_HOST
        self._pods = {}         # pod key -> (namespace, host-side veth, address)
        self._isolated = set()  # pod keys whose link is down
        self._partitioned = set()

    @property
    def prefix_length(self) -> int:
        return self.network.prefixlen

    def _address_arg(self, ip: str) -> list:
        extra = ["nodad"] if self.family == "ipv6" else []
        return [f"{ip}/{self.prefix_length}", *extra]

    def enter(self) -> None:
        """Moves this process into a network and mount namespace of its own and builds the
        bridge there. Call before any thread is started (unshare of the mount namespace needs a
        single-threaded caller)."""
        _unshare(CLONE_NEWNET | CLONE_NEWNS)
        # Mounts made from now on stay in this mount namespace, /run/netns's tmpfs included.
        _run("mount", "--make-rprivate", "/")
        os.makedirs("/run/netns", exist_ok=True)
        _run("mount", "-t", "tmpfs", "rci-netns", "/run/netns")
        _run("ip", "link", "set", "lo", "up")
        _run("ip", "link", "add", BRIDGE, "type", "bridge")
        _run("ip", "addr", "add", "dev", BRIDGE, *self._address_arg(self.tester_ip))
        _run("ip", "link", "set", BRIDGE, "up")

    def allocate_ip(self) -> str:
        """An address of the network no pod of this bed has had before."""
        address = self.network.network_address + self._next_host
        if address not in self.network or address == self.network.broadcast_address:
            raise RuntimeError(f"netns: {self.network} has no address left")
        self._next_host += 1
        return str(address)

    def namespace(self, key: str) -> str:
        return self._pods[key][0]

    def exec_prefix(self, key: str) -> list:
        """What a pod's process is started under."""
        return ["ip", "netns", "exec", self.namespace(key)]

    def add_pod(self, key: str, ip: str) -> None:
        """A namespace for the pod `key`, linked to the bridge, holding `ip`."""
        number = len(self._pods)
        namespace, veth = f"p{number}", f"v{number}"
        _run("ip", "netns", "add", namespace)
        _run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        _run("ip", "link", "set", veth, "master", BRIDGE, "up")
        _run("ip", "link", "set", "lo", "up", namespace=namespace)
        _run("ip", "addr", "add", "dev", "eth0", *self._address_arg(ip), namespace=namespace)
        _run("ip", "link", "set", "eth0", "up", namespace=namespace)
        self._pods[key] = (namespace, veth, ip)

    def set_address(self, key: str, ip: str) -> None:
        """The pod comes back at `ip` (its old address removed), as a rescheduled pod does."""
        if self._partitioned:
            raise RuntimeError("netns: a pod moved during a partition; heal() first")
        namespace, veth, old = self._pods[key]
        _run("ip", "addr", "del", f"{old}/{self.prefix_length}", "dev", "eth0", namespace=namespace)
        _run("ip", "addr", "add", "dev", "eth0", *self._address_arg(ip), namespace=namespace)
        self._pods[key] = (namespace, veth, ip)

    def isolate(self, key: str) -> None:
        """Takes the pod's link down: it reaches nothing and nothing reaches it."""
        _run("ip", "link", "set", self._pods[key][1], "down")
        self._isolated.add(key)

    def partition(self, groups) -> None:
        """Splits the pods into `groups` (lists of pod keys; pods in none of them form one more
        group): each pod drops every packet to or from a pod of another group."""
        groups = [list(g) for g in groups]
        grouped = {key for group in groups for key in group}
        rest = [key for key in self._pods if key not in grouped]
        if rest:
            groups.append(rest)
        for index, group in enumerate(groups):
            others = [self._pods[key][2] for other, g in enumerate(groups) if other != index
                      for key in g]
            if not others:
                continue
            match = "ip6" if self.family == "ipv6" else "ip"
            addresses = "{ " + ", ".join(others) + " }"
            rules = (f"table inet rci_partition {{\n"
                     f"  chain out {{ type filter hook output priority 0; {match} daddr {addresses} drop; }}\n"
                     f"  chain in {{ type filter hook input priority 0; {match} saddr {addresses} drop; }}\n"
                     f"}}\n")
            for key in group:
                self._load_rules(key, rules)
                self._partitioned.add(key)

    def _load_rules(self, key: str, rules: str) -> None:
        namespace = self.namespace(key)
        result = subprocess.run(["ip", "netns", "exec", namespace, "nft", "-f", "-"], input=rules,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"netns: nft in {namespace} failed: {result.stderr.strip()}")

    def heal(self) -> None:
        """Every link up and every partition rule gone."""
        for key in sorted(self._isolated):
            _run("ip", "link", "set", self._pods[key][1], "up")
        for key in sorted(self._partitioned):
            _run("nft", "delete", "table", "inet", "rci_partition", namespace=self.namespace(key))
        self._isolated.clear()
        self._partitioned.clear()

    def describe(self) -> str:
        faults = []
        if self._isolated:
            faults.append(f"isolated: {', '.join(sorted(self._isolated))}")
        if self._partitioned:
            faults.append(f"partitioned: {', '.join(sorted(self._partitioned))}")
        return f"{self.network} on {BRIDGE}, tester {self.tester_ip}" + (
            f" ({'; '.join(faults)})" if faults else "")
