"""The bed's own judgement of a cluster, independent of the binary: it asks every redis-server
directly (CLUSTER MYID / INFO / NODES, INFO replication) and compares what they say with the shape
the pod names imply. A check lists every difference it finds, named by pod, so a failing test
says what is wrong rather than just "not ok".
"""

from dataclasses import dataclass, field

from resp import ProtocolError, RespClient, RespError, parse_info
from slots import CLUSTER_SLOTS, shard_slot_range
from waiting import wait_until_none

# Flags that must not appear in a healthy cluster's CLUSTER NODES output.
_UNHEALTHY_FLAGS = {"fail", "fail?", "handshake", "noaddr"}


class ClusterCheckError(AssertionError):
    """The cluster did not reach the expected shape in time; the message lists what differs."""


@dataclass
class NodeLine:
    """One line of CLUSTER NODES."""
    node_id: str
    ip: str
    port: int
    bus_port: int
    flags: set
    master_id: str  # "-" for masters
    config_epoch: int
    link_state: str
    slots: list = field(default_factory=list)  # inclusive (first, last) ranges

    @property
    def is_master(self) -> bool:
        return "master" in self.flags

    @property
    def endpoint(self) -> str:
        return f"{self.ip}:{self.port}@{self.bus_port}"


def parse_cluster_nodes(text: str) -> list:
    """Parses CLUSTER NODES; importing/migrating markers ('[slot->-id]') are not ownership and are
    skipped.
    """
    nodes = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 8:
            continue
        address = parts[1].split(",")[0]  # drop ',hostname'
        host_port, _, bus = address.partition("@")
        ip, _, port = host_port.rpartition(":")
        slots = []
        for item in parts[8:]:
            if item.startswith("["):
                continue
            first, _, last = item.partition("-")
            slots.append((int(first), int(last or first)))
        nodes.append(NodeLine(node_id=parts[0], ip=ip, port=int(port or 0),
                              bus_port=int(bus.split(",")[0] or 0) if bus else 0,
                              flags=set(parts[2].split(",")), master_id=parts[3],
                              config_epoch=int(parts[6]), link_state=parts[7], slots=slots))
    return nodes


@dataclass
class NodeView:
    """What one pod's redis-server says about itself and the cluster."""
    pod: object
    myid: str = ""
    cluster_info: dict = field(default_factory=dict)
    nodes: list = field(default_factory=list)
    replication: dict = field(default_factory=dict)
    error: str = ""  # set when the pod could not be asked

    @property
    def myself(self):
        return next((n for n in self.nodes if "myself" in n.flags), None)


def observe_pod(pod, password=None, timeout=1.0) -> NodeView:
    """Asks one pod everything the check needs; a failure becomes view.error, not an exception.
    Connects as the pod's cluster says (TLS for a TLS cluster), with `password`."""
    view = NodeView(pod=pod)
    try:
        with RespClient(pod.ip, pod.port, password=password, timeout=timeout,
                        tls=pod.cluster.tls_context) as client:
            view.myid = client.command("CLUSTER", "MYID")
            view.cluster_info = parse_info(client.command("CLUSTER", "INFO"))
            view.nodes = parse_cluster_nodes(client.command("CLUSTER", "NODES"))
            view.replication = parse_info(client.command("INFO", "replication"))
    except (OSError, RespError, ProtocolError) as error:
        view.error = f"{type(error).__name__}: {error}"
    return view


class _Namer:
    """Turns node IDs into pod names for messages."""

    def __init__(self, views):
        self._names = {v.myid: v.pod.name for v in views if v.myid}

    def __call__(self, node_id: str, node: NodeLine = None) -> str:
        if node_id in self._names:
            return self._names[node_id]
        where = f" at {node.endpoint}" if node else ""
        return f"unknown node {node_id[:12]}{where}"


