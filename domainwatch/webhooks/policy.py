"""When to retry, what an answer means, which endpoint wants which event (pure)."""

from __future__ import annotations

import enum
import fnmatch
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

# After attempt n fails, wait DELAYS[n - 1] (times webhook_retry_scale) before attempt n + 1.
DELAYS = tuple(
    timedelta(**kw)
    for kw in (
        {"seconds": 5},
        {"minutes": 5},
        {"minutes": 30},
        {"hours": 2},
        {"hours": 5},
        {"hours": 10},
        {"hours": 14},
        {"hours": 20},
        {"hours": 24},
    )
)
MAX_ATTEMPTS = len(DELAYS) + 1
JITTER = 0.10
MAX_RETRY_AFTER = timedelta(hours=24)


class Outcome(enum.StrEnum):
    SUCCESS = "success"  # 2xx
    RETRY = "retry"  # anything else, or no answer: try again later
    DEAD = "dead"  # the last attempt failed: dead-lettered, kept, visible
    GONE = "gone"  # 410: the receiver asks us to stop; the endpoint is disabled


def classify(status: int | None) -> Outcome:
    """2xx succeeds; 410 disables; everything else (3xx included: no redirects) is retried."""
    if status is not None and 200 <= status < 300:
        return Outcome.SUCCESS
    if status == 410:
        return Outcome.GONE
    return Outcome.RETRY


def next_attempt(
    attempts: int, now: datetime, scale: float, rng: random.Random, retry_after: timedelta | None = None
) -> datetime | None:
    """When to try again after `attempts` failed attempts; None when none is left."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = DELAYS[attempts - 1] * scale * rng.uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))  # never earlier than the receiver asked
    return now + delay


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3); None if absent or unusable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(timedelta(0), moment - now)


def wants(patterns: Sequence[str], events: Sequence[str], event_type: str, domain: str) -> bool:
    """Does an endpoint subscribe to this event type for this domain (glob patterns)?"""
    if event_type not in events:
        return False
    return not patterns or any(fnmatch.fnmatchcase(domain, p.lower()) for p in patterns)
