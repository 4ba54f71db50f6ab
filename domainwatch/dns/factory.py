"""Making the configured resolver, and closing any resolver's sockets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from domainwatch.dns.dnspython_resolver import DnsPythonResolver, QueryObserver, system_nameservers
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver, Resolver


class TransportSettings(Protocol):
    """What making a resolver reads of the config's `resolver:` section."""

    @property
    def nameservers(self) -> Sequence[Nameserver]: ...

    @property
    def transport(self) -> str: ...  # fast | dnspython

    @property
    def timeout(self) -> timedelta: ...

    @property
    def attempts(self) -> int: ...

    @property
    def max_qps(self) -> float: ...

    @property
    def dnssec_signatures(self) -> bool: ...  # ask with DO: answers carry their RRSIGs


def resolver_from(settings: TransportSettings, observer: QueryObserver | None = None) -> Resolver:
    """The configured resolver; /etc/resolv.conf's nameservers when the config lists none."""
    nameservers = list(settings.nameservers) or system_nameservers()
    transport = FastResolver if settings.transport == "fast" else DnsPythonResolver
    return transport(
        nameservers,
        timeout=settings.timeout.total_seconds(),
        attempts=settings.attempts,
        max_qps=settings.max_qps,
        dnssec_ok=settings.dnssec_signatures,
        observer=observer,
    )


async def close(resolver: Resolver) -> None:
    """Release a resolver's sockets, if it holds any."""
    aclose = getattr(resolver, "aclose", None)
    if aclose is not None:
        await aclose()