def _slot_owners(view: NodeView) -> list:
    """(first, last, owner id) ranges claimed by masters in one view, sorted and merged."""
    ranges = sorted((first, last, n.node_id) for n in view.nodes if n.is_master
                    for first, last in n.slots)
    merged = []
    for first, last, owner in ranges:
        if merged and merged[-1][2] == owner and merged[-1][1] + 1 == first:
            merged[-1] = (merged[-1][0], last, owner)
        else:
            merged.append((first, last, owner))
    return merged


def _coverage_problems(view: NodeView, name) -> list:
    """Slots no master claims, or that two masters claim, in one node's view."""
    problems = []
    expected_next = 0
    for first, last, owner in _slot_owners(view):
        if first > expected_next:
            problems.append(f"{view.pod.name}: slots {expected_next}-{first - 1} are not served "
                            f"by any master")
        elif first < expected_next:
            problems.append(f"{view.pod.name}: slots {first}-{min(last, expected_next - 1)} are "
                            f"claimed twice (again by {name(owner)})")
        expected_next = max(expected_next, last + 1)
    if expected_next < CLUSTER_SLOTS:
        problems.append(f"{view.pod.name}: slots {expected_next}-{CLUSTER_SLOTS - 1} are not "
                        f"served by any master")
    return problems


def _node_problems(view: NodeView, pods_by_id: dict, name) -> list:
    """Per-node facts: state ok, knows exactly the cluster's nodes, at the right addresses, none
    of them failing or in handshake.
    """
    problems = []
    pod = view.pod
    state = view.cluster_info.get("cluster_state", "?")
    if state != "ok":
        problems.append(f"{pod.name}: cluster_state:{state}")
    known = {n.node_id for n in view.nodes}
    for missing in sorted(set(pods_by_id) - known, key=name):
        problems.append(f"{pod.name}: does not know {name(missing)}")
    for node in view.nodes:
        if node.node_id not in pods_by_id:
            problems.append(f"{pod.name}: knows {name(node.node_id, node)} "
                            f"(flags {','.join(sorted(node.flags))}) which is no pod's node")
            continue
        bad_flags = node.flags & _UNHEALTHY_FLAGS
        if bad_flags:
            problems.append(f"{pod.name}: sees {name(node.node_id)} as "
                            f"{','.join(sorted(bad_flags))}")
        owner = pods_by_id[node.node_id]
        wanted = f"{owner.ip}:{owner.port}@{owner.bus_port}"
        if node.endpoint != wanted:
            problems.append(f"{pod.name}: has {owner.name} at {node.endpoint}, expected {wanted}")
        if "myself" not in node.flags and node.link_state != "connected":
            problems.append(f"{pod.name}: bus link to {name(node.node_id)} is "
                            f"{node.link_state}")
    return problems


def _shard_problems(cluster, views_by_pod: dict, name, creation_layout: bool) -> list:
    """Per-shard facts: one master serving exactly the shard's range (ordinal 0 when
    creation_layout), every other pod of the shard a linked replica of it.
    """
    problems = []
    for shard in range(cluster.shards):
        pods = cluster.shard_pods(shard)
        masters = [p for p in pods if views_by_pod[p.name].myself
                   and views_by_pod[p.name].myself.is_master]
        if len(masters) != 1:
            problems.append(f"shard {shard}: {len(masters)} masters "
                            f"({', '.join(p.name for p in masters) or 'none'}), expected 1")
            continue
        master = masters[0]
        if creation_layout and master.ordinal != 0:
            problems.append(f"shard {shard}: master is {master.name}, expected "
                            f"{cluster.pod(shard, 0).name} (creation layout)")
        expected = (cluster.layout[shard] if cluster.layout
                    else [shard_slot_range(shard, cluster.shards)])
        served = views_by_pod[master.name].myself.slots
        if sorted(served) != sorted(expected):
            problems.append(f"shard {shard}: master {master.name} serves slots "
                            f"{','.join(f'{a}-{b}' for a, b in sorted(served)) or '(none)'}, "
                            f"expected {','.join(f'{a}-{b}' for a, b in sorted(expected))}")
        master_id = views_by_pod[master.name].myid
        for replica in pods:
            if replica is not master:
                problems += _replica_problems(views_by_pod[replica.name], master, master_id,
                                              name)
    return problems


