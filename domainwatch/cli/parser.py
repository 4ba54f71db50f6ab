"""The command line's grammar (argparse). Light on purpose: building it imports no command, so
`domainwatch --help` and a usage error cost no more than Python itself (cli/main.py)."""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from domainwatch import __version__
from domainwatch.service.client import check_url
from domainwatch.values import (
    check_domain_name,
    check_listen,
    check_selector,
    parse_duration,
    parse_since,
    to_nameserver,
)

T = TypeVar("T")
if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]
DESCRIPTION = """The `domainwatch` command line. Exit codes: 0 fine, 1 records need attention,
2 usage or configuration error."""


def _duration_arg(text: str) -> timedelta:
    try:
        return timedelta(seconds=float(text))
    except ValueError:
        pass
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address") from None


def _validated(check: Callable[[str], T]) -> Callable[[str], T]:
    """Wrap a config validator so argparse reports its message as a usage error."""

    def convert(text: str) -> T:
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None

    return convert


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--nameserver",
        action="append",
        type=_validated(to_nameserver),
        default=default,
        metavar="HOST[:PORT]",
        help="resolver to ask (repeatable)",
    )
    parser.add_argument(
        "--timeout",
        type=_duration_arg,
        default=default,
        help="per-query timeout: seconds or a duration such as 500ms",
    )
    parser.add_argument(
        "--log-format",
        choices=("json", "console"),
        default=default if suppress else os.environ.get("DOMAINWATCH_LOG_FORMAT", "console"),
        help="default: $DOMAINWATCH_LOG_FORMAT, else console",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default=default,
        help="default: info for run, warning otherwise",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="domainwatch", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"domainwatch {__version__}")
    _global_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sharded = argparse.ArgumentParser(add_help=False)
    sharded.add_argument(
        "--shard", type=int, default=None, help="this replica's shard (from 0); overrides sharding:"
    )
    sharded.add_argument(
        "--total-shards", type=int, default=None, help="how many shards the fleet is split into"
    )
    _checking(commands, common, sharded)
    _daemon(commands, common, sharded)
    _webhooks(commands, common)
    _store(commands, common)
    _domains(commands, common)
    _spf(commands, common)
    demo = commands.add_parser(
        "demo", parents=[common], help="the daemon on built-in sample domains (no internet)"
    )
    demo.add_argument(
        "--listen",
        default=os.environ.get("DOMAINWATCH_DEMO_LISTEN", "127.0.0.1:8427"),
        type=_validated(check_listen),
        help="HOST:PORT (default: $DOMAINWATCH_DEMO_LISTEN, else 127.0.0.1:8427)",
    )
    demo.add_argument("--time-scale", type=float, default=1.0, help="run the story N times faster")
    demo.add_argument("--once", action="store_true", help="print a one-shot diagnosis instead")
    return parser


def _checking(commands: Commands, common: argparse.ArgumentParser, sharded: argparse.ArgumentParser) -> None:
    check = commands.add_parser("check", parents=[common, sharded], help="check configured domains once")
    check.add_argument("-c", "--config", required=True)
    check.add_argument("--domain", action="append", default=[], type=_validated(check_domain_name))
    check.add_argument("--format", choices=("table", "json"), default="table")
    check.add_argument(
        "--quiet", action="store_true", help="no progress, notice or summary on stderr (results only)"
    )

    inspect = commands.add_parser("inspect", parents=[common], help="diagnose any domain, no config")
    inspect.add_argument("domain", type=_validated(check_domain_name))
    inspect.add_argument("--dkim-selector", action="append", default=[], type=_validated(check_selector))
    inspect.add_argument(
        "--tls", action="store_true", help="also probe STARTTLS on each MX host, MTA-STS and TLS-RPT"
    )
    labs = inspect.add_argument_group("probes in a lab (loopback servers, a private CA)")
    labs.add_argument("--smtp-port", type=int, default=25, help="SMTP port to probe (default 25)")
    labs.add_argument("--https-port", type=int, default=443, help="HTTPS port of the MTA-STS policy")
    labs.add_argument("--ca-file", help="CA bundle to verify certificates with (default: the system's)")
    labs.add_argument(
        "--allow-private-addresses",
        action="store_true",
        help="probe hosts that resolve to loopback or private addresses (never, by default)",
    )
    inspect.add_argument("--format", choices=("table", "json"), default="table")

    config = commands.add_parser("config", help="configuration tools")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="COMMAND")
    validate = config_commands.add_parser("validate", parents=[common], help="validate a config file")
    validate.add_argument("file")


