"""Fakes and a DNS test server, shipped for users' tests and our own, and used by the demo."""

from domainwatch.testing.dns_server import Behaviour, DnsTestServer, serve_in_thread
from domainwatch.testing.fakes import FakeClock, FakeResolver

__all__ = ["Behaviour", "DnsTestServer", "FakeClock", "FakeResolver", "serve_in_thread"]
