"""Random ids from the pooled CSPRNG: DNS query ids and time-ordered event ids."""

from __future__ import annotations

import uuid

from domainwatch.runtime.entropy import RandomPool


def test_event_ids_are_version_7_uuids_ordered_by_time() -> None:
    pool = RandomPool()
    ids = [pool.uuid7_hex(1_700_000_000_000 + n) for n in range(3)]
    parsed = [uuid.UUID(hex=i) for i in ids]
    assert {u.version for u in parsed} == {7}
    assert {u.variant for u in parsed} == {uuid.RFC_4122}
    assert [int(i[:12], 16) for i in ids] == [1_700_000_000_000 + n for n in range(3)]
    assert ids == sorted(ids)


def test_ids_in_the_same_millisecond_differ() -> None:
    pool = RandomPool()
    assert len({pool.uuid7_hex(1) for _ in range(10_000)}) == 10_000


def test_words_cover_the_sixteen_bit_range_across_refills() -> None:
    pool = RandomPool()
    words = [pool.word() for _ in range(20_000)]  # ten refills of the pool
    assert all(0 <= w < 65536 for w in words)
    assert len(set(words)) > 10_000
