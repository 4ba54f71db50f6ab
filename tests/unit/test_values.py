"""Values users write: the domain-name check's fast path agrees with its label-by-label path."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domainwatch.values import check_domain_name, checked_name

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
