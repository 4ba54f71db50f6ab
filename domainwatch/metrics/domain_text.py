"""The per-domain metric families, written as exposition text and kept per domain.

prometheus_client builds and formats a Sample in Python for each of the ~25 series a domain has;
at 100k domains a scrape took 25 s (docs/performance.md). A domain's text depends only on its
track, plan and facts, which are immutable objects replaced on every change, so each domain's
text is formatted once per change and the scrape only joins strings. The output is the same
text format 0.0.4 that prometheus_client writes (same float formatting, same escaping).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client.utils import floatToGoString

from domainwatch.state.domain import DomainTrack, is_stale, window_deadline
from domainwatch.state.facts import SEVERITIES, DomainFacts
from domainwatch.state.rules import Status

if TYPE_CHECKING:
    from domainwatch.daemon.daemon import Daemon, DomainPlan

DMARC_POLICIES = ("none", "quarantine", "reject", "absent")

# (name, help), in the order they are written; the contract is docs/metrics.md.
FAMILIES: tuple[tuple[str, str], ...] = (
    ("domainwatch_domain_status", "1 for the domain's current status, 0 for the others"),
    ("domainwatch_capability_status", "The capability's current status (value 1)"),
    ("domainwatch_record_status", "The record's current status (value 1)"),
    ("domainwatch_domain_status_since_timestamp_seconds", "When the domain's current status began"),
    ("domainwatch_domain_last_check_timestamp_seconds", "When the domain was last checked"),
    (
        "domainwatch_domain_window_deadline_timestamp_seconds",
        "When a pending or temporarily failing domain becomes failed",
    ),
    ("domainwatch_domain_stale", "1 when the last observations of a required record were lookup errors"),
    ("domainwatch_domain_findings", "Current findings by severity"),
    ("domainwatch_spf_dns_lookups", "DNS-querying terms of the SPF record (limit 10)"),
    ("domainwatch_dkim_key_bits", "Size of the published DKIM key"),
    ("domainwatch_dmarc_policy", "1 for the effective DMARC policy"),
)


def _number(value: float) -> str:
    """Formatted as prometheus_client formats sample values (1.0, 1.7672256e+09, NaN)."""
    return floatToGoString(value)  # type: ignore[no-untyped-call,no-any-return]


def _flag(on: bool) -> str:
    return "1.0" if on else "0.0"


def escape(value: str) -> str:
    """A label value as the text format wants it (backslash, double quote, newline escaped)."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


@dataclass(frozen=True, slots=True)
class _Entry:
    track: DomainTrack
    plan: DomainPlan
    facts: DomainFacts | None
    lines: tuple[bytes, ...]  # one chunk per family, each ending in a newline or empty

    def matches(self, track: DomainTrack, plan: DomainPlan, facts: DomainFacts | None) -> bool:
        return self.track is track and self.plan is plan and self.facts is facts


class DomainText:
    """Renders the per-domain families of a daemon; keeps each domain's text until it changes.

    The chunks are kept per family in export order, so a scrape re-formats only the domains
    whose track, plan or facts object was replaced since the last one, and joins the rest as
    they are (at 100,000 domains, visiting every domain's entries took a second per scrape).
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._position: dict[str, int] = {}
        self._chunks: list[list[bytes]] = [[] for _ in FAMILIES]

    def render(self, daemon: Daemon) -> list[bytes]:
        """The families' text for every domain the daemon exports, in pieces to join once (at
        100,000 domains the text is over 200 MB: every copy of it costs a tenth of a second)."""
        changed = self._changed(daemon)
        if changed is None:
            self._rebuild(daemon)
        else:
            for name in changed:
                self._refresh(name, daemon)
        out = []
        for (metric, help_text), family in zip(FAMILIES, self._chunks, strict=True):
            out.append(f"# HELP {metric} {help_text}\n# TYPE {metric} gauge\n".encode())
            out.extend(family)
        return out

    def _changed(self, daemon: Daemon) -> list[str] | None:
        """The exported domains whose text may differ; None when domains came, went or moved."""
        entries, plans, facts, position = self._entries, daemon.plans, daemon.facts, self._position
        changed: list[str] = []
        exported = 0
        for name, track in daemon.tracks.items():
            plan = plans.get(name)
            if plan is None:
                continue
            entry = entries.get(name)
            if entry is None or position[name] != exported:
                return None
            exported += 1
            if not entry.matches(track, plan, facts.get(name)):
                changed.append(name)
        return changed if exported == len(entries) else None

    def _refresh(self, name: str, daemon: Daemon) -> None:
        entry = self._entry(name, daemon.tracks[name], daemon.plans[name], daemon.facts.get(name))
        self._entries[name] = entry
        position = self._position[name]
        for family, text in zip(self._chunks, entry.lines, strict=True):
            family[position] = text

    def _rebuild(self, daemon: Daemon) -> None:
        entries: dict[str, _Entry] = {}
        for name, track in daemon.tracks.items():
            plan = daemon.plans.get(name)
            if plan is not None:
                entries[name] = self._entry(name, track, plan, daemon.facts.get(name))
        self._entries = entries  # domains that went away are forgotten
        self._position = {name: position for position, name in enumerate(entries)}
        self._chunks = [
            list(family) for family in zip(*(e.lines for e in entries.values()), strict=True)
        ] or [[] for _ in FAMILIES]

    def _entry(self, name: str, track: DomainTrack, plan: DomainPlan, facts: DomainFacts | None) -> _Entry:
        """The domain's kept entry while it still matches, else a new one (reusing what holds)."""
        entry = self._entries.get(name)
        if entry is not None and entry.matches(track, plan, facts):
            return entry
        before = entry.lines if entry is not None and _same_shown(entry, track, plan, facts) else None
        return _Entry(track, plan, facts, domain_lines(name, track, plan, facts, before))


