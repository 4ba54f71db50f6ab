"""JSON API v1 (docs/openapi.yaml): domains, history, verify, CSV exports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from importlib import resources
from typing import Any

from aiohttp import web

from domainwatch.daemon.daemon import Daemon
from domainwatch.daemon.sharding import shard_of
from domainwatch.present.csv import DOMAIN_COLUMNS, HISTORY_COLUMNS, csv_chunks, domain_row, history_row
from domainwatch.present.views import domain_view, iso
from domainwatch.state.events import Event
from domainwatch.state.facts import DomainFacts
from domainwatch.state.rules import Status
from domainwatch.values import parse_time
from domainwatch.web.auth import requires

MAX_LIMIT = 10_000


class ApiError(web.HTTPException):
    """An error answered as {"error": {"code", "message"}} with the given status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status_code = status
        super().__init__(text=message)
        self.code, self.message = code, message


def view_of(daemon: Daemon, name: str) -> dict[str, Any]:
    plan = daemon.plans[name]
    return domain_view(daemon.tracks[name], plan.specs, plan.rules, daemon.store.results(name))


def event_view(event: Event) -> dict[str, Any]:
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


def known_domain(daemon: Daemon, request: web.Request) -> str:
    name = request.match_info["name"].rstrip(".").lower()
    if name in daemon.plans and name in daemon.tracks:
        return name
    sharding = daemon.config.sharding
    if daemon.config.domain(name) is not None and sharding.total_shards > 1:
        owner = shard_of(name, sharding.total_shards)
        raise ApiError(
            404,
            "other_shard",
            f"{name!r} belongs to shard {owner} of {sharding.total_shards}; this is shard {sharding.shard}",
        )
    raise ApiError(404, "not_found", f"no domain {name!r} is configured")


def int_param(request: web.Request, key: str, default: int, low: int, high: int) -> int:
    text = request.query.get(key)
    if text is None:
        return default
    if not (text.isascii() and text.isdecimal() and len(text) <= 12) or not low <= int(text) <= high:
        raise ApiError(400, "bad_parameter", f"{key} must be an integer from {low} to {high}")
    return int(text)


def status_param(request: web.Request) -> Status | None:
    text = request.query.get("status")
    if text is None:
        return None
    try:
        return Status(text)
    except ValueError:
        raise ApiError(
            400, "bad_parameter", f"status must be one of {', '.join(s.value for s in Status)}"
        ) from None


def time_param(request: web.Request, key: str) -> datetime | None:
    text = request.query.get(key)
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise ApiError(400, "bad_parameter", f"{key}: {exc}") from None


def routes(daemon: Daemon) -> web.RouteTableDef:
    table = web.RouteTableDef()

    @table.get("/api/v1/openapi.yaml")
    async def openapi(_: web.Request) -> web.Response:
        text = resources.files("domainwatch.web").joinpath("openapi.yaml").read_text("utf-8")
        return web.Response(text=text, content_type="application/yaml")

    @table.get("/api/v1/domains")
    async def list_domains(request: web.Request) -> web.Response:
        wanted = status_param(request)
        limit = int_param(request, "limit", 1000, 1, MAX_LIMIT)
        offset = int_param(request, "offset", 0, 0, 10**9)
        names = [
            n
            for n in sorted(daemon.plans)
            if n in daemon.tracks and (wanted is None or daemon.tracks[n].status is wanted)
        ]
        page = names[offset : offset + limit]
        more = offset + limit < len(names)
        return web.json_response(
            {
                "domains": [view_of(daemon, n) for n in page],
                "total": len(names),
                "next_offset": offset + limit if more else None,
            }
        )

    @table.get("/api/v1/domains/{name}")
    async def get_domain(request: web.Request) -> web.Response:
        return web.json_response(view_of(daemon, known_domain(daemon, request)))

    @table.get("/api/v1/domains/{name}/history")
    async def get_history(request: web.Request) -> web.Response:
        name = known_domain(daemon, request)
        limit = int_param(request, "limit", 100, 1, MAX_LIMIT)
        return web.json_response(
            {"history": [event_view(e) for e in daemon.store.history(name, limit=limit)]}
        )

    @table.post("/api/v1/domains/{name}/verify")
    @requires("admin")
    async def verify(request: web.Request) -> web.Response:
        name = known_domain(daemon, request)
        events = daemon.verify(name)
        return web.json_response(
            {"domain": view_of(daemon, name), "events": [event_view(e) for e in events]}, status=202
        )

    @table.get("/api/v1/export/domains.csv")
    @requires("admin")
    async def export_domains(request: web.Request) -> web.StreamResponse:
        rows = (
            domain_row(view_of(daemon, n), daemon.facts.get(n, DomainFacts()).findings)
            for n in sorted(daemon.plans)
            if n in daemon.tracks
        )
        return await stream_csv(request, "domains.csv", csv_chunks(DOMAIN_COLUMNS, rows))

    @table.get("/api/v1/export/history.csv")
    @requires("admin")
    async def export_history(request: web.Request) -> web.StreamResponse:
        since = time_param(request, "since")
        rows = (history_row(e) for e in daemon.store.iter_history(since))
        return await stream_csv(request, "history.csv", csv_chunks(HISTORY_COLUMNS, rows))

    return table


async def stream_csv(request: web.Request, filename: str, chunks: Iterator[str]) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
    )
    await response.prepare(request)
    for chunk in chunks:
        await response.write(chunk.encode())
    await response.write_eof()
    return response
