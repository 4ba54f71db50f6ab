"""The `domainwatch` command line (argparse). Exit codes: 0 fine, 1 records need attention,
2 usage or configuration error."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from domainwatch import __version__
from domainwatch.checks.plan import inspect_plan, plan
from domainwatch.checks.runner import check_with
from domainwatch.cli import spf, webhooks
from domainwatch.cli.demo import run_demo
from domainwatch.cli.run import export_csv, print_status, run_daemon
from domainwatch.config import Config, ConfigError, load
from domainwatch.config.fields import (
    check_domain_name,
    check_listen,
    check_selector,
    parse_duration,
    to_nameserver,
)
from domainwatch.config.schema import ResolverConfig, ShardingConfig
from domainwatch.daemon.sharding import owns
from domainwatch.model import DomainReport, RecordState, Severity
from domainwatch.present.report import render_json, render_table
from domainwatch.present.views import parse_time
from domainwatch.runtime import aio, gctune
from domainwatch.runtime.logs import configure_logging

EXIT_OK, EXIT_ATTENTION, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")


def _duration_arg(text: str) -> timedelta:
    try:
        return timedelta(seconds=float(text))
    except ValueError:
        pass
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
        "--log-format", choices=("json", "console"), default=default if suppress else "console"
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default=default,
        help="default: info for run, warning otherwise",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="domainwatch", description=__doc__)
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

    check = commands.add_parser("check", parents=[common, sharded], help="check configured domains once")
    check.add_argument("-c", "--config", required=True)
    check.add_argument("--domain", action="append", default=[], type=_validated(check_domain_name))
    check.add_argument("--format", choices=("table", "json"), default="table")

    inspect = commands.add_parser("inspect", parents=[common], help="diagnose any domain, no config")
    inspect.add_argument("domain", type=_validated(check_domain_name))
    inspect.add_argument("--dkim-selector", action="append", default=[], type=_validated(check_selector))
    inspect.add_argument("--format", choices=("table", "json"), default="table")

    config = commands.add_parser("config", help="configuration tools")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="COMMAND")
    validate = config_commands.add_parser("validate", parents=[common], help="validate a config file")
    validate.add_argument("file")

    run = commands.add_parser("run", parents=[common, sharded], help="run the daemon")
    run.add_argument("-c", "--config", required=True)

    status = commands.add_parser("status", parents=[common, sharded], help="show the stored state, offline")
    status.add_argument("-c", "--config", required=True)
    status.add_argument("--format", choices=("table", "json"), default="table")

    export = commands.add_parser("export", parents=[common], help="CSV of domains or history, offline")
    export.add_argument("-c", "--config", required=True)
    export.add_argument("--what", choices=("domains", "history"), required=True)
    export.add_argument("--since", type=_validated(parse_time), default=None, help="history since (RFC 3339)")

    webhooks.add_parser(commands, common)
    spf.add_parser(commands, common)

    demo = commands.add_parser(
        "demo", parents=[common], help="the daemon on built-in sample domains (no internet)"
    )
    demo.add_argument("--listen", default="127.0.0.1:8427", type=_validated(check_listen), help="HOST:PORT")
    demo.add_argument("--time-scale", type=float, default=1.0, help="run the story N times faster")
    demo.add_argument("--once", action="store_true", help="print a one-shot diagnosis instead")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    gctune.tune()
    configure_logging(args.log_format, args.log_level or ("info" if args.command == "run" else "warning"))
    if args.command == "demo" and args.time_scale <= 0:
        print("domainwatch: --time-scale must be positive", file=sys.stderr)
        return EXIT_USAGE
    handlers = {
        "check": cmd_check,
        "inspect": cmd_inspect,
        "config": cmd_config,
        "demo": cmd_demo,
        "run": cmd_run,
        "status": cmd_status,
        "export": cmd_export,
        "webhooks": cmd_webhooks,
        "spf-eval": cmd_spf_eval,
    }
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return 130


def _resolver_settings(base: ResolverConfig, args: argparse.Namespace) -> ResolverConfig:
    update: dict[str, object] = {}
    if args.nameserver:
        update["nameservers"] = args.nameserver
    if args.timeout is not None:
        update["timeout"] = args.timeout
    return base.model_copy(update=update)


def _load(path: str, args: argparse.Namespace | None = None) -> Config | None:
    try:
        config = load(path)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return None
    shard, total = getattr(args, "shard", None), getattr(args, "total_shards", None)
    if shard is None and total is None:
        return config
    try:
        sharding = ShardingConfig(
            shard=config.sharding.shard if shard is None else shard,
            total_shards=config.sharding.total_shards if total is None else total,
        )
    except ValueError as exc:
        print(f"domainwatch: --shard/--total-shards: {exc}", file=sys.stderr)
        return None
    return config.model_copy(update={"sharding": sharding})


def cmd_config(args: argparse.Namespace) -> int:
    config = _load(args.file)
    if config is None:
        return EXIT_USAGE
    print(f"{args.file}: ok ({len(config.domains)} domains)")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    config = _load(args.config, args)
    if config is None:
        return EXIT_USAGE
    return run_check(config, args)


def run_check(config: Config, args: argparse.Namespace) -> int:
    unknown = [name for name in args.domain if config.domain(name) is None]
    if unknown:
        print(f"not in {args.config}: {', '.join(unknown)}", file=sys.stderr)
        return EXIT_USAGE
    sharding = config.sharding
    selected = [
        d
        for d in config.domains
        if (not args.domain or d.name in args.domain) and owns(d.name, sharding.shard, sharding.total_shards)
    ]
    settings = _resolver_settings(config.resolver, args)
    work = [(d.name, plan(d)) for d in selected if d.verify]
    gctune.settle()
    reports = aio.run(check_with(work, settings))
    skipped = [d.name for d in selected if not d.verify]
    _print(reports, skipped, args.format)
    return EXIT_OK if all(r.ok for r in reports) else EXIT_ATTENTION


def cmd_inspect(args: argparse.Namespace) -> int:
    settings = _resolver_settings(ResolverConfig(), args)
    work = [(args.domain, inspect_plan(args.domain, args.dkim_selector))]
    reports = aio.run(check_with(work, settings))
    _print(reports, [], args.format)
    return EXIT_ATTENTION if any(_has_problem(r) for r in reports) else EXIT_OK


def _has_problem(report: DomainReport) -> bool:
    return any(
        r.state is RecordState.ERROR or any(f.severity is Severity.ERROR for f in r.findings)
        for r in report.records
    )


def _print(reports: list[DomainReport], skipped: list[str], fmt: str) -> None:
    sys.stdout.write(
        render_json(reports, skipped) + "\n" if fmt == "json" else render_table(reports, skipped)
    )


def cmd_run(args: argparse.Namespace) -> int:
    config = _load(args.config, args)
    if config is None:
        return EXIT_USAGE
    settings = _resolver_settings(config.resolver, args)
    return aio.run(run_daemon(config.model_copy(update={"resolver": settings}), args.config))


def cmd_status(args: argparse.Namespace) -> int:
    config = _load(args.config, args)
    if config is None:
        return EXIT_USAGE
    return print_status(config, args.format)


def cmd_export(args: argparse.Namespace) -> int:
    config = _load(args.config, args)
    if config is None:
        return EXIT_USAGE
    return export_csv(config, args.what, args.since, sys.stdout)


def cmd_webhooks(args: argparse.Namespace) -> int:
    config = _load(args.config, args)
    if config is None:
        return EXIT_USAGE
    return webhooks.run(config, args)


def cmd_spf_eval(args: argparse.Namespace) -> int:
    return spf.run(args, _resolver_settings(ResolverConfig(), args))


def cmd_demo(args: argparse.Namespace) -> int:
    return run_demo(args)
