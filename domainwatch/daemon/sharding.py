"""Which replica owns a domain in a sharded (SQLite) fleet: Prometheus' hashmod over the
lower-cased name (pure).

The same function as `hashmod` in Prometheus relabelling and kube-state-metrics' sharding
(the last 8 bytes of the MD5, big-endian, modulo the shard count), so operators can predict
placement with the tools they already have. A clustered (PostgreSQL) fleet uses the same
function over 1,024 slots (state/slots.py).
"""

from __future__ import annotations

from domainwatch.state.slots import hashmod


def shard_of(name: str, total_shards: int) -> int:
    return hashmod(name, total_shards)


def owns(name: str, shard: int, total_shards: int) -> bool:
    return total_shards <= 1 or shard_of(name, total_shards) == shard
