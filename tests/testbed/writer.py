"""Acknowledged-write accounting: a client per shard that writes all along, as an application
would, and records every write the cluster acknowledged, so a test can say afterwards how long
each shard went without an acknowledged write and whether every acknowledged write is still
there.

The client is one that users run: redis-py's `RedisCluster` (Debian's python3-redis), which
maps slots from CLUSTER SLOTS, follows MOVED and ASK, and refreshes its map after connection
errors, as cluster clients do. Each shard's writer writes keys `{tag}:<n>` (one hash tag per
shard, so every key of a writer is in one slot of that shard) with value `<n>`, one at a time,
trying the same key again after any failure. A write counts as acknowledged only when SET
returned True. A write that failed may or may not have been applied; it is not counted either
way. Failures are counted by the client's exception type, never by message text.
"""

import logging
import os
import sys
import threading
import time

try:
    import redis
except ImportError:  # a Python of its own (pyenv) does not see Debian's packages by itself
    sys.path.append("/usr/lib/python3/dist-packages")
    import redis
from redis.cluster import ClusterNode, RedisCluster

# redis-py logs a traceback for every startup node it cannot reach while mapping the cluster;
# the writers count those failures themselves, so the tests' output stays readable.
logging.getLogger("redis").addHandler(logging.NullHandler())
logging.getLogger("redis").propagate = False


def _quiet_half_made_node(unraisable, default_hook=sys.unraisablehook) -> None:
    """redis-py 4.3 deep-copies its connection options (which hold the client itself) when it
    maps the cluster again; the copy fails half-way (the client holds a lock) and the
    half-made ClusterNode then fails in __del__. The failure is handled (see _write); only the
    noise of that one __del__ is dropped here."""
    if (isinstance(unraisable.exc_value, AttributeError)
            and getattr(unraisable.object, "__qualname__", "") == "ClusterNode.__del__"):
        return
    default_hook(unraisable)


sys.unraisablehook = _quiet_half_made_node

from slots import key_slot, shard_slot_range
from waiting import wait_until_none

COMMAND_TIMEOUT = 1.0  # seconds; a paused master (a manual failover) answers well within it
RETRY_PAUSE = 0.02     # after a failed write, as a client library's retry backoff


def shard_tag(shard: int, shards: int) -> str:
    """A hash tag whose slot is in `shard`'s range at creation."""
    first, last = shard_slot_range(shard, shards)
    for n in range(100000):
        tag = f"w{n}"
        if first <= key_slot(tag) <= last:
            return tag
    raise ValueError(f"no hash tag found for shard {shard} of {shards}")


def cluster_client(cluster) -> RedisCluster:
    """A RedisCluster client of `cluster` as an application would make one: every pod a
    startup node, the cluster's password, its TLS settings (the bed's CA and client
    certificate; no host name check, as the bed's other clients)."""
    options = {}
    if cluster.tls:
        client_cert = cluster.bed.tls_client_certificate
        options = dict(ssl=True, ssl_ca_certs=cluster.bed.certificate_authority.ca_file,
                       ssl_certfile=client_cert.cert_file, ssl_keyfile=client_cert.key_file,
                       ssl_check_hostname=False)
    return RedisCluster(startup_nodes=[ClusterNode(pod.ip, pod.port) for pod in cluster.pods],
                        password=cluster.password or None, decode_responses=True,
                        socket_timeout=COMMAND_TIMEOUT, socket_connect_timeout=COMMAND_TIMEOUT,
                        require_full_coverage=False, **options)