def _daemon(commands: Commands, common: argparse.ArgumentParser, sharded: argparse.ArgumentParser) -> None:
    run = commands.add_parser("run", parents=[common, sharded], help="run the daemon")
    run.add_argument("-c", "--config", required=True)

    status = commands.add_parser("status", parents=[common, sharded], help="show the stored state, offline")
    status.add_argument("-c", "--config", required=True)
    status.add_argument("--format", choices=("table", "json"), default="table")
    _list_filters(status)

    export = commands.add_parser("export", parents=[common], help="CSV of domains or history, offline")
    export.add_argument("-c", "--config", required=True)
    export.add_argument("--what", choices=("domains", "history"), required=True)
    export.add_argument(
        "--since",
        type=_validated(lambda text: parse_since(text, datetime.now(UTC))),
        default=None,
        help="history since: a duration back from now (24h) or an RFC 3339 time",
    )
    export.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _store(commands: Commands, common: argparse.ArgumentParser) -> None:
    store = commands.add_parser("store", help="back up, restore, check and copy the state store")
    sub = store.add_subparsers(dest="store_command", required=True, metavar="COMMAND")
    backup = sub.add_parser("backup", parents=[common], help="an online backup while the daemon runs")
    backup.add_argument("-c", "--config", required=True)
    backup.add_argument("path", help="the backup file to write (must not exist)")
    restore = sub.add_parser(
        "restore", parents=[common], help="replace the store with a backup (daemon stopped)"
    )
    restore.add_argument("-c", "--config", required=True)
    restore.add_argument("path", help="the backup file to restore")
    check = sub.add_parser("check", parents=[common], help="integrity and schema of the store")
    check.add_argument("-c", "--config", required=True)
    copy = sub.add_parser(
        "copy", parents=[common], help="copy a store into another, empty one (daemons stopped)"
    )
    copy.add_argument("source", metavar="SRC_URL", help="sqlite:///path.db or postgresql://...")
    copy.add_argument("target", metavar="DST_URL", help="sqlite:///path.db or postgresql://...")


def _webhooks(commands: Commands, common: argparse.ArgumentParser) -> None:
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


