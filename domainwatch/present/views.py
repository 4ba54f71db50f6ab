"""The stored state of a domain as a plain dict: what `status --format json` prints and what the
JSON API serves (one shape for both, so they always tell the same truth)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from domainwatch.checks.registry import facts_of, kind_of
from domainwatch.config.plan import DomainPlan
from domainwatch.model import Remediation
from domainwatch.present.compliance import verdicts, views
from domainwatch.present.report import remove_lines, zone_line
from domainwatch.state.domain import DomainTrack, RecordSpec, is_stale, window_deadline
from domainwatch.state.events import Event
from domainwatch.state.rules import RecordTrack
from domainwatch.store.base import Delivery


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z, to the second: what people and Grafana read."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def event_view(event: Event) -> dict[str, Any]:
    """One history entry as the API and the MCP tools show it."""
    return {
        "id": event.id,
        "domain": event.domain,
        "sequence": event.sequence,
        "kind": event.kind,
        "subject": event.subject,
        "previous": event.previous,
        "status": event.status,
        "at": iso(event.at),
        "reason": event.reason,
        "observations": event.observations,
    }


def summary_view(track: DomainTrack, plan: DomainPlan) -> dict[str, Any]:
    """A domain in a row of the overview: its statuses and times, not its records (a page of
    them is read without a result each); the domain view adds the records."""
    return {
        "name": track.name,
        "source": plan.source,
        "labels": dict(plan.config.labels),
        "status": track.status.value,
        "status_since": iso(track.since),
        "window_deadline": iso(window_deadline(track, plan.specs, plan.rules)),
        "stale": is_stale(track, plan.specs),
        "checked_at": iso(track.checked_at),
        "capabilities": {name: status.value for name, status in track.capabilities.items()},
    }


def domain_view(
    track: DomainTrack, plan: DomainPlan, results: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """A domain's status, capabilities and records, with each record's last observation and
    what to publish for it."""
    specs = plan.specs
    publish = plan.to_publish()
    view: dict[str, Any] = {
        **summary_view(track, plan),
        "records": [
            record_view(
                spec,
                track.records.get(spec.record, RecordTrack()),
                results.get(spec.record, {}),
                expect.name,
                publish[spec.record],
            )
            for spec, expect in zip(specs, plan.expectations, strict=True)
        ],
    }
    if plan.compliance:
        statuses = {spec.record: track.records.get(spec.record, RecordTrack()).status for spec in specs}
        view["compliance"] = views(verdicts(plan.compliance, statuses, facts_of(results)))
    return view


def record_view(
    spec: RecordSpec,
    record: RecordTrack,
    result: Mapping[str, Any],
    host: str,
    publish: tuple[Remediation, ...],
) -> dict[str, Any]:
    """One record: its state, the last result, and `zone_line`, the zone-file line(s) to publish
    (one per line; None when the expectation names no value, as for a DKIM selector alone)."""
    view: dict[str, Any] = {
        "record": spec.record,
        "status": record.status.value,
        "state": result.get("state"),
        "required": spec.capability is not None,
        "capability": spec.capability,
        "name": result.get("name", host),
        "type": result.get("type", publish[0].type if publish else kind_of(spec.record).rdtype),
        "expected": result.get("expected", _expected(publish)),
        "zone_line": "\n".join(zone_line(fix.as_dict()) for fix in publish) or None,
        "publish": [fix.as_dict() for fix in publish],
        "value_from_provider": any(fix.from_provider for fix in publish),
        "remove": removals(result.get("findings", [])),
        "found": result.get("found", []),
        "findings": result.get("findings", []),
        "status_since": iso(record.since),
        "started_at": iso(record.started_at),
        "missing_since": iso(record.missing_since),
        "consecutive_misses": record.misses,
        "stale": record.stale,
        "checked_at": iso(record.checked_at),
    }
    zone = (result.get("facts") or {}).get("zone")
    if isinstance(zone, str) and zone:  # a missing record's zone, as its negative answer named it
        view["zone"] = zone
    if "nameservers" in result:
        view["nameservers"] = result["nameservers"]
    if "addresses" in result:  # a probed record: each address's outcome
        view["addresses"] = result["addresses"]
    dnssec = _dnssec(result.get("facts") or {})
    if dnssec is not None:
        view["dnssec"] = dnssec
    return view


def removals(findings: Sequence[Mapping[str, Any]]) -> list[str]:
    """The zone-file lines the record's fix deletes (a null MX, a host at the wrong priority),
    each once; published records to delete before `zone_line`'s are added."""
    lines = [
        line
        for finding in findings
        if isinstance(finding.get("remediation"), Mapping)
        for line in remove_lines(finding["remediation"])
    ]
    return list(dict.fromkeys(lines))


def _dnssec(facts: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the answers to the record's name said of DNSSEC: the resolver's AD bit, and when
    their signatures expire (docs/checks.md, DNSSEC); None when no answer was conclusive."""
    if "dnssec_validated" not in facts:
        return None
    expire = facts.get("signatures_expire")
    return {
        "validated": bool(facts["dnssec_validated"]),
        "signatures_expire": iso(datetime.fromtimestamp(expire, UTC)) if isinstance(expire, int) else None,
    }


def _expected(publish: tuple[Remediation, ...]) -> str | None:
    """The expected value as a check reports it (MX: "priority host, ..."), before any check."""
    if not publish:
        return None
    if publish[0].type == "MX":
        return ", ".join(f"{fix.priority} {fix.value}" for fix in publish)
    return publish[0].value


def delivery_view(delivery: Delivery) -> dict[str, Any]:
    """A webhook delivery as the API shows it."""
    return {
        "endpoint": delivery.endpoint,
        "event_id": delivery.event_id,
        "domain": delivery.domain,
        "sequence": delivery.sequence,
        "type": delivery.type,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "next_attempt_at": iso(delivery.next_attempt_at),
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": iso(delivery.created_at),
    }
