"""The two other front doors to the domain lifecycle, against a real daemon process: the
`domainwatch domains` commands, and an MCP client from the official SDK over both transports
(streamable HTTP at /mcp, and stdio through `domainwatch mcp`)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

from domainwatch.testing import DnsTestServer
from tests.integration.api_daemon import ADMIN, CONFIG_DOMAIN, VIEWER, ApiDaemon, started
from tests.integration.cli import run_cli
from tests.integration.test_domains_lifecycle import document, provider, publish_answer
from tests.keys import rsa_key

TOOLS = {
    "list_domains": (True, False, True),  # readOnlyHint, destructiveHint, idempotentHint
    "get_domain": (True, False, True),
    "domain_history": (True, False, True),
    "diagnose": (True, False, True),
    "add_domain": (False, False, False),
    "update_domain": (False, False, True),
    "remove_domain": (False, True, True),
    "verify_domain": (False, False, True),
    "acknowledge_record": (False, False, True),
}


@pytest.fixture
async def daemon(tmp_path: Path, dns_server: DnsTestServer) -> AsyncIterator[ApiDaemon]:
    provider(dns_server)
    running = await started(tmp_path, dns_server, None)
    yield running
    await running.stop()


def token_file(tmp_path: Path, token: str) -> str:
    path = tmp_path / f"token-{token[:5]}"
    path.write_text(token + "\n")
    return str(path)


async def test_cli_round_trip(daemon: ApiDaemon, dns_server: DnsTestServer, tmp_path: Path) -> None:
    client = ("--url", daemon.url, "--token-file", token_file(tmp_path, ADMIN))
    name = "mail.example.org"
    added = await run_cli(
        "domains", "add", name, "--preset", "resend", "--region", "us-east-1", "--dkim-selector", "resend",
        "--verify", "--format", "zone", *client,
    )  # fmt: skip
    assert 0 == added.code, added.err
    assert f'send.{name}. 3600 IN TXT "v=spf1 include:amazonses.com ~all"' in added.out.splitlines()
    dns_server.set("amazonses.com", "TXT", ["v=spf1 ip4:199.255.192.0/22 -all"])
    dns_server.set("feedback-smtp.us-east-1.amazonses.com", "A", ["192.0.2.20"])
    dns_server.set(f"resend._domainkey.{name}", "TXT", [f"v=DKIM1; k=rsa; p={rsa_key(2048)}"])
    dns_server.publish(added.out)
    await daemon.status(name, "verified")
    shown = await run_cli("domains", "get", name, *client)
    assert 0 == shown.code, shown.err
    assert shown.out.startswith(f"{name}  verified  (api;")
    listed = await run_cli("domains", "list", "--format", "json", *client)
    assert {CONFIG_DOMAIN, name} == {d["name"] for d in json.loads(listed.out)["domains"]}
    only = await run_cli(
        "domains", "list", "--format", "json", "--status", "verified", "--source", "api",
        "--sort", "status_since", "--capability", "sending", *client,
    )  # fmt: skip
    assert [name] == [d["name"] for d in json.loads(only.out)["domains"]]
    every = await run_cli("domains", "list", "--format", "json", "--limit", "1", "--all", *client)
    assert sorted([CONFIG_DOMAIN, name]) == [d["name"] for d in json.loads(every.out)["domains"]]
    none = await run_cli(
        "domains", "list", "--format", "json", "--finding", "spf_missing", "--source", "api", *client
    )
    assert [] == json.loads(none.out)["domains"]
    patch = tmp_path / "patch.yaml"
    patch.write_text("interval: 10m\npins: [spf]\n")
    updated = await run_cli("domains", "update", name, "--file", str(patch), "--format", "json", *client)
    assert 0 == updated.code, updated.err
    assert "verified" == json.loads(updated.out)["status"]
    assert 0 == (await run_cli("domains", "verify", name, *client)).code
    acknowledged = await run_cli("domains", "acknowledge", name, "spf", *client)
    assert (0, f"acknowledged spf of {name}: verified (checked again now)\n") == (
        acknowledged.code,
        acknowledged.out,
    )
    unpinned = await run_cli("domains", "acknowledge", name, "dkim:resend", *client)
    assert (1, "not_pinned") == (unpinned.code, unpinned.err.split(": ")[1])
    removed = await run_cli("domains", "remove", name, *client)
    assert (0, f"deleted {name}\n") == (removed.code, removed.out)
    missing = await run_cli("domains", "get", name, *client)
    assert (1, f"domainwatch: not_found: no domain '{name}' is watched here\n") == (missing.code, missing.err)


async def test_cli_errors_are_messages_with_exit_codes(daemon: ApiDaemon, tmp_path: Path) -> None:
    admin = ("--url", daemon.url, "--token-file", token_file(tmp_path, ADMIN))
    config_domain = await run_cli("domains", "remove", CONFIG_DOMAIN, *admin)
    assert 1 == config_domain.code
    assert "managed_by_config" in config_domain.err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x.example.org\nsending:\n  dkim: [{selector: 'a b'}]\n")
    invalid = await run_cli("domains", "add", "--file", str(bad), *admin)
    assert 1 == invalid.code
    assert "  sending.dkim[0].selector: must be a DNS label" in invalid.err.splitlines()
    viewer = ("--url", daemon.url, "--token-file", token_file(tmp_path, VIEWER))
    refused = await run_cli("domains", "add", "y.example.org", *viewer)
    assert (1, "domainwatch: forbidden: token 'grafana' has role viewer; this needs admin\n") == (
        refused.code,
        refused.err,
    )
    unreachable = await run_cli("domains", "list", "--url", "http://127.0.0.1:9", "--token-file", admin[3])
    assert 3 == unreachable.code
    assert "cannot reach the daemon" in unreachable.err
    no_file = await run_cli("domains", "list", "--url", daemon.url, "--token-file", str(tmp_path / "none"))
    assert 2 == no_file.code
    assert "Traceback" not in invalid.err + refused.err + unreachable.err + no_file.err


def text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


@contextlib.asynccontextmanager
async def connected(daemon: ApiDaemon, token: str, transport: str, tmp_path: Path) -> AsyncIterator[Client]:
    """An SDK client of the daemon's /mcp (http), or of `domainwatch mcp` (stdio)."""
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        if transport == "http":
            server: Any = streamable_http_client(f"{daemon.url}/mcp", http_client=http)
        else:
            args = [
                "-m",
                "domainwatch",
                "mcp",
                "--url",
                daemon.url,
                "--token-file",
                token_file(tmp_path, token),
            ]
            server = StdioServerParameters(command=sys.executable, args=args)
        async with Client(server) as client:
            yield client


