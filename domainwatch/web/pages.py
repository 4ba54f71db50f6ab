"""The status page (jinja2, autoescape on, no JavaScript needed).

Everything shown from DNS is attacker-controlled text; autoescaping is on for every template and
no value is ever marked safe.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import jinja2
from aiohttp import web

from domainwatch.checks.diagnoses.mistakes import MISTAKES
from domainwatch.present.fleet_chart import DAYS as FLEET_DAYS
from domainwatch.present.fleet_chart import fleet_chart
from domainwatch.present.report import remove_lines, zone_line
from domainwatch.present.timeline import LANE, TOP, WIDTH, timeline
from domainwatch.present.views import iso
from domainwatch.present.zone import publish_rows, zone_block
from domainwatch.service.domains import Domains
from domainwatch.service.errors import ServiceError
from domainwatch.service.filters import Page
from domainwatch.state.rules import Status
from domainwatch.web.params import filter_params, int_param, page_params
from domainwatch.webhooks.worker import WebhookWorker

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("domainwatch.web", "templates"),
    autoescape=True,
)
ENV.filters["zone_line"] = zone_line
ENV.filters["remove_lines"] = remove_lines
ENV.globals["mistakes"] = frozenset(code.value for code in MISTAKES)  # "Not verifying? Try this"
STATUSES = [s.value for s in Status]
HTML = "text/html"
# The pages need no script at all: any that DNS content might smuggle in cannot run. Their one
# <style> element carries a nonce made per answer, so no style an attacker injects applies
# either (the templates have no style= attributes).
CSP = (
    "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'none'; img-src 'none'; frame-ancestors 'none'"
)


def render(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> web.Response:
    nonce = secrets.token_urlsafe(16)
    body = ENV.get_template(template).render(style_nonce=nonce, **context)
    return web.Response(
        text=body,
        content_type=HTML,
        status=status,
        headers={
            "Content-Security-Policy": CSP.format(nonce=nonce),
            "X-Content-Type-Options": "nosniff",
            **(headers or {}),
        },
    )


def error_page(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return render("error.html", status=status, headers=headers, status_code=status, message=message, now="")


def webhook_problems(worker: WebhookWorker | None) -> list[str]:
    """Disabled endpoints and dead letters, for the banner of the index page."""
    if worker is None:
        return []
    problems = [f"webhook endpoint {name} is disabled: {reason}" for name, reason in worker.disabled.items()]
    for stats in worker.endpoint_stats():
        if stats.dead_letters:
            problems.append(
                f"webhook endpoint {stats.name} has {stats.dead_letters} dead-lettered deliveries"
            )
    return problems


HISTORY_ROWS = 1000  # of a domain's history read for its page and timeline (newest first)
PAGE_ROWS = 100  # domains on one page of the overview (`limit` takes up to 1000)


def _with(request: web.Request, **changes: str | None) -> str:
    """This page's URL with some parameters replaced (None: removed)."""
    query = [(k, v) for k, v in request.query.items() if k not in changes]
    query += [(k, v) for k, v in changes.items() if v is not None]
    return str(request.rel_url.with_query(query))


def _flip(page: Page, sort: str) -> str:
    """The order a column's header link asks: the other one when that column is the sort."""
    return "desc" if page.sort == sort and page.order == "asc" else "asc"


def ago(moment: str | None, now: str) -> str:
    """An RFC 3339 time as people read it on a status page: "12 min ago", "in 3 h"."""
    if not moment:
        return ""
    seconds = (datetime.fromisoformat(now) - datetime.fromisoformat(moment)).total_seconds()
    span = abs(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if span >= size:
            text = f"{int(span // size)} {unit}"
            break
    else:
        return "just now"
    return f"{text} ago" if seconds >= 0 else f"in {text}"


ENV.filters["ago"] = ago


def domain_page(view: dict[str, Any], history: list[dict[str, Any]], now: datetime) -> web.Response:
    """A domain's page: what to publish, its records, verdicts, timeline and history."""
    return render(
        "domain.html",
        domain=view,
        history=history,
        now=iso(now),
        zone_text=zone_block(view),
        publish_rows=publish_rows(view),
        t=timeline(view, history, now),
        width=WIDTH,
        top=TOP,
        lane_height=LANE,
    )


def routes(domains: Domains, worker: WebhookWorker | None = None) -> web.RouteTableDef:
    table = web.RouteTableDef()
    daemon = domains.daemon

    @table.get("/")
    async def index(request: web.Request) -> web.Response:
        wanted, page = filter_params(request), page_params(request, default_limit=PAGE_ROWS)
        refresh = int_param(request, "refresh", 0, 10, 3600) if "refresh" in request.query else None
        query = (wanted.query or "").strip().lower()
        counts = domains.counts()
        names, matching, cursor = domains.page(wanted, page)
        views = [domains.summary(n) for n in names]
        chart = fleet_chart(await domains.day_counts(FLEET_DAYS), daemon.clock())
        return render(
            "index.html",
            domains=views,
            counts=counts,
            statuses=STATUSES,
            total=sum(counts.values()),
            matching=matching,
            page=page,
            refresh=refresh,
            chart=chart,
            top_findings=domains.top_findings(5),
            next_url=_with(request, cursor=cursor, offset=None) if cursor else None,
            sort_url=lambda sort: _with(
                request, sort=sort, order=_flip(page, sort), cursor=None, offset=None
            ),
            wanted=next(iter(wanted.statuses)).value if len(wanted.statuses) == 1 else "",
            labels=sorted(f"{k}={v}" for k, values in wanted.labels.items() for v in values),
            query=query,
            now=iso(daemon.clock()),
            webhook_problems=webhook_problems(worker),
        )

    @table.get("/domains/{name}")
    async def domain(request: web.Request) -> web.Response:
        try:
            name = domains.known(request.match_info["name"])
        except ServiceError as exc:
            return error_page(404, exc.message)
        history = (await domains.history(name, HISTORY_ROWS))["history"]
        view = await domains.view(name)
        now = daemon.clock()
        return domain_page(view, history, now)

    return table
