"""The STARTTLS probe of one mail server: connect, EHLO, STARTTLS, handshake, EHLO, QUIT.

It never sends mail and never keeps the connection. A probe that runs to its end answers what
it found (STARTTLS offered or not, the handshake's result, the certificate); one that cannot
(refused, timed out, dropped, a greeting that is not 220) answers an error, which changes no
status: the same rule as a DNS timeout.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiosmtplib

from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.probes.answers import ProbeSettings, completed, incomplete
from domainwatch.probes.tls import session_facts, unverified, verifying

MAX_SERVER_TEXT = 120


async def probe_starttls(query: Query, address: str, settings: ProbeSettings) -> Lookup:
    """Probe the mail server `query.name` at `address` (its certificate is checked against the
    name, which is also sent as SNI)."""
    try:
        async with asyncio.timeout(settings.timeout.total_seconds()):
            return completed(query, await _dialogue(query.name, address, settings, verify=True))
    except TimeoutError:
        return incomplete(query, Outcome.TIMEOUT, f"no answer from {address} within the probe timeout")
    except aiosmtplib.SMTPConnectResponseError as exc:
        return incomplete(
            query, Outcome.REFUSED, f"{address} greeted with {server_text(exc.code, exc.message)}"
        )
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError) as exc:
        return incomplete(query, Outcome.NETWORK, f"{address}: {printable(str(exc))}")
    except aiosmtplib.SMTPResponseException as exc:
        return incomplete(query, Outcome.NETWORK, f"{address} answered {server_text(exc.code, exc.message)}")
    except aiosmtplib.SMTPException as exc:
        return incomplete(query, Outcome.NETWORK, f"{address}: SMTP error: {printable(str(exc))}")


def server_text(code: int, message: str) -> str:
    """What of a server's reply reaches results: its code and at most 120 printable ASCII
    characters of its text (a greeting or EHLO line is the server's, and may say anything)."""
    return f"{code} {printable(message)}".rstrip()


def printable(text: str) -> str:
    return "".join(c if " " <= c <= "~" else " " for c in text[:400]).strip()[:MAX_SERVER_TEXT]


async def _dialogue(host: str, address: str, settings: ProbeSettings, *, verify: bool) -> dict[str, Any]:
    smtp = aiosmtplib.SMTP(
        hostname=address,
        port=settings.smtp_port,
        local_hostname=settings.helo_name,
        start_tls=False,
        timeout=settings.timeout.total_seconds(),
    )
    await smtp.connect()
    try:
        await smtp.ehlo()
        if not smtp.supports_extension("starttls"):
            return {"starttls": False}
        context = verifying(settings.ca_file, check_hostname=False) if verify else unverified()
        try:
            await smtp.starttls(server_hostname=host, tls_context=context)
        except ssl.SSLCertVerificationError as exc:
            if not verify:
                raise
            # The chain did not verify: say why, and read the certificate over a second
            # connection that does not verify it (names and expiry still matter).
            smtp.close()
            found = await _dialogue(host, address, settings, verify=False)
            return {**found, "trusted": False, "verify_error": exc.verify_message or str(exc)}
        except aiosmtplib.SMTPResponseException as exc:
            return {
                "starttls": True,
                "handshake_error": f"STARTTLS answered {server_text(exc.code, exc.message)}",
            }
        except (ssl.SSLError, aiosmtplib.SMTPServerDisconnected, ConnectionError) as exc:
            return {"starttls": True, "handshake_error": printable(str(exc)) or type(exc).__name__}
        facts = {"starttls": True, "trusted": verify, **session_facts(smtp.get_transport_info("ssl_object"))}
        await smtp.ehlo()
        await smtp.quit()
        return facts
    finally:
        smtp.close()
