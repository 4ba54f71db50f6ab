"""Maintenance windows: while one covers a record, its changes are recorded, never findings."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

MAX_LENGTH = timedelta(days=30)
MAX_WINDOWS = 1000  # stored at once: a window is an operator's, not one per domain
_GLOB = re.compile(r"[a-z0-9.*?_:-]{1,253}")


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    id: str
    domains: str  # a glob over lower-case domain names (`*.example.com`, `*`)
    records: tuple[str, ...]  # globs over record ids (`dkim:*`, `spf`)
    ends_at: datetime
    comment: str
    created_at: datetime

    def covers(self, domain: str, record: str, now: datetime) -> bool:
        return (
            now < self.ends_at
            and fnmatch.fnmatchcase(domain, self.domains)
            and any(fnmatch.fnmatchcase(record, pattern) for pattern in self.records)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "domains": self.domains,
            "records": list(self.records),
            "ends_at": _iso(self.ends_at),
            "comment": self.comment,
            "created_at": _iso(self.created_at),
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def glob_problem(pattern: object) -> str | None:
    """Why a glob is refused: globs are lower-case names, digits and `.*?_:-` (no classes)."""
    if not isinstance(pattern, str) or not _GLOB.fullmatch(pattern):
        return "a glob of 1 to 253 characters: lower-case letters, digits and . * ? _ : -"
    return None


def covering(windows: Sequence[MaintenanceWindow], domain: str, now: datetime) -> list[MaintenanceWindow]:
    """The windows open now that may cover some record of `domain`."""
    return [w for w in windows if now < w.ends_at and fnmatch.fnmatchcase(domain, w.domains)]
