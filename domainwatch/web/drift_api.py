"""Drift's JSON API (docs/api.md): acknowledging a pinned record's change, and maintenance
windows. The rules live in the service (service/drift.py); this module speaks HTTP."""

from __future__ import annotations

from aiohttp import web

from domainwatch.service.drift import Drift
from domainwatch.web.api import json_body
from domainwatch.web.auth import CALLER, requires


def routes(drift: Drift) -> web.RouteTableDef:
    table = web.RouteTableDef()

    @table.post("/api/v1/domains/{name}/records/{record}/acknowledge")
    @requires("admin")
    async def acknowledge(request: web.Request) -> web.Response:
        info = request.match_info  # the record id arrives URL-decoded (dkim%3As1 is dkim:s1)
        return web.json_response(await drift.acknowledge(info["name"], info["record"], request[CALLER]))

    @table.get("/api/v1/maintenance-windows")
    async def windows(_: web.Request) -> web.Response:
        return web.json_response(drift.windows())

    @table.post("/api/v1/maintenance-windows")
    @requires("admin")
    async def add_window(request: web.Request) -> web.Response:
        window = await drift.add_window(await json_body(request), request[CALLER])
        headers = {"Location": f"/api/v1/maintenance-windows/{window['id']}"}
        return web.json_response(window, status=201, headers=headers)

    @table.delete("/api/v1/maintenance-windows/{id}")
    @requires("admin")
    async def delete_window(request: web.Request) -> web.Response:
        await drift.delete_window(request.match_info["id"], request[CALLER])
        return web.Response(status=204)

    return table
