"""Real mail and web servers on loopback for the transport-security probes: aiosmtpd with
STARTTLS and certificates from trustme, a server that drops connections, and an HTTPS server
serving MTA-STS policies. Each server has its own loopback address (127.0.0.N), all on one
port, as every MX host of the internet listens on port 25."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trustme
from aiohttp import web
from aiosmtpd.smtp import SMTP

from domainwatch.config.schema import ProbesConfig
from domainwatch.testing import DnsTestServer
from tests.integration.daemons import free_port

ZONE = "tls.test"


@dataclass
class Lab:
    """A CA the probes trust, another they do not, and the servers started so far."""

    directory: Path
    dns: DnsTestServer
    smtp_port: int
    https_port: int
    ca: trustme.CA = field(default_factory=trustme.CA)
    stranger: trustme.CA = field(default_factory=trustme.CA)
    servers: dict[str, asyncio.AbstractServer] = field(default_factory=dict)
    runners: list[web.AppRunner] = field(default_factory=list)
    _next: int = 2

    @property
    def ca_file(self) -> str:
        path = self.directory / "ca.pem"
        if not path.exists():
            self.ca.cert_pem.write_to_path(str(path))
        return str(path)

    def probes(self, **changes: object) -> ProbesConfig:
        """The probes' settings for this lab: its ports and CA, loopback allowed."""
        base = ProbesConfig(
            smtp_port=self.smtp_port,
            https_port=self.https_port,
            ca_file=self.ca_file,
            timeout=timedelta(seconds=3),
            helo_name="probe.domainwatch.test",
            allow_private_addresses=True,  # the lab's servers are on loopback
        )
        return base.model_copy(update=changes)

    def address_for(self, host: str) -> str:
        """A loopback address of its own for `host`, published as its A record."""
        address = f"127.0.0.{self._next}"
        self._next += 1
        self.dns.set(host, "A", [address])
        return address

    def context(
        self, names: list[str], *, ca: trustme.CA | None = None, expired: bool = False
    ) -> ssl.SSLContext:
        """A server context with a certificate for `names`."""
        now = datetime.now(UTC)
        issuer = ca or self.ca
        if expired:
            before, after = now - timedelta(days=30), now - timedelta(days=1)
            certificate = issuer.issue_cert(*names, not_before=before, not_after=after)
        else:
            certificate = issuer.issue_cert(*names)
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(server)
        return server

    async def smtp(self, host: str, context: ssl.SSLContext | None, address: str | None = None) -> str:
        """An aiosmtpd server for `host`, offering STARTTLS with `context` (none: no STARTTLS)."""
        address = address or self.address_for(host)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(_Sink(), hostname=host, tls_context=context), address, self.smtp_port
        )
        self.servers[host if host not in self.servers else f"{host}@{address}"] = server
        return address

    async def dropping(self, host: str) -> str:
        """A server that accepts a connection and closes it before any greeting."""
        address = self.address_for(host)

        async def drop(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.close()

        self.servers[host] = await asyncio.start_server(drop, address, self.smtp_port)
        return address

    async def stop(self, host: str) -> None:
        server = self.servers.pop(host)
        server.close()
        await server.wait_closed()

    async def https(
        self, names: list[str], handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> str:
        """An HTTPS server for `names` (one address; each name's A record points to it)."""
        address = f"127.0.0.{self._next}"
        self._next += 1
        for name in names:
            self.dns.set(name, "A", [address])
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, address, self.https_port, ssl_context=self.context(names)).start()
        self.runners.append(runner)
        return address

    async def close(self) -> None:
        for host in list(self.servers):
            await self.stop(host)
        for runner in self.runners:
            await runner.cleanup()


class _Sink:
    """Accepts nothing: the probes never send mail."""

    async def handle_DATA(self, *_: object) -> str:  # noqa: N802 (aiosmtpd's hook name)
        return "554 no mail here"


@contextlib.asynccontextmanager
async def lab(directory: Path, dns: DnsTestServer) -> AsyncIterator[Lab]:
    made = Lab(directory, dns, free_port(), free_port())
    try:
        yield made
    finally:
        await made.close()


def tls_11_works() -> bool:
    """Whether this OpenSSL can still make a TLS 1.1 connection (most builds no longer do)."""
    with warnings.catch_warnings():  # naming TLS 1.1 is deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        return _tls_11_handshake()


def _tls_11_handshake() -> bool:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("old.example").configure_cert(server)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    for context in (server, client):
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
        with contextlib.suppress(ssl.SSLError):
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
    a, b = socket.socketpair()
    with (
        server.wrap_socket(a, server_side=True, do_handshake_on_connect=False) as served,
        client.wrap_socket(b, server_hostname="old.example", do_handshake_on_connect=False) as asking,
    ):
        served.setblocking(False)
        asking.setblocking(False)
        for _ in range(50):
            done = 0
            for side in (asking, served):
                try:
                    side.do_handshake()
                    done += 1
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    pass
                except (ssl.SSLError, OSError):
                    return False
            if done == 2:
                return asking.version() == "TLSv1.1"
    return False