def _client(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of a client of a running daemon's API."""
    client = argparse.ArgumentParser(add_help=False, parents=[common])
    client.add_argument(
        "--url",
        default=os.environ.get("DOMAINWATCH_URL", "http://127.0.0.1:8427"),
        type=_validated(check_url),
        help="the daemon's API (default: $DOMAINWATCH_URL, else http://127.0.0.1:8427)",
    )
    client.add_argument("--token-file", help="a file holding the bearer token (default: $DOMAINWATCH_TOKEN)")
    return client


# As service/filters.py and state/rules.py say (spelled here: the parser imports nothing heavy;
# tests/unit/test_cli_args.py holds them equal).
SORTS = ("name", "status", "status_since", "checked_at", "window_deadline")
ORDERS = ("asc", "desc")
CAPABILITIES = ("sending", "receiving")
STATUSES = (
    "not_started",
    "pending",
    "verified",
    "partially_verified",
    "partially_failed",
    "failed",
    "temporary_failure",
)


def _list_filters(parser: argparse.ArgumentParser) -> None:
    """What `status` and `domains list` share with the API's list: sort and filters (each
    filter repeatable: any of its values; different filters all apply)."""
    parser.add_argument("--sort", choices=SORTS, default="name", help="the order (default name)")
    parser.add_argument("--order", choices=ORDERS, default="asc")
    parser.add_argument("--status", action="append", default=[], choices=STATUSES)
    parser.add_argument("--capability", action="append", default=[], choices=CAPABILITIES)
    parser.add_argument("--source", choices=("config", "api"), help="where the domain is managed")
    parser.add_argument("--finding", action="append", default=[], help="a finding code (docs/checks.md)")


def _domains(commands: Commands, common: argparse.ArgumentParser) -> None:
    client = _client(common)
    domains = commands.add_parser("domains", help="manage domains through a running daemon's API")
    sub = domains.add_subparsers(dest="domains_command", required=True, metavar="COMMAND")
    formats = argparse.ArgumentParser(add_help=False)
    formats.add_argument("--format", choices=("table", "json"), default="table")
    listing = sub.add_parser("list", parents=[client, formats], help="list domains and their statuses")
    _list_filters(listing)
    listing.add_argument("--query", help="only names containing this")
    listing.add_argument("--limit", type=int, default=1000, help="a page of at most this many (1-1000)")
    listing.add_argument("--all", action="store_true", help="every page, following the cursors")
    listing.add_argument("--quiet", action="store_true", help="no progress on stderr")
    get = sub.add_parser("get", parents=[client], help="a domain's statuses, records and every fix")
    get.add_argument("name")
    get.add_argument(
        "--format", choices=("table", "zone", "json"), default="table", help="zone: the records to publish"
    )
    for name, text in (
        ("remove", "stop watching an API-managed domain (admin)"),
        ("verify", "start or restart verification now (admin)"),
    ):
        command = sub.add_parser(name, parents=[client, formats], help=text)
        command.add_argument("name")
    add = sub.add_parser("add", parents=[client], help="watch a new domain; prints the records to publish")
    add.add_argument("name", nargs="?", help="the domain (or give --file)")
    add.add_argument("--file", help="a domain document (YAML or JSON; - for stdin)")
    add.add_argument("--preset", help="a provider preset, e.g. resend")
    add.add_argument("--region", help="the provider's region, e.g. us-east-1")
    add.add_argument("--dkim-selector", action="append", default=[], type=_validated(check_selector))
    add.add_argument("--verify", action="store_true", help="start verifying at once")
    add.add_argument("--idempotency-key", help="a retry with the same key gets the first answer")
    add.add_argument("--format", choices=("table", "zone", "json"), default="table")
    update = sub.add_parser(
        "update", parents=[client, formats], help="merge-patch a domain's document (admin)"
    )
    update.add_argument("name")
    update.add_argument("--file", required=True, help="a JSON Merge Patch (YAML or JSON; - for stdin)")
    acknowledge = sub.add_parser(
        "acknowledge", parents=[client, formats], help="accept a pinned record's change (admin)"
    )
    acknowledge.add_argument("name")
    acknowledge.add_argument("record", help="the record id: spf, dmarc, dkim:<selector>, ...")

    commands.add_parser("mcp", parents=[client], help="the MCP server on stdio (for desktop assistants)")


def _spf(commands: Commands, common: argparse.ArgumentParser) -> None:
    spf = commands.add_parser("spf-eval", parents=[common], help="evaluate SPF as a receiving server would")
    spf.add_argument("--ip", required=True, type=_ip, help="the connecting client's address")
    spf.add_argument(
        "--mail-from",
        required=True,
        metavar="ADDR",
        help='the envelope sender; "" is the null sender (the HELO identity is checked)',
    )
    spf.add_argument("--helo", default="", metavar="NAME", help="the HELO/EHLO name")
    spf.add_argument("--json", action="store_true", help="print one JSON object")
