"""The bare loop: the practical ceiling of one Python process on the day (make bench's baseline).

The same query mix a `check` of N domains starts with (five questions a domain), over one UDP
socket, with a hand-rolled codec that writes each query once and reads only the id of each
answer, on uvloop, at most 256 in flight, and no checks at all. domainwatch's `check` does all
of that and decodes every answer, follows SPF includes and evaluates every record; its share of
this figure, measured in the same run, is what the issue's targets are stated in.

Usage: python bench/bare_loop.py --address 127.0.0.2 --domains 10000   (as fleet.py serves them)
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import time
from typing import Any

import uvloop

TYPES = {"A": 1, "MX": 15, "TXT": 16}
RESEND_AFTER = 0.05  # seconds without the last answers before asking again
OPT = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)  # EDNS0, 1232-octet payload, as domainwatch


def questions(count: int, zone: str) -> list[tuple[str, str]]:
    out = []
    for n in range(count):
        d = f"d{n}.{zone}"
        out += [(f"send.{d}", "TXT"), (f"send.{d}", "MX"), (f"s1._domainkey.{d}", "TXT"), (d, "MX")]
        out.append((f"_dmarc.{d}", "TXT"))
    return out


def encode(ident: int, name: str, rdtype: str) -> bytes:
    labels = b"".join(bytes([len(label)]) + label.encode() for label in name.split("."))
    header = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 1)
    return header + labels + b"\x00" + struct.pack("!HH", TYPES[rdtype], 1) + OPT


class _Loop(asyncio.DatagramProtocol):
    def __init__(self, wire: list[bytes], concurrency: int, done: asyncio.Future[None]) -> None:
        self.wire, self.concurrency, self.done = wire, concurrency, done
        self.next = 0
        self.ident = 0
        self.waiting: dict[int, tuple[bytes, float]] = {}  # id -> the datagram sent, and when
        self.answered = 0
        self.transport: Any = None  # uvloop's UDP transport is not an asyncio.DatagramTransport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        for _ in range(min(self.concurrency, len(self.wire))):
            self._send_next()

    def _send_next(self) -> None:
        if self.next >= len(self.wire):
            return
        index, self.next = self.next, self.next + 1
        # The next id not in flight: over 65,536 queries ids repeat, and a lost query's id
        # must not be reused before its answer (or the resend's) arrives.
        while self.ident in self.waiting:
            self.ident = (self.ident + 1) & 0xFFFF
        datagram = self.ident.to_bytes(2, "big") + self.wire[index][2:]
        self.waiting[self.ident] = (datagram, time.perf_counter())
        self.ident = (self.ident + 1) & 0xFFFF
        self.transport.sendto(datagram)

    def datagram_received(self, data: bytes, _: tuple[str, int]) -> None:
        if self.waiting.pop(int.from_bytes(data[:2], "big"), None) is None:
            return
        self.answered += 1
        if self.answered == len(self.wire):
            self.done.set_result(None)
        else:
            self._send_next()

    def resend(self) -> None:
        """Ask again what has had no answer for RESEND_AFTER (the server dropped it)."""
        now = time.perf_counter()
        for ident, (datagram, sent) in list(self.waiting.items()):
            if now - sent >= RESEND_AFTER:
                self.waiting[ident] = (datagram, now)
                self.transport.sendto(datagram)


async def bare_loop(address: str, count: int, zone: str, concurrency: int = 256) -> float:
    """Seconds to send the query mix of `count` domains and receive every answer."""
    names = questions(count, zone)
    wire = [encode(0, name, rdtype) for name, rdtype in names]  # ids are given as sent
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    started = time.perf_counter()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _Loop(wire, concurrency, done), remote_addr=(address, 53)
    )
    try:
        while not done.done():
            # A burst of 256 overflows the server's receive buffer now and then: what it dropped
            # is asked again soon (a loopback answer takes well under a millisecond), so one
            # lost datagram costs the figure milliseconds, not a second.
            await asyncio.wait([done], timeout=RESEND_AFTER)
            if not done.done():
                protocol.resend()
        return time.perf_counter() - started
    finally:
        transport.close()


def measure(address: str, count: int, zone: str) -> float:
    """Domains per second of the bare loop, on its own uvloop event loop."""
    return count / uvloop.run(bare_loop(address, count, zone))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--address", default="127.0.0.2")
    parser.add_argument("--domains", type=int, default=10_000)
    parser.add_argument("--zone", default="bench.test")
    args = parser.parse_args()
    print(f"bare loop: {measure(args.address, args.domains, args.zone):.0f} domains/s")


if __name__ == "__main__":
    main()
