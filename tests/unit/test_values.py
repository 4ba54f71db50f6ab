"""Values users write: the domain-name check's fast path agrees with its label-by-label path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domainwatch.values import check_domain_name, checked_name, parse_since

_LABELISH = st.text(alphabet="aZ09_-.*é ", max_size=70)


def _outcome(check: Callable[[str], str], text: str) -> str:
    try:
        return "accepted " + check(text)
    except ValueError as exc:
        return f"refused: {exc}"


@given(st.lists(_LABELISH, min_size=1, max_size=5).map(".".join))
def test_a_domain_name_is_checked_in_one_match_as_label_by_label(text: str) -> None:
    """The single-match fast path accepts only what the label-by-label check accepts unchanged."""
    name = text.strip().rstrip(".").lower()
    assert _outcome(check_domain_name, text) == _outcome(checked_name, name)


def test_long_names_go_label_by_label() -> None:
    name = ".".join(["a" * 63] * 4)  # 255 octets: each label valid, the name too long
    with pytest.raises(ValueError, match="longer than 253"):
        check_domain_name(name)


def test_names_are_remembered_by_their_normal_text() -> None:
    """One string for equal names, and no input's padding kept as a key of the memory."""
    first = check_domain_name("Mx.Provider.Example.")
    padded = check_domain_name(" " * 60_000 + "mx.provider.example")
    assert first == "mx.provider.example"
    assert padded is first


def test_since_takes_a_duration_back_from_now_or_a_time() -> None:
    """`export --since 24h` as well as `--since 2026-11-26T12:00:00Z`."""
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert datetime(2026, 12, 6, 12, 0, tzinfo=UTC) == parse_since("24h", now)
    assert datetime(2026, 11, 26, 12, 0, tzinfo=UTC) == parse_since("2026-11-26T12:00:00Z", now)
    with pytest.raises(ValueError, match="neither a duration"):
        parse_since("yesterday", now)
