"""Webhook bodies and signatures (pure): the Standard Webhooks form and the Alertmanager form."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from standardwebhooks.webhooks import Webhook

from domainwatch import __version__
from domainwatch.present.views import iso
from domainwatch.state.domain import Change
from domainwatch.state.drift import CHANGE
from domainwatch.state.events import Event

USER_AGENT = f"domainwatch/{__version__} (+https://github.com/domainwatch/domainwatch)"
FIRING = frozenset({"failed", "temporary_failure", "partially_failed"})
RESOLVED = frozenset({"verified"})
_RECORD_FIELDS = ("record", "name", "type", "status", "expected", "found", "findings")


def sends_webhook(event: Event) -> bool:
    """Whether an event has a webhook body: status changes of domains and records, and a
    domain's deletion. Capability changes are part of every domain.status_changed body and
    are not sent alone; creates, updates and takeovers show as the status changes they cause."""
    return _sent(event.kind, event.subject)


def sends_webhook_change(change: Change) -> bool:
    """Whether the event a change becomes has a webhook body (sends_webhook)."""
    return _sent(change.kind, change.subject)


def _sent(kind: str, subject: str) -> bool:
    return kind in ("domain", "record", CHANGE) or (kind == "lifecycle" and subject == "deleted")


def event_payload(
    event: Event, view: Mapping[str, Any], values: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Any] | None:
    """The standard body of an event, from the domain's view right after it (None: not sent);
    `values`: the value lists of a change's sets, by digest."""
    if not sends_webhook(event):
        return None
    if event.kind == "lifecycle":
        return deleted_payload(event, view)
    if event.kind == CHANGE:
        return changed_payload(event, view, values or {})
    if event.kind == "domain":
        kind, records = "domain.status_changed", list(view["records"])
    else:
        kind, records = "record.status_changed", [r for r in view["records"] if r["record"] == event.subject]
    data: dict[str, Any] = {
        "domain": event.domain,
        "status": event.status,
        "previous_status": event.previous,
        "since": iso(event.at) if event.kind == "domain" else view.get("status_since"),
        "window_deadline": view.get("window_deadline"),
        "capabilities": dict(view.get("capabilities", {})),
        "labels": dict(view.get("labels", {})),
        "records": [_record(r) for r in records],
        "sequence": event.sequence,
    }
    if event.kind == "record":
        data["record"] = event.subject
    return {"type": kind, "timestamp": iso(event.at), "data": data}


def deleted_payload(event: Event, view: Mapping[str, Any]) -> dict[str, Any]:
    """domain.deleted: the domain is no longer checked; its last status and records as they were."""
    data = {
        "domain": event.domain,
        "status": event.status,
        "source": view.get("source"),
        "labels": dict(view.get("labels", {})),
        "deleted_at": iso(event.at),
        "reason": event.reason,
        "records": [_record(r) for r in view["records"]],
        "sequence": event.sequence,
    }
    return {"type": "domain.deleted", "timestamp": iso(event.at), "data": data}


def changed_payload(
    event: Event, view: Mapping[str, Any], values: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """record.changed: what a record publishes changed (before and after, and why)."""
    seen = event.observations
    data = {
        "domain": event.domain,
        "record": event.subject,
        "before": list(values.get(str(seen.get("before_set")), [])),
        "after": list(values.get(str(seen.get("after_set")), [])),
        "direction": seen.get("direction"),
        "reasons": list(seen.get("reasons", [])),
        "in_window": bool(seen.get("in_window")),
        "labels": dict(view.get("labels", {})),
        "sequence": event.sequence,
    }
    return {"type": "record.changed", "timestamp": iso(event.at), "data": data}


def _record(view: Mapping[str, Any]) -> dict[str, Any]:
    out = {key: view.get(key) for key in _RECORD_FIELDS}
    out["found"] = list(view.get("found") or []) or None
    return out


def standard_body(payload: Mapping[str, Any]) -> str:
    """The exact bytes sent (and signed) on every attempt: compact, key order fixed."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def alertmanager_body(payload: Mapping[str, Any], receiver: str, external_url: str) -> str | None:
    """The Alertmanager webhook (version 4) form: firing on failures, resolved on verified; a
    deletion resolves the domain's alert and its records' (nothing is left to alert on). A
    record change is no alert: None."""
    if payload["type"] == "record.changed":
        return None
    data = payload["data"]
    domain, at = data["domain"], payload["timestamp"]
    url = f"{external_url.rstrip('/')}/domains/{domain}"
    base = {"alertname": "DomainwatchStatus", "domain": domain, "source": "domainwatch"}
    if payload["type"] == "domain.deleted":
        why = f"deleted ({data['reason']})"
        alerts = [_alert(base, _notes(f"{domain} domain is deleted", why, "deleted"), False, at, url)]
        for record in data["records"]:
            labels = base | {"alertname": "DomainwatchRecordStatus", "record": record["record"]}
            notes = _notes(f"{domain} {record['record']} is deleted", why, "deleted")
            alerts.append(_alert(labels, notes, False, at, url))
    else:
        status = data["status"]
        if status not in FIRING | RESOLVED:
            return None
        labels = base
        if "record" in data:
            labels = base | {"alertname": "DomainwatchRecordStatus", "record": data["record"]}
        summary = f"{domain} {data.get('record', 'domain')} is {status}"
        deadline = data.get("window_deadline") or "none"
        why = f"{status} (was {data['previous_status']}); window deadline {deadline}"
        alerts = [_alert(labels, _notes(summary, why, status), status in FIRING, at, url)]
    first = alerts[0]
    body = {
        "version": "4",
        "groupKey": f'{{}}:{{domain="{domain}"}}',
        "truncatedAlerts": 0,
        "status": first["status"],
        "receiver": receiver,
        "groupLabels": {"domain": domain},
        "commonLabels": first["labels"] if len(alerts) == 1 else {"domain": domain, "source": "domainwatch"},
        "commonAnnotations": first["annotations"] if len(alerts) == 1 else {},
        "externalURL": external_url,
        "alerts": alerts,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def _notes(summary: str, description: str, status: str) -> dict[str, str]:
    return {"summary": summary, "description": description, "status": status}


def _alert(
    labels: Mapping[str, str], notes: dict[str, str], firing: bool, at: str, url: str
) -> dict[str, Any]:
    return {
        "status": "firing" if firing else "resolved",
        "labels": dict(labels),
        "annotations": notes,
        "startsAt": at,
        "endsAt": "0001-01-01T00:00:00Z" if firing else at,
        "generatorURL": url,
        "fingerprint": hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16],
    }


def signed_headers(event_id: str, body: str, secrets: Sequence[str], at: datetime) -> dict[str, str]:
    """Standard Webhooks headers; one v1 signature per secret so receivers can rotate."""
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
    }
    if secrets:
        headers["webhook-signature"] = " ".join(Webhook(s).sign(event_id, at, body) for s in secrets)
    return headers


def ping_body(endpoint: str, at: datetime) -> str:
    """The body of `domainwatch webhooks test`."""
    return standard_body(
        {
            "type": "webhook.test",
            "timestamp": iso(at),
            "data": {"endpoint": endpoint, "message": "a test event from domainwatch"},
        }
    )
