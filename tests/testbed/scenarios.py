"""Scenario steps shared by several integration tests."""

from cluster_check import check_cluster
from itest import check


def cold_start(bed, shards, replicas, keys=1000, **bootstrap_options):
    """Every redis-server up and published, every bootstrap launched at once: all must exit 0,
    the cluster must have the creation layout, and keys written must all be counted back.
    """
    cluster = bed.cluster(shards, replicas)
    cluster.start()
    runs = cluster.bootstrap_all(**bootstrap_options)
    cluster.wait_bootstraps(runs, timeout=90)
    slowest = max(run.elapsed for run in runs)
    print(f"[{bed.name}] all {len(runs)} bootstraps exited 0, slowest after {slowest:.1f}s",
          flush=True)
    check_cluster(cluster, timeout=30)
    cluster.write_keys(keys)
    counted = cluster.count_keys()
    check(counted == keys, f"wrote {keys} keys, the masters hold {counted}")
    cluster.wait_replicas_synced()
    return cluster
