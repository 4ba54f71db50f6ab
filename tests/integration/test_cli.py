"""The CLI end to end: real processes, real DNS over UDP/TCP to the package's test server."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from domainwatch.config.loader import parse
from domainwatch.testing import Behaviour, DnsTestServer
from tests.integration.cli import run_cli
from tests.keys import rsa_key

DOMAIN = "updates.example.com"
KEY = rsa_key(2048)


def publish_good(server: DnsTestServer, domain: str = DOMAIN) -> None:
    server.set(f"send.{domain}", "TXT", ["v=spf1 include:amazonses.com ~all"])
    server.set(f"send.{domain}", "MX", ["10 feedback-smtp.us-east-1.amazonses.com."])
    server.set(f"resend._domainkey.{domain}", "TXT", [f"p={KEY}"])
    server.set(f"_dmarc.{domain}", "TXT", [f"v=DMARC1; p=reject; rua=mailto:d@{domain}"])
    server.set("amazonses.com", "TXT", ["v=spf1 ip4:199.255.192.0/22 -all"])
    server.set("feedback-smtp.us-east-1.amazonses.com", "A", ["192.0.2.25"])


def write_config(tmp_path: Path, nameserver: str, *domains: str, extra: str = "") -> Path:
    entries = "".join(
        f"""
  - name: {d}
    preset: resend
    region: us-east-1
    sending:
      dkim: [{{selector: resend, public_key: "{KEY}"}}]
{extra}"""
        for d in domains or (DOMAIN,)
    )
    path = tmp_path / "config.yaml"
    path.write_text(
        f"resolver:\n  nameservers: ['{nameserver}']\n  timeout: 300ms\n  attempts: 1\ndomains:{entries}"
    )
    return path


async def test_all_records_present_exits_0_with_documented_json(
    dns_server: DnsTestServer, tmp_path: Path
) -> None:
    """Everything published: exit 0, and the JSON has the documented shape and record ids."""
    publish_good(dns_server)
    result = await run_cli("check", "-c", str(write_config(tmp_path, dns_server.address)), "--format", "json")
    assert 0 == result.code, result.err
    document = json.loads(result.out)
    records = document["domains"][0]["records"]
    assert ["spf", "dkim:resend", "return_path_mx", "dmarc"] == [r["record"] for r in records]
    assert {"present"} == {r["state"] for r in records}
    spf = records[0]
    assert {"record", "name", "type", "state", "expected", "found", "findings", "required"} <= set(spf)
    assert ("send.updates.example.com", "TXT", ["v=spf1 include:amazonses.com ~all"]) == (
        spf["name"],
        spf["type"],
        spf["found"],
    )


async def test_missing_record_exits_1_and_says_what_to_publish(
    dns_server: DnsTestServer, tmp_path: Path
) -> None:
    """A removed record is missing, with the exact record to publish."""
    publish_good(dns_server)
    dns_server.remove(f"resend._domainkey.{DOMAIN}")
    result = await run_cli("check", "-c", str(write_config(tmp_path, dns_server.address)), "--format", "json")
    assert 1 == result.code
    dkim = json.loads(result.out)["domains"][0]["records"][1]
    assert "missing" == dkim["state"]
    fix = dkim["findings"][0]["remediation"]
    assert {
        "name": f"resend._domainkey.{DOMAIN}",
        "type": "TXT",
        "value": f"v=DKIM1; k=rsa; p={KEY}",
        "priority": None,
    } == fix


@pytest.mark.parametrize(
    "behaviour", [Behaviour.SERVFAIL, Behaviour.SILENT, Behaviour.MALFORMED, Behaviour.REFUSED]
)
async def test_lookup_failure_is_error_not_missing(
    dns_server: DnsTestServer, tmp_path: Path, behaviour: Behaviour
) -> None:
    """SERVFAIL, timeouts, REFUSED and garbage make the record state error, never missing."""
    publish_good(dns_server)
    dns_server.behave(f"send.{DOMAIN}", behaviour)
    result = await run_cli("check", "-c", str(write_config(tmp_path, dns_server.address)), "--format", "json")
    assert 1 == result.code
    states = {r["record"]: r["state"] for r in json.loads(result.out)["domains"][0]["records"]}
    assert {"spf": "error", "dkim:resend": "present", "return_path_mx": "error", "dmarc": "present"} == states


async def test_truncated_answers_are_fetched_over_tcp(dns_server: DnsTestServer, tmp_path: Path) -> None:
    """The CLI gets the full answer when UDP is truncated."""
    publish_good(dns_server)
    dns_server.behave(f"send.{DOMAIN}", Behaviour.TRUNCATE)
    result = await run_cli("check", "-c", str(write_config(tmp_path, dns_server.address)))
    assert 0 == result.code, result.out
    assert dns_server.tcp_queries_seen >= 2  # the TXT and the MX at send.<domain>


async def test_table_output_shows_state_expected_found_and_fix(
    dns_server: DnsTestServer, tmp_path: Path
) -> None:
    """The human table names the record, its state, the expected value and the fix."""
    publish_good(dns_server)
    dns_server.set(f"send.{DOMAIN}", "TXT", ["v=spf1 include:mailgun.org -all"])
    dns_server.set("mailgun.org", "TXT", ["v=spf1 -all"])
    result = await run_cli("check", "-c", str(write_config(tmp_path, dns_server.address)))
    assert 1 == result.code
    assert "spf              TXT   wrong    send.updates.example.com" in result.out
    assert "expected: v=spf1 include:amazonses.com ~all" in result.out
    assert (
        'publish: send.updates.example.com TXT "v=spf1 include:amazonses.com include:mailgun.org -all"'
        in result.out
    )


async def test_domain_filter_and_unknown_domain(dns_server: DnsTestServer, tmp_path: Path) -> None:
    """--domain limits the pass; a domain not in the config is a usage error (2)."""
    publish_good(dns_server)
    config = str(write_config(tmp_path, dns_server.address, DOMAIN, "other.example.com"))
    only = await run_cli("check", "-c", config, "--domain", DOMAIN, "--format", "json")
    assert (0, [DOMAIN]) == (only.code, [d["name"] for d in json.loads(only.out)["domains"]])
    unknown = await run_cli("check", "-c", config, "--domain", "nope.example.com")
    assert 2 == unknown.code
    assert "nope.example.com" in unknown.err


async def test_nameserver_option_overrides_config(dns_server: DnsTestServer, tmp_path: Path) -> None:
    """--nameserver replaces the configured resolvers (also after the subcommand)."""
    publish_good(dns_server)
    config = str(write_config(tmp_path, "192.0.2.1:53"))  # unreachable: must not be used
    result = await run_cli("check", "-c", config, "--nameserver", dns_server.address, "--timeout", "0.5")
    assert 0 == result.code, result.out


async def test_bad_config_exits_2_with_every_error_and_no_traceback(tmp_path: Path) -> None:
    """A broken config lists every problem with file:line: path and never a traceback."""
    path = tmp_path / "bad.yaml"
    path.write_text(
        "resolver:\n  attempts: 0\ndomains:\n  - name: bad..example\n    sending: {return_path: 1x}\n"
    )
    result = await run_cli("check", "-c", str(path))
    assert 2 == result.code
    assert [
        f"{path}:2: resolver.attempts: must be at least 1",
        f"{path}:4: domains[0].name: domain name has an empty label",
        f"{path}:5: domains[0].sending.return_path: must be @ (the domain itself) or a label of at most "
        "63 characters that starts with a letter, ends with a letter or digit, and holds only letters, "
        "digits and hyphens",
    ] == result.err.splitlines()
    assert "Traceback" not in result.out + result.err


async def test_config_validate(tmp_path: Path) -> None:
    """config validate: 0 for a good file, 2 with errors for a bad one."""
    good = await run_cli("config", "validate", "config.example.yaml")
    assert (0, "config.example.yaml: ok (4 domains)\n") == (good.code, good.out)
    bad = tmp_path / "bad.yaml"
    bad.write_text("domains: [{name: x}]\n")
    failed = await run_cli("config", "validate", str(bad))
    assert (2, f"{bad}:1: domains[0].name: must have at least two labels (example.com)\n") == (
        failed.code,
        failed.err,
    )


def _example() -> tuple[str, dict[str, Any]]:
    text = Path("config.example.yaml").read_text()
    return text, yaml.safe_load(text)


async def test_config_validate_reads_the_example_written_as_json(tmp_path: Path) -> None:
    """The example config written as JSON is the same config, and its errors name their line."""
    text, example = _example()
    written = tmp_path / "config.json"
    written.write_text(json.dumps(example, indent=2))
    assert parse(written.read_text()) == parse(text)
    good = await run_cli("config", "validate", str(written))
    assert (0, f"{written}: ok (4 domains)\n") == (good.code, good.out)
    example["domains"][1]["name"] = "x"
    written.write_text(json.dumps(example, indent=2))
    line = 1 + written.read_text().splitlines().index('      "name": "x",')
    failed = await run_cli("config", "validate", str(written))
    assert failed.code == 2
    assert failed.err.startswith(f"{written}:{line}: domains[1].name: must have at least two labels")


async def test_usage_errors_exit_2() -> None:
    """argparse usage errors exit 2."""
    assert 2 == (await run_cli("check")).code
    assert 2 == (await run_cli("inspect", "not a domain")).code


async def test_inspect_without_config(dns_server: DnsTestServer) -> None:
    """inspect diagnoses whatever a domain publishes, with selectors given on the command line."""
    publish_good(dns_server)
    dns_server.set(DOMAIN, "TXT", ["v=spf1 +all"])
    result = await run_cli(
        "inspect", DOMAIN, "--dkim-selector", "resend", "--nameserver", dns_server.address, "--format", "json"
    )
    assert 1 == result.code
    records = {r["record"]: r for r in json.loads(result.out)["domains"][0]["records"]}
    assert ["spf_pass_all"] == [f["code"] for f in records["spf"]["findings"]]
    assert "present" == records["dkim:resend"]["state"]


async def test_hostile_txt_content_is_escaped_in_the_table(dns_server: DnsTestServer) -> None:
    """Control characters published in DNS never reach the terminal raw."""
    dns_server.set(DOMAIN, "TXT", ["v=spf1 \x1b[31mred -all"])
    result = await run_cli("inspect", DOMAIN, "--nameserver", dns_server.address)
    assert "\x1b" not in result.out
    assert "\\x1b[31mred" in result.out


async def test_inspect_header_agrees_with_its_records_and_exit_code(dns_server: DnsTestServer) -> None:
    """[OK] (exit 0) only when every record is conclusive and free of error findings;
    [NEEDS ATTENTION] (exit 1) with an error finding; [LOOKUP FAILED] (exit 1) when no
    nameserver answers. The JSON says the same, and no record is `present` with nothing found."""
    name = "inspected.example.com"

    async def inspect() -> tuple[int, str, dict[str, Any]]:
        args = ("inspect", name, "--dkim-selector", "resend", "--nameserver", dns_server.address)
        table, report = await run_cli(*args), await run_cli(*args, "--format", "json")
        assert table.code == report.code
        return table.code, table.out.splitlines()[0], json.loads(report.out)["domains"][0]

    for owner in (name, f"_dmarc.{name}", f"resend._domainkey.{name}"):
        dns_server.behave(owner, Behaviour.SERVFAIL)
    assert (1, f"{name}  [LOOKUP FAILED]") == (await inspect())[:2]
    assert ("lookup_failed", False) == ((await inspect())[2]["result"], (await inspect())[2]["ok"])
    dns_server.behaviours.clear()
    code, header, report = await inspect()  # nothing published
    assert (1, f"{name}  [NEEDS ATTENTION]", False) == (code, header, report["ok"])
    assert [] == [r["record"] for r in report["records"] if r["state"] == "present" and not r["found"]]
    dns_server.set(name, "TXT", ["v=spf1 ip4:192.0.2.0/24 -all"])
    dns_server.set(name, "MX", ["10 mx.example.net."])
    dns_server.set("mx.example.net", "A", ["192.0.2.25"])
    dns_server.set(f"resend._domainkey.{name}", "TXT", [f"p={KEY}"])
    dns_server.set(f"_dmarc.{name}", "TXT", [f"v=DMARC1; p=reject; rua=mailto:d@{name}"])
    code, header, report = await inspect()
    assert (0, f"{name}  [OK]", True, "ok") == (code, header, report["ok"], report["result"])


async def test_commands_write_no_warning_to_stderr(dns_server: DnsTestServer, tmp_path: Path) -> None:
    """dnspython's DSA deprecation (cryptography 51) is silenced where dns.dnssec is imported:
    `--help` writes nothing to stderr, `check` only its results to stdout, and importing the
    daemon with every warning an error still works."""
    helped = await run_cli("--help")
    assert (0, "") == (helped.code, helped.err)
    publish_good(dns_server)
    checked = await run_cli("check", "-c", str(write_config(tmp_path, dns_server.address)), "--quiet")
    assert (0, "") == (checked.code, checked.err)
    strict = await run_cli("--version", python_options=("-W", "error"))
    assert (0, "") == (strict.code, strict.err)
    imported = await asyncio.create_subprocess_exec(
        sys.executable, "-W", "error", "-c", "import domainwatch.daemon.daemon, domainwatch.web.app",
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await imported.communicate()
    assert (0, b"") == (imported.returncode, err)
