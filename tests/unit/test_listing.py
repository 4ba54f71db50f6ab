"""Keyset pages (service/filters.py): walking a sort by cursors, either way, shows every domain
once and in order, as one sorted list would; a cursor is refused for another sort or order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domainwatch.service.filters import Key, Page, cursor_of, page_of, read_cursor

keys = st.lists(
    st.tuples(st.integers(0, 1), st.floats(0, 2e9, allow_nan=False), st.text("abc.", min_size=1, max_size=6)),
    unique_by=lambda key: key[2],
    max_size=60,
)


def walk(entries: list[Key], order: str, limit: int) -> list[str]:
    shown: list[str] = []
    page = Page("status_since", order, limit)
    for _ in range(len(entries) + 2):
        names, last = page_of(entries, page)
        shown += names
        if last is None:
            return shown
        page = Page(
            "status_since", order, limit, 0, read_cursor(cursor_of(page, last), "status_since", order)
        )
    raise AssertionError("the walk did not end")


@given(keys, st.integers(1, 7), st.sampled_from(["asc", "desc"]))
def test_walking_by_cursor_shows_each_domain_once_in_order(raw: list[Key], limit: int, order: str) -> None:
    expected = [key[2] for key in sorted(raw)]
    assert (expected if order == "asc" else expected[::-1]) == walk(raw, order, limit)


def test_offset_pages_agree_with_cursor_pages() -> None:
    entries = [(0, float(n % 3), f"d{n:02}") for n in range(10)]
    first, _ = page_of(entries, Page(limit=4))
    second, _ = page_of(entries, Page(limit=4, offset=4))
    assert [key[2] for key in sorted(entries)][:8] == first + second


@pytest.mark.parametrize("text", ["not base64!", "W10", cursor_of(Page("name", "asc"), (0, "", "a"))])
def test_a_foreign_cursor_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"cursor|sort"):
        read_cursor(text, "status", "asc")