def _same_shown(entry: _Entry, track: DomainTrack, plan: DomainPlan, facts: DomainFacts | None) -> bool:
    """Whether the entry's status, capability, record and fact chunks still hold: usual after a
    check that changed nothing but the time (its track and facts are new, equal objects)."""
    old = entry.track
    return (
        entry.plan is plan
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
    plan: DomainPlan,
    facts: DomainFacts | None,
    before: tuple[bytes, ...] | None = None,
) -> tuple[bytes, ...]:
    """One domain's samples, one chunk per entry of FAMILIES (pure). `before`: the chunks of a
    state that shows the same statuses, since and facts, reused instead of formatted again."""
    domain = f'domain="{escape(name)}"'
    deadline = window_deadline(track, plan.specs, plan.rules)
    stale = _flag(is_stale(track, plan.specs))
    timely = (
        _single("domainwatch_domain_last_check_timestamp_seconds", domain, track.checked_at).encode(),
        _single("domainwatch_domain_window_deadline_timestamp_seconds", domain, deadline).encode(),
        f"domainwatch_domain_stale{{{domain}}} {stale}\n".encode(),
    )
    if before is not None:
        return (*before[:4], *timely, *before[7:])
    status = "".join(
        f'domainwatch_domain_status{{{domain},status="{value.value}"}} {_flag(value is track.status)}\n'
        for value in Status
    )
    capability = "".join(
        f'domainwatch_capability_status{{{domain},capability="{cap}",status="{s.value}"}} 1.0\n'
        for cap, s in track.capabilities.items()
    )
    record = "".join(
        f'domainwatch_record_status{{{domain},record="{escape(rid)}",status="{r.status.value}"}} 1.0\n'
        for rid, r in track.records.items()
    )
    since = _single("domainwatch_domain_status_since_timestamp_seconds", domain, track.since)
    texts = (status, capability, record, since, *_fact_lines(domain, facts))
    encoded = tuple(text.encode() for text in texts)
    return (*encoded[:4], *timely, *encoded[4:])


def _single(metric: str, domain: str, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return f"{metric}{{{domain}}} {_number(moment.timestamp())}\n"


def _fact_lines(domain: str, facts: DomainFacts | None) -> tuple[str, str, str, str]:
    if facts is None:
        return "", "", "", ""
    findings = "".join(
        f'domainwatch_domain_findings{{{domain},severity="{severity}"}} '
        f"{_number(facts.findings.get(severity, 0))}\n"
        for severity in SEVERITIES
    )
    spf = (
        ""
        if facts.spf_dns_lookups is None
        else f"domainwatch_spf_dns_lookups{{{domain}}} {_number(facts.spf_dns_lookups)}\n"
    )
    dkim = "".join(
        f'domainwatch_dkim_key_bits{{{domain},selector="{escape(selector)}"}} {_number(bits)}\n'
        for selector, bits in facts.dkim_key_bits.items()
    )
    dmarc = (
        ""
        if facts.dmarc_policy is None
        else "".join(
            f'domainwatch_dmarc_policy{{{domain},policy="{p}"}} {_flag(p == facts.dmarc_policy)}\n'
            for p in DMARC_POLICIES
        )
    )
    return findings, spf, dkim, dmarc
