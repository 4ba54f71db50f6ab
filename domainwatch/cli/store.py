"""`domainwatch store backup|restore|check|copy`: the SQLite store's online backup, its restore
into a stopped daemon's place, and its integrity and schema; and `copy` of any store into
another (SQLite to PostgreSQL, say: store/copying.py). A PostgreSQL store is backed up with
PostgreSQL's own tools (pg_dump); `check` reports its schema.

Exit codes: 0 done (check: the store is sound), 1 a problem found (check), 2 a usage, config or
store error (a backup path that exists, a restore while a daemon holds the store).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from domainwatch.cli.common import EXIT_ATTENTION, EXIT_OK, EXIT_USAGE, load_config
from domainwatch.runtime import aio
from domainwatch.store.base import StoreError
from domainwatch.store.copying import copy_store, postgres
from domainwatch.store.holder import holder, holding
from domainwatch.store.migrations import MIGRATIONS
from domainwatch.store.opening import open_store
from domainwatch.store.postgres_schema import MIGRATIONS as POSTGRES_MIGRATIONS
from domainwatch.store.urls import SQLITE, StoreLocation, parse_store_url

CURRENT = len(MIGRATIONS)
POSTGRES_CURRENT = len(POSTGRES_MIGRATIONS)


def run(args: argparse.Namespace) -> int:
    try:
        if args.store_command == "copy":
            return _copy(args.source, args.target)
        config = load_config(args.config)
        if config is None:
            return EXIT_USAGE
        location = config.storage.location
        if location.kind != SQLITE:
            return aio.run(_postgres_command(location, args.store_command))
        command = {"backup": backup, "restore": restore, "check": check}[args.store_command]
        return command(location.target, args)
    except (StoreError, sqlite3.Error, OSError) as exc:
        print(f"domainwatch store {args.store_command}: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _copy(source_url: str, target_url: str) -> int:
    try:
        source, target = parse_store_url(source_url), parse_store_url(target_url)
    except ValueError as exc:
        print(f"domainwatch store copy: {exc}", file=sys.stderr)
        return EXIT_USAGE
    counts = aio.run(copy_store(source, target))
    copied = ", ".join(f"{count} {table}" for table, count in counts.items())
    print(f"{source.shown} copied to {target.shown}: {copied}")
    return EXIT_OK


async def _postgres_command(location: StoreLocation, command: str) -> int:
    if command != "check":
        print(
            f"domainwatch store {command}: {location.shown} is PostgreSQL; use pg_dump and pg_restore"
            " (docs/storage.md)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    store = await open_store(location, readonly=True)  # StoreError: unreachable, or another schema
    try:
        held = await postgres(store).held()
    finally:
        await store.close()
    print(f"{location.shown}: schema {POSTGRES_CURRENT} (this domainwatch: {POSTGRES_CURRENT})")
    if held:
        print("held by a domainwatch daemon")
    return EXIT_OK


def backup(store: str, args: argparse.Namespace) -> int:
    """SQLite's online backup: a consistent copy while the daemon keeps writing."""
    target = Path(args.path)
    if target.exists():
        print(f"domainwatch store backup: {target} exists; give a new path", file=sys.stderr)
        return EXIT_USAGE
    source = _open(store, readonly=True)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    target.chmod(0o600)  # it holds what the store holds: webhook URLs and bodies
    print(f"{store} backed up to {target} (schema {_schema(str(target))})")
    return EXIT_OK


def restore(store: str, args: argparse.Namespace) -> int:
    """Replace the store with a backup, which must be sound and not newer than this version;
    refused while a daemon holds the store. Pending webhooks are then sent with their ids."""
    source_path = str(args.path)
    problems = _problems(source_path)
    if problems:
        print(f"domainwatch store restore: {source_path}: {'; '.join(problems)}", file=sys.stderr)
        return EXIT_USAGE
    with holding(store):  # a running daemon: StoreError naming it
        source = _open(source_path, readonly=True)
        try:
            target = sqlite3.connect(store)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
    Path(store).chmod(0o600)
    print(f"{source_path} restored into {store} (schema {_schema(store)})")
    return EXIT_OK


def check(store: str, args: argparse.Namespace) -> int:
    """Integrity and schema, read only (also while the daemon runs)."""
    del args
    if not Path(store).exists():
        print(f"domainwatch store check: {store}: no store yet", file=sys.stderr)
        return EXIT_USAGE
    problems = _problems(store)
    integrity = "ok" if not any(p.startswith("integrity") for p in problems) else "FAILED"
    try:
        schema = str(_schema(store))
    except sqlite3.DatabaseError:
        schema = "?"
    print(f"{store}: integrity {integrity}; schema {schema} (this domainwatch: {CURRENT})")
    held = holder(store)
    if held is not None:
        print(f"held by {held}")
    for problem in problems:
        print(f"  {problem}")
    return EXIT_ATTENTION if problems else EXIT_OK


def _open(path: str, *, readonly: bool) -> sqlite3.Connection:
    if not Path(path).is_file():
        raise StoreError(f"{path}: no such file")
    uri = f"{Path(path).resolve().as_uri()}?mode=ro" if readonly else path
    return sqlite3.connect(uri, uri=readonly)


def _schema(path: str) -> int:
    db = _open(path, readonly=True)
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        return int(version)
    finally:
        db.close()


def _problems(path: str) -> list[str]:
    """What makes a file no sound store for this version: [] when it is one."""
    try:
        db = _open(path, readonly=True)
    except StoreError as exc:
        return [str(exc)]
    try:
        rows = [str(row[0]) for row in db.execute("PRAGMA integrity_check(20)")]
        (version,) = db.execute("PRAGMA user_version").fetchone()
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        return [f"integrity: not a SQLite database ({exc})"]
    finally:
        db.close()
    problems = [] if rows == ["ok"] else [f"integrity: {row}" for row in rows]
    if version > CURRENT:
        problems.append(f"schema {version} is newer than this domainwatch's ({CURRENT}): upgrade domainwatch")
    elif version < 1 or "domains" not in tables:
        problems.append("not a domainwatch store")
    return problems
