"""The values users write (durations, domain names, labels, addresses): parsed and validated.

Pure and free of pydantic, so the command line validates its arguments without importing the
schema; domainwatch.fields wraps each validator into a pydantic field type. Each raises
ValueError with the exact message a user sees after `file:line: path:`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import urllib.parse
from datetime import datetime, timedelta

from domainwatch.dns.resolver import Nameserver, parse_nameserver

MAX_DURATION = timedelta(days=3650)  # longer is a typo; far longer does not fit a timedelta
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_LABEL_TEXT = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_LABEL = re.compile(_LABEL_TEXT)
# The rule ESPs apply to a custom return-path (MAIL FROM) label.
_RETURN_PATH = re.compile(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
# us-east-1 (SES, Resend), us and eu (Mailgun): a preset lists the regions it knows.
_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)*")


def parse_duration(value: object) -> timedelta:
    """ "500ms", "2s", "5m", "72h", "30d" -> timedelta. Bare numbers are refused as ambiguous."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not (match := _DURATION.fullmatch(value.strip())):
        raise ValueError("must be a duration such as 500ms, 2s, 5m, 72h or 30d")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError("must be at most 3650d")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """A timedelta as parse_duration reads it back, in the largest unit that is exact."""
    millis = round(value.total_seconds() * 1000)
    for unit in ("d", "h", "m", "s"):
        size = round(_UNITS[unit] * 1000)
        if millis and millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


# A name of two or more labels that each pass _LABEL: what checked_name accepts unchanged, in
# one match (the config of a large fleet holds hundreds of thousands of names).
_PLAIN_NAME = re.compile(rf"(?:{_LABEL_TEXT}\.)+{_LABEL_TEXT}")


def check_domain_name(value: str) -> str:
    """Normalize (lower case, no trailing dot, IDN to A-labels) and validate a domain name."""
    name = value.strip().rstrip(".").lower()
    plain = _plain_name(name) if len(name) <= 253 else None
    return plain if plain is not None else checked_name(name)


@functools.lru_cache(maxsize=4096)
def _plain_name(name: str) -> str | None:
    """The name if one match accepts it. Remembered by the normalized text, at most 253
    characters a key whatever the input's padding: a fleet's config names its providers' hosts
    once per domain, and each domain then holds the same string (13 MB at 100,000 domains)."""
    return name if _PLAIN_NAME.fullmatch(name) else None


def checked_name(name: str) -> str:
    """check_domain_name label by label, for what its single match does not accept: an IDN, or
    a name it refuses, with the message that says why."""
    if "*" in name:
        raise ValueError("must name one domain (no wildcards)")
    if not name or "" in name.split("."):
        raise ValueError("domain name has an empty label")
    try:
        ascii_name = name if name.isascii() else name.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("is not a valid internationalized domain name") from None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253:
        raise ValueError("domain name is longer than 253 octets")
    for label in labels:
        if not label:
            raise ValueError("domain name has an empty label")
        if len(label) > 63:
            raise ValueError(f"label {label[:20]!r}... is longer than 63 octets")
        if not _LABEL.fullmatch(label):
            raise ValueError(f"label {label!r} is not a valid DNS label")
    if len(labels) < 2:
        raise ValueError("must have at least two labels (example.com)")
    return ascii_name


def check_watched_name(value: str) -> str:
    """A name to watch: check_domain_name, and no IP literal, no underscore label (a service
    name such as `_dmarc.example.com`), no IDN label mixing scripts (UTS #39)."""
    name = check_domain_name(value)
    why = refused_name(name)
    if why is not None:
        raise ValueError(why)
    return name


def refused_name(name: str) -> str | None:
    """Why a valid domain name may not be watched, or None (a checked, normalised name)."""
    if _IPV4.fullmatch(name):
        return "is an IP address, not a domain name"
    if "_" in name:
        return "has a label with an underscore: a service name (such as _dmarc) is not a domain to watch"
    for label in name.split("."):
        if label.startswith("xn--"):
            mixed = mixed_scripts(label)
            if mixed:
                scripts = ", ".join(mixed)
                return f"label {label!r} mixes scripts ({scripts}), which UTS #39 does not allow in a name"
    return None


_IPV4 = re.compile(r"[0-9]+(\.[0-9]+){3}")
# UTS #39 §5.2, Highly Restrictive: one script, or Latin with Han and the Japanese or Korean scripts.
_ALLOWED_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)


