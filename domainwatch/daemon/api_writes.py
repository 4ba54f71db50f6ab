"""The API's domain writes, as the daemon does them (a mixin of Daemon): by this replica, or
(clustered, docs/ha.md) by the replica holding the domain's slot, to which they are handed over
through the store (daemon/handoff.py); and the writes other replicas hand to this one."""

from __future__ import annotations

import asyncio
import json

from domainwatch.config.domains import DomainConfig
from domainwatch.daemon.handoff import Command, events_json, events_of, put_command, put_of
from domainwatch.daemon.membership import Action, Membership
from domainwatch.daemon.replica import Replica
from domainwatch.runtime.clock import Clock
from domainwatch.state.events import Event
from domainwatch.store.base import StoredDocument


class ApiWrites:
    members: Membership
    replica: Replica | None
    clock: Clock
    _wake: asyncio.Event

    # -- the API's writes (clustered: by the replica holding the domain; daemon/handoff.py) ---
    async def put_domain(self, document: StoredDocument, domain: DomainConfig, action: Action) -> list[Event]:
        if self._elsewhere(domain.name):
            return await self._hand_off(domain.name, put_command(document, action), action)
        events = await self.members.put_domain(document, domain, action)
        self._wake.set()
        return events

    async def delete_domain(self, name: str, by: str) -> list[Event]:
        if self._elsewhere(name):
            return await self._hand_off(name, {"op": "delete", "name": name, "by": by})
        return await self.members.delete_domain(name, by)

    async def verify(self, name: str, by: str = "api") -> list[Event]:
        if self._elsewhere(name):
            return await self._hand_off(name, {"op": "verify", "name": name, "by": by})
        events = await self.members.verify(name, by)
        self._wake.set()
        return events

    async def acknowledge(self, name: str, record: str, by: str) -> list[Event]:
        if self._elsewhere(name):
            return await self._hand_off(name, {"op": "acknowledge", "name": name, "record": record, "by": by})
        events = await self.members.acknowledge(name, record, by)
        self._wake.set()
        return events

    def _elsewhere(self, name: str) -> bool:
        return self.replica is not None and not self.replica.holds(name)

    async def _hand_off(self, name: str, command: Command, action: Action | None = None) -> list[Event]:
        assert self.replica is not None
        answer = await self.replica.hand_off(name, command)
        if action is not None and action.answer is not None and answer.get("answer") is not None:
            action.answer(json.loads(answer["answer"]))  # the view the holder answered (and kept)
        return events_of(answer["events"])

    async def execute(self, command: Command) -> Command:
        """A write another replica handed to this one (the domain's holder)."""
        op, by = command["op"], command["by"]
        kept: list[str] = []
        if op == "put":
            document, domain, action = put_of(command, self.clock(), kept)
            events = await self.put_domain(document, domain, action)
        elif op == "delete":
            events = await self.delete_domain(command["name"], by)
        elif op == "verify":
            events = await self.verify(command["name"], by)
        else:
            events = await self.acknowledge(command["name"], command["record"], by)
        return {"events": events_json(events), "answer": kept[0] if kept else None}
