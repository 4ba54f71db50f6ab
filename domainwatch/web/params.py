"""Query parameters as the API and the pages read them: each checked, a bad one a 400 naming it
(never a traceback), repeatable ones read whole."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from domainwatch.checks.registry import finding_codes
from domainwatch.service.errors import ServiceError
from domainwatch.service.filters import CAPABILITIES, ORDERS, SORTS, DomainFilter, Page, read_cursor
from domainwatch.state.rules import Status
from domainwatch.values import parse_label_filter, parse_time

SOURCES = ("config", "api")
MAX_PAGE = 1000  # domains in one page of the list
MAX_REPEATS = 16  # values of one repeatable parameter


def int_param(request: web.Request, key: str, default: int, low: int, high: int) -> int:
    text = request.query.get(key)
    if text is None:
        return default
    if not (text.isascii() and text.isdecimal() and len(text) <= 12) or not low <= int(text) <= high:
        raise ServiceError(400, "bad_parameter", f"{key} must be an integer from {low} to {high}")
    return int(text)


def _given(request: web.Request, key: str, what: str = "values") -> list[str]:
    """A repeatable parameter's values, at most MAX_REPEATS (blank ones, a form's, ignored)."""
    values = [text for text in request.query.getall(key, []) if text]
    if len(values) > MAX_REPEATS:
        raise ServiceError(400, "bad_parameter", f"{key}: at most {MAX_REPEATS} {what}")
    return values


def repeated(request: web.Request, key: str, known: tuple[str, ...] | frozenset[str]) -> frozenset[str]:
    """A repeatable parameter's values, each one of `known`."""
    values = _given(request, key)
    for value in values:
        if value not in known:
            shown = ", ".join(sorted(known)) if len(known) <= 12 else "a finding code (docs/checks.md)"
            raise ServiceError(400, "bad_parameter", f"{key} must be one of {shown}")
    return frozenset(values)


def statuses_param(request: web.Request) -> frozenset[Status]:
    return frozenset(Status(v) for v in repeated(request, "status", tuple(s.value for s in Status)))


def source_param(request: web.Request) -> str | None:
    text = request.query.get("source")
    if text is not None and text not in SOURCES:
        raise ServiceError(400, "bad_parameter", f"source must be one of {', '.join(SOURCES)}")
    return text


def query_param(request: web.Request) -> str | None:
    return request.query.get("q", "")[:253] or None


def labels_param(request: web.Request) -> dict[str, frozenset[str]]:
    """`label=key=value`, repeatable: values of one key are alternatives, keys all must hold."""
    texts = _given(request, "label", "filters")
    wanted: dict[str, frozenset[str]] = {}
    for text in texts:
        try:
            key, value = parse_label_filter(text)
        except ValueError as exc:
            raise ServiceError(400, "bad_parameter", f"label: {exc}") from None
        wanted[key] = wanted.get(key, frozenset()) | {value}
    return wanted


def filter_params(request: web.Request, *, since: bool = False) -> DomainFilter:
    """The domain filters a request names (status, q, source, label, and `since` for exports)."""
    return DomainFilter(
        statuses=statuses_param(request),
        query=query_param(request),
        source=source_param(request),
        since=time_param(request, "since") if since else None,
        labels=labels_param(request),
        capabilities=repeated(request, "capability", CAPABILITIES),
        findings=repeated(request, "finding", _CODES),
    )


_CODES = frozenset(code.value for code in finding_codes())


def one_of(request: web.Request, key: str, known: tuple[str, ...], default: str) -> str:
    text = request.query.get(key, default)
    if text not in known:
        raise ServiceError(400, "bad_parameter", f"{key} must be one of {', '.join(known)}")
    return text


def page_params(request: web.Request, default_limit: int = MAX_PAGE) -> Page:
    """sort, order, limit and where to start: `cursor` (a next_cursor) or `offset`."""
    sort, order = one_of(request, "sort", SORTS, "name"), one_of(request, "order", ORDERS, "asc")
    limit = int_param(request, "limit", default_limit, 1, MAX_PAGE)
    offset = int_param(request, "offset", 0, 0, 10**9)
    cursor = request.query.get("cursor")
    if not cursor:
        return Page(sort, order, limit, offset)
    try:
        return Page(sort, order, limit, 0, read_cursor(cursor[:2048], sort, order))
    except ValueError as exc:
        raise ServiceError(400, "bad_parameter", f"cursor: {exc}") from None


def time_param(request: web.Request, key: str) -> datetime | None:
    text = request.query.get(key)
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise ServiceError(400, "bad_parameter", f"{key}: {exc}") from None
