"""An MTA-STS policy's text, read as RFC 8461 §3.2 defines it (pure). The prober keeps the
reading, not the text: a fleet's policies are kept for hours, and a policy may be 64 KiB."""

from __future__ import annotations

import re
from typing import Any

MODES = ("enforce", "testing", "none")
MAX_AGE_LIMIT = 31_557_600  # §3.2: a year, in seconds
MAX_PATTERNS = 100  # kept of a policy's mx patterns (a hostile policy may list thousands)
_PATTERN = re.compile(r"(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")
_REQUIRED = ("version", "mode", "max_age")


def read_policy(text: str) -> dict[str, Any]:
    """{"version", "mode", "max_age", "mx": [...], "problems": [...]}: each field as found
    (None when absent) and what makes the policy invalid, in words."""
    fields: dict[str, str] = {}
    patterns: list[str] = []
    problems: list[str] = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not colon or not key:
            problems.append(f"line {number} is not `key: value`")
        elif key == "mx":
            patterns.append(value.lower())
        elif key in fields and key in _REQUIRED:
            problems.append(f"{key} is given twice")
        else:
            fields[key] = value
        if len(problems) > 10:
            break
    problems += _field_problems(fields, patterns)
    return {
        "version": fields.get("version"),
        "mode": fields.get("mode"),
        "max_age": fields.get("max_age"),
        "mx": patterns[:MAX_PATTERNS],
        "problems": problems[:20],
    }


def _field_problems(fields: dict[str, str], patterns: list[str]) -> list[str]:
    problems = [f"{key} is missing" for key in _REQUIRED if key not in fields]
    if "version" in fields and fields["version"] != "STSv1":
        problems.append(f"version must be STSv1, not {fields['version'][:20]!r}")
    mode = fields.get("mode")
    if mode is not None and mode not in MODES:
        problems.append(f"mode must be enforce, testing or none, not {mode[:20]!r}")
    age = fields.get("max_age")
    if age is not None and not (age.isascii() and age.isdigit() and int(age[:10]) <= MAX_AGE_LIMIT):
        problems.append(f"max_age must be a number of seconds from 0 to {MAX_AGE_LIMIT}")
    if mode in ("enforce", "testing") and not patterns:
        problems.append("no mx pattern: every MX host would fail the policy")
    bad = [p for p in patterns if not _PATTERN.fullmatch(p)]
    if bad:
        problems.append(f"mx {bad[0][:60]!r} is not a host name or *.domain pattern")
    return problems


def covers(pattern: str, host: str) -> bool:
    """Whether an mx pattern matches a host (§4.1: a wildcard stands for one leftmost label)."""
    host = host.rstrip(".").lower()
    if pattern.startswith("*."):
        return "." in host and host.split(".", 1)[1] == pattern[2:]
    return pattern == host
