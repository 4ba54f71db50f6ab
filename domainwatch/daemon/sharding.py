"""Which replica owns a domain: Prometheus' hashmod over the lower-cased name (pure).

The same function as `hashmod` in Prometheus relabelling and kube-state-metrics' sharding
(the last 8 bytes of the MD5, big-endian, modulo the shard count), so operators can predict
placement with the tools they already have.
"""

from __future__ import annotations

import hashlib


def shard_of(name: str, total_shards: int) -> int:
    digest = hashlib.md5(name.lower().encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % total_shards


def owns(name: str, shard: int, total_shards: int) -> bool:
    return total_shards <= 1 or shard_of(name, total_shards) == shard
