"""`domainwatch domains list|get|add|update|remove|verify|acknowledge`: a client of a running daemon's API.

Exit codes: 0 done; 1 the daemon refused (its message is printed: not found, a config domain,
an invalid document with each problem's path, ...); 2 a usage error (arguments, an unreadable
file); 3 the daemon could not be reached, or failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from domainwatch.cli.progress import Progress
from domainwatch.config.loader import ConfigError, read_mapping
from domainwatch.present.report import remove_lines, safe_text, zone_line
from domainwatch.present.zone import zone_block
from domainwatch.service.client import ApiClient, Json, token_from
from domainwatch.service.errors import ServiceError

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


def run(args: argparse.Namespace) -> int:
    try:
        client = ApiClient(args.url, token_from(args.token_file))
        return COMMANDS[args.domains_command](client, args)
    except ServiceError as exc:
        print(f"domainwatch: {exc.code}: {exc.message}", file=sys.stderr)
        for problem in exc.details.get("errors", []):
            print(f"  {problem.get('path') or 'document'}: {problem.get('message')}", file=sys.stderr)
        if exc.code == "token_file":
            return EXIT_USAGE
        return EXIT_UNREACHABLE if exc.status == 0 or exc.status >= 500 else EXIT_REFUSED
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return EXIT_USAGE


def list_domains(client: ApiClient, args: argparse.Namespace) -> int:
    """One page, or with --all every page by cursor (a progress bar on a terminal)."""
    filters = {
        "statuses": args.status,
        "sort": args.sort,
        "order": args.order,
        "capability": args.capability,
        "source": args.source,
        "finding": args.finding,
    }
    listing = client.list_domains(None, args.query, args.limit, **filters)
    if args.all:
        progress = Progress(listing["total"], "domain", enabled=not args.quiet)
        progress.advance(len(listing["domains"]))
        while listing.get("next_cursor"):
            page = client.list_domains(None, args.query, args.limit, cursor=listing["next_cursor"], **filters)
            progress.advance(len(page["domains"]))
            listing = {**page, "domains": listing["domains"] + page["domains"]}
        progress.close()
    if args.format == "json":
        print(json.dumps(listing, indent=2))
        return EXIT_OK
    print(f"{'DOMAIN':<40} {'STATUS':<19} {'SOURCE':<7} CHECKED")
    for view in listing["domains"]:
        print(f"{view['name']:<40} {view['status']:<19} {view['source']:<7} {view.get('checked_at') or '-'}")
    if listing.get("next_cursor") is not None:
        print(f"... {listing['total']} in all; --all for every page")
    return EXIT_OK


def get_domain(client: ApiClient, args: argparse.Namespace) -> int:
    _print_domain(client.get_domain(args.name), args.format)
    return EXIT_OK


def add_domain(client: ApiClient, args: argparse.Namespace) -> int:
    document = _read_document(args.file) if args.file else _document_from_flags(args)
    _print_domain(client.add_domain(document, args.idempotency_key), args.format, publish=True)
    return EXIT_OK


def update_domain(client: ApiClient, args: argparse.Namespace) -> int:
    _print_domain(client.update_domain(args.name, _read_document(args.file)), args.format)
    return EXIT_OK


def remove_domain(client: ApiClient, args: argparse.Namespace) -> int:
    print(f"deleted {client.remove_domain(args.name)['deleted']}")
    return EXIT_OK


def verify_domain(client: ApiClient, args: argparse.Namespace) -> int:
    _print_domain(client.verify_domain(args.name)["domain"], args.format)
    return EXIT_OK


def acknowledge_record(client: ApiClient, args: argparse.Namespace) -> int:
    answer = client.acknowledge_record(args.name, args.record)
    if args.format == "json":
        print(json.dumps(answer, indent=2))
    else:
        record = answer["record"]
        print(f"acknowledged {args.record} of {args.name}: {record['status']} (checked again now)")
    return EXIT_OK


COMMANDS: dict[str, Callable[[ApiClient, argparse.Namespace], int]] = {
    "list": list_domains,
    "get": get_domain,
    "add": add_domain,
    "update": update_domain,
    "remove": remove_domain,
    "verify": verify_domain,
    "acknowledge": acknowledge_record,
}


def _document_from_flags(args: argparse.Namespace) -> Json:
    if args.name is None:
        raise ServiceError(2, "usage", "give the domain's NAME, or --file")
    document: Json = {"name": args.name}
    if args.preset:
        document["preset"] = args.preset
    if args.region:
        document["region"] = args.region
    if args.dkim_selector:
        document["sending"] = {"dkim": [{"selector": s} for s in args.dkim_selector]}
    if args.verify:
        document["verify"] = True
    return document


def _read_document(path: str) -> Json:
    """A document (or merge patch) from a YAML or JSON file (JSON is YAML); `-` is stdin."""
    source = "<stdin>" if path == "-" else path
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{source}: cannot read: {getattr(exc, 'strerror', None) or exc}"]) from None
    document: Json = read_mapping(text, source)
    return document


def _print_domain(view: Json, fmt: str, *, publish: bool = False) -> None:
    if fmt == "json":
        print(json.dumps(view, indent=2))
    elif fmt == "zone":
        sys.stdout.writelines(f"{safe_text(line)}\n" for line in zone_block(view).splitlines())
    else:
        sys.stdout.write(domain_table(view, publish=publish))


def domain_table(view: Json, *, publish: bool = False) -> str:
    """A domain for people: its status, then each record with what to publish and every fix."""
    capabilities = " ".join(f"{k}={v}" for k, v in view.get("capabilities", {}).items())
    lines = [f"{view['name']}  {view['status']}  ({view['source']}; {capabilities or 'no capabilities'})"]
    if view.get("window_deadline"):
        lines.append(f"  window deadline: {view['window_deadline']}")
    if publish:
        lines.append("  publish these records:")
    for record in view["records"]:
        lines.extend(_record_lines(record))
    return "\n".join(lines) + "\n"


def _record_lines(record: dict[str, Any]) -> list[str]:
    role = "" if record.get("required") else " (advisory)"
    state = record.get("state") or "not checked"
    out = [f"  {record['record']:<18} {record['status']:<18} {state}{role}"]
    provider = " (the value from your provider)" if record.get("value_from_provider") else ""
    for line in (record.get("zone_line") or "").splitlines():
        shown = line.removeprefix("; ") if provider else line
        out.append(f"      publish: {safe_text(shown)}{provider}")
    for value in record.get("found") or []:
        out.append(f"      found:   {safe_text(value)}")
    for finding in record.get("findings") or []:
        out.append(f"      {finding['severity']:<7} {finding['code']}: {safe_text(finding['message'])}")
        fix = finding.get("remediation")
        if fix:
            out.extend(f"              remove: {safe_text(line)}" for line in remove_lines(fix))
            out.extend(f"              fix: {safe_text(line)}" for line in zone_line(fix).splitlines())
    return out
