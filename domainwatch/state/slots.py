"""How a clustered fleet is split (pure; docs/ha.md): 1,024 hash slots over the lower-case name,
and each live replica's fair share of them.

A slot is Prometheus' hashmod of the name modulo 1,024 (the last 8 bytes of the MD5, big-endian),
as the SQLite shards are, so placement can be predicted with the tools operators already have;
the store computes the same function in SQL (`domainwatch_slot`) to find a slot's deliveries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

SLOTS = 1024


def hashmod(name: str, modulus: int) -> int:
    digest = hashlib.md5(name.lower().encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % modulus


def slot_of(name: str) -> int:
    return hashmod(name, SLOTS)


def fair_share(replica: str, live: Sequence[str]) -> int:
    """How many slots `replica` should hold among the `live` ones: an equal share, the first
    1,024 mod n replicas in name order one more (so the shares always sum to 1,024)."""
    ordered = sorted(set(live) | {replica})
    base, extra = divmod(SLOTS, len(ordered))
    return base + (1 if ordered.index(replica) < extra else 0)


def to_release(held: Sequence[int], share: int) -> list[int]:
    """The slots to give up when holding more than the share: the highest-numbered ones, so
    that replicas agree on nothing and release nothing twice."""
    return sorted(held)[share:] if len(held) > share else []
