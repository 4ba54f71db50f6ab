"""Bearer-token access control: a pure decision, and the aiohttp middleware around it.

Roles: viewer reads; admin also verifies, reloads and exports. With no tokens configured reads
are open and admin actions refused. Probes (/livez, /healthz, /readyz) are always open.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from aiohttp import web
from aiohttp.typedefs import Middleware

from domainwatch.config.schema import TokenConfig
from domainwatch.service.errors import ANONYMOUS, Caller

Role = Literal["open", "viewer", "admin"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ROLE_KEY = "domainwatch_role"
CALLER = web.RequestKey("caller", Caller)  # who sent the request (handlers pass it on)


@dataclass(frozen=True, slots=True)
class Denied:
    status: int  # 401 or 403
    code: str
    message: str


def requires(role: Role) -> Callable[[Handler], Handler]:
    """Mark a handler with the role it needs (viewer when unmarked)."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, ROLE_KEY, role)
        return handler

    return mark


def authorize(tokens: Sequence[TokenConfig], header: str | None, needed: Role) -> TokenConfig | Denied | None:
    """The caller's token, None for an anonymous caller allowed in, or why the request is refused."""
    if needed == "open":
        return None
    if not tokens:
        if needed == "admin":
            return Denied(
                403,
                "forbidden",
                "admin actions are disabled: add a token with role admin under "
                "server.tokens and send it as Authorization: Bearer <token>",
            )
        return None
    caller = _match(tokens, header)
    if caller is None:
        return Denied(401, "unauthorized", "send a valid token as Authorization: Bearer <token>")
    if needed == "admin" and caller.role != "admin":
        return Denied(403, "forbidden", f"token {caller.name!r} has role viewer; this needs admin")
    return caller


def caller_of(tokens: Sequence[TokenConfig], header: str | None) -> Caller:
    """The caller a request's Authorization header names: its token's name and role, or
    anonymous (reads only) without a valid token."""
    token = _match(tokens, header) if tokens else None
    return Caller(token.name, token.role) if token is not None else ANONYMOUS


def _match(tokens: Sequence[TokenConfig], header: str | None) -> TokenConfig | None:
    scheme, _, presented = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return None
    given = presented.strip().encode("utf-8", "surrogateescape")  # any bytes: compared, not decoded
    found = None
    for token in tokens:  # compare against every token, in constant time each
        if hmac.compare_digest(given, token.token.get_secret_value().encode("utf-8", "surrogateescape")):
            found = token
    return found


def auth_middleware(
    tokens: Callable[[], Sequence[TokenConfig]], deny: Callable[[web.Request, Denied], web.StreamResponse]
) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        needed: Role = getattr(handler, ROLE_KEY, "viewer")
        decision = authorize(tokens(), request.headers.get("Authorization"), needed)
        if isinstance(decision, Denied):
            return deny(request, decision)
        request[CALLER] = Caller(decision.name, decision.role) if decision is not None else ANONYMOUS
        return await handler(request)

    return middleware
