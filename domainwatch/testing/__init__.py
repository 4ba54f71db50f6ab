"""Fakes, a DNS test server and an in-memory store, shipped for users' tests and our own, and
used by the demo."""

from domainwatch.testing.dns_server import Behaviour, DnsTestServer, serve_in_thread
from domainwatch.testing.fakes import FakeClock, FakeResolver
from domainwatch.testing.memory_store import MemoryStore

__all__ = ["Behaviour", "DnsTestServer", "FakeClock", "FakeResolver", "MemoryStore", "serve_in_thread"]
