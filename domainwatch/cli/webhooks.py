"""`domainwatch webhooks test|list|replay`: operating the delivery queue from the shell."""

from __future__ import annotations

import argparse
import sys

import aiohttp

from domainwatch.cli.common import EXIT_USAGE, load_config
from domainwatch.config.schema import Config
from domainwatch.present.report import safe_text
from domainwatch.present.views import iso
from domainwatch.runtime import aio
from domainwatch.runtime.clock import utcnow
from domainwatch.store.base import StoreError
from domainwatch.store.opening import open_store
from domainwatch.webhooks.worker import ping


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, args)
    if config is None:
        return EXIT_USAGE
    if args.webhooks_command == "test":
        return aio.run(_test(config, args.endpoint))
    return aio.run(_queue_command(config, args))


async def _queue_command(config: Config, args: argparse.Namespace) -> int:
    """`replay` and `list`, on the store the config names."""
    try:
        store = await open_store(config.storage.location)
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        if args.webhooks_command == "replay":
            count = await store.replay(args.event_id, utcnow())
            event = safe_text(args.event_id)
            print(
                f"{count} deliveries of {event} queued again"
                if count
                else f"no dead-lettered or delivered delivery of {event}",
                file=sys.stderr if not count else sys.stdout,
            )
            return 0 if count else 1
        for d in await store.deliveries("dead" if args.dead else "pending"):
            error = f"  last: {safe_text(str(d.last_status or d.last_error))}" if d.attempts else ""
            print(
                f"{d.event_id}  {d.endpoint:<16} {d.domain:<32} #{d.sequence:<5} {d.type:<24} "
                f"attempts={d.attempts} next={iso(d.next_attempt_at)}{error}"
            )
        return 0
    finally:
        await store.close()


async def _test(config: Config, only: str | None) -> int:
    endpoints = [w for w in config.webhooks if only in (None, w.name)]
    if not endpoints:
        print(
            f"no webhook endpoint {only!r} in the config" if only else "no webhooks configured",
            file=sys.stderr,
        )
        return 2
    ok = True
    async with aiohttp.ClientSession() as session:
        for endpoint in endpoints:
            status, answer = await ping(session, endpoint, utcnow())
            ok &= status is not None and 200 <= status < 300
            # The receiver's answer is a stranger's bytes: shown with control characters escaped.
            print(
                f"{endpoint.name}: {status if status is not None else 'no answer'}  {safe_text(answer[:500])}"
            )
    return 0 if ok else 1
