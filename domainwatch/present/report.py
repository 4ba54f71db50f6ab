"""Rendering check results for people (table) and programs (JSON; schema in docs/json-output.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from domainwatch.model import DomainReport, RecordResult, Remediation

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe_text(value: str) -> str:
    """Record text is attacker-controlled: show undecodable bytes and control characters escaped,
    so nothing published in DNS can drive the reader's terminal."""
    text = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _clean(value: object) -> object:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def render_json(reports: Sequence[DomainReport], skipped: Sequence[str] = ()) -> str:
    domains = [r.as_dict() for r in reports]
    domains += [{"name": name, "ok": True, "skipped": "verify is false", "records": []} for name in skipped]
    return json.dumps(_clean({"domains": domains}), indent=2, sort_keys=False)


def render_table(reports: Sequence[DomainReport], skipped: Sequence[str] = ()) -> str:
    lines: list[str] = []
    for report in reports:
        lines.append(f"{report.name}  [{report.header}]")
        for record in report.records:
            lines.extend(_record_lines(record))
        lines.append("")
    lines += [f"{name}  [skipped: verify is false]" for name in skipped]
    return "\n".join(lines).rstrip() + "\n"


def _record_lines(record: RecordResult) -> list[str]:
    role = "" if record.required else " (advisory)"
    out = [f"  {record.record:<16} {record.type:<5} {record.state.value:<8} {safe_text(record.name)}{role}"]
    if record.expected:
        out.append(f"      expected: {safe_text(record.expected)}")
    for value in record.found or ("(nothing)",):
        out.append(f"      found:    {safe_text(value)}")
    for server in record.servers:
        found = ", ".join(safe_text(v) for v in server.found) or "(nothing)"
        out.append(f"      {safe_text(server.server)}: {server.state.value}: {found}")
    # The fix first (every error finding of a record carries the same one), then why.
    fixes = list(dict.fromkeys(f.remediation for f in record.findings if f.remediation is not None))
    for fix in fixes:
        out.extend(_fix_lines(fix, "      "))
    for finding in record.findings:
        out.append(f"      {finding.severity.value:<7} {finding.code.value}: {safe_text(finding.message)}")
    return out


def _fix_lines(fix: Remediation, indent: str) -> list[str]:
    # Deletions first: a null MX must go before any host can be added beside it (RFC 7505).
    out = [f"              remove:  {safe_text(fix.name)} {fix.type} {safe_text(r)}" for r in fix.remove]
    if fix.type == "HTTPS":
        out.append(f"              serve at https://{safe_text(fix.name)}:")
        out += [f"                {safe_text(line)}" for line in fix.value.splitlines()]
    elif fix.records:
        out += [
            f"              publish: {safe_text(fix.name)} {fix.type} {safe_text(r)}" for r in fix.records
        ]
    elif fix.value:
        priority = f" {fix.priority}" if fix.priority is not None else ""
        value = f'"{safe_text(fix.value)}"' if fix.type == "TXT" else safe_text(fix.value)
        out.append(f"              publish: {safe_text(fix.name)} {fix.type}{priority} {value}")
    return out


def zone_line(fix: Mapping[str, Any]) -> str:
    """A remediation as a zone-file line, ready to paste (TXT split into 255-octet strings).
    A file to serve over HTTPS (an MTA-STS policy) is not DNS: it is given as zone-file
    comments, so pasting every line still makes a valid zone; so is a record whose value the
    provider makes (`value_from_provider`), so a pasted block never publishes a placeholder."""
    line = _zone_line(fix)
    return f"; {line}" if fix.get("value_from_provider") else line


def _zone_line(fix: Mapping[str, Any]) -> str:
    name, rtype, value = fix["name"], fix["type"], fix["value"]
    if rtype == "HTTPS":
        lines = str(value).splitlines()
        return "\n".join([f"; serve at https://{name} as text/plain:", *(f";   {line}" for line in lines)])
    if rtype == "TXT":
        raw = value.encode("utf-8", "surrogateescape")
        chunks = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
        data = " ".join(
            '"' + c.decode("utf-8", "backslashreplace").replace("\\", "\\\\").replace('"', '\\"') + '"'
            for c in chunks
        )
    elif rtype == "MX" and (fix.get("records") or not value):
        return "\n".join(mx_line(name, record) for record in fix.get("records") or ())
    elif rtype == "MX":
        return mx_line(name, f"{fix.get('priority') or 0} {value}")
    else:
        data = f"{value}."
    return f"{name}. 3600 IN {rtype} {data}"


def mx_line(name: str, record: str) -> str:
    """One MX record ("10 mx.example.net", or the null MX "0 .") as a zone-file line."""
    target = record.rstrip(".") + "." if not record.endswith(" .") else record
    return f"{name}. 3600 IN MX {target}"


def remove_lines(fix: Mapping[str, Any]) -> list[str]:
    """The records a fix deletes, as zone-file lines (an MX fix's null MX or mis-prioritised host)."""
    return [mx_line(fix["name"], record) for record in fix.get("remove") or ()]
