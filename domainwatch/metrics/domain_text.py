"""The per-domain metric families, written as exposition text and kept deflated between scrapes.

prometheus_client builds and formats a Sample in Python for each of the ~25 series a domain has;
at 100k domains a scrape took 25 s (docs/performance.md). So each domain's text is formatted
when the fleet's owner says the domain changed (FleetListener), and a scrape only joins the
kept segments. The families and how a domain's samples are written: metrics/families.py.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass

from domainwatch.metrics.deflated import EMPTY, Segment, deflate, spliced
from domainwatch.metrics.families import FAMILIES, TIMELY, domain_lines
from domainwatch.metrics.selection import Selection
from domainwatch.state.domain import DomainTrack
from domainwatch.state.facts import DomainFacts
from domainwatch.state.fleet import FleetView, Shape

_HEADERS = tuple(deflate(f"# HELP {f.name} {f.help}\n# TYPE {f.name} gauge\n".encode()) for f in FAMILIES)
_ALL = tuple(True for _ in FAMILIES)
# Domains per kept segment. A change inflates, splices and deflates its block's segment of each
# family it touches: about 0.6 ms for the largest family's block (280 KB of text, 12 KB
# deflated), 0.1 ms for a block of check times. Larger blocks compress a little better.
BLOCK = 512


@dataclass(frozen=True, slots=True)
class _Entry:
    """What a domain's text was formatted from."""

    track: DomainTrack
    shape: Shape
    facts: DomainFacts | None


@dataclass(slots=True)
class _Block:
    """One family's text for a block of domains, deflated, and each domain's share of it."""

    segment: Segment
    lengths: array[int]


