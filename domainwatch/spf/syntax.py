"""RFC 7208 SPF record syntax: record selection (§4.5), terms (§4.6, §5, §6) and macros (§7).

Pure and total: `parse` never raises; every problem is an SpfSyntaxError with its column, so a
finding can point at the exact character. The static check (spf.py) and, later, the evaluator
share this one parser.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Qualifier(enum.StrEnum):
    PASS = "+"  # noqa: S105 (an SPF qualifier, not a password)
    FAIL = "-"
    SOFTFAIL = "~"
    NEUTRAL = "?"


MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
# Terms that cost a DNS query and count toward the limit of 10 (§4.6.4).
DNS_TERMS = frozenset({"include", "a", "mx", "ptr", "exists", "redirect"})


@dataclass(frozen=True, slots=True)
class Mechanism:
    qualifier: Qualifier
    kind: str
    domain_spec: str | None
    network: IPNetwork | None
    cidr4: int | None
    cidr6: int | None
    column: int
    text: str


@dataclass(frozen=True, slots=True)
class Modifier:
    name: str
    value: str
    column: int
    text: str


@dataclass(frozen=True, slots=True)
class SpfSyntaxError:
    column: int
    message: str

    def __str__(self) -> str:
        return f"column {self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class SpfRecord:
    text: str
    terms: tuple[Mechanism | Modifier, ...]
    errors: tuple[SpfSyntaxError, ...]

    @property
    def mechanisms(self) -> tuple[Mechanism, ...]:
        return tuple(t for t in self.terms if isinstance(t, Mechanism))

    def modifier(self, name: str) -> Modifier | None:
        return next((t for t in self.terms if isinstance(t, Modifier) and t.name == name), None)


_VERSION = re.compile(r"v=spf1(?: |$)", re.IGNORECASE)
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9\-_.]*)=(.*)", re.DOTALL)
_MECHANISM = re.compile(r"([+\-~?]?)([A-Za-z][A-Za-z0-9\-_.]*)(.*)", re.DOTALL)
_CIDR = re.compile(r"(?:/(0|[1-9][0-9]{0,2}))?(?://(0|[1-9][0-9]{0,2}))?$")
_MACRO = re.compile(r"%\{([a-zA-Z])([0-9]*)([rR]?)([.\-+,/_=]*)\}|%%|%_|%-")
_DOMAIN_LETTERS = frozenset("slodiphv")
_EXP_LETTERS = _DOMAIN_LETTERS | frozenset("crt")
_TOPLABEL = re.compile(
    r"(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9\-]*[A-Za-z0-9])", re.ASCII
)


def is_spf(text: str) -> bool:
    """Record selection (§4.5): exactly "v=spf1", then a space or the end."""
    return _VERSION.match(text) is not None


@functools.lru_cache(maxsize=8192)
def parse(text: str) -> SpfRecord:
    """Parse a record (cached: the evaluator re-runs, and fleets share provider records)."""
    return _parse(text)


def _parse(text: str) -> SpfRecord:
    errors: list[SpfSyntaxError] = []
    for index, char in enumerate(text):
        if not " " <= char <= "~":
            errors.append(SpfSyntaxError(index + 1, f"character {char!r} is not printable ASCII"))
            return SpfRecord(text, (), tuple(errors))
    if not is_spf(text):
        return SpfRecord(text, (), (SpfSyntaxError(1, 'record must start with "v=spf1"'),))
    terms: list[Mechanism | Modifier] = []
    seen_modifiers: set[str] = set()
    for column, term_text in _split_terms(text, start=len("v=spf1")):
        term = _parse_term(term_text, column, errors)
        if isinstance(term, Modifier) and term.name in ("redirect", "exp"):
            if term.name in seen_modifiers:
                errors.append(SpfSyntaxError(column, f"{term.name}= appears more than once"))
            seen_modifiers.add(term.name)
        if term is not None:
            terms.append(term)
    return SpfRecord(text, tuple(terms), tuple(errors))


def _split_terms(text: str, start: int) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for match in re.finditer(r"[^ ]+", text[start:]):
        out.append((start + match.start() + 1, match.group()))
    return out


def _parse_term(text: str, column: int, errors: list[SpfSyntaxError]) -> Mechanism | Modifier | None:
    modifier = _MODIFIER.fullmatch(text)
    if modifier is not None:
        return _parse_modifier(modifier.group(1).lower(), modifier.group(2), text, column, errors)
    mechanism = _MECHANISM.fullmatch(text)
    if mechanism is None:
        errors.append(SpfSyntaxError(column, f"{text!r} is not a mechanism or modifier"))
        return None
    qualifier, name, rest = mechanism.groups()
    kind = name.lower()
    if kind not in MECHANISMS:
        errors.append(SpfSyntaxError(column, f"unknown mechanism {name!r}"))
        return None
    parsed = _parse_mechanism_args(kind, rest, column + len(qualifier) + len(name), errors)
    if parsed is None:
        return None
    domain_spec, network, cidr4, cidr6 = parsed
    return Mechanism(Qualifier(qualifier or "+"), kind, domain_spec, network, cidr4, cidr6, column, text)


def _parse_modifier(
    name: str, value: str, text: str, column: int, errors: list[SpfSyntaxError]
) -> Modifier | None:
    value_column = column + len(name) + 1
    if name in ("redirect", "exp"):
        problem = domain_spec_error(value)
    else:
        problem = macro_string_error(value, _EXP_LETTERS)
    if problem is not None:
        errors.append(SpfSyntaxError(value_column, f"{name}=: {problem}"))
        return None
    return Modifier(name, value, column, text)


def _parse_mechanism_args(
    kind: str, rest: str, column: int, errors: list[SpfSyntaxError]
) -> tuple[str | None, IPNetwork | None, int | None, int | None] | None:
    def fail(message: str, offset: int = 0) -> None:
        errors.append(SpfSyntaxError(column + offset, f"{kind}: {message}"))

    def fail_argument(message: str) -> None:
        fail(message, offset=1)  # point past the ":" at the argument itself

    if kind == "all":
        if rest:
            fail("takes no argument")
            return None
        return None, None, None, None
    if kind in ("ip4", "ip6"):
        return _parse_ip(kind, rest, fail_argument)
    body, cidr4, cidr6 = rest, None, None
    if kind in ("a", "mx"):
        cidr = _CIDR.search(rest)
        assert cidr is not None  # the pattern matches the empty string at the end
        body = rest[: cidr.start()]
        cidr4 = int(cidr.group(1)) if cidr.group(1) else None
        cidr6 = int(cidr.group(2)) if cidr.group(2) else None
        if (cidr4 or 0) > 32 or (cidr6 or 0) > 128:
            fail("CIDR length out of range")
            return None
    if not body:
        if kind in ("include", "exists"):
            fail("requires :domain")
            return None
        return None, None, cidr4, cidr6
    if not body.startswith(":") or len(body) == 1:
        fail(f"unexpected {body!r}")
        return None
    problem = domain_spec_error(body[1:])
    if problem is not None:
        fail_argument(problem)
        return None
    return body[1:], None, cidr4, cidr6


def _parse_ip(kind: str, rest: str, fail: Callable[[str], None]) -> tuple[None, IPNetwork, None, None] | None:
    if not rest.startswith(":"):
        fail("requires :address")
        return None
    address, _, length = rest[1:].partition("/")
    limit = 32 if kind == "ip4" else 128
    if length and (not re.fullmatch(r"0|[1-9][0-9]{0,2}", length) or int(length) > limit):
        fail(f"CIDR length {length!r} out of range")
        return None
    try:
        ip = ipaddress.IPv4Address(address) if kind == "ip4" else ipaddress.IPv6Address(address)
        network = ipaddress.ip_network(f"{ip}/{length or limit}", strict=False)
    except ValueError:
        fail(f"{address!r} is not an IPv{kind[-1]} address")
        return None
    return None, network, None, None


def macro_string_error(text: str, letters: frozenset[str] = _DOMAIN_LETTERS) -> str | None:
    """Why `text` is not a valid macro-string (§7.1), or None."""
    index = 0
    while index < len(text):
        char = text[index]
        if char == "%":
            match = _MACRO.match(text, index)
            if match is None:
                return f"invalid macro at {text[index : index + 4]!r}"
            letter = match.group(1)
            if letter is not None:
                if letter.lower() not in letters:
                    return f"macro letter {letter!r} not allowed here"
                if match.group(2) and not match.group(2).strip("0"):
                    return "macro digit transformer must not be zero"
            index = match.end()
            continue
        if not "!" <= char <= "~":
            return f"character {char!r} not allowed"
        index += 1
    return None


def domain_spec_error(text: str) -> str | None:
    """Why `text` is not a valid domain-spec (§7.1: macro-string domain-end), or None."""
    if not text:
        return "empty domain"
    problem = macro_string_error(text)
    if problem is not None:
        return problem
    if _ends_with_macro(text):
        return None
    labels = text.rstrip(".").split(".")
    if len(labels) < 2 or not _TOPLABEL.fullmatch(labels[-1]):
        return f"{text!r} does not end in a valid top-level label"
    return None


def _ends_with_macro(text: str) -> bool:
    return any(m.end() == len(text) for m in _MACRO.finditer(text))
