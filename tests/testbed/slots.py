"""Hash slots as Redis Cluster computes them, so the bed can check layouts and route keys itself.

Nothing here asks the binary: these are independent re-implementations of what redis-server
(CRC16 key hashing) and redis-cli (the creation-time slot split) do.
"""

import struct

CLUSTER_SLOTS = 16384


def _crc16_table():
    """CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the variant Redis uses."""
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_CRC16_TABLE = _crc16_table()


def crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16_TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


def hash_tag(key: bytes) -> bytes:
    """The part of a key that is hashed: the first non-empty {...} section, else the whole key."""
    start = key.find(b"{")
    if start != -1:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            return key[start + 1:end]
    return key


def key_slot(key) -> int:
    """The hash slot of a key (str or bytes), exactly as CLUSTER KEYSLOT answers."""
    if isinstance(key, str):
        key = key.encode()
    return crc16(hash_tag(key)) % CLUSTER_SLOTS


def _f32(value: float) -> float:
    """Rounds to single precision: redis-cli does this split in C floats, and doubles drift
    from it by a slot from 78 shards on."""
    return struct.unpack("f", struct.pack("f", value))[0]


def shard_slot_range(shard: int, shards: int) -> tuple:
    """Inclusive (first, last) slots of `shard` out of `shards`, as `redis-cli --cluster create`
    splits them: contiguous, in order, sizes differing by at most one.

    Follows clusterManagerCommandCreate: a float cursor advanced by 16384/shards and rounded with
    lround (half away from zero), the last shard taking whatever is left.
    """
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} out of range for {shards} shards")
    per_shard = _f32(CLUSTER_SLOTS / _f32(shards))
    first = 0
    cursor = 0.0
    for index in range(shards):
        last = int(_f32(_f32(cursor + per_shard) - 1) + 0.5)  # lround for positive values
        if last > CLUSTER_SLOTS or index == shards - 1:
            last = CLUSTER_SLOTS - 1
        if last < first:
            last = first
        if index == shard:
            return (first, last)
        first = last + 1
        cursor = _f32(cursor + per_shard)
    raise AssertionError("unreachable")


def format_ranges(slots) -> str:
    """Compresses a sorted iterable of slot numbers into '0-5460,5462' for messages."""
    parts = []
    start = previous = None
    for slot in slots:
        if start is None:
            start = previous = slot
        elif slot == previous + 1:
            previous = slot
        else:
            parts.append(f"{start}-{previous}" if previous != start else f"{start}")
            start = previous = slot
    if start is not None:
        parts.append(f"{start}-{previous}" if previous != start else f"{start}")
    return ",".join(parts) if parts else "(none)"


def ranges_of(slots) -> list:
    """Sorted slot numbers as [(first, last), ...] runs."""
    runs = []
    for slot in sorted(slots):
        if runs and runs[-1][1] == slot - 1:
            runs[-1] = (runs[-1][0], slot)
        else:
            runs.append((slot, slot))
    return runs


def scaled_layout(held: dict, shards: int) -> dict:
    """The bed's own reading of the layout rule (ARCHITECTURE.md, "Scaling shards"), written
    apart from the binary's: `held` maps shard -> the slots it serves; returns shard -> the
    slots it should serve with `shards` shards. Each shard keeps its lowest slots up to the
    size of its creation range; the rest, and every slot of a shard at or above `shards`, go
    in slot order to the shards below that size, in shard order."""
    quota = {s: shard_slot_range(s, shards)[1] - shard_slot_range(s, shards)[0] + 1
             for s in range(shards)}
    target = {s: [] for s in range(shards)}
    pool = []
    for shard, slots in held.items():
        ordered = sorted(slots)
        keep = quota.get(shard, 0)
        if shard < shards:
            target[shard] = ordered[:keep]
        pool += ordered[keep:] if shard < shards else ordered
    pool.sort()
    for shard in range(shards):
        wanted = quota[shard] - len(target[shard])
        target[shard] += pool[:wanted]
        pool = pool[wanted:]
    return {s: sorted(v) for s, v in target.items()}


def creation_slots(shards: int) -> dict:
    """shard -> the slots of its creation range: what a cluster of `shards` serves as created."""
    return {s: range(shard_slot_range(s, shards)[0], shard_slot_range(s, shards)[1] + 1) for s in range(shards)}


def layout_ranges(target: dict) -> dict:
    """shard -> slots (scaled_layout's result) as shard -> [(first, last), ...] runs: a
    Cluster's `layout`, which check_cluster compares the masters against."""
    return {s: ranges_of(slots) for s, slots in target.items()}
