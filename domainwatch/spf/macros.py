"""RFC 7208 §7 macro expansion (pure). Syntax is checked by the parser; this only expands."""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_DOMAIN = 253

_MACRO = re.compile(r"%\{([a-zA-Z])([0-9]*)([rR]?)([.\-+,/_=]*)\}|%%|%_|%-")


class MacroError(Exception):
    """The text is not a valid macro-string (only reached for explanation text, not parsed before)."""


@dataclass(frozen=True, slots=True)
class MacroContext:
    sender: str  # "local-part@domain" (local-part "postmaster" when it was empty)
    ip: IPAddress | None
    helo: str
    receiver: str = "unknown"
    timestamp: int = 0
    validated_name: Callable[[str], str] | None = None  # the %{p} lookup, given <domain>

    @property
    def local_part(self) -> str:
        return self.sender.rpartition("@")[0]

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2]


def expand(text: str, ctx: MacroContext, domain: str, *, explanation: bool = False) -> str:
    """Expand every macro in `text` for the current <domain>."""
    if "%" not in text:
        return text  # the usual domain-spec: nothing to expand
    out: list[str] = []
    index = 0
    for match in _MACRO.finditer(text):
        if text.find("%", index, match.start()) != -1:
            raise MacroError(f"invalid macro in {text!r}")
        out.append(text[index : match.start()])
        piece = match.group()
        if piece == "%%":
            out.append("%")
        elif piece == "%_":
            out.append(" ")
        elif piece == "%-":
            out.append("%20")
        else:
            out.append(_expand_one(match, ctx, domain, explanation))
        index = match.end()
    if "%" in text[index:]:
        raise MacroError(f"invalid macro in {text!r}")
    out.append(text[index:])
    return "".join(out)


def _expand_one(match: re.Match[str], ctx: MacroContext, domain: str, explanation: bool) -> str:
    letter, digits, reverse, delimiters = match.groups()
    allowed = "slodiphv" + ("crt" if explanation else "")
    if letter.lower() not in allowed:
        raise MacroError(f"macro letter {letter!r} not allowed here")
    value = _value(letter.lower(), ctx, domain)
    parts = re.split("[" + re.escape(delimiters or ".") + "]", value)
    if reverse:
        parts.reverse()
    if digits:
        count = transformer_count(digits)
        if count == 0:
            raise MacroError("the digit transformer must not be zero")
        parts = parts[-count:]
    result = ".".join(parts)
    if letter.isupper():
        result = urllib.parse.quote(result, safe="-._~")
    return result


def transformer_count(digits: str) -> int:
    """The digit transformer's value, bounded: a name has at most 127 labels, so any larger
    count keeps them all (and a thousand-digit count costs nothing to read)."""
    significant = digits.lstrip("0")
    return int(significant) if len(significant) <= 3 else 999


def _value(letter: str, ctx: MacroContext, domain: str) -> str:
    if letter == "s":
        return ctx.sender
    if letter == "l":
        return ctx.local_part
    if letter == "o":
        return ctx.sender_domain
    if letter == "d":
        return domain
    if letter == "h":
        return ctx.helo
    if letter == "r":
        return ctx.receiver
    if letter == "t":
        return str(ctx.timestamp)
    if ctx.ip is None:
        return "unknown"
    if letter == "i":
        return dotted(ctx.ip)
    if letter == "c":
        return str(ctx.ip)  # RFC 5952 text for IPv6, dotted quad for IPv4
    if letter == "v":
        return "in-addr" if ctx.ip.version == 4 else "ip6"
    # letter == "p"
    return ctx.validated_name(domain) if ctx.validated_name else "unknown"


def dotted(ip: IPAddress) -> str:
    """%{i}: the dotted quad, or 32 dot-separated nibbles for IPv6 (§7.3)."""
    if ip.version == 4:
        return str(ip)
    return ".".join(ip.exploded.replace(":", ""))


def as_domain(expanded: str) -> str:
    """A macro-expanded domain-spec as a query name: no trailing dot, at most 253 octets (§7.3:
    drop labels from the left until it fits)."""
    name = expanded[:-1] if expanded.endswith(".") else expanded
    while len(name) > MAX_DOMAIN and "." in name:
        name = name.split(".", 1)[1]
    return name


def is_valid_name(name: str) -> bool:
    """Can a DNS query be made for it (RFC 1035 lengths, no empty label, more than one label)?"""
    labels = name.split(".")
    if name.isascii():  # the usual case: lengths in characters are lengths in octets
        return (
            len(labels) > 1 and len(name) <= MAX_DOMAIN and "" not in labels and max(map(len, labels)) <= 63
        )
    return (
        len(labels) > 1
        and len(name) <= MAX_DOMAIN
        and all(0 < len(label.encode("utf-8", "surrogateescape")) <= 63 for label in labels)
    )
