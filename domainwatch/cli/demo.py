"""The built-in demo: the DNS test server with sample domains, the daemon and its status page.

No internet: the daemon resolves against domainwatch's own DNS test server on 127.0.0.1, and a
script edits the records over time so that within a few minutes the page shows every status.
`--once` prints a one-shot diagnosis instead. `--time-scale N` runs the story N times faster.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from domainwatch.checks.running.runner import check_with
from domainwatch.cli.ports import in_use
from domainwatch.cli.run import run_daemon
from domainwatch.config.loader import parse
from domainwatch.config.plan import plan
from domainwatch.config.schema import Config
from domainwatch.present.report import render_table
from domainwatch.runtime import aio
from domainwatch.testing import Behaviour, DnsTestServer

DEMO_CONFIG = """\
resolver: {{nameservers: ["{nameserver}"], timeout: 1s, attempts: 1}}
storage: {{path: "{store}"}}
server: {{listen: "{listen}"}}
# The demo runs its story in minutes, under the floors a production config is held to.
limits: {{min_interval: 1ms, min_recheck_interval: 1ms, min_window: 1ms}}
defaults:
  window: {window}
  interval: {interval}
  pending_interval: {pending}
  recheck_interval: {pending}
  failed_interval: {interval}
domains:
  - name: shop.acme.example          # everything published: verified
    preset: resend
    region: us-east-1
    sending: {{dkim: [{{selector: resend, public_key: "{good_key}"}}]}}
    receiving: {{mx: [{{host: inbound-smtp.us-east-1.amazonaws.com, priority: 10}}]}}
    dmarc: {{required: true, min_policy: quarantine}}
  - name: news.acme.example          # nothing published yet, long window: pending
    preset: resend
    region: us-east-1
    window: 1h
  - name: billing.acme.example       # published but wrong: failed when the window ends
    preset: resend
    region: us-east-1
    dmarc: {{required: true, min_policy: quarantine}}
  - name: help.acme.example          # sending verified, receiving still pending: partially_verified
    preset: resend
    region: us-east-1
    sending: {{dkim: [{{selector: resend, public_key: "{good_key}"}}]}}
    receiving: {{mx: [{{host: inbound-smtp.us-east-1.amazonaws.com, priority: 10}}]}}
    window: 1h
  - name: support.acme.example       # sending verified, a null MX: partially_failed
    preset: resend
    region: us-east-1
    sending: {{dkim: [{{selector: resend, public_key: "{good_key}"}}]}}
    receiving: {{mx: [{{host: inbound-smtp.us-east-1.amazonaws.com, priority: 10}}]}}
  - name: status.acme.example        # its SPF record comes and goes: temporary_failure, recovering
    preset: resend
    region: us-east-1
    sending: {{dkim: [{{selector: resend, public_key: "{good_key}"}}]}}
  - name: flaky.acme.example         # its nameserver answers SERVFAIL: stale, never "missing"
    preset: resend
    region: us-east-1
    window: 1h
  - name: legacy.acme.example        # not being verified: not_started
    verify: false
    preset: resend
    region: us-east-1