def raised_inside_redis_py(error: BaseException) -> bool:
    """Whether the innermost frame of `error`'s traceback is redis-py's own code."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    package = os.path.dirname(redis.__file__)
    return frame is not None and os.path.abspath(frame.tb_frame.f_code.co_filename).startswith(package + os.sep)


class ShardWriter:
    """Writes `{tag}:<n>` to the cluster, one key at a time, on its own thread, through its own
    RedisCluster client (made on the thread: redis-py clients are not shared between threads)."""

    def __init__(self, shard, tag, cluster):
        self.shard = shard
        self.tag = tag
        self.cluster = cluster
        self.acked = []        # (n, monotonic time of the acknowledgement)
        self.failures = {}     # the client's exception type -> count
        self._client = None
        self.crashed = None    # what ended the writer's thread early, if anything did
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def key(self, n: int) -> str:
        return f"{{{self.tag}}}:{n}"

    def _fail(self, kind: str) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1
        self._stop.wait(RETRY_PAUSE)

    def _write(self, n: int) -> bool:
        try:
            if self._client is None:
                self._client = cluster_client(self.cluster)
            acknowledged = self._client.set(self.key(n), str(n))
        except redis.exceptions.RedisError as error:
            # RedisCluster gives up on a write after its own retries (a failover under way,
            # the node down): the application retries, as this does.
            self._fail(type(error).__name__)
            return False
        except (redis.exceptions.RedisClusterException, AttributeError, TypeError, KeyError) as error:
            # Not a RedisError: the client could not map the cluster from any startup node
            # (RedisClusterException), or redis-py 4.3 tripped over its own slot map while
            # slots move (an AttributeError on a slot whose node it had dropped). It is left
            # unable to map again (it fails to copy its connection options), so the
            # application makes a new client. Counted by type, as every failure is. Raised
            # anywhere but inside redis-py, it is a fault of this bed: the writer stops on it.
            if not raised_inside_redis_py(error):
                raise
            self._client = None
            self._fail(type(error).__name__)
            return False
        if acknowledged is not True:
            self._fail("not acknowledged")
            return False
        self.acked.append((n, time.monotonic()))
        return True

    def _run(self) -> None:
        n = 0
        try:
            while not self._stop.is_set():
                if self._write(n):
                    n += 1
        except BaseException as error:  # reported by wait_for_progress, never hidden
            self.crashed = f"{type(error).__name__}: {error}"
            raise
        if self._client is not None:
            self._client.close()

    def start(self) -> None:
        self.started = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.stopped = time.monotonic()

    def longest_gap(self, since=None, until=None):
        """(seconds, at) of the longest time without an acknowledged write between `since`
        and `until` (monotonic; default: the writer's whole run), `at` when it began."""
        since = self.started if since is None else since
        until = self.stopped if until is None else until
        times = [since] + [t for _, t in self.acked if since <= t <= until] + [until]
        gap, at = 0.0, since
        for before, after in zip(times, times[1:]):
            if after - before > gap:
                gap, at = after - before, before
        return gap, at


class AckedWriters:
    """One ShardWriter per shard of `cluster`, started and stopped together (`with` block)."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.writers = [ShardWriter(shard, shard_tag(shard, cluster.shards), cluster)
                        for shard in range(cluster.shards)]

    def __enter__(self):
        for writer in self.writers:
            writer.start()
        return self

    def __exit__(self, *exc):
        for writer in self.writers:
            writer.stop()

    def acknowledged(self) -> int:
        return sum(len(w.acked) for w in self.writers)

    # What a client may see while slots move (redis-py follows MOVED and ASK itself and gives up
    # on TRYAGAIN after its retries), and what redis-py 4.3 raises on its own slot map (see
    # ShardWriter._write): neither is a server refusing a write.
    WHILE_SLOTS_MOVE = {"MovedError", "AskError", "TryAgainError"}
    CLIENT_LIBRARY_FAULTS = {"AttributeError", "TypeError", "KeyError"}

    def server_errors_beyond_moves(self) -> dict:
        """The failed writes, by exception, that are neither a redirection or TRYAGAIN nor
        redis-py's own fault: what a client should never see while slots move."""
        beyond = {}
        for writer in self.writers:
            for kind, count in writer.failures.items():
                if kind not in self.WHILE_SLOTS_MOVE | self.CLIENT_LIBRARY_FAULTS:
                    beyond[kind] = beyond.get(kind, 0) + count
        return beyond

    def wait_for_progress(self, writes: int, timeout: float) -> None:
        """Waits until every writer has `writes` more acknowledged writes than now."""
        targets = [len(w.acked) + writes for w in self.writers]

        def stuck():
            return [f"shard {w.shard}: {len(w.acked)} acknowledged, failures {w.failures}"
                    + (f", thread ended by {w.crashed}" if w.crashed else "")
                    for w, t in zip(self.writers, targets) if len(w.acked) < t]

        wait_until_none(stuck, timeout, f"every writer {writes} writes further", interval=0.02)

    def report(self, name: str, since=None, event=None) -> list:
        """Reads every acknowledged write back and prints the figures: acknowledged, lost, the
        longest gap per shard (since `event` at `since`, else over the whole run) and the
        failed writes by the client's exception. Returns the lost writes."""
        lost = self.missing()
        gaps = [w.longest_gap(since=since)[0] for w in self.writers]
        where = f" since the {event}" if event else ""
        print(f"[{name}] {self.acknowledged()} writes acknowledged, {len(lost)} lost {lost[:5]}; "
              f"longest gap per shard{where}: {', '.join(f'{gap:.2f}s' for gap in gaps)}; failed "
              f"writes retried, by exception: {[w.failures for w in self.writers]}", flush=True)
        return lost

    def check_crash_losses(self, name: str, event: str, since: float, crashed_shard: int) -> list:
        """After a crash-like failover of `crashed_shard`'s master at `since` (monotonic):
        prints the figures (acknowledged, lost, the longest gap per shard since then) and
        fails the test on any lost write Redis does not excuse: one of another shard, or one
        acknowledged after the event (asynchronous replication may lose only what the old
        master had acknowledged and not yet sent). Returns the lost writes."""
        lost = self.report(name, since=since, event=event)
        crashed = self.writers[crashed_shard]
        acked_at = {crashed.key(n): t for n, t in crashed.acked}
        inexcusable = [key for key, _ in lost if acked_at.get(key, float("inf")) > since]
        if inexcusable:
            raise AssertionError(f"acknowledged writes lost that were not acknowledged by "
                                 f"shard {crashed_shard}'s master before the {event}: "
                                 f"{inexcusable[:10]}")
        return lost

    def missing(self) -> list:
        """Every acknowledged write that the cluster no longer holds (or holds with another
        value), read back from the master serving each key now: [(key, what was read)]."""
        return self.cluster.not_holding({writer.key(n): str(n) for writer in self.writers
                                         for n, _ in writer.acked})
