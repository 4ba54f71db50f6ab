"""Each command imports only what it uses: `--help` and a usage error cost no more than Python
itself, and `spf-eval` never loads the web server or the metrics."""

from __future__ import annotations

import pytest

from domainwatch.testing import DnsTestServer
from tests.integration.cli import run_cli

HEAVY = ("aiohttp", "pydantic", "jinja2", "prometheus_client", "cryptography")


def imported(importtime: str) -> set[str]:
    """Top-level packages named in `python -X importtime` output."""
    names = set()
    for line in importtime.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.mark.parametrize(
    "args", [["--help"], ["check", "--help"], ["check"]], ids=["help", "check-help", "usage"]
)
async def test_help_and_usage_errors_import_no_heavy_library(args: list[str]) -> None:
    done = await run_cli(*args, python_options=("-X", "importtime"))
    assert done.code in (0, 2)
    assert [] == [name for name in HEAVY if name in imported(done.err)]


async def test_spf_eval_imports_no_web_server_templates_or_metrics(dns_server: DnsTestServer) -> None:
    dns_server.set("example.com", "TXT", ["v=spf1 ip4:192.0.2.0/24 -all"])
    done = await run_cli(
        "spf-eval",
        "--ip",
        "192.0.2.7",
        "--mail-from",
        "a@example.com",
        "--nameserver",
        dns_server.address,
        python_options=("-X", "importtime"),
    )
    assert (0, "result: pass") == (done.code, done.out.splitlines()[0])
    assert [] == [name for name in ("aiohttp", "jinja2", "prometheus_client") if name in imported(done.err)]
