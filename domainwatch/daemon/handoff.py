"""API writes handed to a domain's owner (clustered; docs/ha.md).

Only the replica holding a domain's slot writes its state: it alone knows the state its next
write follows from. A replica asked to write another's domain (over the API, the CLI or MCP)
puts the write in the shared store's `commands` table and waits for the answer; the holder,
woken by NOTIFY (or its one-second poll), claims it with SKIP LOCKED, does it as its own API
write would, and stores the answer. No replica-to-replica network path, address or credential
is needed: the store is the one place they all reach.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime
from typing import Any, Protocol

import structlog

from domainwatch.config.document import parse_document
from domainwatch.config.domains import DomainConfig
from domainwatch.daemon.errors import HandoffError
from domainwatch.daemon.membership import Action
from domainwatch.state.events import Event
from domainwatch.store.base import StoredAnswer, StoredDocument
from domainwatch.store.rows import event_from_row, event_values, moment, to_micros

log = structlog.get_logger("domainwatch")
TIMEOUT = 15.0  # seconds a write waits for the domain's holder (a takeover takes one lease TTL)
POLL = 0.05  # seconds between looks for the answer

Command = dict[str, Any]


class CommandStore(Protocol):
    async def send_command(self, slot: int, body: str) -> int: ...
    async def command_answer(self, command: int) -> str | None: ...
    async def withdraw_command(self, command: int) -> bool: ...
    async def claim_commands(self, replica: str, slots: Collection[int]) -> list[tuple[int, str]]: ...
    async def answer_command(self, command: int, answer: str) -> None: ...
    async def wait_for_commands(self, seconds: float) -> None: ...


def put_command(document: StoredDocument, action: Action) -> Command:
    """An API create or update (or an API domain's verify) as a command."""
    return {
        "op": "put",
        "name": document.name,
        "body": dict(document.body),
        "created_at": to_micros(document.created_at),
        "updated_at": to_micros(document.updated_at),
        "by": action.by,
        "verify_now": action.verify_now,
        "idempotency": list(action.idempotency) if action.idempotency else None,
    }


def put_of(command: Command, now: datetime, kept: list[str]) -> tuple[StoredDocument, DomainConfig, Action]:
    """The write a put command asks for; the answer a retry gets is kept in `kept` (as JSON)."""
    body = command["body"]
    document = StoredDocument(
        command["name"], body, moment(command["created_at"]), moment(command["updated_at"])
    )
    domain = parse_document(dict(body), stored=True)[1]
    idempotency = command.get("idempotency")

    def answer(view: Mapping[str, Any]) -> StoredAnswer | None:
        kept.append(json.dumps(view))  # the sender answers with it
        if not idempotency:
            return None
        key, request = idempotency
        return StoredAnswer(key, request, 201, kept[0], now)

    return document, domain, Action(command["by"], verify_now=command["verify_now"], answer=answer)


def events_json(events: list[Event]) -> list[list[Any]]:
    return [list(event_values(e)) for e in events]


def events_of(rows: list[list[Any]]) -> list[Event]:
    return [event_from_row(tuple(row)) for row in rows]


class Handoff:
    def __init__(
        self,
        store: CommandStore,
        replica: str,
        slots: Callable[[], Collection[int]],
        execute: Callable[[Command], Awaitable[Command]],
    ) -> None:
        self.store, self.replica, self.slots, self.execute = store, replica, slots, execute

    async def send(self, slot: int, command: Command) -> Command:
        """Hand a write to the holder of `slot` and wait for its answer. Unclaimed after
        TIMEOUT, it is withdrawn (nothing was written); claimed, its answer is awaited as long
        again."""
        command_id = await self.store.send_command(slot, json.dumps(command))
        answer = await self._answer(command_id)
        if answer is None and await self.store.withdraw_command(command_id):
            raise HandoffError(
                f"no replica holding the domain answered within {TIMEOUT:.0f} s; nothing was written"
            )
        answer = answer or await self._answer(command_id)
        if answer is None:
            raise HandoffError(
                "the replica holding the domain took the write but did not answer; GET it to see"
            )
        done: Command = json.loads(answer)
        if "error" in done:
            raise HandoffError(f"the replica holding the domain could not write it: {done['error']}")
        return done

    async def _answer(self, command_id: int) -> str | None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            answer = await self.store.command_answer(command_id)
            if answer is not None:
                return answer
            await asyncio.sleep(POLL)
        return None

    async def serve(self, stopping: asyncio.Event) -> None:
        """Do the writes handed to this replica's slots, until `stopping`."""
        while not stopping.is_set():
            try:
                await self.store.wait_for_commands(1.0)
                held = self.slots()
                for command_id, body in await self.store.claim_commands(self.replica, held) if held else []:
                    await self.store.answer_command(command_id, json.dumps(await self._do(body)))
            except Exception as exc:  # the store unreachable: the senders time out and say so
                log.warning("handoff_failed", error=" ".join(str(exc).split())[:300])
                await asyncio.sleep(1.0)

    async def _do(self, body: str) -> Command:
        try:
            return await self.execute(json.loads(body))
        except Exception as exc:
            log.exception("handoff_write_failed")
            return {"error": " ".join(str(exc).split())[:300] or type(exc).__name__}
