"""The per-domain metric families, written as exposition text and kept deflated between scrapes.

prometheus_client builds and formats a Sample in Python for each of the ~25 series a domain has;
at 100k domains a scrape took 25 s (docs/performance.md). So each domain's text is formatted
when the fleet's owner says the domain changed (FleetListener), and a scrape only joins the
kept segments. The output is the text format 0.0.4 that prometheus_client writes (same float
formatting, same escaping; tests/integration/test_metrics.py round-trips it).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.utils import floatToGoString

from domainwatch.checks.base import FactMetric
from domainwatch.checks.registry import KINDS
from domainwatch.metrics.deflated import EMPTY, Segment, deflate, spliced
from domainwatch.metrics.selection import Selection
from domainwatch.present.compliance import NOT_CHECKABLE, PASS, verdicts
from domainwatch.state.domain import DomainTrack, is_stale, window_deadline
from domainwatch.state.facts import SEVERITIES, DomainFacts
from domainwatch.state.fleet import FleetView, Shape
from domainwatch.state.rules import Status


@dataclass(frozen=True, slots=True)
class _Domain:
    """One domain as its families read it."""

    label: str  # domain="<name>", escaped
    track: DomainTrack
    shape: Shape
    facts: DomainFacts | None
    owners: tuple[str, ...]  # the label keys exported (metrics.labels_allow)


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    help: str
    samples: Callable[[_Domain], str]  # the domain's lines of this family (pure)
    # Changes with every check (check time, deadline, staleness): formatted again whenever the
    # domain changes. The others are reused while the statuses and facts stay the same.
    timely: bool = False


def _number(value: float) -> str:
    """Formatted as prometheus_client formats sample values (1.0, 1.7672256e+09, NaN)."""
    return floatToGoString(value)  # type: ignore[no-untyped-call,no-any-return]


def _flag(on: bool) -> str:
    return "1.0" if on else "0.0"


def escape(value: str) -> str:
    """A label value as the text format wants it (backslash, double quote, newline escaped)."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _timestamp(metric: str, when: Callable[[_Domain], datetime | None]) -> Callable[[_Domain], str]:
    def samples(d: _Domain) -> str:
        moment = when(d)
        return "" if moment is None else f"{metric}{{{d.label}}} {_number(moment.timestamp())}\n"

    return samples


def _domain_status(d: _Domain) -> str:
    return "".join(
        f'domainwatch_domain_status{{{d.label},status="{value.value}"}} {_flag(value is d.track.status)}\n'
        for value in Status
    )


def _capability_status(d: _Domain) -> str:
    return "".join(
        f'domainwatch_capability_status{{{d.label},capability="{cap}",status="{s.value}"}} 1.0\n'
        for cap, s in d.track.capabilities.items()
    )


def _record_status(d: _Domain) -> str:
    return "".join(
        f'domainwatch_record_status{{{d.label},record="{escape(rid)}",status="{r.status.value}"}} 1.0\n'
        for rid, r in d.track.records.items()
    )


def _owner_labels(d: _Domain) -> str:
    """One series a domain, as kube-state-metrics' kube_pod_labels: its allowed labels as
    label_<key>, so a rule joins them on `domain`. Written for every domain (a join must not
    drop the domains without labels), and only when some key is allowed."""
    if not d.owners:
        return ""
    own = d.shape.labels
    pairs = "".join(f',label_{key}="{escape(own[key])}"' for key in d.owners if key in own)
    return f"domainwatch_domain_labels{{{d.label}{pairs}}} 1.0\n"


def _compliance(d: _Domain) -> str:
    """1 for a rule passed, 0 failed; rules DNS cannot show are absent."""
    if not d.shape.compliance:
        return ""
    statuses = {
        s.record: d.track.records[s.record].status for s in d.shape.specs if s.record in d.track.records
    }
    name = "domainwatch_compliance_rule"
    return "".join(
        f'{name}{{{d.label},provider="{v.provider}",rule="{v.rule}"}} {_flag(v.result == PASS)}\n'
        for v in verdicts(d.shape.compliance, statuses, d.facts)
        if v.result != NOT_CHECKABLE
    )


def _stale(d: _Domain) -> str:
    return f"domainwatch_domain_stale{{{d.label}}} {_flag(is_stale(d.track, d.shape.specs))}\n"


def _findings(d: _Domain) -> str:
    if d.facts is None:
        return ""
    return "".join(
        f'domainwatch_domain_findings{{{d.label},severity="{severity}"}} '
        f"{_number(d.facts.findings.get(severity, 0))}\n"
        for severity in SEVERITIES
    )


def _signatures_expire(d: _Domain) -> str:
    if d.facts is None:
        return ""
    expiries = [
        value
        for facts in d.facts.records.values()
        if isinstance(value := facts.get("signatures_expire"), int) and value > 0
    ]
    return (
        f"domainwatch_domain_signatures_expire_timestamp_seconds{{{d.label}}} {_number(min(expiries))}\n"
        if expiries
        else ""
    )


