"""The domain service: reads, the lifecycle writes and their rules, over the running daemon.

Every answer is plain JSON data. Every refusal is a ServiceError naming its HTTP status: 403 a
viewer writing, 404 unknown, 409 a config domain or a name taken, 412 a stale If-Match, 421
another shard's domain, 422 an invalid document (each problem at its path) or an
Idempotency-Key sent again with another body.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from domainwatch.config.document import (
    DocumentError,
    Problem,
    document_of,
    etag_of,
    huge_numbers,
    matches,
    normal_name,
    parse_document,
    patched,
)
from domainwatch.config.domains import DomainConfig
from domainwatch.config.floors import below, schedule_floors
from domainwatch.daemon.daemon import Daemon
from domainwatch.daemon.membership import Action
from domainwatch.daemon.sharding import owns, shard_of
from domainwatch.present.views import event_view, summary_view
from domainwatch.service.errors import Caller, ServiceError, by_holder, require_admin
from domainwatch.service.filters import EVERY_DOMAIN, DomainFilter, Page, cursor_of, key_of, page_of
from domainwatch.state.events import Event
from domainwatch.state.facts import DomainFacts
from domainwatch.state.fleet import status_counts
from domainwatch.store.base import StoredAnswer, StoredDocument
from domainwatch.values import check_selector

MAX_LIMIT = 10_000
MAX_IDEMPOTENCY_KEY = 255
MAX_SELECTORS = 20  # a diagnosis asks about each: bounded


def invalid(
    problems: Sequence[Problem], code: str = "invalid_domain", what: str = "the domain document"
) -> ServiceError:
    """A 422 naming each problem at its path (`what`: the whole, when a problem has no path)."""
    errors = [{"path": p.path, "message": p.message} for p in problems]
    summary = "; ".join(f"{p.path or what.rsplit(maxsplit=1)[-1]}: {p.message}" for p in problems)
    return ServiceError(422, code, f"{what} is invalid: {summary}", {"errors": errors})


def _readable(raw: object) -> object:
    """The API's JSON, refused where it holds an integer too long to read (web/api.py)."""
    huge = huge_numbers(raw)
    if huge:
        raise DocumentError(huge)
    return raw


