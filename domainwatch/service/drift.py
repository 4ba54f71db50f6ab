"""Drift's operations over the running daemon: acknowledging a pinned record's change, and the
maintenance windows (inside one, a record's changes are recorded, never findings).

Refusals: 403 a viewer writing, 404 an unknown domain, record or window, 409 a record that is
not pinned, 422 a window that is not one (each problem at its path).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from domainwatch.config.document import Problem
from domainwatch.present.views import event_view
from domainwatch.service.domains import Domains, invalid
from domainwatch.service.errors import Caller, ServiceError, by_holder, require_admin
from domainwatch.state.windows import MAX_LENGTH, MaintenanceWindow, glob_problem
from domainwatch.store.base import StoreError

MAX_RECORD_GLOBS = 64
MAX_COMMENT = 500


class Drift:
    def __init__(self, domains: Domains) -> None:
        self.domains, self.daemon = domains, domains.daemon

    async def acknowledge(self, raw_name: str, record: str, caller: Caller) -> dict[str, Any]:
        """A pinned record's current values become its pin's baseline: 200 with the record."""
        require_admin(caller)
        name = self.domains.known(raw_name, writing=True)
        plan = self.daemon.fleet.plans[name]
        if record not in {spec.record for spec in plan.specs}:
            raise ServiceError(404, "not_found", f"{name!r} has no record {record[:100]!r}")
        if record not in plan.config.pins:
            message = f"{record} of {name!r} is not pinned: there is nothing to acknowledge"
            raise ServiceError(409, "not_pinned", message)
        with by_holder():
            events = await self.daemon.acknowledge(name, record, caller.name)
        view = await self.domains.view(name)
        shown = next(r for r in view["records"] if r["record"] == record)
        return {"record": shown, "events": [event_view(e) for e in events]}

    def windows(self) -> dict[str, Any]:
        return {"windows": [w.as_dict() for w in self.daemon.fleet.windows]}

    async def add_window(self, raw: object, caller: Caller) -> dict[str, Any]:
        require_admin(caller)
        window = window_of(raw, self.daemon.clock(), secrets.token_hex(8))
        try:
            await self.daemon.drift.add_window(window)
        except StoreError as exc:
            raise ServiceError(409, "too_many_windows", str(exc)) from None
        return window.as_dict()

    async def delete_window(self, window_id: str, caller: Caller) -> None:
        require_admin(caller)
        if not await self.daemon.drift.delete_window(window_id[:64]):
            raise ServiceError(404, "not_found", f"no maintenance window {window_id[:64]!r}")


def window_of(raw: object, now: datetime, window_id: str) -> MaintenanceWindow:
    """A window from an API body, or a 422 naming each problem (pure but for its inputs)."""
    if not isinstance(raw, dict):
        raise _invalid([Problem("", "a maintenance window is a JSON object")])
    problems = [Problem(key, "unknown field") for key in raw if key not in _FIELDS]
    domains, records, comment = raw.get("domains"), raw.get("records"), raw.get("comment", "")
    if (why := glob_problem(domains)) is not None:
        problems.append(Problem("domains", why))
    if not isinstance(records, list) or not 1 <= len(records) <= MAX_RECORD_GLOBS:
        problems.append(Problem("records", f"a list of 1 to {MAX_RECORD_GLOBS} globs over record ids"))
        records = []
    problems += [Problem(f"records[{i}]", why) for i, r in enumerate(records) if (why := glob_problem(r))]
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        problems.append(Problem("comment", f"text of at most {MAX_COMMENT} characters"))
    ends_at = _ends_at(raw.get("ends_at"), now, problems)
    if problems or ends_at is None:
        raise _invalid(problems)
    return MaintenanceWindow(window_id, str(domains), tuple(records), ends_at, str(comment), now)


_FIELDS = ("domains", "records", "ends_at", "comment")


def _ends_at(value: object, now: datetime, problems: list[Problem]) -> datetime | None:
    try:
        ends_at = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        ends_at = None
    if ends_at is None or ends_at.tzinfo is None or ends_at.utcoffset() is None:
        problems.append(Problem("ends_at", "an RFC 3339 time with its offset (2026-12-08T06:00:00Z)"))
        return None
    if ends_at <= now:
        problems.append(Problem("ends_at", "the end is in the past"))
    elif ends_at - now > MAX_LENGTH + timedelta(seconds=1):
        problems.append(Problem("ends_at", f"a window lasts at most {MAX_LENGTH.days} days"))
    return ends_at


def _invalid(problems: list[Problem]) -> ServiceError:
    return invalid(problems, "invalid_window", "the maintenance window")
