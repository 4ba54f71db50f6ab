"""Fetching an MTA-STS policy as a sending server does (RFC 8461 §3.3): HTTPS to
`mta-sts.<domain>` with a certificate valid for that name, redirects not followed, at most
64 KiB read. The host's address comes from domainwatch's own DNS lookup, so tests and labs can
point it at loopback; the name is still what the certificate is checked against."""

from __future__ import annotations

import socket
import ssl
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.probes.answers import POLICY_PATH, ProbeSettings, completed, incomplete
from domainwatch.probes.policy import read_policy
from domainwatch.probes.tls import verifying

MAX_POLICY = 64 * 1024  # RFC 8461 §3.3: senders may refuse a larger policy


class _Pinned(AbstractResolver):
    """Every name resolves to the one address already looked up."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        inet = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        return [
            ResolveResult(
                hostname=host, host=self.address, port=port, family=inet, proto=0, flags=socket.AI_NUMERICHOST
            )
        ]

    async def close(self) -> None:
        return None


async def fetch_policy(query: Query, address: str, settings: ProbeSettings) -> Lookup:
    """GET https://<query.name>/.well-known/mta-sts.txt from `address`: what came back, or why
    nothing could."""
    url = f"https://{query.name}:{settings.https_port}{POLICY_PATH}"
    connector = aiohttp.TCPConnector(
        resolver=_Pinned(address),
        ssl=verifying(settings.ca_file, check_hostname=True),
        force_close=True,
        limit=1,
    )
    timeout = aiohttp.ClientTimeout(total=settings.timeout.total_seconds())
    try:
        async with (
            aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
            session.get(url, allow_redirects=False, headers={"User-Agent": "domainwatch"}) as answer,
        ):
            return completed(query, _facts(answer, await _body(answer)))
    except aiohttp.ClientConnectorCertificateError as exc:
        return completed(query, {"certificate_error": _reason(exc.certificate_error)})
    except aiohttp.ClientSSLError as exc:
        return completed(query, {"certificate_error": _reason(exc)})
    except TimeoutError:
        return incomplete(query, Outcome.TIMEOUT, f"no answer from {address} within the probe timeout")
    except (aiohttp.ClientError, OSError) as exc:
        return incomplete(query, Outcome.NETWORK, f"{address}: {exc}")


async def _body(answer: aiohttp.ClientResponse) -> bytes:
    """The body to its end, or one byte past the limit: one read returns only what has arrived,
    and a policy may come in several segments."""
    body = bytearray()
    while len(body) <= MAX_POLICY:
        chunk = await answer.content.read(MAX_POLICY + 1 - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


def _facts(answer: aiohttp.ClientResponse, body: bytes) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "status": answer.status,
        "location": answer.headers.get("Location", "")[:300] or None,
        "content_type": answer.headers.get("Content-Type", "")[:100],
        "oversize": len(body) > MAX_POLICY,
    }
    if answer.status == 200 and not facts["oversize"]:
        facts["policy"] = read_policy(body.decode("utf-8", "replace"))
    return facts


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return exc.verify_message
    return str(exc)[:200] or type(exc).__name__