def _replica_problems(view: NodeView, master, master_id: str, name) -> list:
    pod = view.pod
    myself = view.myself
    if myself.is_master:
        return [f"{pod.name}: is a master, expected a replica of {master.name}"]
    problems = []
    if myself.master_id != master_id:
        problems.append(f"{pod.name}: replicates {name(myself.master_id)}, expected "
                        f"{master.name}")
    repl = view.replication
    where = f"{repl.get('master_host')}:{repl.get('master_port')}"
    if where != f"{master.ip}:{master.port}":
        problems.append(f"{pod.name}: replication link goes to {where}, expected "
                        f"{master.ip}:{master.port} ({master.name})")
    link = repl.get("master_link_status", "?")
    if link != "up":
        problems.append(f"{pod.name}: master_link_status:{link}")
    return problems


def _epoch_problems(views, name) -> list:
    """Masters' config epochs must be distinct, or slot ownership conflicts cannot be settled."""
    epochs = {}
    for view in views:
        if view.myself and view.myself.is_master:
            epochs.setdefault(view.myself.config_epoch, []).append(view.pod.name)
    return [f"masters {', '.join(sorted(pods))} share config epoch {epoch}"
            for epoch, pods in sorted(epochs.items()) if len(pods) > 1]


def cluster_problems(cluster, views: list, creation_layout=True) -> list:
    """Everything that differs between the observed views and a healthy cluster of the expected
    shape. An empty list means the cluster is correct.
    """
    unreachable = [f"{v.pod.name} ({v.pod.ip}:{v.pod.port}): {v.error}" for v in views if v.error]
    if unreachable:
        return unreachable
    name = _Namer(views)
    problems = []
    ids = [v.myid for v in views]
    if len(set(ids)) != len(ids):
        problems.append(f"pods share node IDs: {ids}")
    pods_by_id = {v.myid: v.pod for v in views}
    total = cluster.shards * (cluster.replicas + 1)
    for view in views:
        problems += _node_problems(view, pods_by_id, name)
        known = view.cluster_info.get("cluster_known_nodes")
        if known != str(total):
            problems.append(f"{view.pod.name}: cluster_known_nodes:{known}, expected {total}")
        problems += _coverage_problems(view, name)
    reference = views[0]
    for view in views[1:]:
        if _slot_owners(view) != _slot_owners(reference):
            problems.append(f"{view.pod.name} and {reference.pod.name} disagree on slot owners: "
                            f"{_describe_owners(view, name)} vs "
                            f"{_describe_owners(reference, name)}")
    problems += _shard_problems(cluster, {v.pod.name: v for v in views}, name, creation_layout)
    problems += _epoch_problems(views, name)
    return problems


def _describe_owners(view, name) -> str:
    return "; ".join(f"{a}-{b}:{name(o)}" for a, b, o in _slot_owners(view)) or "(none)"


def check_cluster(cluster, timeout=30.0, creation_layout=True, interval=0.05) -> list:
    """Waits until the cluster has exactly the expected shape and returns the node views; raises
    ClusterCheckError listing every difference still seen when `timeout` seconds have passed.

    The expected shape: every pod's cluster_state:ok; all know the same node IDs, one per pod, at
    their pods' addresses, none failing; the 16384 slots served exactly once, with the same owners
    in every view; shard S served by one master of shard S with exactly the redis-cli range of S
    (by ordinal 0 when `creation_layout`); every other pod of S a replica of that master with
    master_link_status:up; masters' config epochs distinct.
    """
    views = []

    def problems():
        views[:] = [observe_pod(pod, password=cluster.password) for pod in cluster.pods]
        return cluster_problems(cluster, views, creation_layout)

    wait_until_none(problems, timeout,
                    f"cluster {cluster.label} ({cluster.shards}x{cluster.replicas}) not correct",
                    interval=interval, error=ClusterCheckError)
    return views

