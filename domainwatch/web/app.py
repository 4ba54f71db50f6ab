"""The aiohttp application: probes, metrics, reload, the JSON API and the status page.

Every error is an answer, never a traceback: JSON {"error": {"code", "message"}} for the API and
admin endpoints, a small HTML page for the status page.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware

from domainwatch.config.schema import ServerConfig
from domainwatch.daemon.daemon import Daemon
from domainwatch.metrics.exposition import Exposition
from domainwatch.service.domains import Domains
from domainwatch.service.drift import Drift
from domainwatch.service.errors import ServiceError
from domainwatch.web import api, drift_api, mcp, pages, webhooks_api
from domainwatch.web.access import access_middleware
from domainwatch.web.auth import Denied, Handler, auth_middleware, requires
from domainwatch.web.guard import guard_middleware
from domainwatch.webhooks.worker import WebhookWorker

log = structlog.get_logger("domainwatch.web")


def create_app(
    daemon: Daemon, exposition: Exposition, webhooks: WebhookWorker | None = None
) -> web.Application:
    # Tokens and hosts are read per request, so a reload that changes them takes effect at once.

    def server() -> ServerConfig:
        return daemon.config.server

    observe = daemon.metrics.observe_request if daemon.metrics else None
    app = web.Application(
        middlewares=[
            access_middleware(observe),
            errors_middleware(),
            guard_middleware(lambda: server().listen, lambda: server().allowed_hosts, deny, (mcp.PATH,)),
            auth_middleware(lambda: server().tokens, deny),
        ]
    )
    app.on_response_prepare.append(secure_headers)
    app.add_routes(probe_routes(daemon, exposition))
    domains = Domains(daemon)
    app.add_routes(api.routes(domains))
    app.add_routes(drift_api.routes(Drift(domains)))
    app.add_routes(pages.routes(domains, webhooks))
    if webhooks is not None:
        app.add_routes(webhooks_api.routes(webhooks))
    mcp.mount(app, domains, lambda: server().tokens)
    return app


async def secure_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every answer: no content sniffing, nothing cached (state is live, and some of it is
    admin-only), and a Server header that names no versions."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Server"] = "domainwatch"


def is_page(request: web.Request) -> bool:
    return request.path == "/" or request.path.startswith("/domains/")


def error_response(request: web.Request, status: int, code: str, message: str) -> web.Response:
    headers = {"WWW-Authenticate": 'Bearer realm="domainwatch"'} if status == 401 else None
    if is_page(request):
        return pages.error_page(status, message, headers)
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


def deny(request: web.Request, denied: Denied) -> web.StreamResponse:
    return error_response(request, denied.status, denied.code, denied.message)


_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def errors_middleware() -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ServiceError as exc:
            if is_page(request):
                return pages.error_page(exc.status, exc.message)
            return web.json_response(exc.as_json(), status=exc.status)
        except web.HTTPException as exc:
            if exc.status_code < 400:
                raise
            code = _CODES.get(exc.status_code, "http_error")
            return error_response(request, exc.status_code, code, exc.reason)
        except Exception:
            log.exception("request_failed", path=request.path, method=request.method)
            return error_response(request, 500, "internal", "internal error; see the daemon's log")

    return middleware


def probe_routes(daemon: Daemon, exposition: Exposition) -> web.RouteTableDef:
    table = web.RouteTableDef()

    @table.get("/livez")
    @requires("open")
    async def livez(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    @table.get("/healthz")
    @requires("open")
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    @table.get("/readyz")
    @requires("open")
    async def readyz(_: web.Request) -> web.Response:
        checks = {
            "config_loaded": True,
            "store_open": daemon.store_open,
            "store_reachable": daemon.store_reachable,
            "first_round_done": daemon.ready,
            # Every domain's series formatted once: from here on every scrape is complete and
            # under a second, where one before could wait for the whole fleet's formatting.
            "metrics_warm": exposition.warm,
        }
        ready = all(checks.values())
        body: dict[str, Any] = {"status": "ok" if ready else "not_ready", **checks}
        body["first_round"] = daemon.first_round.progress(time.monotonic() - daemon.started)
        return web.json_response(body, status=200 if ready else 503)

    @table.get("/metrics")
    async def scrape(request: web.Request) -> web.Response:
        body, headers = await exposition.scrape(request.headers.get("Accept-Encoding", ""))
        return web.Response(body=body, headers=headers)

    @table.post("/-/reload")
    @requires("admin")
    async def reload(_: web.Request) -> web.Response:
        problems = await daemon.reload()
        if problems:
            return web.json_response(
                {
                    "error": {
                        "code": "invalid_config",
                        "message": "the config was not reloaded; the running config stays",
                        "details": problems,
                    }
                },
                status=400,
            )
        return web.json_response({"status": "reloaded", "domains": len(daemon.fleet.plans)})

    return table