class DomainText:
    """The per-domain families of a fleet, kept between scrapes deflated (deflated.py): at
    100,000 domains the text is over 200 MB, its segments about 10 MB.

    Domains are laid out in blocks of BLOCK; a block's text is kept per family in export order.
    A scrape formats again only the domains the fleet's owner said changed (domains_changed),
    splicing them into their blocks, and everything after fleet_changed.
    """

    def __init__(self, block: int = BLOCK) -> None:
        self._size = block
        self._on = _ALL  # the families exported (metrics.allow, .deny)
        self._owners: tuple[str, ...] = ()  # metrics.labels_allow
        self._headers = _HEADERS
        self._entries: dict[str, _Entry] = {}
        self._names: list[str] = []  # in the order of their text
        self._position: dict[str, int] = {}
        self._blocks: list[list[_Block] | None] = []  # None: not formatted yet
        self._dirty: set[str] = set()
        self._stale = True  # laid out for another fleet, or not yet

    def select(self, selection: Selection) -> None:
        """Export only the families the selection allows (each domain is formatted again)."""
        self._on = tuple(selection.exports(f.name) for f in FAMILIES)
        self._owners = selection.labels
        self._headers = tuple(h if on else EMPTY for h, on in zip(_HEADERS, self._on, strict=True))
        self._stale = True

    def domains_changed(self, names: Iterable[str]) -> None:
        self._dirty.update(names)

    def fleet_changed(self) -> None:
        self._stale = True

    def warm(self, fleet: FleetView, domains: int) -> bool:
        """Format blocks of about `domains` domains in all ahead of the next render, which then
        only gathers them (the first scrape after a start would otherwise format every domain
        at once). True once every block is formatted."""
        if self._stale:
            self._lay_out(fleet)
        budget = max(1, domains // self._size)
        for b, blocks in enumerate(self._blocks):
            if blocks is None:
                if not budget:
                    return False
                self._format_block(b, fleet)
                budget -= 1
                if self._stale:
                    return False  # a domain went away meanwhile: laid out anew next time
        return True

    def render(self, fleet: FleetView) -> list[Segment]:
        """The families' text for every domain the fleet exports, as segments in order."""
        while not self.settle(fleet, len(self._names) + len(self._dirty) + self._size):
            pass  # until laid out for this fleet and formatted whole
        return self.gather()

    def settle(self, fleet: FleetView, domains: int) -> bool:
        """About `domains` domains' worth of the formatting still to do: the changed domains
        spliced in, then any block not formatted (after a start, a reload, a domain added).
        True once nothing is left."""
        if self._dirty and not self._stale:
            if any(n not in self._position and n in fleet.plans for n in self._dirty):
                self._stale = True  # a domain to add: laid out anew, which formats every one
            else:
                batch = [self._dirty.pop() for _ in range(min(domains, len(self._dirty)))]
                self._refresh(batch, fleet)
                if self._dirty:
                    return False
        if self._stale:
            self._dirty.clear()  # every domain is formatted from the state of its moment
        return self.warm(fleet, domains)

    @property
    def settled(self) -> bool:
        """Every exported domain's text is its current one."""
        return not self._dirty and self.complete

    @property
    def complete(self) -> bool:
        """Every exported domain has its text (some may be a few changes behind)."""
        return not self._stale and all(blocks is not None for blocks in self._blocks)

    def gather(self) -> list[Segment]:
        """The text as it stands, as segments in export order (complete only when `complete`)."""
        out = []
        for f, (header, on) in enumerate(zip(self._headers, self._on, strict=True)):
            if on:
                out.append(header)
                out += [blocks[f].segment for blocks in self._blocks if blocks is not None]
        return out

    def _lay_out(self, fleet: FleetView) -> None:
        self._stale = False
        self._names = [name for name in fleet.tracks if name in fleet.plans]
        self._position = {name: position for position, name in enumerate(self._names)}
        self._blocks = [None] * -(-len(self._names) // self._size)
        self._entries = {}  # domains that went away are forgotten

    def _format_block(self, b: int, fleet: FleetView) -> None:
        lines = []
        for name in self._names[b * self._size : (b + 1) * self._size]:
            track, shape, facts = fleet.tracks.get(name), fleet.plans.get(name), fleet.facts.get(name)
            if track is None or shape is None:
                self._stale = True  # it went away since the layout
                return
            self._entries[name] = _Entry(track, shape, facts)
            lines.append(domain_lines(name, track, shape, facts, on=self._on, owners=self._owners))
        self._blocks[b] = [
            _Block(deflate(b"".join(family)), array("I", map(len, family)))
            for family in zip(*lines, strict=True)
        ]

    def _refresh(self, dirty: Iterable[str], fleet: FleetView) -> None:
        """Splice the changed domains' new text into their formatted blocks."""
        changes: dict[tuple[int, int], dict[int, bytes]] = {}
        for name in dirty:
            position = self._position.get(name)
            if position is None:
                continue  # not exported, then or now
            b, slot = divmod(position, self._size)
            if self._blocks[b] is None:
                continue  # formatted from the state of the moment when it is
            track, shape, facts = fleet.tracks.get(name), fleet.plans.get(name), fleet.facts.get(name)
            if shape is None or track is None:
                self._stale = True  # it went away
                return
            entry = self._entries[name]
            if entry.track is track and entry.shape is shape and entry.facts is facts:
                continue
            timely_only = _same_shown(entry, track, shape, facts)
            self._entries[name] = _Entry(track, shape, facts)
            lines = domain_lines(
                name, track, shape, facts, on=self._on, timely_only=timely_only, owners=self._owners
            )
            for f, line in enumerate(lines):
                if self._on[f] and (TIMELY[f] or not timely_only):
                    changes.setdefault((b, f), {})[slot] = line
        for (b, f), pieces in changes.items():
            block = self._blocks[b][f]  # type: ignore[index]
            block.segment = spliced(block.segment, block.lengths, pieces)


def _same_shown(entry: _Entry, track: DomainTrack, shape: Shape, facts: DomainFacts | None) -> bool:
    """Whether the entry's status, capability, record and fact chunks still hold: usual after a
    check that changed nothing but the time (its track and facts are new, equal objects)."""
    old = entry.track
    return (
        entry.shape is shape
        and old.status is track.status
        and old.since == track.since
        and old.capabilities == track.capabilities
        and [(k, r.status) for k, r in old.records.items()]
        == [(k, r.status) for k, r in track.records.items()]
        and entry.facts == facts
    )