"""
WINDOW, INTERVAL, PENDING = 90.0, 10.0, 5.0  # seconds, at time scale 1


def _public_key(bits: int) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def _sending(server: DnsTestServer, domain: str, key: str) -> None:
    server.set(f"send.{domain}", "TXT", ["v=spf1 include:amazonses.com ~all"])
    server.set(f"send.{domain}", "MX", ["10 feedback-smtp.us-east-1.amazonses.com."])
    server.set(f"resend._domainkey.{domain}", "TXT", [f"p={key}"])


def demo_server(good_key: str, weak_key: str) -> DnsTestServer:
    server = DnsTestServer(
        {
            ("amazonses.com", "TXT"): ["v=spf1 ip4:199.255.192.0/22 ip4:199.127.232.0/22 -all"],
            ("feedback-smtp.us-east-1.amazonses.com", "A"): ["192.0.2.25"],
            ("inbound-smtp.us-east-1.amazonaws.com", "A"): ["192.0.2.26"],
            ("shop.acme.example", "MX"): ["10 inbound-smtp.us-east-1.amazonaws.com."],
            ("_dmarc.shop.acme.example", "TXT"): ["v=DMARC1; p=quarantine; rua=mailto:dmarc@acme.example"],
            # The Organizational Domain's record (RFC 9989 tree walk): reports to acme.example stay inside.
            ("_dmarc.acme.example", "TXT"): ["v=DMARC1; p=none; rua=mailto:dmarc@acme.example"],
            ("send.billing.acme.example", "TXT"): ["v=spf1 include:mailgun.example +all"],
            ("send.billing.acme.example", "MX"): ["20 feedback-smtp.us-east-1.amazonses.com."],
            ("resend._domainkey.billing.acme.example", "TXT"): [f"v=DKIM1; k=rsa; p={weak_key}"],
            ("_dmarc.billing.acme.example", "TXT"): [
                "v=DMARC1; p=none; pct=50; rua=mailto:r@reports.example"
            ],
            ("support.acme.example", "MX"): ["0 ."],
        }
    )
    for domain in ("shop", "help", "support", "status"):
        _sending(server, f"{domain}.acme.example", good_key)
    for name in ("send", "resend._domainkey", "_dmarc"):
        server.behave(f"{name}.flaky.acme.example", Behaviour.SERVFAIL)
    return server


def demo_config(server: DnsTestServer, directory: Path, listen: str, good_key: str, scale: float) -> Config:
    def duration(seconds: float) -> str:
        return f"{max(1, round(seconds * 1000 / scale))}ms"

    text = DEMO_CONFIG.format(
        nameserver=server.address,
        store=directory / "demo.db",
        listen=listen,
        good_key=good_key,
        window=duration(WINDOW),
        interval=duration(INTERVAL),
        pending=duration(PENDING),
    )
    (directory / "config.yaml").write_text(text)
    return parse(text, source=str(directory / "config.yaml"))


async def flap(server: DnsTestServer, scale: float) -> None:
    """status.acme.example loses its SPF record for a while, then gets it back, again and again."""
    domain = "send.status.acme.example"
    while True:
        await asyncio.sleep(20 / scale)
        server.remove(domain, "TXT")
        await asyncio.sleep(40 / scale)
        server.set(domain, "TXT", ["v=spf1 include:amazonses.com ~all"])
        await asyncio.sleep(20 / scale)


async def run_story(listen: str, scale: float) -> int:
    good_key, weak_key = _public_key(2048), _public_key(1024)
    with tempfile.TemporaryDirectory(prefix="domainwatch-demo-") as directory:
        async with demo_server(good_key, weak_key) as server:
            config = demo_config(server, Path(directory), listen, good_key, scale)
            print(f"domainwatch demo: open http://{listen}/  (Ctrl-C to stop)", flush=True)
            print(
                f"  {len(config.domains)} sample domains on the built-in DNS server at {server.address}; "
                f"every status appears within {round(2 * WINDOW / scale)} s; nothing leaves this machine",
                flush=True,
            )
            script = asyncio.create_task(flap(server, scale))
            try:
                return await run_daemon(config, str(Path(directory) / "config.yaml"))
            finally:
                script.cancel()


async def run_once_story() -> str:
    good_key, weak_key = _public_key(2048), _public_key(1024)
    with tempfile.TemporaryDirectory(prefix="domainwatch-demo-") as directory:
        async with demo_server(good_key, weak_key) as server:
            config = demo_config(server, Path(directory), "127.0.0.1:8427", good_key, 1.0)  # not served
            work = [(d.name, plan(d)) for d in config.domains if d.verify]
            reports = await check_with(work, config.resolver)
    skipped = [d.name for d in config.domains if not d.verify]
    return render_table(reports, skipped)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "once", False):
        sys.stdout.write(aio.run(run_once_story()))
        return 0
    host, _, port = args.listen.rpartition(":")
    busy = in_use(host.strip("[]"), int(port))
    if busy is not None:  # before any URL is printed: it would lead to someone else's server
        print(f"domainwatch demo: {busy}; choose another with --listen HOST:PORT", file=sys.stderr)
        return 2
    return aio.run(run_story(args.listen, args.time_scale))
