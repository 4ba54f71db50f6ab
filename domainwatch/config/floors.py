"""Floors under every duration (pure): `interval: 0s` would let one domain spend the fleet's
whole `resolver.max_qps`, and a zero timeout would make every lookup an error.

The floors of a domain's schedule are the config's `limits` (tests, labs and the demo lower
them; an API document is always held to the running config's); the others are fixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from domainwatch.values import format_duration

if TYPE_CHECKING:
    from domainwatch.config.schema import Config, LimitsConfig

Location = tuple[str | int, ...]
MIN_TIMEOUT = timedelta(milliseconds=100)  # probes.timeout, resolver.timeout
MIN_HTTP_TIMEOUT = timedelta(seconds=1)  # webhooks[].timeout, server.idle_timeout


def schedule_floors(limits: LimitsConfig) -> tuple[tuple[str, timedelta], ...]:
    """(key, floor) of the schedule keys a domain or `defaults` may set."""
    return (
        ("interval", limits.min_interval),
        ("pending_interval", limits.min_interval),
        ("failed_interval", limits.min_interval),
        ("recheck_interval", limits.min_recheck_interval),
        ("window", limits.min_window),
    )


def below(settings: Any, floors: tuple[tuple[str, timedelta], ...]) -> Iterator[tuple[str, str]]:
    """(key, message) of each key of `settings` set below its floor."""
    for key, floor in floors:
        value = getattr(settings, key)
        if value is not None and value < floor:
            yield key, f"must be at least {format_duration(floor)}"


def config_floors(config: Config) -> list[tuple[Location, str]]:
    """Where the config sets a duration below its floor, and the message."""
    schedule = schedule_floors(config.limits)
    out: list[tuple[Location, str]] = [(("defaults", k), m) for k, m in below(config.defaults, schedule)]
    for index, domain in enumerate(config.domains):
        out += [(("domains", index, k), m) for k, m in below(domain, schedule)]
    fixed = (
        (("probes", "interval"), config.probes.interval, config.limits.min_probe_interval),
        (("probes", "timeout"), config.probes.timeout, MIN_TIMEOUT),
        (("resolver", "timeout"), config.resolver.timeout, MIN_TIMEOUT),
        (("server", "idle_timeout"), config.server.idle_timeout, MIN_HTTP_TIMEOUT),
        *(
            (("webhooks", i, "timeout"), hook.timeout, MIN_HTTP_TIMEOUT)
            for i, hook in enumerate(config.webhooks)
        ),
    )
    out += [
        (where, f"must be at least {format_duration(floor)}")
        for where, value, floor in fixed
        if value < floor
    ]
    return out
