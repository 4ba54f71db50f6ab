"""The MCP tools: the eight domain operations for AI assistants, on the official SDK.

Each tool answers `structuredContent` (the same JSON the API serves) and a one-line summary
for the model to read first; a refusal is a tool error with the service's code and message
(a viewer calling a write tool, an invalid document with each problem's path). The backend
is chosen per call: in the daemon, the service on behalf of the caller's token; in
`domainwatch mcp`, the daemon's API.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from domainwatch import __version__
from domainwatch.checks.registry import KINDS
from domainwatch.service.backend import DomainsBackend, Json
from domainwatch.service.errors import ServiceError

BackendFor = Callable[[Context], DomainsBackend]
# The record kinds named from the registry, so a new kind is in the assistant's instructions too.
INSTRUCTIONS = f"""domainwatch watches email domains' DNS and mail servers (record kinds: \
{", ".join(kind.name for kind in KINDS)}) and keeps an ESP-style verification status per record \
and per domain. Start with list_domains or get_domain; `diagnose` checks any domain now. Each \
record carries the exact record to publish (`zone_line`) and each finding its fix \
(`remediation`)."""

READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
DIAGNOSE = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
CREATE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
CHANGE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
REMOVE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)

Name = Annotated[str, Field(description="the domain name, e.g. updates.example.com", max_length=253)]
Limit = Annotated[int, Field(ge=1, le=1000)]


def answer(data: Json, summary: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=summary)], structured_content=data)


async def attempt(call: Awaitable[Json]) -> Json:
    """The backend's answer, or its refusal as a tool error the model can act on."""
    try:
        return await call
    except ServiceError as exc:
        problems = exc.details.get("errors")
        detail = f" {json.dumps(problems)}" if problems else ""
        raise ToolError(f"{exc.code}: {exc.message}{detail}") from None


def domain_summary(view: Json) -> str:
    records = view.get("records", [])
    open_ = [r["record"] for r in records if r.get("required") and r.get("status") != "verified"]
    capabilities = ", ".join(f"{k} {v}" for k, v in view.get("capabilities", {}).items())
    tail = f"; not verified: {', '.join(open_)}" if open_ else ""
    return f"{view['name']} is {view['status']} ({capabilities or 'no capabilities'}){tail}"


def build(backend_for: BackendFor) -> MCPServer:
    """The server with the eight tools; `backend_for` picks each call's backend."""
    # log_level: the SDK configures logging when nothing has (tests); the daemon already has.
    server: MCPServer = MCPServer(
        "domainwatch", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING"
    )

    async def list_domains(
        ctx: Context,
        status: Annotated[str | None, Field(description="only domains in this status, e.g. failed")] = None,
        query: Annotated[str | None, Field(description="only names containing this", max_length=253)] = None,
        limit: Limit = 100,
    ) -> CallToolResult:
        """List watched domains with their statuses (sorted by name)."""
        data = await attempt(backend_for(ctx).list_domains(status, query, limit))
        counts = Counter(d["status"] for d in data["domains"])
        shown = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        return answer(data, f"{len(data['domains'])} of {data['total']} domains: {shown or 'none'}")

    async def get_domain(ctx: Context, name: Name) -> CallToolResult:
        """A domain's statuses, windows, and every record: expected and found values, findings
        and the exact fix."""
        data = await attempt(backend_for(ctx).get_domain(name))
        return answer(data, domain_summary(data))

    async def domain_history(ctx: Context, name: Name, limit: Limit = 50) -> CallToolResult:
        """A domain's status changes and lifecycle events, newest first."""
        data = await attempt(backend_for(ctx).domain_history(name, limit))
        return answer(data, f"{len(data['history'])} events of {name}")

    async def diagnose(
        ctx: Context,
        name: Name,
        dkim_selectors: Annotated[list[str] | None, Field(max_length=20)] = None,
    ) -> CallToolResult:
        """Check any domain's published records now (watched or not), as `domainwatch inspect`;
        nothing is stored."""
        data = await attempt(backend_for(ctx).diagnose(name, dkim_selectors or []))
        states = ", ".join(f"{r['record']} {r['state']}" for r in data.get("records", []))
        return answer(data, f"{data.get('name', name)}: {states or 'no records checked'}")

    async def add_domain(
        ctx: Context,
        document: Annotated[
            dict[str, Any],
            Field(
                description="one entry of `domains:` as JSON, e.g. {name, preset, region}; "
                "verify defaults to false"
            ),
        ],
    ) -> CallToolResult:
        """Start watching a domain (admin); answers the records to publish (`zone_line`)."""
        data = await attempt(backend_for(ctx).add_domain(document))
        lines = [r["zone_line"] for r in data.get("records", []) if r.get("zone_line")]
        return answer(data, f"created {data['name']} ({data['status']}); publish:\n" + "\n".join(lines))

    async def update_domain(
        ctx: Context,
        name: Name,
        patch: Annotated[dict[str, Any], Field(description="a JSON Merge Patch of the domain's document")],
    ) -> CallToolResult:
        """Change an API-managed domain's document (admin); changed records restart at pending."""
        data = await attempt(backend_for(ctx).update_domain(name, patch))
        return answer(data, "updated: " + domain_summary(data))

    async def remove_domain(ctx: Context, name: Name) -> CallToolResult:
        """Stop watching an API-managed domain (admin); its state is kept for the retention."""
        data = await attempt(backend_for(ctx).remove_domain(name))
        return answer(data, f"deleted {data['deleted']}")

    async def verify_domain(ctx: Context, name: Name) -> CallToolResult:
        """Start or restart verification now (admin): not_started and failed records go pending."""
        data = await attempt(backend_for(ctx).verify_domain(name))
        return answer(data, "verification requested: " + domain_summary(data["domain"]))

    async def acknowledge_record(
        ctx: Context,
        name: Name,
        record: Annotated[
            str, Field(max_length=300, description="the record id: spf, dmarc, dkim:<selector>")
        ],
    ) -> CallToolResult:
        """Accept a pinned record's change (admin): what it publishes now is its new baseline."""
        data = await attempt(backend_for(ctx).acknowledge_record(name, record))
        return answer(data, f"acknowledged {record} of {name}: {data['record']['status']}")

    for tool, hints in (
        (list_domains, READ),
        (get_domain, READ),
        (domain_history, READ),
        (diagnose, DIAGNOSE),
        (add_domain, CREATE),
        (update_domain, CHANGE),
        (remove_domain, REMOVE),
        (verify_domain, CHANGE),
        (acknowledge_record, CHANGE),
    ):
        server.add_tool(tool, name=tool.__name__, annotations=hints, structured_output=False)
    return server
