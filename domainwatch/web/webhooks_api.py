"""Admin API for webhooks: endpoint state, deliveries, replay, and a signed test event."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from domainwatch.present.redact import redact_url
from domainwatch.present.views import delivery_view
from domainwatch.service.errors import ServiceError
from domainwatch.web.auth import requires
from domainwatch.webhooks.worker import WebhookWorker, ping

STATES = ("pending", "delivered", "dead")


def routes(worker: WebhookWorker) -> web.RouteTableDef:
    table = web.RouteTableDef()

    @table.get("/api/v1/webhooks")
    @requires("admin")
    async def endpoints(_: web.Request) -> web.Response:
        stats = {s.name: s for s in worker.endpoint_stats()}
        disabled = worker.disabled
        return web.json_response(
            {
                "endpoints": [
                    {
                        "name": w.name,
                        "url": redact_url(w.url),
                        "format": w.format,
                        "events": list(w.events),
                        "domains": list(w.domains),
                        "disabled": w.name in disabled,
                        "disabled_reason": disabled.get(w.name),
                        "pending": stats[w.name].pending,
                        "oldest_pending_age_seconds": stats[w.name].oldest_pending_age,
                        "dead_letters": stats[w.name].dead_letters,
                    }
                    for w in worker.config.webhooks
                ]
            }
        )

    @table.get("/api/v1/webhooks/deliveries")
    @requires("admin")
    async def deliveries(request: web.Request) -> web.Response:
        state = request.query.get("state")
        if state is not None and state not in STATES:
            raise ServiceError(400, "bad_parameter", f"state must be one of {', '.join(STATES)}")
        return web.json_response({"deliveries": [delivery_view(d) for d in await worker.deliveries(state)]})

    @table.post("/api/v1/webhooks/deliveries/{event_id}/replay")
    @requires("admin")
    async def replay(request: web.Request) -> web.Response:
        count = await worker.replay(request.match_info["event_id"])
        if not count:
            raise ServiceError(404, "not_found", "no dead-lettered or delivered delivery has that event id")
        worker.wake()
        return web.json_response({"replayed": count}, status=202)

    @table.post("/api/v1/webhooks/{name}/test")
    @requires("admin")
    async def test(request: web.Request) -> web.Response:
        endpoint = next((w for w in worker.config.webhooks if w.name == request.match_info["name"]), None)
        if endpoint is None:
            raise ServiceError(404, "not_found", "no webhook endpoint has that name")
        async with aiohttp.ClientSession() as session:
            status, answer = await ping(session, endpoint, worker.clock())
        return web.json_response({"endpoint": endpoint.name, "status": status, "answer": answer})

    return table
