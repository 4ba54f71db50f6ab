"""The one error every front door turns into its own form: an HTTP answer, a tool error, a
message on stderr."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from domainwatch.daemon.errors import HandoffError

Role = Literal["viewer", "admin"]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: a token's name and role, or anonymous (reads only) with no tokens set."""

    name: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


ANONYMOUS = Caller("anonymous", "viewer")


@dataclass(slots=True)
class ServiceError(Exception):
    """A refusal: the HTTP status it is answered with, a stable code, a message for people, and
    details for programs (`errors` of a 422, `shard` of a 421)."""

    status: int
    code: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def as_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.details}}


@contextlib.contextmanager
def by_holder() -> Iterator[None]:
    """A write a clustered replica hands to the domain's holder (daemon/handoff.py): 503 when
    none did it in time (a takeover under way); the caller retries."""
    try:
        yield
    except HandoffError as exc:
        raise ServiceError(503, "holder_unavailable", str(exc)) from None


def require_admin(caller: Caller) -> None:
    """A write: 403 for a viewer."""
    if not caller.is_admin:
        raise ServiceError(403, "forbidden", f"{caller.name} has role viewer; this needs admin")
