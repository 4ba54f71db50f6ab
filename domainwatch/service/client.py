"""A client of a running daemon's JSON API: `domainwatch domains ...` and the stdio MCP server.

Standard library only (urllib): the commands that use it start fast and need nothing the
daemon does not. Every failure, the daemon's refusals and a daemon out of reach alike, is a
ServiceError with the daemon's own code and message.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from domainwatch.service.errors import ServiceError

DEFAULT_URL = "http://127.0.0.1:8427"
TOKEN_ENV = "DOMAINWATCH_TOKEN"  # noqa: S105 (the variable's name, not a token)
MAX_ANSWER = 64 * 1024 * 1024  # bytes read of one answer: a list of 10,000 domains fits
Json = dict[str, Any]


def token_from(token_file: str | None, env: Mapping[str, str] = os.environ) -> str | None:
    """The bearer token: the file's first line, else $DOMAINWATCH_TOKEN, else none."""
    if token_file is not None:
        try:
            return Path(token_file).read_text("utf-8").strip() or None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise ServiceError(2, "token_file", f"cannot read {token_file}: {reason}") from None
    return env.get(TOKEN_ENV) or None


class ApiClient:
    def __init__(self, url: str = DEFAULT_URL, token: str | None = None, timeout: float = 60.0) -> None:
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def call(
        self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> tuple[Any, Mapping[str, str]]:
        """One request: the answer's JSON (None for 204) and headers, or ServiceError."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)  # noqa: S310 (http(s) only: see check_url)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with _OPENER.open(request, timeout=self.timeout) as answer:
                return _json(answer.read(MAX_ANSWER + 1)), dict(answer.headers)
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:  # the bearer token must never follow it elsewhere
                raise _redirected(exc.headers.get("Location", "")) from None
            raise _refusal(exc.code, exc.read(MAX_ANSWER)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServiceError(0, "unreachable", f"cannot reach the daemon at {self.url}: {reason}") from None

    # -- the operations -------------------------------------------------------------------------
    def list_domains(
        self, status: str | None = None, query: str | None = None, limit: int = 1000, **more: Any
    ) -> Json:
        """`more`: the list's other parameters (sort, order, capability, finding, source...);
        a list value repeats its parameter."""
        params = [(k, v) for k, v in {"status": status, "q": query, "limit": str(limit)}.items() if v]
        for key, value in more.items():
            name = "status" if key == "statuses" else key  # (several; `status` is the one above)
            params += [(name, str(v)) for v in (value if isinstance(value, list | tuple) else [value]) if v]
        answer: Json = self.call("GET", f"/api/v1/domains?{urllib.parse.urlencode(params)}")[0]
        return answer

    def get_domain(self, name: str) -> Json:
        answer: Json = self.call("GET", f"/api/v1/domains/{_quoted(name)}")[0]
        return answer

    def domain_history(self, name: str, limit: int = 100) -> Json:
        answer: Json = self.call("GET", f"/api/v1/domains/{_quoted(name)}/history?limit={limit}")[0]
        return answer

    def diagnose(self, name: str, selectors: Sequence[str] = ()) -> Json:
        query = urllib.parse.urlencode([("dkim_selector", s) for s in selectors])
        answer: Json = self.call("GET", f"/api/v1/diagnose/{_quoted(name)}?{query}")[0]
        return answer

    def add_domain(self, document: Json, idempotency_key: str | None = None) -> Json:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        answer: Json = self.call("POST", "/api/v1/domains", document, headers)[0]
        return answer

    def update_domain(self, name: str, patch: Json) -> Json:
        answer: Json = self.call("PATCH", f"/api/v1/domains/{_quoted(name)}", patch)[0]
        return answer

    def remove_domain(self, name: str) -> Json:
        self.call("DELETE", f"/api/v1/domains/{_quoted(name)}")
        return {"deleted": name.rstrip(".").lower()}

    def verify_domain(self, name: str) -> Json:
        answer: Json = self.call("POST", f"/api/v1/domains/{_quoted(name)}/verify")[0]
        return answer

    def acknowledge_record(self, name: str, record: str) -> Json:
        path = f"/api/v1/domains/{_quoted(name)}/records/{_quoted(record)}/acknowledge"
        answer: Json = self.call("POST", path)[0]
        return answer


class HttpBackend:
    """The MCP tools' backend over the API (the stdio server): each call in a worker thread."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    async def list_domains(self, status: str | None, query: str | None, limit: int) -> Json:
        return await asyncio.to_thread(self.client.list_domains, status, query, limit)

    async def get_domain(self, name: str) -> Json:
        return await asyncio.to_thread(self.client.get_domain, name)

    async def domain_history(self, name: str, limit: int) -> Json:
        return await asyncio.to_thread(self.client.domain_history, name, limit)

    async def diagnose(self, name: str, selectors: Sequence[str]) -> Json:
        return await asyncio.to_thread(self.client.diagnose, name, selectors)

    async def add_domain(self, document: Json) -> Json:
        return await asyncio.to_thread(self.client.add_domain, document)

    async def update_domain(self, name: str, patch: Json) -> Json:
        return await asyncio.to_thread(self.client.update_domain, name, patch)

    async def remove_domain(self, name: str) -> Json:
        return await asyncio.to_thread(self.client.remove_domain, name)

    async def verify_domain(self, name: str) -> Json:
        return await asyncio.to_thread(self.client.verify_domain, name)

    async def acknowledge_record(self, name: str, record: str) -> Json:
        return await asyncio.to_thread(self.client.acknowledge_record, name, record)


def check_url(url: str) -> str:
    """The daemon's base URL, http or https (urllib would also open file: and ftp: URLs)."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError("must be an http:// or https:// URL such as http://127.0.0.1:8427")
    return url


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, never followed: urllib would resend the request, token included,
    to wherever the Location points."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _redirected(location: str) -> ServiceError:
    parts = urllib.parse.urlsplit(location)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else (location[:100] or "?")
    return ServiceError(0, "redirected", f"the daemon redirected to {origin}; not followed")


def _quoted(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _json(raw: bytes) -> Any:
    if len(raw) > MAX_ANSWER:
        raise ServiceError(0, "too_large", f"the daemon's answer is over {MAX_ANSWER} bytes")
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ServiceError(
            0, "bad_answer", "the daemon's answer is not JSON (is --url the daemon?)"
        ) from None


def _refusal(status: int, raw: bytes) -> ServiceError:
    """The daemon's error answer as the ServiceError it was raised as."""
    try:
        error = json.loads(raw)["error"]
        details = {k: v for k, v in error.items() if k not in ("code", "message")}
        return ServiceError(status, str(error["code"]), str(error["message"]), details)
    except (ValueError, KeyError, TypeError):
        return ServiceError(status, "http_error", f"the daemon answered HTTP {status}")
