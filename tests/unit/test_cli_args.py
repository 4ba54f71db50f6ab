"""The command line spells the list's choices itself (it imports nothing heavy at start-up):
they must be the service's."""

from __future__ import annotations

from domainwatch.cli import parser
from domainwatch.service import filters
from domainwatch.state.rules import Status


def test_the_list_choices_are_the_services() -> None:
    assert (filters.SORTS, filters.ORDERS, filters.CAPABILITIES) == (
        parser.SORTS,
        parser.ORDERS,
        parser.CAPABILITIES,
    )
    assert tuple(s.value for s in Status) == parser.STATUSES
