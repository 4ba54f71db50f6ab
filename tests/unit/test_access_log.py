"""Which denials the access log writes (DenialLimiter, pure); the log itself is proven over
real HTTP in tests/integration/test_access_log.py."""

from __future__ import annotations

from domainwatch.web.access import DENIALS_LOGGED, DenialLimiter


def test_ten_denials_a_minute_are_logged_then_one_summary() -> None:
    limiter = DenialLimiter()
    written = [limiter.admit("192.0.2.1", t * 0.1)[1] for t in range(25)]
    assert [True] * DENIALS_LOGGED + [False] * 15 == written
    assert limiter.admit("198.51.100.7", 3.0)[1]  # another address has its own budget
    assert [("192.0.2.1", 15)] == limiter.expired(61.0)
    assert [] == limiter.expired(200.0)  # the other address hid nothing: no summary


def test_a_new_window_reports_the_hidden_count_of_the_last() -> None:
    limiter = DenialLimiter(per_window=1)
    limiter.admit("a", 0.0)
    limiter.admit("a", 1.0)
    limiter.admit("a", 2.0)
    assert ("a", True, 2) == limiter.admit("a", 61.0)
    assert [] == limiter.expired(62.0)  # reported once


def test_many_addresses_share_one_entry_beyond_the_bound() -> None:
    limiter = DenialLimiter(per_window=1, max_clients=2)
    limiter.admit("a", 0.0)
    limiter.admit("b", 0.0)
    assert ("others", True, 0) == limiter.admit("c", 0.0)
    assert ("others", False, 0) == limiter.admit("d", 0.0)
