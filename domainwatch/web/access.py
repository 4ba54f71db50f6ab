"""The access log: one structured line per answer (method, route template, status, duration,
client), never a path's query string or a header. Denied requests (401, 403, 421, 429) are
attacker-driven, so their lines are rate-limited per client address: at most DENIALS_LOGGED a
minute, then one `access_denied_suppressed` line with the count (DenialLimiter, pure)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware

from domainwatch.web.auth import Handler

log = structlog.get_logger("domainwatch.access")

DENIED = frozenset({401, 403, 421, 429})
DENIALS_LOGGED = 10  # lines a minute per client address
WINDOW = 60.0
MAX_CLIENTS = 4096  # addresses tracked at once; beyond, they share one entry
OTHERS = "others"
# Scraped and probed every few seconds: logged only when the answer is not a success.
QUIET_ROUTES = frozenset({"/metrics", "/healthz", "/readyz"})


@dataclass(slots=True)
class _Window:
    started: float
    logged: int = 0
    suppressed: int = 0


@dataclass(slots=True)
class DenialLimiter:
    """Which denials to log (pure: the caller gives the time)."""

    per_window: int = DENIALS_LOGGED
    window: float = WINDOW
    max_clients: int = MAX_CLIENTS
    _clients: dict[str, _Window] = field(default_factory=dict)

    def admit(self, client: str, now: float) -> tuple[str, bool, int]:
        """(the client as counted, whether this denial's line is written, the denials the
        client's previous window hid if that window just ended: to report now)."""
        if client not in self._clients and len(self._clients) >= self.max_clients:
            client = OTHERS
        entry, ended = self._clients.get(client), 0
        if entry is None or now - entry.started >= self.window:
            ended = entry.suppressed if entry is not None else 0
            entry = self._clients[client] = _Window(now)
        if entry.logged < self.per_window:
            entry.logged += 1
            return client, True, ended
        entry.suppressed += 1
        return client, False, ended

    def expired(self, now: float) -> list[tuple[str, int]]:
        """Forget the windows that have ended: (client, denials hidden) for those that hid some."""
        ended = [c for c, w in self._clients.items() if now - w.started >= self.window]
        hidden = [(c, self._clients[c].suppressed) for c in ended if self._clients[c].suppressed]
        for client in ended:
            del self._clients[client]
        return hidden


def route_of(request: web.Request) -> str:
    """The route template that matched (a mounted app's prefix), or `unmatched`."""
    try:
        canonical = request.match_info.route.resource.canonical  # type: ignore[union-attr]
    except (AttributeError, RuntimeError):
        return "unmatched"
    return canonical if isinstance(canonical, str) and canonical else "unmatched"


def access_middleware(
    observe: Callable[[str, int], None] | None, clock: Callable[[], float] = time.monotonic
) -> Middleware:
    """Counts every answer by route template (never the path: names are unbounded) and logs it."""
    denials = DenialLimiter()
    next_sweep = [clock() + WINDOW]

    def record(request: web.Request, route: str, status: int, started: float) -> None:
        if observe is not None:
            observe(route, status)
        now = clock()
        client = request.remote or "unknown"
        if now >= next_sweep[0]:
            next_sweep[0] = now + WINDOW / 6
            for who, count in denials.expired(now):
                log.warning("access_denied_suppressed", client=who, count=count)
        if status in DENIED:
            counted, written, ended = denials.admit(client, now)
            if ended:
                log.warning("access_denied_suppressed", client=counted, count=ended)
            if not written:
                return
        fields = {
            "method": request.method,
            "route": route,
            "status": status,
            "duration_ms": round((now - started) * 1000, 1),
            "client": client,
        }
        if status in DENIED:
            log.warning("access_denied", **fields)
        elif route in QUIET_ROUTES and status < 400:
            log.debug("access", **fields)
        else:
            log.info("access", **fields)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route, started = route_of(request), clock()
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            record(request, route, exc.status_code, started)
            raise
        record(request, route, response.status, started)
        return response

    return middleware
