"""Values users write: the domain-name check's fast path agrees with its label-by-label path."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domainwatch.values import check_domain_name, checked_name


_LABELISH = st.text(alphabet="aZ09_-.*é ", max_size=70)


@given(st.lists(_LABELISH, min_size=1, max_size=5).map(".".join))
def test_a_domain_name_is_checked_in_one_match_as_label_by_label(text: str) -> None:
    """The single-match fast path accepts only what the label-by-label check accepts unchanged."""
    name = text.strip().rstrip(".").lower()
    try:
        expected: str | Exception = checked_name(name)
    except ValueError as exc:
        expected = exc
    try:
        assert check_domain_name(text) == expected
    except ValueError as exc:
        assert isinstance(expected, ValueError) and str(exc) == str(expected)


def test_long_names_go_label_by_label() -> None:
    name = ".".join(["a" * 63] * 4)  # 255 octets: each label valid, the name too long
    with pytest.raises(ValueError, match="longer than 253"):
        check_domain_name(name)
