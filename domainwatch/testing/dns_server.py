"""An authoritative DNS server for tests and the demo: asyncio UDP+TCP on 127.0.0.1.

Records live in a dict that a test may change at any time. Per name, the server can instead
answer SERVFAIL or REFUSED, stay silent (the client times out), send malformed bytes, or truncate
UDP answers (the client must retry over TCP). Subclass and override `respond` for anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import struct
import threading
from collections.abc import Iterable, Iterator, Mapping

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.txtbase
import dns.rrset

from domainwatch.dns.dnspython_resolver import name_text, to_dns_name
from domainwatch.dns.resolver import normalize_name

RecordKey = tuple[str, str]  # (name, type)
DEFAULT_TTL = 300


class Behaviour(enum.Enum):
    ANSWER = "answer"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    SILENT = "silent"
    MALFORMED = "malformed"
    TRUNCATE = "truncate"


class DnsTestServer:
    """Serves `records` ({(name, type): [rdata text, ...]}); see the module docstring."""

    def __init__(
        self,
        records: Mapping[RecordKey, Iterable[str]] | None = None,
        *,
        ttl: int = DEFAULT_TTL,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.records: dict[RecordKey, list[str]] = {}
        self.behaviours: dict[str, Behaviour] = {}
        self.default = Behaviour.ANSWER  # for every name without a behaviour of its own (outages)
        self.ttl = ttl
        self.host, self.port = host, port
        self.queries_seen = 0
        self.tcp_queries_seen = 0
        self.asked: list[tuple[str, str]] = []  # (name, type) of every question, in order
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        for (name, rdtype), values in (records or {}).items():
            self.set(name, rdtype, values)

    # -- the data ---------------------------------------------------------------------------
    def set(self, name: str, rdtype: str, values: Iterable[str]) -> None:
        """Replace the records of one name and type (TXT values are plain text, unquoted)."""
        values = list(values)
        key = (normalize_name(name), rdtype.upper())
        if values:
            self.records[key] = values
        else:
            self.records.pop(key, None)

    def publish(self, zone_lines: str) -> None:
        """Publish records given as zone-file lines (`name. 3600 IN TXT "..."`), exactly as a
        user would paste them at a DNS provider; lines of one name and type form one RRset."""
        rrsets: dict[RecordKey, list[str]] = {}
        for line in zone_lines.splitlines():
            if not line.strip() or line.lstrip().startswith(";"):  # blank, or a comment
                continue
            owner, _ttl, _class, rdtype, data = line.split(None, 4)
            rdata = dns.rdata.from_text(dns.rdataclass.IN, rdtype, data)
            if isinstance(rdata, dns.rdtypes.txtbase.TXTBase):
                value = b"".join(rdata.strings).decode("utf-8", "surrogateescape")
            else:
                value = rdata.to_text()
            rrsets.setdefault((owner, rdtype.upper()), []).append(value)
        for (owner, rdtype), values in rrsets.items():
            self.set(owner, rdtype, values)

    def remove(self, name: str, rdtype: str | None = None) -> None:
        name = normalize_name(name)
        for key in [k for k in self.records if k[0] == name and rdtype in (None, k[1])]:
            del self.records[key]

    def behave(self, name: str, behaviour: Behaviour) -> None:
        self.behaviours[normalize_name(name)] = behaviour

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # -- the sockets --------------------------------------------------------------------------
    async def start(self) -> DnsTestServer:
        loop = asyncio.get_running_loop()
        for _ in range(20):  # UDP and TCP must share one port; retry if TCP's is taken
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(self.host, self.port)
            )
            port = transport.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, self.host, port)
            except OSError:
                transport.close()
                if self.port:
                    raise
                continue
            self._udp, self.port = transport, port
            return self
        raise OSError("could not bind UDP and TCP on one port")

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    async def __aenter__(self) -> DnsTestServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                reply = self.handle(await reader.readexactly(length), tcp=True)
                if reply is None:
                    continue
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        writer.close()

    # -- answering ----------------------------------------------------------------------------
    def handle(self, wire: bytes, *, tcp: bool) -> bytes | None:
        self.queries_seen += 1
        self.tcp_queries_seen += tcp
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if not query.question:
            return None
        return self.respond(query, tcp=tcp)

    def respond(self, query: dns.message.Message, *, tcp: bool) -> bytes | None:
        qname = name_text(query.question[0].name)
        self.asked.append((qname, dns.rdatatype.to_text(query.question[0].rdtype)))
        behaviour = self.behaviours.get(qname, self.default)
        if behaviour is Behaviour.SILENT:
            return None
        if behaviour is Behaviour.MALFORMED:
            return query.to_wire()[:2] + b"\x81\x80\xff\xff"  # right id, header cut short
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if behaviour in (Behaviour.SERVFAIL, Behaviour.REFUSED):
            response.set_rcode(dns.rcode.SERVFAIL if behaviour is Behaviour.SERVFAIL else dns.rcode.REFUSED)
            return response.to_wire()
        self._answer(response, qname, dns.rdatatype.to_text(query.question[0].rdtype))
        if behaviour is Behaviour.TRUNCATE and not tcp:
            return _truncated(response)
        limit = 65535 if tcp else max(512, query.payload if query.edns >= 0 else 512)
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            return _truncated(response)

    def _answer(self, response: dns.message.Message, qname: str, rdtype: str) -> None:
        owner = qname
        for _ in range(8):  # follow CNAMEs inside our own data, as an authoritative server does
            values = self.records.get((owner, rdtype))
            if values:
                response.answer.append(self._rrset(owner, rdtype, values))
                return
            cname = self.records.get((owner, "CNAME"))
            if not cname or rdtype == "CNAME":
                break
            response.answer.append(self._rrset(owner, "CNAME", cname))
            owner = normalize_name(cname[0])
        if not response.answer and not self._exists(owner):
            response.set_rcode(dns.rcode.NXDOMAIN)
        if not response.answer:
            self._negative(response, owner)

    def _negative(self, response: dns.message.Message, owner: str) -> None:
        """A negative answer carries its zone's SOA (RFC 2308), when the data has one."""
        labels = owner.split(".")
        for index in range(len(labels)):
            zone = ".".join(labels[index:])
            soa = self.records.get((zone, "SOA"))
            if soa:
                response.authority.append(self._rrset(zone, "SOA", soa))
                return

    def _exists(self, name: str) -> bool:
        """A name exists if it owns records or is an empty non-terminal above some that do."""
        return any(n == name or n.endswith("." + name) for n, _ in self.records)

    def _rrset(self, owner: str, rdtype: str, values: list[str]) -> dns.rrset.RRset:
        texts = [_txt_presentation(v) if rdtype in ("TXT", "SPF") else v for v in values]
        # Names in the data are absolute, with or without the trailing dot.
        return dns.rrset.from_text_list(
            to_dns_name(owner),
            self.ttl,
            dns.rdataclass.IN,
            rdtype,
            texts,
            origin=dns.name.root,
            relativize=False,
        )


def _txt_presentation(value: str) -> str:
    """Plain text -> quoted character-strings of at most 255 octets each."""
    raw = value.encode("utf-8", "surrogateescape")
    chunks = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
    return " ".join('"' + "".join(_escape(b) for b in chunk) + '"' for chunk in chunks)


def _escape(byte: int) -> str:
    if byte in (0x22, 0x5C):
        return "\\" + chr(byte)
    return chr(byte) if 0x20 <= byte < 0x7F else f"\\{byte:03d}"


def _truncated(response: dns.message.Message) -> bytes:
    response.answer.clear()
    response.authority.clear()
    response.additional.clear()
    response.flags |= dns.flags.TC
    return response.to_wire()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsTestServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = self.server.handle(data, tcp=False)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


@contextlib.contextmanager
def serve_in_thread(server: DnsTestServer) -> Iterator[DnsTestServer]:
    """Run the server on its own event loop in a thread (for synchronous callers and the CLI)."""
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.close()

    thread = threading.Thread(target=run, name="dns-test-server", daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
