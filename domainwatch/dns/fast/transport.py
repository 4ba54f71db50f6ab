"""A Resolver over a few shared UDP sockets, multiplexing queries by id (the fast path).

Each query gets a random id on a random one of a few sockets bound to random ports, the reply is
matched by (source address, id) and must echo the question; truncated answers are retried over
TCP; timeouts and SERVFAIL are retried per query like the dnspython resolver. Anything the
codec will not decide (an unknown type in the answer, say) is parsed by dnspython instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.message

from domainwatch.dns.dnspython_resolver import QueryObserver, classify_response
from domainwatch.dns.fast.codec import (
    Malformed,
    Unsupported,
    encode_query,
    is_truncated,
    parse_response,
    question_of,
    response_id,
)
from domainwatch.dns.ratelimit import RateLimiter
from domainwatch.dns.resolver import Lookup, Nameserver, Outcome, Query
from domainwatch.runtime.entropy import RandomPool

_RETRYABLE = frozenset({Outcome.TIMEOUT, Outcome.SERVFAIL, Outcome.NETWORK, Outcome.MALFORMED})
RECEIVE_BUFFER = 4 << 20  # the default drops replies at tens of thousands of queries a second


# A query's outcome: (reply, arrival time); an OSError from sending or from the socket; or None
# for no answer in time. Timeouts are a value, not an exception: an exception set on a future
# keeps a traceback, and with it the frames that awaited it, in a reference cycle only a full
# collection frees (memory grew during resolver outages until it ran).
Reply = tuple[bytes, float] | OSError | None


class _Batch:
    """The queries of one exchange, answered into their slots by the socket's callback: one
    future for the batch, set when the last slot fills or the timeout passes, instead of a
    future, a callback and a wake-up of the waiting task per query."""

    __slots__ = ("future", "remaining", "replies")

    def __init__(self, size: int, future: asyncio.Future[None]) -> None:
        self.future = future
        self.replies: list[Reply] = [None] * size
        self.remaining = size

    def answer(self, index: int, reply: tuple[bytes, float] | OSError) -> None:
        """The first reply to a slot counts (a second one for the same id is ignored), and none
        once the batch is over."""
        if self.replies[index] is not None or self.future.done():
            return
        self.replies[index] = reply
        self.remaining -= 1
        if self.remaining == 0:
            self.future.set_result(None)

    def expire(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


@dataclass(slots=True, kw_only=True)
class _Flight:
    """One query sent and not yet answered: its slot in the batch."""

    query: Query
    qid: int
    wire: bytes
    key: tuple[str, int, int]
    endpoint: _Endpoint
    index: int
    sent: float = field(default_factory=time.perf_counter)

    def forget(self) -> None:
        """Stop waiting (answered, timed out, or the caller was cancelled). The key is this
        flight's until then: _send picks no id still waiting."""
        self.endpoint.waiting.pop(self.key, None)