@pytest.mark.parametrize("transport", ["http", "stdio"])
async def test_mcp_tools_over_both_transports(
    daemon: ApiDaemon, dns_server: DnsTestServer, tmp_path: Path, transport: str
) -> None:
    async with connected(daemon, ADMIN, transport, tmp_path) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(TOOLS) == set(tools)
        for name, hints in TOOLS.items():
            notes = tools[name].annotations
            assert notes is not None
            assert hints == (notes.read_only_hint, notes.destructive_hint, notes.idempotent_hint), name
            assert tools[name].input_schema["type"] == "object"
        name = "agent.example.org"
        added = await client.call_tool("add_domain", {"document": {**document(name), "verify": True}})
        assert not added.is_error, added.content
        assert added.structured_content is not None
        assert text(added).startswith(f"created {name} (pending); publish:")
        publish_answer(dns_server, added.structured_content)
        await daemon.status(name, "verified")
        calls: list[tuple[str, dict[str, Any]]] = [
            ("list_domains", {"status": "verified"}),
            ("get_domain", {"name": name}),
            ("domain_history", {"name": name, "limit": 5}),
            ("diagnose", {"name": name, "dkim_selectors": ["s1"]}),
            ("update_domain", {"name": name, "patch": {"interval": "10m", "pins": ["dkim:s1"]}}),
            ("acknowledge_record", {"name": name, "record": "dkim:s1"}),
            ("verify_domain", {"name": name}),
            ("remove_domain", {"name": name}),
        ]
        for tool, arguments in calls:
            result = await client.call_tool(tool, arguments)
            assert not result.is_error, (tool, result.content)
            assert isinstance(result.structured_content, dict), tool
            assert text(result), tool
        listed = (await client.call_tool("list_domains", {})).structured_content
        assert listed is not None
        assert name not in {d["name"] for d in listed["domains"]}
        diagnosis = await client.call_tool("diagnose", {"name": "unwatched.example.org"})
        assert not diagnosis.is_error
        assert diagnosis.structured_content is not None
        assert "unwatched.example.org" == diagnosis.structured_content["name"]