def mixed_scripts(a_label: str) -> list[str]:
    """The scripts of an IDN label when they are mixed beyond UTS #39's Highly Restrictive
    profile; [] when allowed (or when the label does not decode: check_domain_name says so)."""
    from confusable_homoglyphs import categories  # noqa: PLC0415 (1 MB of data: only for IDNs)

    try:
        label = a_label.encode("ascii").decode("idna")
    except UnicodeError:
        return []
    scripts = {categories.alias(c) for c in label} - {"COMMON", "INHERITED"}
    if len(scripts) <= 1 or any(scripts <= mix for mix in _ALLOWED_MIXES):
        return []
    return sorted(s.title() for s in scripts)


def check_selector(value: str) -> str:
    selector = value.strip().lower()
    if not selector or any(not _LABEL.fullmatch(part) for part in selector.split(".")):
        raise ValueError("must be a DNS label")
    return selector


APEX = "@"  # a return path at the domain itself (Mailgun, Google Workspace, Microsoft 365)


def check_return_path(value: str) -> str:
    label = value.strip().lower()
    if label != APEX and not _RETURN_PATH.fullmatch(label):
        raise ValueError(
            "must be @ (the domain itself) or a label of at most 63 characters that starts with a "
            "letter, ends with a letter or digit, and holds only letters, digits and hyphens"
        )
    return label


def check_relative_host(value: str) -> str:
    host = value.strip().rstrip(".").lower()
    if not host or any(not _LABEL.fullmatch(part) for part in host.split(".")):
        raise ValueError("must be a host label such as links")
    return host


def check_region(value: str) -> str:
    if not _REGION.fullmatch(value):
        raise ValueError("must be a region name such as us-east-1 or eu")
    return value


# Owner labels (`labels:`): keys as Prometheus label names would take them after `label_`,
# values short enough for a label and free of control characters (a log line, a CSV cell).
_LABEL_KEY = re.compile(r"[a-z][a-z0-9_]{0,62}")
MAX_LABELS = 16
MAX_LABEL_VALUE = 256


def check_label_key(value: str) -> str:
    if not _LABEL_KEY.fullmatch(value):
        raise ValueError("a label key must match ^[a-z][a-z0-9_]{0,62}$ (lower case, digits, underscores)")
    return value


def check_label_value(value: str) -> str:
    if not value or len(value) > MAX_LABEL_VALUE:
        raise ValueError(f"a label value must be 1 to {MAX_LABEL_VALUE} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("a label value must not hold control characters")
    return value


def parse_label_filter(text: str) -> tuple[str, str]:
    """`key=value` (a filter by owner label) -> (key, value), or ValueError."""
    key, sep, value = text.partition("=")
    if not sep:
        raise ValueError("must be key=value")
    return check_label_key(key), check_label_value(value)


def check_listen(value: str) -> str:
    """ "host:port" or "[v6]:port" for the HTTP server."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise ValueError('must be "host:port", such as 127.0.0.1:8427 or [::1]:8427')
    return value


def check_webhook_url(value: str) -> str:
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError("must be an http:// or https:// URL")
    return value


def check_webhook_secret(value: str) -> None:
    """Standard Webhooks secrets: "whsec_" and base64 of at least 24 random bytes."""
    body = value.removeprefix("whsec_")
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError('must be "whsec_" followed by base64') from None
    if not value.startswith("whsec_") or len(raw) < 24:
        raise ValueError('must be "whsec_" followed by base64 of at least 24 random bytes')


def to_nameserver(value: object) -> Nameserver:
    if isinstance(value, Nameserver):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a string such as 127.0.0.1:53")  # noqa: TRY004 (pydantic wants ValueError)
    return parse_nameserver(value)


def parse_since(text: str, now: datetime) -> datetime:
    """A start: an RFC 3339 time, or a duration back from `now` ("24h")."""
    if _DURATION.fullmatch(text.strip()):
        return now - parse_duration(text)
    try:
        return parse_time(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a duration such as 24h nor an RFC 3339 time") from None


def parse_time(text: str) -> datetime:
    """RFC 3339 with a zone ("Z" or an offset); ValueError with a message fit for a user."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an RFC 3339 time such as 2026-11-26T12:00:00Z") from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} needs a time zone (Z or +00:00)")
    return moment
