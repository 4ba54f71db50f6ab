"""The async shell of the evaluator: resolve what it asks for, run it again, until it answers."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass

from domainwatch.dns.resolver import Lookup, Query, Resolver
from domainwatch.spf.evaluator import Evaluator, NeedAnswer
from domainwatch.spf.offline import answered_from
from domainwatch.spf.types import Evaluation, Problem, Result

DEADLINE = 20.0  # §4.6.4: "at least 20 seconds" before giving up with temperror


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is being checked: the MAIL FROM identity, or HELO for the null sender (§2.3, §2.4)."""

    domain: str
    sender: str
    helo: str

    @classmethod
    def of(cls, mail_from: str, helo: str) -> Identity:
        helo = helo.strip()
        if not mail_from.strip():
            return cls(helo.rstrip(".").lower(), f"postmaster@{helo}", helo)
        local, at, domain = mail_from.strip().rpartition("@")
        if not at:
            domain, local = mail_from.strip(), ""
        return cls(domain.rstrip(".").lower(), f"{local or 'postmaster'}@{domain}", helo)


async def check_host(
    resolver: Resolver,
    ip: str,
    mail_from: str,
    helo: str = "",
    *,
    receiver: str = "unknown",
    deadline: float = DEADLINE,
) -> Evaluation:
    """Evaluate SPF for a message from `mail_from` sent by `ip`, as a receiving server would."""
    address = ipaddress.ip_address(ip)
    identity = Identity.of(mail_from, helo)
    answers: dict[Query, Lookup] = {}
    lookup = answered_from(answers)
    try:
        async with asyncio.timeout(deadline):
            while True:
                evaluator = Evaluator(
                    lookup,
                    address,
                    identity.sender,
                    identity.helo,
                    receiver=receiver,
                    timestamp=int(time.time()),
                )
                try:
                    return evaluator.run(identity.domain)
                except NeedAnswer as need:
                    answers[need.query] = await resolver.resolve(need.query)
    except TimeoutError:
        return Evaluation(
            Result.TEMPERROR, problem=Problem.DNS_ERROR, message=f"evaluation took longer than {deadline:g} s"
        )
