"""Requests refused before any handler runs: a Host the daemon does not answer to (DNS
rebinding), and state-changing requests that a web page on another site could have sent (CSRF:
a cross-site Origin or Sec-Fetch-Site, or a body a form can send). The decisions are pure
functions; the middleware applies them."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware

from domainwatch.web.auth import Denied, Handler

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_TYPES = frozenset({"application/json", "application/merge-patch+json"})
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})


def split_host(value: str) -> str:
    """The host of a Host header or an origin's authority, without port or brackets, lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_allowed(host_header: str | None, listen_host: str, allowed: Sequence[str]) -> bool:
    """Host names the daemon answers to: `server.allowed_hosts` ("*" for any); by default the
    listen address, localhost names and IP address literals (a rebinding attack needs a name)."""
    if host_header is None:
        return False
    host = split_host(host_header)
    if "*" in allowed or host in {a.lower().rstrip(".") for a in allowed}:
        return True
    return host in LOCAL_NAMES or host == split_host(listen_host) or _is_ip(host)


def refused(
    method: str, headers: Mapping[str, str], has_body: bool, *, strict: bool = False
) -> Denied | None:
    """Why a request that changes state could have come from another site's page, or None.
    `strict`: every method is checked, not only those that change state (the MCP endpoint,
    where no other site's page has any business, whatever it sends)."""
    if method not in UNSAFE and not strict:
        return None
    fetch_site = headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return Denied(403, "cross_site", f"cross-site request refused (Sec-Fetch-Site: {fetch_site[:20]})")
    origin = headers.get("Origin")
    if origin is not None:
        authority = origin.partition("://")[2]
        if origin == "null" or authority.lower() != headers.get("Host", "").lower():
            return Denied(403, "cross_site", "cross-site request refused (Origin is not this server)")
    content_type = headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if has_body and content_type not in JSON_TYPES:
        return Denied(415, "unsupported_media_type", "send a JSON body (Content-Type: application/json)")
    return None


def guard_middleware(
    listen: Callable[[], str],
    allowed_hosts: Callable[[], Sequence[str]],
    deny: Callable[[web.Request, Denied], web.StreamResponse],
    strict_paths: Sequence[str] = (),
) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        listen_host = listen().rpartition(":")[0]
        if not host_allowed(request.headers.get("Host"), listen_host, allowed_hosts()):
            misdirected = Denied(421, "misdirected", "this server does not answer to that Host name")
            return deny(request, misdirected)
        strict = request.path in strict_paths
        decision = refused(request.method, request.headers, request.body_exists, strict=strict)
        if decision is not None:
            return deny(request, decision)
        return await handler(request)

    return middleware
