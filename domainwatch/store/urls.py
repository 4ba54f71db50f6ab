"""Where the store lives, as a URL (pure): `sqlite:///relative.db`, `sqlite:////absolute.db` or
`postgresql://user:password@host:5432/db?sslmode=verify-full` (libpq's form, `postgres://` too).

A PostgreSQL URL may carry a password: the location keeps it for connecting, and `shown` (what
logs, errors and command output print) never includes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

SQLITE: Literal["sqlite"] = "sqlite"
POSTGRESQL: Literal["postgresql"] = "postgresql"
DEFAULT_PATH = "./domainwatch.db"


@dataclass(frozen=True, slots=True)
class StoreLocation:
    kind: Literal["sqlite", "postgresql"]
    target: str = field(repr=False)  # the SQLite file, or the whole PostgreSQL URL (secret)

    @property
    def shown(self) -> str:
        """The location as it may be printed: a PostgreSQL URL without its password."""
        if self.kind == SQLITE:
            return self.target
        parts = urlsplit(self.target)
        if parts.password is None:
            return self.target
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))

    def __str__(self) -> str:
        return self.shown


def sqlite_at(path: str) -> StoreLocation:
    return StoreLocation(SQLITE, path)


def parse_store_url(url: str) -> StoreLocation:
    """The store a URL names; ValueError says what is wrong (without echoing a password)."""
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme == SQLITE:
        if not rest.startswith("///") or len(rest) == 3:
            raise ValueError("a SQLite URL is sqlite:///relative/path.db or sqlite:////absolute/path.db")
        return StoreLocation(SQLITE, rest[3:])
    if scheme in ("postgresql", "postgres"):
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 (raises on a port that is not a number)
        except ValueError:
            raise ValueError("not a valid postgresql:// URL (check the host and port)") from None
        if not rest.startswith("//"):
            raise ValueError("a PostgreSQL URL is postgresql://user:password@host:port/database")
        return StoreLocation(POSTGRESQL, url)
    raise ValueError(f"the scheme must be sqlite or postgresql, not {scheme[:20]!r}")
