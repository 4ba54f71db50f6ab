"""A Resolver over a few shared UDP sockets, multiplexing queries by id (the fast path).

Each query gets a random id on a random one of a few sockets bound to random ports, the reply is
matched by (source address, id) and must echo the question; truncated answers are retried over
TCP; timeouts and SERVFAIL are retried per query like the dnspython resolver. Anything the
codec will not decide (an unknown type in the answer, say) is parsed by dnspython instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import time
from collections.abc import Sequence
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
    response_id,
)
from domainwatch.dns.ratelimit import RateLimiter
from domainwatch.dns.resolver import Lookup, Nameserver, Outcome, Query

_RETRYABLE = frozenset({Outcome.TIMEOUT, Outcome.SERVFAIL, Outcome.NETWORK, Outcome.MALFORMED})
RECEIVE_BUFFER = 4 << 20  # the default drops replies at tens of thousands of queries a second
_ids = random.SystemRandom()


class _Endpoint(asyncio.DatagramProtocol):
    """One UDP socket and the replies it is waiting for, keyed by (host, port, id)."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.waiting: dict[tuple[str, int, int], asyncio.Future[bytes]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        qid = response_id(data)
        future = self.waiting.get((str(addr[0]), int(addr[1]), qid)) if qid is not None else None
        if future is not None and not future.done():
            future.set_result(data)

    def error_received(self, exc: Exception) -> None:
        for future in self.waiting.values():  # e.g. ICMP port unreachable: fail fast
            if not future.done():
                future.set_exception(exc)


class FastResolver:
    def __init__(
        self,
        nameservers: Sequence[Nameserver],
        *,
        timeout: float = 2.0,
        attempts: int = 2,
        recursion_desired: bool = True,
        observer: QueryObserver | None = None,
        max_qps: float = 0,
        sockets: int = 4,
    ) -> None:
        if not nameservers:
            raise ValueError("at least one nameserver is required")
        self.nameservers = tuple(nameservers)
        self.timeout, self.attempts, self.recursion_desired = timeout, max(1, attempts), recursion_desired
        self._observer = observer
        self._limiters = {ns: RateLimiter(max_qps) for ns in self.nameservers} if max_qps > 0 else {}
        self._sockets = max(1, sockets)
        self._endpoints: dict[int, list[_Endpoint]] = {}
        self._opening = asyncio.Lock()

    async def resolve(self, query: Query) -> Lookup:
        last: Lookup | None = None
        for _ in range(self.attempts):
            for server in self.nameservers:
                limiter = self._limiters.get(server)
                if limiter is not None:
                    await limiter.acquire()
                started = time.perf_counter()
                last = await self._exchange(query, server)
                if self._observer is not None:
                    self._observer(server, last.outcome, time.perf_counter() - started)
                if last.outcome not in _RETRYABLE:
                    return last
        assert last is not None
        return last

    async def _exchange(self, query: Query, server: Nameserver) -> Lookup:
        where = str(server)
        family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
        endpoint = _ids.choice(await self._endpoints_for(family))
        qid = _ids.getrandbits(16)
        while (server.host, server.port, qid) in endpoint.waiting:
            qid = _ids.getrandbits(16)
        try:
            wire = encode_query(qid, query, recursion_desired=self.recursion_desired)
        except Unsupported:
            return Lookup(query, Outcome.MALFORMED, detail="not a valid query name", server=where)
        key = (server.host, server.port, qid)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        endpoint.waiting[key] = future
        try:
            assert endpoint.transport is not None
            endpoint.transport.sendto(wire, (server.host, server.port))
            data = await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            return Lookup(query, Outcome.TIMEOUT, detail=f"no answer within {self.timeout}s", server=where)
        except OSError as exc:
            return Lookup(query, Outcome.NETWORK, detail=f"{type(exc).__name__}: {exc}", server=where)
        finally:
            endpoint.waiting.pop(key, None)
        if is_truncated(data):
            try:
                data = await asyncio.wait_for(self._tcp(wire, server), self.timeout)
            except TimeoutError:
                return Lookup(query, Outcome.TIMEOUT, detail="TCP retry timed out", server=where)
            except (OSError, asyncio.IncompleteReadError) as exc:
                return Lookup(query, Outcome.NETWORK, detail=f"TCP retry: {type(exc).__name__}", server=where)
        return self._parse(data, query, where, qid)

    def _parse(self, data: bytes, query: Query, where: str, qid: int) -> Lookup:
        if response_id(data) != qid:
            return Lookup(query, Outcome.MALFORMED, detail="reply id does not match", server=where)
        try:
            return parse_response(data, query, server=where, require_authority=not self.recursion_desired)
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
