"""JSON API v1 (docs/openapi.yaml): domains and their lifecycle, history, verify, diagnose, CSV
exports. The rules live in the service (service/domains.py); this module speaks HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from importlib import resources
from typing import Any

from aiohttp import web

from domainwatch.config.document import MAX_DOCUMENT_BYTES, read_int
from domainwatch.present.csv import DOMAIN_COLUMNS, HISTORY_COLUMNS, csv_block, domain_row, history_row
from domainwatch.present.zone import zone_block
from domainwatch.service.domains import MAX_LIMIT, Domains
from domainwatch.service.errors import ServiceError
from domainwatch.web.auth import CALLER, requires
from domainwatch.web.params import (
    filter_params,
    int_param,
    page_params,
    query_param,
    source_param,
    statuses_param,
    time_param,
)
from domainwatch.web.server import read_body

CSV_BATCH = 500  # rows per write of a CSV download


async def json_body(request: web.Request) -> Any:
    """The request's JSON value: 413 over 64 KiB, 400 when it is not JSON."""
    raw = await read_body(request, MAX_DOCUMENT_BYTES)
    try:
        return json.loads(raw, parse_int=read_int)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ServiceError(400, "bad_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ServiceError(400, "bad_json", "the body is nested too deeply") from None


def with_etag(body: Any, etag: str, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, headers={"ETag": etag})


def routes(domains: Domains) -> web.RouteTableDef:
    table = web.RouteTableDef()

    @table.get("/api/v1/openapi.yaml")
    async def openapi(_: web.Request) -> web.Response:
        text = resources.files("domainwatch.web").joinpath("openapi.yaml").read_text("utf-8")
        return web.Response(text=text, content_type="application/yaml")

    @table.get("/api/v1/domains")
    async def list_domains(request: web.Request) -> web.Response:
        listing = await domains.listing(filter_params(request), page_params(request))
        return web.json_response(listing)

    @table.post("/api/v1/domains")
    @requires("admin")
    async def create(request: web.Request) -> web.Response:
        raw = await json_body(request)
        status, body = await domains.create(raw, request[CALLER], request.headers.get("Idempotency-Key"))
        name = json.loads(body)["name"]
        headers = {"Location": f"/api/v1/domains/{name}"}
        if domains.watched(name):  # (a retry's kept answer may outlive the domain)
            headers["ETag"] = domains.etag(name)
        return web.Response(text=body, status=status, content_type="application/json", headers=headers)

    @table.get("/api/v1/domains/{name}")
    async def get_domain(request: web.Request) -> web.Response:
        name = domains.known(request.match_info["name"])
        return with_etag(await domains.view(name), domains.etag(name))

    @table.get("/api/v1/domains/{name}/zone")
    async def zone(request: web.Request) -> web.Response:
        """The records to publish as one zone-file block (present/zone.py)."""
        name = domains.known(request.match_info["name"])
        block = zone_block(await domains.view(name))
        return web.Response(text=block, content_type="text/dns", charset="utf-8")

    @table.patch("/api/v1/domains/{name}")
    @requires("admin")
    async def update(request: web.Request) -> web.Response:
        patch = await json_body(request)
        caller, if_match = request[CALLER], request.headers.get("If-Match")
        view = await domains.update(request.match_info["name"], patch, caller, if_match)
        return with_etag(view, domains.etag(view["name"]))

    @table.delete("/api/v1/domains/{name}")
    @requires("admin")
    async def delete(request: web.Request) -> web.Response:
        await domains.delete(request.match_info["name"], request[CALLER], request.headers.get("If-Match"))
        return web.Response(status=204)

    @table.get("/api/v1/domains/{name}/document")
    async def document(request: web.Request) -> web.Response:
        body, etag = domains.document(request.match_info["name"])
        return with_etag(body, etag)

    @table.get("/api/v1/domains/{name}/history")
    async def get_history(request: web.Request) -> web.Response:
        limit = int_param(request, "limit", 100, 1, MAX_LIMIT)
        return web.json_response(await domains.history(request.match_info["name"], limit))

    @table.post("/api/v1/domains/{name}/verify")
    @requires("admin")
    async def verify(request: web.Request) -> web.Response:
        answer = await domains.verify(request.match_info["name"], request[CALLER])
        return web.json_response(answer, status=202)

    @table.get("/api/v1/diagnose/{name}")
    async def diagnose(request: web.Request) -> web.Response:
        selectors = request.query.getall("dkim_selector", [])
        return web.json_response(await domains.diagnose(request.match_info["name"], selectors))

    @table.get("/api/v1/export/domains.csv")
    @requires("admin")
    async def export_domains(request: web.Request) -> web.StreamResponse:
        names = domains.names(filter_params(request, since=True))
        rows = (domain_row(await domains.view(n), domains.findings(n)) async for n in _aiter(names))
        return await stream_csv(request, "domains.csv", DOMAIN_COLUMNS, rows)

    @table.get("/api/v1/export/history.csv")
    @requires("admin")
    async def export_history(request: web.Request) -> web.StreamResponse:
        wanted = {status.value for status in statuses_param(request)}  # any of them; none: all
        part = query_param(request) or ""
        source = source_param(request)
        rows = (
            history_row(e)
            async for e in domains.events_since(time_param(request, "since"))
            if (not wanted or e.status in wanted)
            and part.lower() in e.domain
            and (source is None or domains.source(e.domain) == source)
        )
        return await stream_csv(request, "history.csv", HISTORY_COLUMNS, rows)

    return table


async def stream_csv(
    request: web.Request, filename: str, header: Sequence[str], rows: AsyncIterator[list[str]]
) -> web.StreamResponse:
    """The rows as a CSV download, written as they come, 500 at a time."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
    )
    await response.prepare(request)
    head: Sequence[str] | None = header
    chunk: list[list[str]] = []
    async for row in rows:
        chunk.append(row)
        if len(chunk) == CSV_BATCH:
            await response.write(csv_block(head, chunk).encode())
            head, chunk = None, []
    await response.write(csv_block(head, chunk).encode())
    await response.write_eof()
    return response


async def _aiter(items: Iterable[str]) -> AsyncIterator[str]:
    for item in items:
        yield item
