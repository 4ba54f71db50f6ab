"""Webhook policy and payloads (pure): classification, the retry schedule, filters, signatures."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from domainwatch.state.events import Event
from domainwatch.webhooks.payloads import alertmanager_body, event_payload, signed_headers, standard_body
from domainwatch.webhooks.policy import (
    DELAYS,
    MAX_ATTEMPTS,
    Outcome,
    classify,
    next_attempt,
    parse_retry_after,
    wants,
)
from tests.integration.receiver import new_secret

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.SUCCESS),
        (204, Outcome.SUCCESS),
        (299, Outcome.SUCCESS),
        (301, Outcome.RETRY),
        (302, Outcome.RETRY),
        (400, Outcome.RETRY),
        (410, Outcome.GONE),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (None, Outcome.RETRY),
    ],
)
def test_classify(status: int | None, outcome: Outcome) -> None:
    """2xx succeeds, 410 disables, all else (3xx too, and no answer) is retried."""
    assert outcome == classify(status)


def test_schedule_is_the_documented_one_within_jitter() -> None:
    """5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h, 24h, each +-10%, then nothing (dead)."""
    expected = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    assert expected == [d.total_seconds() for d in DELAYS]
    rng = random.Random(0)
    for attempts, seconds in enumerate(expected, start=1):
        later = next_attempt(attempts, NOW, 1.0, rng)
        assert later is not None
        assert 0.9 * seconds <= (later - NOW).total_seconds() <= 1.1 * seconds
    assert next_attempt(MAX_ATTEMPTS, NOW, 1.0, rng) is None
    assert 10 == MAX_ATTEMPTS


def test_scale_multiplies_every_delay() -> None:
    """webhook_retry_scale shortens the schedule for tests and the demo."""
    later = next_attempt(9, NOW, 0.001, random.Random(0))
    assert later is not None
    assert (later - NOW).total_seconds() == pytest.approx(86.4, rel=0.11)


def test_retry_after_is_a_floor() -> None:
    """Never earlier than the receiver asked; capped at 24 hours."""
    later = next_attempt(1, NOW, 1.0, random.Random(0), timedelta(minutes=10))
    assert later is not None
    assert (later - NOW) >= timedelta(minutes=10)
    capped = next_attempt(1, NOW, 1.0, random.Random(0), timedelta(days=30))
    assert capped == NOW + timedelta(hours=24)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", timedelta(seconds=120)),
        ("Wed, 26 Nov 2026 12:05:00 GMT", timedelta(minutes=5)),
        ("soon", None),
        (None, None),
        ("Wed, 26 Nov 2026 11:00:00 GMT", timedelta(0)),
    ],
)
def test_parse_retry_after(header: str | None, expected: timedelta | None) -> None:
    """Seconds or an HTTP date; garbage is ignored."""
    assert expected == parse_retry_after(header, NOW)


@pytest.mark.parametrize(
    ("patterns", "events", "kind", "domain", "expected"),
    [
        ([], ["domain.status_changed"], "domain.status_changed", "a.example.com", True),
        ([], ["domain.status_changed"], "record.status_changed", "a.example.com", False),
        (["*.example.com"], ["domain.status_changed"], "domain.status_changed", "a.example.com", True),
        (["*.example.com"], ["domain.status_changed"], "domain.status_changed", "example.org", False),
        (["*.Example.COM"], ["domain.status_changed"], "domain.status_changed", "mail.example.com", True),
    ],
)
def test_endpoint_filters(
    patterns: list[str], events: list[str], kind: str, domain: str, expected: bool
) -> None:
    """Event types and domain globs select what an endpoint receives."""
    assert expected == wants(patterns, events, kind, domain)


def event(kind: str, subject: str, status: str, previous: str = "verified") -> Event:
    return Event("evt1", "a.example.com", 7, kind, subject, previous, status, NOW, "observation", {})


VIEW = {
    "status_since": "2026-11-26T12:00:00Z",
    "window_deadline": "2026-11-29T12:00:00Z",
    "capabilities": {"sending": "temporary_failure"},
    "records": [
        {
            "record": "spf",
            "name": "send.a.example.com",
            "type": "TXT",
            "status": "temporary_failure",
            "expected": "v=spf1 -all",
            "found": [],
            "findings": [],
            "state": "missing",
        },
        {
            "record": "dmarc",
            "name": "_dmarc.a.example.com",
            "type": "TXT",
            "status": "verified",
            "expected": "v=DMARC1; p=none",
            "found": ["v=DMARC1; p=none"],
            "findings": [],
            "state": "present",
        },
    ],
}


def test_domain_payload_has_the_documented_shape() -> None:
    """domain.status_changed carries every record, found null when nothing is published."""
    payload = event_payload(event("domain", "a.example.com", "temporary_failure"), VIEW)
    assert payload is not None
    assert ("domain.status_changed", "2026-11-26T12:00:00Z") == (payload["type"], payload["timestamp"])
    data = payload["data"]
    assert (7, "verified", None) == (data["sequence"], data["previous_status"], data["records"][0]["found"])
    assert 2 == len(data["records"])


def test_record_payload_carries_one_record_and_capabilities_none() -> None:
    """record.status_changed carries that record; capability changes are not sent alone."""
    payload = event_payload(event("record", "spf", "temporary_failure"), VIEW)
    assert payload is not None
    assert ("spf", ["spf"]) == (payload["data"]["record"], [r["record"] for r in payload["data"]["records"]])
    assert event_payload(event("capability", "sending", "failed"), VIEW) is None
    assert event_payload(event("stale", "entered", "verified"), VIEW) is None  # history only


def test_signatures_verify_with_every_secret() -> None:
    """One v1 signature per secret; the standardwebhooks library accepts each secret alone."""
    old, new = new_secret(), new_secret()
    body = standard_body({"type": "x", "data": {"b": 1, "a": 2}})
    at = datetime.now(UTC)
    headers = signed_headers("evt1", body, [old, new], at)
    assert ("evt1", str(int(at.timestamp()))) == (headers["webhook-id"], headers["webhook-timestamp"])
    for secret in (old, new):
        assert {"type": "x", "data": {"a": 2, "b": 1}} == Webhook(secret).verify(body, headers)


def test_alertmanager_body_fires_and_resolves_with_the_same_labels() -> None:
    """Firing on failures, resolved on verified, nothing for other statuses; labels match."""
    firing = alertmanager_body(
        event_payload(event("domain", "a.example.com", "failed"), VIEW) or {}, "am", "http://x/"
    )
    resolved = alertmanager_body(
        event_payload(event("domain", "a.example.com", "verified", "failed"), VIEW) or {}, "am", "http://x/"
    )
    assert (
        alertmanager_body(event_payload(event("domain", "a.example.com", "pending"), VIEW) or {}, "am", "x")
        is None
    )
    assert firing is not None
    assert resolved is not None
    fired, done = json.loads(firing), json.loads(resolved)
    assert ("firing", "resolved") == (fired["status"], done["status"])
    assert fired["alerts"][0]["labels"] == done["alerts"][0]["labels"]
    assert fired["alerts"][0]["fingerprint"] == done["alerts"][0]["fingerprint"]
    assert "0001-01-01T00:00:00Z" == fired["alerts"][0]["endsAt"]


def test_a_deletion_is_sent_as_domain_deleted() -> None:
    """Only `deleted` of the lifecycle events has a body; it carries the domain's last state."""
    deleted = event("lifecycle", "deleted", "temporary_failure", "temporary_failure")
    payload = event_payload(deleted, {**VIEW, "source": "api"})
    assert payload is not None
    assert "domain.deleted" == payload["type"]
    data = payload["data"]
    assert ("a.example.com", "temporary_failure", "api", 7) == (
        data["domain"],
        data["status"],
        data["source"],
        data["sequence"],
    )
    assert ["spf", "dmarc"] == [r["record"] for r in data["records"]]
    for action in ("created", "updated", "managed_by_config"):
        assert event_payload(event("lifecycle", action, "pending"), VIEW) is None


def test_alertmanager_hears_a_deletion_as_every_alert_resolved() -> None:
    """The domain's alert and each record's alert (the labels they fired with) resolve."""
    payload = event_payload(event("lifecycle", "deleted", "failed", "failed"), VIEW)
    assert payload is not None
    body = alertmanager_body(payload, "am", "http://x/")
    assert body is not None
    alerts = json.loads(body)["alerts"]
    assert {"resolved"} == {a["status"] for a in alerts}
    fired = alertmanager_body(event_payload(event("record", "spf", "failed"), VIEW) or {}, "am", "http://x/")
    assert fired is not None
    record_alert = json.loads(fired)["alerts"][0]
    resolved = next(a for a in alerts if a["labels"].get("record") == "spf")
    assert (record_alert["labels"], record_alert["fingerprint"]) == (
        resolved["labels"],
        resolved["fingerprint"],
    )
    assert [None, "spf", "dmarc"] == [a["labels"].get("record") for a in alerts]
