#!/usr/bin/env python3
"""Self-check of the test bed, without the binary: dnsmasq serves, changes and withdraws records,
serves the service's SRV records (and none for a cluster made with srv=False) and its query log
is counted right; addresses go on past one /24; the CRC16 and slot split agree with redis-server
and redis-cli; check_cluster accepts a cluster formed by hand and rejects one that is not
finished. If this fails, no other integration test's verdict can be trusted.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from testbed import (ClusterCheckError, TestBed, check_cluster, key_slot,  # noqa: E402
                     shard_slot_range)
from dnsmasq import RCODE_NOERROR, RCODE_NXDOMAIN  # noqa: E402
from testbed import FIRST_HOST, LAST_HOST  # noqa: E402
from waiting import wait_until  # noqa: E402


def check_dns(bed, cluster) -> None:
    """Records appear, move and disappear as the tests need, and absent names are NXDOMAIN."""
    pod = cluster.pod(0, 0)
    check(bed.dns.query(pod.dns_name).rcode == RCODE_NXDOMAIN,
          f"unpublished {pod.dns_name} should be NXDOMAIN")
    pod.publish()
    check(bed.dns.query(pod.dns_name).addresses == [pod.ip], "published record not served")
    old_ip, pod.ip = pod.ip, bed.allocate_ip()
    pod.publish()
    check(bed.dns.query(pod.dns_name).addresses == [pod.ip], "moved record not served")
    pod.unpublish()
    check(bed.dns.query(pod.dns_name).rcode == RCODE_NXDOMAIN, "removed record still served")
    pod.ip = old_ip


def check_srv(bed, cluster) -> None:
    """The SRV query lists every expected pod (port 6379), published or not, and the additional
    section gives exactly the published pods' addresses: as the binary asks (UDP without EDNS,
    as c-ares 1.18 does, then TCP if truncated; a 512-byte answer may leave addresses out, but
    none may be wrong), and over TCP, where every address fits."""
    expected = sorted(pod.dns_name for pod in cluster.pods)
    published = {pod.dns_name: [pod.ip] for pod in cluster.pods
                 if bed.dns.query(pod.dns_name).addresses == [pod.ip]}
    for how, answer in (("as a stub asks", bed.dns.srv_query(cluster.srv_name)),
                        ("over TCP", bed.dns.srv_query(cluster.srv_name, force_tcp=True))):
        check(answer.rcode == RCODE_NOERROR and answer.targets == expected,
              f"SRV {cluster.srv_name} {how}: {answer}, targets {answer.targets}, "
              f"expected {expected}")
        check({r.port for r in answer.records} == {6379}, f"SRV ports {answer.records}")
        wrong = {name: ips for name, ips in answer.additional.items()
                 if published.get(name) != ips}
        check(not wrong and not answer.unreadable_additional,
              f"SRV {how}: additional section has wrong addresses {wrong} ({answer})")
        if how == "over TCP":
            check(answer.additional == published,
                  f"SRV over TCP: additional {answer.additional}, expected {published}")


def check_no_srv(bed) -> None:
    """A cluster made with srv=False gets no SRV records and costs no dnsmasq restart."""
    restarts = bed.dns.restarts
    bare = bed.cluster(3, 0, namespace="no-srv", srv=False)
    answer = bed.dns.srv_query(bare.srv_name)
    check(not answer.records and not bare.serves_srv,
          f"srv=False: SRV {bare.srv_name} answers {answer}")
    check(bed.dns.restarts == restarts, "srv=False restarted dnsmasq")


def check_query_counts(bed, cluster) -> None:
    """query_counts() counts what was asked after the mark, by type, TCP queries included."""
    mark = bed.dns.log_mark()
    bed.dns.query(cluster.pod(0, 0).dns_name)
    bed.dns.query(cluster.pod(0, 1).dns_name)
    bed.dns.srv_query(cluster.srv_name, force_tcp=True)
    counts = bed.dns.query_counts(since=mark)
    check(counts == {"A": 2, "AAAA": 0, "SRV": 1, "total": 3},
          f"query_counts after 2 A and 1 SRV query: {counts}")


def check_address_rollover(bed) -> None:
    """Past .250 of a /24, addresses go on in the next free /24, never repeating."""
    used = {pod.ip for c in bed.clusters for pod in c.pods}
    fresh = [bed.allocate_ip() for _ in range(LAST_HOST - FIRST_HOST + 2)]
    check(len(set(fresh)) == len(fresh) and not used & set(fresh),
          "allocate_ip() repeated an address")
    networks = {ip.rsplit(".", 1)[0] for ip in fresh}
    check(len(networks) == 2 and len(bed.networks) == 2,
          f"{len(fresh)} addresses span {sorted(networks)}, bed networks {bed.networks}")


def check_key_slots(pod) -> None:
    """Our CRC16 and hash-tag handling give the same slots as CLUSTER KEYSLOT."""
    keys = [f"key:{i}" for i in range(200)] + ["{user1000}.following", "foo{}{bar}", "{}x",
                                               "a{b", "", "\u00e9t\u00e9"]
    for key in keys:
        served = pod.command("CLUSTER", "KEYSLOT", key)
        check(served == key_slot(key), f"slot of {key!r}: server {served}, bed {key_slot(key)}")


def form_by_hand(cluster) -> None:
    """Claim-then-mesh, the way the brief suggests the binary may create a cluster: masters claim
    their ranges and epochs, everybody MEETs everybody, replicas REPLICATE their shard's master.
    """
    for shard in range(cluster.shards):
        first, last = shard_slot_range(shard, cluster.shards)
        master = cluster.pod(shard, 0)
        master.command("CLUSTER", "ADDSLOTSRANGE", first, last)
        master.command("CLUSTER", "SET-CONFIG-EPOCH", shard + 1)
    for pod in cluster.pods:
        for peer in cluster.pods:
            if peer is not pod:
                pod.command("CLUSTER", "MEET", peer.ip, peer.port, peer.bus_port)
    ids = {pod.node_id() for pod in cluster.pods}
    wait_until(lambda: all({line.split()[0] for line in p.command("CLUSTER", "NODES").splitlines()}
                           == ids for p in cluster.pods), 20, "MEETs spread to every node")


def attach_replicas(cluster) -> None:
    for pod in cluster.pods:
        if pod.ordinal != 0:
            pod.command("CLUSTER", "REPLICATE", cluster.pod(pod.shard, 0).node_id())


def expect_check_failure(cluster, fragment: str) -> None:
    """check_cluster must reject the cluster, and say why."""
    try:
        check_cluster(cluster, timeout=0.3)
    except ClusterCheckError as error:
        check(fragment in str(error), f"check_cluster failed without mentioning {fragment!r}:\n"
                                      f"{error}")
        return
    raise AssertionError(f"check_cluster accepted an unfinished cluster (expected {fragment!r})")


def check_redis_cli_split(bed) -> None:
    """Our slot split is redis-cli's: `redis-cli --cluster create` of 5 masters hands out exactly
    the ranges shard_slot_range computes (in whatever order it picks masters).
    """
    cluster = bed.cluster(5, 0, namespace="redis-cli-split")  # in the bed's second /24
    cluster.start()
    result = subprocess.run(
        ["redis-cli", "--cluster", "create", *[f"{p.ip}:{p.port}" for p in cluster.pods],
         "--cluster-yes"], capture_output=True, text=True, timeout=60)
    check(result.returncode == 0, f"redis-cli --cluster create failed:\n{result.stdout}"
                                  f"{result.stderr}")
    served = set()
    for pod in cluster.pods:
        for entry in pod.command("CLUSTER", "SLOTS"):
            served.add((entry[0], entry[1]))
    expected = {shard_slot_range(s, 5) for s in range(5)}
    check(served == expected, f"redis-cli split {sorted(served)} != bed split {sorted(expected)}")


def main() -> None:
    with TestBed("selfcheck") as bed:
        cluster = bed.cluster(3, 1, password="bed-self-check")
        check_srv(bed, cluster)  # every pod listed before any has an address
        check_dns(bed, cluster)
        cluster.start()
        check_srv(bed, cluster)
        check_no_srv(bed)
        check_query_counts(bed, cluster)
        check_key_slots(cluster.pod(0, 0))
        expect_check_failure(cluster, "cluster_state:fail")
        form_by_hand(cluster)
        expect_check_failure(cluster, "shard 0: 2 masters (redis-shard0-0, redis-shard0-1)")
        attach_replicas(cluster)
        check_cluster(cluster, timeout=30)
        cluster.write_keys(1000)
        check(cluster.count_keys() == 1000, f"counted {cluster.count_keys()} keys, wrote 1000")
        cluster.wait_replicas_synced()
        moved = cluster.pod(2, 1)
        moved.stop()
        expect_check_failure(cluster, "redis-shard2-1")
        # A replica back at a new address with its nodes.conf: Redis itself updates the address
        # once its PINGs arrive, so the bed's restart helper must leave a healthy cluster.
        old_ip = moved.ip
        moved.restart(new_ip=True)
        check(moved.ip != old_ip and bed.dns.query(moved.dns_name).addresses == [moved.ip],
              "restart(new_ip=True) did not move the pod and its DNS record")
        check_cluster(cluster, timeout=30)
        check_address_rollover(bed)
        check_redis_cli_split(bed)


if __name__ == "__main__":
    itest.run(main, needs_binary=False)