class Domains:
    """Reads through the fleet's views and the daemon's read methods; writes through the daemon
    (never the store itself)."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.fleet = daemon.fleet

    # -- reads --------------------------------------------------------------------------------
    def names(self, wanted: DomainFilter = EVERY_DOMAIN) -> Iterator[str]:
        """This replica's domains in name order, those the filter admits."""
        fleet = self.fleet
        for name in sorted(fleet.plans):
            track = fleet.tracks.get(name)
            if track is not None and wanted.admits(name, track, fleet.plans[name], fleet.facts.get(name)):
                yield name

    def page(self, wanted: DomainFilter, page: Page) -> tuple[list[str], int, str | None]:
        """One page of the admitted domains in the page's order: their names, how many were
        admitted in all, and the cursor of the next page (None on the last)."""
        fleet, key, tracks = self.fleet, key_of(page.sort), self.fleet.tracks
        if wanted == EVERY_DOMAIN:  # the usual ask: no filter to run on each domain
            keys = [key(n, tracks[n], p) for n, p in fleet.plans.items() if n in tracks]
        else:
            facts = fleet.facts
            keys = [
                key(n, tracks[n], p)
                for n, p in fleet.plans.items()
                if n in tracks and wanted.admits(n, tracks[n], p, facts.get(n))
            ]
        names, last = page_of(keys, page)
        return names, len(keys), cursor_of(page, last) if last is not None else None

    async def view(self, name: str) -> dict[str, Any]:
        return await self.daemon.view(name)

    def counts(self) -> Counter[str]:
        """This replica's domains by status."""
        return status_counts(self.fleet)

    def summary(self, name: str) -> dict[str, Any]:
        """The domain as a row of the overview shows it, with what is wrong with it."""
        fleet = self.fleet
        return {**summary_view(fleet.tracks[name], fleet.plans[name]), "problem": self.problem(name)}

    async def day_counts(self, days: int) -> dict[str, dict[str, int]]:
        """The fleet's domains by status per day, the last `days` days."""
        return await self.daemon.day_counts(days)

    def top_findings(self, limit: int) -> list[tuple[str, int]]:
        """The finding codes (errors and warnings) most domains have now, with how many."""
        tally: Counter[str] = Counter()
        for facts in self.fleet.facts.values():
            tally.update(facts.codes)
        return tally.most_common(limit)

    def problem(self, name: str) -> str:
        """The domain's first error finding, "code: text" ("" without one)."""
        return self.fleet.facts.get(name, DomainFacts()).problem

    def findings(self, name: str) -> Mapping[str, int]:
        return self.fleet.facts.get(name, DomainFacts()).findings

    def source(self, name: str) -> str | None:
        plan = self.fleet.plans.get(name)
        return plan.source if plan is not None else None

    def watched(self, name: str) -> bool:
        return name in self.fleet.plans

    async def listing(self, wanted: DomainFilter, page: Page) -> dict[str, Any]:
        names, total, cursor = self.page(wanted, page)
        more = cursor is not None
        return {
            "domains": [await self.view(n) for n in names],
            "total": total,
            "next_cursor": cursor,
            "next_offset": page.offset + page.limit if more and page.after is None else None,
        }

    def known(self, raw_name: str, *, writing: bool = False) -> str:
        """The domain's normalised name if this replica has it, else the refusal to answer (a
        name that cannot be valid: 422 to a write, 404 to a read, as any name not watched)."""
        try:
            name = normal_name(raw_name)
        except DocumentError as exc:
            if writing:
                raise invalid(exc.problems) from None
            raise ServiceError(404, "not_found", f"no domain {raw_name[:253]!r} is watched here") from None
        if writing:
            self._owned(name)
        daemon, fleet = self.daemon, self.fleet
        if name in fleet.plans and name in fleet.tracks:
            return name
        if writing and name in fleet.documents:
            return name  # a stored document the models now refuse: it can be fixed or deleted
        sharding = daemon.config.sharding
        if daemon.config.domain(name) is not None and sharding.total_shards > 1:
            owner = shard_of(name, sharding.total_shards)
            total, here = sharding.total_shards, sharding.shard
            message = f"{name!r} belongs to shard {owner} of {total}; this is shard {here}"
            raise ServiceError(404, "other_shard", message, {"shard": owner})
        raise ServiceError(404, "not_found", f"no domain {name!r} is watched here")

    def document(self, raw_name: str) -> tuple[dict[str, Any], str]:
        """The domain's document (either source) and its ETag."""
        name = self.known(raw_name)
        document = self._document(name)
        return document, etag_of(document)

    def etag(self, name: str) -> str:
        return etag_of(self._document(name))

    def _document(self, name: str) -> dict[str, Any]:
        stored = self.fleet.documents.get(name)
        if stored is not None and self.fleet.plans[name].source == "api":
            return dict(stored.body)
        return document_of(self.fleet.plans[name].config)

    async def history(self, raw_name: str, limit: int) -> dict[str, Any]:
        name = self.known(raw_name)
        return {"history": [event_view(e) for e in await self.daemon.history(name, limit)]}

    async def events_since(self, since: datetime | None) -> AsyncIterator[Event]:
        """Every stored event since `since`, oldest first (the history export)."""
        async for event in self.daemon.history_since(since):
            yield event

    async def diagnose(self, raw_name: str, selectors: Sequence[str]) -> dict[str, Any]:
        """A one-shot check of any domain now (watched or not), as `domainwatch inspect`."""
        name = self._name(raw_name)
        if len(selectors) > MAX_SELECTORS:
            raise invalid([Problem("dkim_selectors", f"at most {MAX_SELECTORS} selectors")])
        try:
            wanted = [check_selector(s) for s in selectors]
        except ValueError as exc:
            raise invalid([Problem("dkim_selectors", str(exc))]) from None
        report = await self.daemon.diagnose(name, wanted)
        return report.as_dict()

    # -- writes -------------------------------------------------------------------------------
    async def create(
        self, raw: object, caller: Caller, idempotency_key: str | None = None
    ) -> tuple[int, str]:
        """POST: the answer's status and JSON body (201 and the domain, or a kept answer)."""
        require_admin(caller)
        scoped, request = self._idempotency(caller, idempotency_key, raw)
        if scoped is not None:
            kept = await self.daemon.kept_answer(scoped)
            if kept is not None:
                if kept.request != request:
                    message = "this Idempotency-Key was used with another request body"
                    raise ServiceError(422, "idempotency_key_reused", message)
                return kept.status, kept.body
        try:
            document, domain = parse_document(_readable(raw), creating=True)
        except DocumentError as exc:
            raise invalid(exc.problems) from None
        self._floors(domain)
        name = domain.name
        self._owned(name)
        if self.daemon.config.domain(name) is not None:
            raise ServiceError(409, "managed_by_config", f"{name!r} is managed by the config file")
        if name in self.fleet.documents:
            raise ServiceError(409, "already_exists", f"{name!r} already exists; PATCH it instead")
        now = self.daemon.clock()
        bodies: list[str] = []

        def answer(view: Mapping[str, Any]) -> StoredAnswer | None:
            bodies.append(json.dumps(view))  # answered now, and kept for a retry
            if scoped is None or request is None:
                return None
            return StoredAnswer(scoped, request, 201, bodies[0], now)

        stored = StoredDocument(name, document, now, now)
        key = (scoped, request) if scoped is not None and request is not None else None
        with by_holder():
            await self.daemon.put_domain(stored, domain, Action(caller.name, answer=answer, idempotency=key))
        return 201, bodies[0]

    async def update(
        self, raw_name: str, patch: object, caller: Caller, if_match: str | None
    ) -> dict[str, Any]:
        """PATCH: a JSON Merge Patch of the domain's document; records whose expectation changes
        restart at pending, the rest keep their state."""
        require_admin(caller)
        name = self._writable(raw_name, if_match)
        stored = self.fleet.documents[name]
        try:
            document, domain = patched(stored.body, _readable(patch))
        except DocumentError as exc:
            raise invalid(exc.problems) from None
        self._floors(domain)
        if document != stored.body or name not in self.fleet.plans:
            changed = replace(stored, body=document, updated_at=self.daemon.clock())
            with by_holder():
                await self.daemon.put_domain(changed, domain, Action(caller.name))
        return await self.view(name)

    async def delete(self, raw_name: str, caller: Caller, if_match: str | None) -> str:
        """DELETE: checking stops now; the name deleted."""
        require_admin(caller)
        name = self._writable(raw_name, if_match)
        with by_holder():
            await self.daemon.delete_domain(name, caller.name)
        return name

    async def verify(self, raw_name: str, caller: Caller) -> dict[str, Any]:
        require_admin(caller)
        name = self.known(raw_name)
        with by_holder():
            events = await self.daemon.verify(name, caller.name)
        return {"domain": await self.view(name), "events": [event_view(e) for e in events]}

    # -- rules --------------------------------------------------------------------------------
    def _floors(self, domain: DomainConfig) -> None:
        """An API document is held to the running config's floors (`limits`), whatever the
        config's own domains were allowed."""
        floors = schedule_floors(self.daemon.config.limits)
        problems = [Problem(key, message) for key, message in below(domain, floors)]
        if problems:
            raise invalid(problems)

    def _writable(self, raw_name: str, if_match: str | None) -> str:
        name = self.known(raw_name, writing=True)
        if name not in self.fleet.documents:
            raise ServiceError(
                409, "managed_by_config", f"{name!r} is managed by the config file; edit it there"
            )
        if not matches(if_match, etag_of(dict(self.fleet.documents[name].body))):
            raise ServiceError(412, "precondition_failed", "the domain changed since that ETag; GET it again")
        return name

    @staticmethod
    def _name(raw_name: str) -> str:
        try:
            return normal_name(raw_name)
        except DocumentError as exc:
            raise invalid(exc.problems) from None

    def _owned(self, name: str) -> None:
        sharding = self.daemon.config.sharding
        if not owns(name, sharding.shard, sharding.total_shards):
            owner = shard_of(name, sharding.total_shards)
            message = f"{name!r} belongs to shard {owner} of {sharding.total_shards}; send this write there"
            raise ServiceError(421, "other_shard", message, {"shard": owner})

    @staticmethod
    def _idempotency(caller: Caller, key: str | None, raw: object) -> tuple[str | None, str | None]:
        """The key as kept (scoped to the caller's token) and a digest of the request body."""
        if key is None:
            return None, None
        if not (0 < len(key) <= MAX_IDEMPOTENCY_KEY and key.isascii() and key.isprintable()):
            message = f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"
            raise ServiceError(400, "bad_idempotency_key", message)
        canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"))
        return f"{caller.name}:{key}", hashlib.sha256(canonical.encode()).hexdigest()
