"""The built-in demo: a DNS test server with sample domains in every condition, no internet.

Until the daemon exists, the demo runs one check pass and prints the diagnosis.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from domainwatch.checks.plan import plan
from domainwatch.config import parse
from domainwatch.report import render_json, render_table
from domainwatch.runner import check_many, resolver_from
from domainwatch.testing import Behaviour, DnsTestServer, serve_in_thread

DEMO_CONFIG = """\
resolver:
  nameservers: ["{nameserver}"]
  timeout: 1s
  attempts: 1
domains:
  - name: shop.acme.example          # everything published: verified
    preset: resend
    region: us-east-1
    sending:
      dkim: [{{selector: resend, public_key: "{good_key}"}}]
    receiving:
      mx: [{{host: inbound-smtp.us-east-1.amazonaws.com, priority: 10}}]
    dmarc: {{required: true, min_policy: quarantine}}
  - name: news.acme.example          # nothing published yet: pending
    preset: resend
    region: us-east-1
  - name: billing.acme.example       # published, but wrong in several ways
    preset: resend
    region: us-east-1
    dmarc: {{required: true, min_policy: quarantine}}
  - name: help.acme.example          # receiving, but a null MX says "no mail here"
    receiving:
      mx: [{{host: inbound-smtp.us-east-1.amazonaws.com, priority: 10}}]
  - name: flaky.acme.example         # its nameserver answers SERVFAIL: an error, never "missing"
    preset: resend
    region: us-east-1
  - name: legacy.acme.example        # not being verified
    verify: false
    preset: resend
    region: us-east-1
"""


def _public_key(bits: int) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def demo_server(good_key: str, weak_key: str) -> DnsTestServer:
    provider = {
        ("amazonses.com", "TXT"): ["v=spf1 ip4:199.255.192.0/22 ip4:199.127.232.0/22 -all"],
        ("feedback-smtp.us-east-1.amazonses.com", "A"): ["192.0.2.25"],
        ("inbound-smtp.us-east-1.amazonaws.com", "A"): ["192.0.2.26"],
    }
    shop = {
        ("send.shop.acme.example", "TXT"): ["v=spf1 include:amazonses.com ~all"],
        ("send.shop.acme.example", "MX"): ["10 feedback-smtp.us-east-1.amazonses.com."],
        ("resend._domainkey.shop.acme.example", "TXT"): [f"p={good_key}"],
        ("shop.acme.example", "MX"): ["10 inbound-smtp.us-east-1.amazonaws.com."],
        ("_dmarc.shop.acme.example", "TXT"): ["v=DMARC1; p=quarantine; rua=mailto:dmarc@acme.example"],
    }
    billing = {
        ("send.billing.acme.example", "TXT"): ["v=spf1 include:mailgun.example +all"],
        ("send.billing.acme.example", "MX"): ["20 feedback-smtp.us-east-1.amazonses.com."],
        ("resend._domainkey.billing.acme.example", "TXT"): [f"v=DKIM1; k=rsa; p={weak_key}"],
        ("_dmarc.billing.acme.example", "TXT"): ["v=DMARC1; p=none; pct=50; rua=mailto:r@reports.example"],
    }
    help_desk = {("help.acme.example", "MX"): ["0 ."]}
    server = DnsTestServer({**provider, **shop, **billing, **help_desk})
    server.behave("send.flaky.acme.example", Behaviour.SERVFAIL)
    return server


def run_demo(args: argparse.Namespace) -> int:
    good_key, weak_key = _public_key(2048), _public_key(1024)
    with serve_in_thread(demo_server(good_key, weak_key)) as server:
        config = parse(DEMO_CONFIG.format(nameserver=server.address, good_key=good_key), source="<demo>")
        work = [(d.name, plan(d)) for d in config.domains if d.verify]
        reports = asyncio.run(check_many(work, resolver_from(config.resolver), config.resolver))
    skipped = [d.name for d in config.domains if not d.verify]
    output = (
        render_json(reports, skipped) + "\n"
        if getattr(args, "format", "table") == "json"
        else (render_table(reports, skipped))
    )
    sys.stdout.write(output)
    print(
        f"\n(demo: {len(config.domains)} sample domains served by the built-in DNS test server at "
        f"{server.address}; nothing left this machine)",
        file=sys.stderr,
    )
    return 0