def _fact_family(kind: str, metric: FactMetric) -> Family:
    """A kind's fact as a family: one sample per record of the kind holding the fact."""

    def samples(d: _Domain) -> str:
        if d.facts is None:
            return ""
        out = []
        for record, facts in d.facts.records.items():
            value = facts.get(metric.fact)
            if value is None or record.partition(":")[0] != kind:
                continue
            labels = d.label
            if metric.label is not None:
                labels += f',{metric.label}="{escape(record.partition(":")[2])}"'
            if metric.info is not None:
                out.append(f'{metric.name}{{{labels},{metric.info}="{escape(str(value))}"}} 1.0\n')
                continue
            if metric.one_hot is None:
                if isinstance(value, int):
                    out.append(f"{metric.name}{{{labels}}} {_number(value)}\n")
                continue
            name, values = metric.one_hot
            out += [f'{metric.name}{{{labels},{name}="{v}"}} {_flag(v == value)}\n' for v in values]
        return "".join(out)

    return Family(metric.name, metric.help, samples)


# In the order they are written; the contract is docs/metrics.md.
FAMILIES: tuple[Family, ...] = (
    Family(
        "domainwatch_domain_status", "1 for the domain's current status, 0 for the others", _domain_status
    ),
    Family("domainwatch_capability_status", "The capability's current status (value 1)", _capability_status),
    Family("domainwatch_record_status", "The record's current status (value 1)", _record_status),
    Family(
        "domainwatch_domain_status_since_timestamp_seconds",
        "When the domain's current status began",
        _timestamp("domainwatch_domain_status_since_timestamp_seconds", lambda d: d.track.since),
    ),
    Family(
        "domainwatch_domain_last_check_timestamp_seconds",
        "When the domain was last checked",
        _timestamp("domainwatch_domain_last_check_timestamp_seconds", lambda d: d.track.checked_at),
        timely=True,
    ),
    Family(
        "domainwatch_domain_last_verified_timestamp_seconds",
        "The last moment the domain was verified (absent if it never was)",
        _timestamp("domainwatch_domain_last_verified_timestamp_seconds", lambda d: d.track.verified_at),
        timely=True,
    ),
    Family(
        "domainwatch_domain_window_deadline_timestamp_seconds",
        "When a pending or temporarily failing domain becomes failed",
        _timestamp(
            "domainwatch_domain_window_deadline_timestamp_seconds",
            lambda d: window_deadline(d.track, d.shape.specs, d.shape.rules),
        ),
        timely=True,
    ),
    Family(
        "domainwatch_domain_stale",
        "1 when the last observations of a required record were lookup errors",
        _stale,
        timely=True,
    ),
    Family("domainwatch_domain_findings", "Current findings by severity", _findings),
    Family(
        "domainwatch_compliance_rule",
        "1 when the domain passes the bulk-sender rule (compliance:), 0 when not; absent when not in DNS",
        _compliance,
    ),
    Family(
        "domainwatch_domain_labels",
        "The domain's owner labels listed in metrics.labels_allow, as label_<key> (value 1)",
        _owner_labels,
    ),
    Family(
        "domainwatch_domain_signatures_expire_timestamp_seconds",
        "The earliest expiry of the DNSSEC signatures on the domain's records (signed zones only)",
        _signatures_expire,
    ),
    *(_fact_family(kind.name, metric) for kind in KINDS for metric in kind.metrics),
)
_HEADERS = tuple(deflate(f"# HELP {f.name} {f.help}\n# TYPE {f.name} gauge\n".encode()) for f in FAMILIES)
_TIMELY = tuple(f.timely for f in FAMILIES)
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
        dirty, self._dirty = self._dirty, set()
        if any(n not in self._position and n in fleet.plans for n in dirty):
            self._stale = True  # a domain to add: laid out anew
        if not self._stale:
            self._refresh(dirty, fleet)
        while not self.warm(fleet, len(self._names) + self._size):
            pass  # until laid out for this fleet and formatted whole
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
                if self._on[f] and (_TIMELY[f] or not timely_only):
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


def domain_lines(
    name: str,
    track: DomainTrack,
    shape: Shape,
    facts: DomainFacts | None,
    *,
    on: tuple[bool, ...] | None = None,
    timely_only: bool = False,
    owners: tuple[str, ...] = (),
) -> tuple[bytes, ...]:
    """One domain's samples, one chunk per entry of FAMILIES (pure; empty for a family not
    exported, `on`, and with `timely_only` for every family but those that change with each
    check)."""
    domain = _Domain(f'domain="{escape(name)}"', track, shape, facts, owners)
    return tuple(
        family.samples(domain).encode() if shown and (timely or not timely_only) else b""
        for family, timely, shown in zip(FAMILIES, _TIMELY, on or _ALL, strict=True)
    )
