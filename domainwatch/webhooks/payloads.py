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
from domainwatch.state.events import Event

USER_AGENT = f"domainwatch/{__version__} (+https://github.com/domainwatch/domainwatch)"
FIRING = frozenset({"failed", "temporary_failure", "partially_failed"})
RESOLVED = frozenset({"verified"})
_RECORD_FIELDS = ("record", "name", "type", "status", "expected", "found", "findings")


def event_payload(event: Event, view: Mapping[str, Any]) -> dict[str, Any] | None:
    """The standard body of a status change, from the domain's view right after it (None: not sent).

    Capability changes are part of every domain.status_changed body and are not sent alone.
    """
    if event.kind == "domain":
        kind, records = "domain.status_changed", list(view["records"])
    elif event.kind == "record":
        kind, records = "record.status_changed", [r for r in view["records"] if r["record"] == event.subject]
    else:
        return None
    data: dict[str, Any] = {
        "domain": event.domain,
        "status": event.status,
        "previous_status": event.previous,
        "since": iso(event.at) if event.kind == "domain" else view.get("status_since"),
        "window_deadline": view.get("window_deadline"),
        "capabilities": dict(view.get("capabilities", {})),
        "records": [_record(r) for r in records],
        "sequence": event.sequence,
    }
    if event.kind == "record":
        data["record"] = event.subject
    return {"type": kind, "timestamp": iso(event.at), "data": data}


def _record(view: Mapping[str, Any]) -> dict[str, Any]:
    out = {key: view.get(key) for key in _RECORD_FIELDS}
    out["found"] = list(view.get("found") or []) or None
    return out


def standard_body(payload: Mapping[str, Any]) -> str:
    """The exact bytes sent (and signed) on every attempt: compact, key order fixed."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def alertmanager_body(payload: Mapping[str, Any], receiver: str, external_url: str) -> str | None:
    """The Alertmanager webhook (version 4) form: firing on failures, resolved on verified."""
    status = payload["data"]["status"]
    if status not in FIRING | RESOLVED:
        return None
    data = payload["data"]
    labels = {"alertname": "DomainwatchStatus", "domain": data["domain"], "source": "domainwatch"}
    if "record" in data:
        labels |= {"alertname": "DomainwatchRecordStatus", "record": data["record"]}
    firing = status in FIRING
    annotations = {
        "summary": f"{data['domain']} {data.get('record', 'domain')} is {status}",
        "description": f"{status} (was {data['previous_status']}); window deadline "
        f"{data.get('window_deadline') or 'none'}",
        "status": status,
    }
    alert = {
        "status": "firing" if firing else "resolved",
        "labels": labels,
        "annotations": annotations,
        "startsAt": payload["timestamp"],
        "endsAt": "0001-01-01T00:00:00Z" if firing else payload["timestamp"],
        "generatorURL": f"{external_url.rstrip('/')}/domains/{data['domain']}",
        "fingerprint": hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16],
    }
    body = {
        "version": "4",
        "groupKey": f'{{}}:{{domain="{data["domain"]}"}}',
        "truncatedAlerts": 0,
        "status": alert["status"],
        "receiver": receiver,
        "groupLabels": {"domain": data["domain"]},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": external_url,
        "alerts": [alert],
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


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
