"""Acknowledged-write accounting: a client per shard that writes all along, as an application
would, and records every write the cluster acknowledged, so a test can say afterwards how long
each shard went without an acknowledged write and whether every acknowledged write is still
there.

Each shard's writer writes keys `{tag}:<n>` (one hash tag per shard, so every key of a writer is
in one slot of that shard) with value `<n>`, one at a time, like a client library: to the node it
believes serves the slot, following MOVED, reconnecting after a connection error or a timeout,
and trying the same key again after any failure. A write counts as acknowledged only when +OK
came back. A write that failed may or may not have been applied; it is not counted either way.
"""

import threading
import time

from resp import ProtocolError, RespError
from slots import key_slot, shard_slot_range

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


class ShardWriter:
    """Writes `{tag}:<n>` to the cluster, one key at a time, on its own thread. connect(ip, port,
    timeout) makes a connection as the cluster's clients do (Cluster.client: password, TLS)."""

    def __init__(self, shard, tag, start_address, connect):
        self.shard = shard
        self.tag = tag
        self.address = start_address  # (ip, port) believed to serve the tag's slot
        self.connect = connect
        self.acked = []        # (n, monotonic time of the +OK)
        self.failures = {}     # kind of failure -> count
        self._client = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def key(self, n: int) -> str:
        return f"{{{self.tag}}}:{n}"

    def _fail(self, kind: str) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1
        if self._client is not None:
            self._client.close()
            self._client = None
        self._stop.wait(RETRY_PAUSE)

    def _write(self, n: int) -> bool:
        if self._client is None:
            try:
                self._client = self.connect(*self.address, timeout=COMMAND_TIMEOUT)
            except OSError:
                self._fail("connect")
                return False
        try:
            reply = self._client.command("SET", self.key(n), str(n))
        except RespError as error:
            words = str(error).split()
            if words and words[0] in ("MOVED", "ASK"):
                host, _, port = words[2].rpartition(":")
                self.address = (host, int(port))
                self._fail(words[0].lower())
            else:
                self._fail(words[0].lower() if words else "error")
            return False
        except (OSError, ProtocolError):
            self._fail("connection")
            return False
        if reply != "OK":
            self._fail("reply")
            return False
        self.acked.append((n, time.monotonic()))
        return True

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            if self._write(n):
                n += 1
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
        owners = cluster.slot_owners()
        self.writers = []
        for shard in range(cluster.shards):
            tag = shard_tag(shard, cluster.shards)
            self.writers.append(ShardWriter(shard, tag, owners[key_slot(tag)], cluster.client))

    def __enter__(self):
        for writer in self.writers:
            writer.start()
        return self

    def __exit__(self, *exc):
        for writer in self.writers:
            writer.stop()

    def acknowledged(self) -> int:
        return sum(len(w.acked) for w in self.writers)

    def wait_for_progress(self, writes: int, timeout: float) -> None:
        """Waits until every writer has `writes` more acknowledged writes than now."""
        targets = [len(w.acked) + writes for w in self.writers]
        deadline = time.monotonic() + timeout
        while any(len(w.acked) < t for w, t in zip(self.writers, targets)):
            if time.monotonic() >= deadline:
                stuck = [f"shard {w.shard}: {len(w.acked)} acknowledged, failures {w.failures}"
                         for w, t in zip(self.writers, targets) if len(w.acked) < t]
                raise AssertionError(f"writers made no progress in {timeout}s: {stuck}")
            time.sleep(0.02)

    def missing(self) -> list:
        """Every acknowledged write that the cluster no longer holds (or holds with another
        value), read back from the master serving each key now: [(key, what was read)]."""
        owners = self.cluster.slot_owners()
        lost = []
        for writer in self.writers:
            address = owners[key_slot(writer.tag)]
            with self.cluster.client(*address, timeout=10.0) as client:
                keys = [writer.key(n) for n, _ in writer.acked]
                for start in range(0, len(keys), 1000):
                    batch = keys[start:start + 1000]
                    replies = client.pipeline([("GET", key) for key in batch])
                    for key, reply in zip(batch, replies):
                        if reply != key.rpartition(":")[2]:
                            lost.append((key, reply))
        return lost
