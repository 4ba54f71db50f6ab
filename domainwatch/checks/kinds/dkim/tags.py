"""The DKIM tag-list syntax (RFC 6376 §3.2), which DMARC records share (RFC 7489 §6.4)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# tval = 1*VALCHAR, VALCHAR = %x21-3A / %x3C-7E, separated by folding white space.
_TAG_VALUE = re.compile(r"(?:[\x21-\x3a\x3c-\x7e]+(?:[ \t\r\n]+[\x21-\x3a\x3c-\x7e]+)*)?")


@dataclass(frozen=True, slots=True)
class TagList:
    tags: dict[str, str]
    order: tuple[str, ...]
    errors: tuple[str, ...]


def parse_tags(text: str) -> TagList:
    """Parse `tag=value; tag=value`; never raises. Tag names are case-sensitive (§3.2)."""
    tags: dict[str, str] = {}
    order: list[str] = []
    errors: list[str] = []
    parts = text.split(";")
    if parts and not parts[-1].strip(" \t\r\n"):
        parts.pop()  # a trailing ";" is allowed
    for index, part in enumerate(parts, start=1):
        name, sep, value = part.partition("=")
        name = name.strip(" \t\r\n")
        value = value.strip(" \t\r\n")
        if not sep or not _TAG_NAME.fullmatch(name):
            errors.append(f"tag {index} ({part.strip()[:40]!r}) is not name=value")
            continue
        if not _TAG_VALUE.fullmatch(value):
            errors.append(f"{name}= has characters not allowed in a tag value")
            continue
        if name in tags:
            errors.append(f"{name}= appears more than once")
            continue
        tags[name] = value
        order.append(name)
    return TagList(tags, tuple(order), tuple(errors))
