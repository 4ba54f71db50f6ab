"""The domain operations as the MCP tools call them, in the daemon (LocalBackend, the caller's
role checked by the service) or from another process over the JSON API (client.HttpBackend,
checked by the daemon). Both answer the same JSON data and raise ServiceError."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from domainwatch.service.domains import Domains
from domainwatch.service.drift import Drift
from domainwatch.service.errors import Caller, ServiceError
from domainwatch.service.filters import DomainFilter, Page
from domainwatch.state.rules import Status

Json = dict[str, Any]


class DomainsBackend(Protocol):
    async def list_domains(self, status: str | None, query: str | None, limit: int) -> Json: ...
    async def get_domain(self, name: str) -> Json: ...
    async def domain_history(self, name: str, limit: int) -> Json: ...
    async def diagnose(self, name: str, selectors: Sequence[str]) -> Json: ...
    async def add_domain(self, document: Json) -> Json: ...
    async def update_domain(self, name: str, patch: Json) -> Json: ...
    async def remove_domain(self, name: str) -> Json: ...
    async def verify_domain(self, name: str) -> Json: ...
    async def acknowledge_record(self, name: str, record: str) -> Json: ...


def status_of(text: str | None) -> Status | None:
    if text is None:
        return None
    try:
        return Status(text)
    except ValueError:
        choices = ", ".join(s.value for s in Status)
        raise ServiceError(400, "bad_parameter", f"status must be one of {choices}") from None


class LocalBackend:
    """In the daemon: the service itself, on behalf of one caller."""

    def __init__(self, domains: Domains, caller: Caller) -> None:
        self.domains, self.caller = domains, caller

    async def list_domains(self, status: str | None, query: str | None, limit: int) -> Json:
        found = status_of(status)
        statuses = frozenset() if found is None else frozenset({found})
        return await self.domains.listing(DomainFilter(statuses=statuses, query=query), Page(limit=limit))

    async def get_domain(self, name: str) -> Json:
        return await self.domains.view(self.domains.known(name))

    async def domain_history(self, name: str, limit: int) -> Json:
        return await self.domains.history(name, limit)

    async def diagnose(self, name: str, selectors: Sequence[str]) -> Json:
        return await self.domains.diagnose(name, selectors)

    async def add_domain(self, document: Json) -> Json:
        _, body = await self.domains.create(document, self.caller)
        answer: Json = json.loads(body)
        return answer

    async def update_domain(self, name: str, patch: Json) -> Json:
        return await self.domains.update(name, patch, self.caller, None)

    async def remove_domain(self, name: str) -> Json:
        return {"deleted": await self.domains.delete(name, self.caller, None)}

    async def verify_domain(self, name: str) -> Json:
        return await self.domains.verify(name, self.caller)

    async def acknowledge_record(self, name: str, record: str) -> Json:
        return await Drift(self.domains).acknowledge(name, record, self.caller)
