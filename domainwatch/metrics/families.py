"""The per-domain metric families (pure): each family's name, help and how one domain's samples
are written, as exposition text 0.0.4 the way prometheus_client writes it (same float
formatting, same escaping; tests/integration/test_metrics.py round-trips it). The contract is
docs/metrics.md; metrics/domain_text.py keeps the text of a fleet between scrapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.utils import floatToGoString

from domainwatch.checks.base import FactMetric
from domainwatch.checks.registry import KINDS
from domainwatch.present.compliance import NOT_CHECKABLE, PASS, verdicts
from domainwatch.state.domain import DomainTrack, is_stale, window_deadline
from domainwatch.state.facts import SEVERITIES, DomainFacts
from domainwatch.state.fleet import Shape
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


def _weakened(d: _Domain) -> str:
    """When each record's last weakening change was seen (records that never weakened: none)."""
    name = "domainwatch_record_weakened_timestamp_seconds"
    return "".join(
        f'{name}{{{d.label},record="{escape(rid)}"}} {_number(drift.weakened_at.timestamp())}\n'
        for rid, drift in d.track.drift.items()
        if drift.weakened_at is not None
    )


def _key_first_seen(d: _Domain) -> str:
    """When each published DKIM key (one with a known size) was first seen."""
    name = "domainwatch_dkim_key_first_seen_timestamp_seconds"
    held = d.facts.records if d.facts is not None else {}
    return "".join(
        f'{name}{{{d.label},selector="{escape(rid.partition(":")[2])}"}} {_number(drift.since.timestamp())}\n'
        for rid, drift in d.track.drift.items()
        if drift.since is not None and rid.startswith("dkim:") and "dkim_key_bits" in held.get(rid, {})
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
    Family(
        "domainwatch_record_weakened_timestamp_seconds",
        "When the record's last weakening change was seen (record.changed, direction weakening or mixed)",
        _weakened,
        timely=True,
    ),
    Family(
        "domainwatch_dkim_key_first_seen_timestamp_seconds",
        "When the DKIM key now published at the selector was first seen",
        _key_first_seen,
        timely=True,
    ),
    *(_fact_family(kind.name, metric) for kind in KINDS for metric in kind.metrics),
)
TIMELY = tuple(f.timely for f in FAMILIES)
_ALL = tuple(True for _ in FAMILIES)


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
        for family, timely, shown in zip(FAMILIES, TIMELY, on or _ALL, strict=True)
    )
