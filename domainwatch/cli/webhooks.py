"""`domainwatch webhooks test|list|replay`: operating the delivery queue from the shell."""

from __future__ import annotations

import argparse
import sys

import aiohttp

from domainwatch.config import Config
from domainwatch.daemon.daemon import utcnow
from domainwatch.present.views import iso
from domainwatch.runtime import aio
from domainwatch.store.sqlite import Store, StoreError
from domainwatch.webhooks.outbox import Outbox
from domainwatch.webhooks.worker import ping


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    hooks = commands.add_parser("webhooks", help="test, list and replay webhook deliveries")
    sub = hooks.add_subparsers(dest="webhooks_command", required=True, metavar="COMMAND")
    test = sub.add_parser(
        "test", parents=[common], help="send a signed webhook.test event and show the answer"
    )
    test.add_argument("-c", "--config", required=True)
    test.add_argument("--endpoint", help="only this endpoint (default: every one)")
    listing = sub.add_parser("list", parents=[common], help="list pending (or dead-lettered) deliveries")
    listing.add_argument("-c", "--config", required=True)
    listing.add_argument("--dead", action="store_true", help="dead letters instead of pending deliveries")
    replay = sub.add_parser("replay", parents=[common], help="send an event again, with the same id")
    replay.add_argument("-c", "--config", required=True)
    replay.add_argument("event_id")


def run(config: Config, args: argparse.Namespace) -> int:
    if args.webhooks_command == "test":
        return aio.run(_test(config, args.endpoint))
    try:
        store = Store(config.storage.path)
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        outbox = Outbox(store)
        if args.webhooks_command == "replay":
            count = outbox.replay(args.event_id, utcnow())
            print(
                f"{count} deliveries of {args.event_id} queued again"
                if count
                else f"no dead-lettered or delivered delivery of {args.event_id}",
                file=sys.stderr if not count else sys.stdout,
            )
            return 0 if count else 1
        for d in outbox.deliveries("dead" if args.dead else "pending"):
            error = f"  last: {d.last_status or d.last_error}" if d.attempts else ""
            print(
                f"{d.event_id}  {d.endpoint:<16} {d.domain:<32} #{d.sequence:<5} {d.type:<24} "
                f"attempts={d.attempts} next={iso(d.next_attempt_at)}{error}"
            )
        return 0
    finally:
        store.close()


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
            print(f"{endpoint.name}: {status if status is not None else 'no answer'}  {answer[:500]}")
    return 0 if ok else 1
