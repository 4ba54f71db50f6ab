"""What the commands share: loading the config (errors printed, never raised) and applying the
global options over it."""

from __future__ import annotations

import argparse
import sys

from domainwatch.config.loader import ConfigError, load
from domainwatch.config.schema import Config, ResolverConfig, ShardingConfig
from domainwatch.runtime.gctune import gc_paused

EXIT_OK, EXIT_ATTENTION, EXIT_USAGE = 0, 1, 2


def resolver_settings(base: ResolverConfig, args: argparse.Namespace) -> ResolverConfig:
    """The config's resolver settings with --nameserver and --timeout over them."""
    update: dict[str, object] = {}
    if getattr(args, "nameserver", None):
        update["nameservers"] = args.nameserver
    if getattr(args, "timeout", None) is not None:
        update["timeout"] = args.timeout
    return base.model_copy(update=update)


def load_config(path: str, args: argparse.Namespace | None = None) -> Config | None:
    """The config at `path` with --shard/--total-shards applied; None (errors printed) if invalid."""
    try:
        with gc_paused():  # a large acyclic structure: collections would only slow it
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
    if config.clustered and sharding.total_shards > 1:
        print(
            "domainwatch: --shard/--total-shards: a PostgreSQL store is shared by every replica,"
            " which split the fleet between them (cluster:); shard only with SQLite",
            file=sys.stderr,
        )
        return None
    return config.model_copy(update={"sharding": sharding})