class _Endpoint(asyncio.DatagramProtocol):
    """One UDP socket and the replies it is waiting for, keyed by (host, port, id)."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.waiting: dict[tuple[str, int, int], tuple[_Batch, int]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        qid = response_id(data)
        slot = self.waiting.get((str(addr[0]), int(addr[1]), qid)) if qid is not None else None
        if slot is not None:
            batch, index = slot
            batch.answer(index, (data, time.perf_counter()))  # arrival time, for the latency metric

    def error_received(self, exc: Exception) -> None:
        if not isinstance(exc, OSError):
            exc = OSError(str(exc))
        for batch, index in list(self.waiting.values()):  # e.g. ICMP port unreachable: fail fast
            batch.answer(index, exc)


class FastResolver:
    def __init__(
        self,
        nameservers: Sequence[Nameserver],
        *,
        timeout: float = 2.0,
        attempts: int = 2,
        recursion_desired: bool = True,
        dnssec_ok: bool = False,
        observer: QueryObserver | None = None,
        max_qps: float = 0,
        sockets: int = 4,
    ) -> None:
        if not nameservers:
            raise ValueError("at least one nameserver is required")
        self.nameservers = tuple(nameservers)
        self.timeout, self.attempts, self.recursion_desired = timeout, max(1, attempts), recursion_desired
        self.dnssec_ok = dnssec_ok
        self._observer = observer
        self._limiters = {ns: RateLimiter(max_qps) for ns in self.nameservers} if max_qps > 0 else {}
        self._sockets = max(1, sockets)
        self._endpoints: dict[int, list[_Endpoint]] = {}
        self._opening = asyncio.Lock()
        self._entropy = RandomPool()  # ids and socket choices: spoofing must guess both

    async def resolve(self, query: Query) -> Lookup:
        return (await self.resolve_many((query,)))[0]

    async def resolve_many(self, queries: Sequence[Query]) -> list[Lookup]:
        """Each query goes to the nameservers in turn, `attempts` times over, until an answer is
        not worth retrying (as the dnspython resolver does); a batch's queries travel together,
        so a domain's queries cost one wake-up of its task instead of a task each."""
        results: list[Lookup] = []
        pending = list(range(len(queries)))
        for _ in range(self.attempts):
            for server in self.nameservers:
                if not pending:
                    return results
                lookups = await self._exchange_many([queries[i] for i in pending], server)
                if not results:
                    results = lookups
                else:
                    for i, lookup in zip(pending, lookups, strict=True):
                        results[i] = lookup
                pending = [
                    i for i, lookup in zip(pending, lookups, strict=True) if lookup.outcome in _RETRYABLE
                ]
        return results

    async def _exchange_many(self, queries: list[Query], server: Nameserver) -> list[Lookup]:
        family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
        endpoints = self._endpoints.get(family) or await self._endpoints_for(family)
        limiter = self._limiters.get(server)
        loop = asyncio.get_running_loop()
        batch = _Batch(len(queries), loop.create_future())
        flights: list[_Flight | Lookup] = []
        timer: asyncio.TimerHandle | None = None
        try:
            for index, query in enumerate(queries):
                if limiter is not None:
                    await limiter.acquire()
                flight = self._send(query, server, endpoints, batch, index)
                if isinstance(flight, Lookup):
                    batch.answer(index, OSError("not sent"))  # its slot waits for nothing (never read)
                flights.append(flight)
            if not batch.future.done():
                # One timer for the batch, started once all of it is sent: every query still
                # gets the whole timeout.
                timer = loop.call_later(self.timeout, batch.expire)
                await batch.future
            return [
                f if isinstance(f, Lookup) else await self._receive(f, batch.replies[f.index], server)
                for f in flights
            ]
        finally:
            if timer is not None:
                timer.cancel()
            for flight in flights:
                if isinstance(flight, _Flight):
                    flight.forget()

    def _send(
        self, query: Query, server: Nameserver, endpoints: list[_Endpoint], batch: _Batch, index: int
    ) -> _Flight | Lookup:
        endpoint = endpoints[self._entropy.word() % len(endpoints)]
        qid = self._entropy.word()
        while (server.host, server.port, qid) in endpoint.waiting:
            qid = self._entropy.word()
        try:
            wire = encode_query(
                qid, query, recursion_desired=self.recursion_desired, dnssec_ok=self.dnssec_ok
            )
        except Unsupported:
            return Lookup(query, Outcome.MALFORMED, detail="not a valid query name", server=str(server))
        key = (server.host, server.port, qid)
        endpoint.waiting[key] = (batch, index)
        flight = _Flight(query=query, qid=qid, wire=wire, key=key, endpoint=endpoint, index=index)
        assert endpoint.transport is not None
        try:
            endpoint.transport.sendto(wire, (server.host, server.port))
        except OSError as exc:
            batch.answer(index, exc)
        return flight

    async def _receive(self, flight: _Flight, reply: Reply, server: Nameserver) -> Lookup:
        where = str(server)
        if isinstance(reply, OSError):
            lookup = Lookup(
                flight.query, Outcome.NETWORK, detail=f"{type(reply).__name__}: {reply}", server=where
            )
            arrived = time.perf_counter()
            reply.__traceback__ = None  # no frame kept alive by a cycle through it
        elif reply is None:
            lookup = Lookup(
                flight.query, Outcome.TIMEOUT, detail=f"no answer within {self.timeout}s", server=where
            )
            arrived = time.perf_counter()
        else:
            data, arrived = reply
            if is_truncated(data):
                lookup = await self._retry_over_tcp(flight, server)
            else:
                lookup = self._parse(data, flight, where)
        if self._observer is not None:
            self._observer(server, lookup.outcome, arrived - flight.sent)
        return lookup

    async def _retry_over_tcp(self, flight: _Flight, server: Nameserver) -> Lookup:
        where = str(server)
        try:
            data = await asyncio.wait_for(self._tcp(flight.wire, server), self.timeout)
        except TimeoutError:
            return Lookup(flight.query, Outcome.TIMEOUT, detail="TCP retry timed out", server=where)
        except (OSError, asyncio.IncompleteReadError) as exc:
            return Lookup(
                flight.query, Outcome.NETWORK, detail=f"TCP retry: {type(exc).__name__}", server=where
            )
        return self._parse(data, flight, where)

    def _parse(self, data: bytes, flight: _Flight, where: str) -> Lookup:
        query = flight.query
        if response_id(data) != flight.qid:
            return Lookup(query, Outcome.MALFORMED, detail="reply id does not match", server=where)
        try:
            return parse_response(
                data,
                query,
                server=where,
                require_authority=not self.recursion_desired,
                question=question_of(flight.wire),
            )
        except Malformed as exc:
            return Lookup(query, Outcome.MALFORMED, detail=str(exc), server=where)
        except Unsupported:
            try:
                message = dns.message.from_wire(data)
            except (dns.exception.DNSException, ValueError) as exc:
                return Lookup(query, Outcome.MALFORMED, detail=type(exc).__name__, server=where)
            return classify_response(
                query, message, server=where, require_authority=not self.recursion_desired
            )

    async def _tcp(self, wire: bytes, server: Nameserver) -> bytes:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        try:
            writer.write(struct.pack("!H", len(wire)) + wire)
            await writer.drain()
            (length,) = struct.unpack("!H", await reader.readexactly(2))
            return await reader.readexactly(length)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _endpoints_for(self, family: int) -> list[_Endpoint]:
        endpoints = self._endpoints.get(family)
        if endpoints is None:
            async with self._opening:  # the first queries arrive together: open the sockets once
                endpoints = self._endpoints.get(family)
                if endpoints is None:
                    endpoints = [await self._open(family) for _ in range(self._sockets)]
                    self._endpoints[family] = endpoints
        return endpoints

    @staticmethod
    async def _open(family: int) -> _Endpoint:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))  # noqa: S104 (a client socket, random port)
        sock.setblocking(False)
        _, protocol = await asyncio.get_running_loop().create_datagram_endpoint(_Endpoint, sock=sock)
        return protocol

    async def aclose(self) -> None:
        for endpoints in self._endpoints.values():
            for endpoint in endpoints:
                if endpoint.transport is not None:
                    endpoint.transport.close()
        self._endpoints.clear()