@pytest.mark.parametrize("transport", ["http", "stdio"])
async def test_mcp_viewer_reads_but_write_tools_fail(
    daemon: ApiDaemon, tmp_path: Path, transport: str
) -> None:
    async with connected(daemon, VIEWER, transport, tmp_path) as client:
        read = await client.call_tool("get_domain", {"name": CONFIG_DOMAIN})
        assert not read.is_error
        for tool, arguments in (
            ("add_domain", {"document": {"name": "v.example.org", "verify": False}}),
            ("remove_domain", {"name": CONFIG_DOMAIN}),
            ("verify_domain", {"name": CONFIG_DOMAIN}),
            ("acknowledge_record", {"name": CONFIG_DOMAIN, "record": "spf"}),
        ):
            result = await client.call_tool(tool, arguments)
            assert result.is_error, tool
            assert "forbidden" in text(result)
        invalid = await client.call_tool("get_domain", {"name": "nothing.example.org"})
        assert invalid.is_error
        assert "not_found" in text(invalid)


async def test_mcp_needs_a_token(daemon: ApiDaemon) -> None:
    answer = await daemon.call(
        "POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, token=None
    )
    assert 401 == answer.status


async def test_a_provider_made_dkim_key_is_listed_with_its_host_at_every_door(
    daemon: ApiDaemon, tmp_path: Path
) -> None:
    """Preset `resend` without `public_key`: the DKIM record is required, so `domains add`,
    `domains get`, the API's records and MCP `add_domain` all list its host and type, with the
    value marked as the provider's; in zone-file form it is a comment, never a placeholder."""
    client = ("--url", daemon.url, "--token-file", token_file(tmp_path, ADMIN))
    name = "keyless.example.org"
    line = f'resend._domainkey.{name}. 3600 IN TXT "p=<the public key from your provider>"'
    added = await run_cli(
        "domains", "add", name, "--preset", "resend", "--region", "us-east-1", "--dkim-selector", "resend",
        *client,
    )  # fmt: skip
    assert 0 == added.code, added.err
    assert f"      publish: {line} (the value from your provider)" in added.out.splitlines()
    shown = await run_cli("domains", "get", name, *client)
    assert f"      publish: {line} (the value from your provider)" in shown.out.splitlines()
    zone = await run_cli(
        "domains", "add", f"z{name}", "--preset", "resend", "--region", "us-east-1",
        "--dkim-selector", "resend", "--format", "zone", *client,
    )  # fmt: skip
    assert f"; {line.replace(name, f'z{name}')}" in zone.out.splitlines()
    record = next(r for r in (await daemon.call("GET", f"/api/v1/domains/{name}")).body["records"]
                  if r["record"] == "dkim:resend")  # fmt: skip
    assert (f"; {line}", True) == (record["zone_line"], record["value_from_provider"])
    async with connected(daemon, ADMIN, "http", tmp_path) as mcp:
        other = {"name": "keyless2.example.org", "preset": "resend", "region": "us-east-1",
                 "sending": {"dkim": [{"selector": "resend"}]}}  # fmt: skip
        answer = await mcp.call_tool("add_domain", {"document": other})
        assert not answer.is_error, answer.content
        assert f'; resend._domainkey.{other["name"]}. 3600 IN TXT "p=<the public key' in text(answer)
