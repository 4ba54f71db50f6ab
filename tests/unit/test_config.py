"""Config decoding: every invalid example with its exact message, presets, env, secrets."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from domainwatch.config.loader import ConfigError, load, parse
from domainwatch.config.plan import plan
from domainwatch.dns.resolver import Nameserver
from domainwatch.values import parse_duration

ROOT = Path(__file__).resolve().parents[2]
INVALID = sorted((ROOT / "tests" / "data" / "invalid").glob("*.yaml"))


@pytest.mark.parametrize("example", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_example_gives_exact_message(example: Path) -> None:
    """Each invalid config is rejected with exactly the messages in its .expected file."""
    expected = example.with_suffix(".expected").read_text().splitlines()
    with pytest.raises(ConfigError) as caught:
        parse(example.read_text(), source=example.name, env={})
    assert expected == caught.value.problems


def test_every_invalid_example_has_an_expected_file() -> None:
    """No example without its pair, and at least the documented set exists."""
    assert len(INVALID) >= 20
    assert all(p.with_suffix(".expected").exists() for p in INVALID)


def test_example_config_is_valid_and_documents_every_top_level_section() -> None:
    """config.example.yaml parses and shows resolver, defaults and domains."""
    config = load(ROOT / "config.example.yaml")
    assert ["updates.example.com", "mail.example.org", "notify.example.com", "legacy.example.net"] == [
        d.name for d in config.domains
    ]


def test_defaults_are_applied_at_decode_time() -> None:
    """An empty file is a valid config with the documented defaults."""
    config = parse("")
    assert (timedelta(seconds=2), 2, "recursive") == (
        config.resolver.timeout,
        config.resolver.attempts,
        config.resolver.mode,
    )
    assert (timedelta(minutes=5), timedelta(hours=72)) == (config.defaults.interval, config.defaults.window)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("500ms", 0.5), ("2s", 2), ("5m", 300), ("72h", 259200), ("30d", 2592000), ("1.5s", 1.5)],
)
def test_durations(text: str, expected: float) -> None:
    """Durations take ms, s, m, h and d."""
    assert timedelta(seconds=expected) == parse_duration(text)


def test_nameserver_forms() -> None:
    """host, host:port and [v6]:port."""
    config = parse('resolver: {nameservers: ["192.0.2.1", "127.0.0.1:5300", "[::1]:53", "::1"]}')
    assert [
        Nameserver("192.0.2.1"),
        Nameserver("127.0.0.1", 5300),
        Nameserver("::1", 53),
        Nameserver("::1"),
    ] == config.resolver.nameservers


def test_resend_preset_fills_sending_records() -> None:
    """preset: resend with a region gives SPF, return-path MX and the resend DKIM selector."""
    config = parse("domains: [{name: Updates.Example.com., preset: resend, region: eu-west-1}]")
    domain = config.domains[0]
    assert "updates.example.com" == domain.name
    assert domain.sending is not None
    assert domain.sending.spf is not None
    assert (["amazonses.com"], "send") == (domain.sending.spf.include, domain.sending.return_path)
    assert domain.sending.mx is not None
    assert ("feedback-smtp.eu-west-1.amazonses.com", 10) == (
        domain.sending.mx.host,
        domain.sending.mx.priority,
    )
    assert ["resend"] == [k.selector for k in domain.sending.dkim]


def test_explicit_keys_override_preset() -> None:
    """A domain's own keys win over the preset's."""
    text = """
domains:
  - name: example.com
    preset: resend
    region: us-east-1
    sending:
      return_path: bounces
      spf: {include: [spf.example.net]}
"""
    sending = parse(text).domains[0].sending
    assert sending is not None
    assert sending.spf is not None
    assert ("bounces", ["spf.example.net"]) == (sending.return_path, sending.spf.include)
    assert sending.mx is not None  # not overridden: still the preset's


def test_ses_preset_turns_selectors_into_cnames() -> None:
    """SES Easy DKIM tokens become CNAMEs to <token>.dkim.amazonses.com."""
    text = (
        "domains: [{name: example.com, preset: ses, region: us-west-2, sending: {dkim: [{selector: Tok1}]}}]"
    )
    sending = parse(text).domains[0].sending
    assert sending is not None
    assert [("tok1", "tok1.dkim.amazonses.com")] == [(k.selector, k.cname) for k in sending.dkim]


def test_env_expansion_and_literal_dollar() -> None:
    """${VAR} expands from the environment; $$ is a literal $."""
    text = "domains: [{name: '${ZONE}', sending: {dkim: [{selector: s, public_key: 'a$$b'}]}}]"
    domain = parse(text, env={"ZONE": "example.org"}).domains[0]
    assert domain.sending is not None
    assert ("example.org", "a$b") == (domain.name, domain.sending.dkim[0].public_key)


def test_secret_file_is_read_relative_to_config(tmp_path: Path) -> None:
    """token_file: F is replaced by token: <F's contents> before validation."""
    (tmp_path / "tok").write_text("s3cret-value\n")
    read: list[Path] = []

    def reader(path: Path) -> str:
        read.append(path)
        return path.read_text().strip()

    with pytest.raises(ConfigError) as caught:
        parse("domains: [{name: example.com, token_file: tok}]", base_dir=tmp_path, read_file=reader)
    assert [tmp_path / "tok"] == read
    assert "s3cret-value" not in str(caught.value)


def test_unreadable_secret_file_names_the_key() -> None:
    """A missing secret file is a config error at its key, not a traceback."""
    with pytest.raises(ConfigError) as caught:
        parse("domains: [{name: example.com, secret_file: /nonexistent/x}]")
    assert "domains[0].secret_file: cannot read /nonexistent/x" in str(caught.value)


def test_unreadable_config_file(tmp_path: Path) -> None:
    """A missing file is reported, not raised as OSError."""
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "nope.yaml")
    assert "cannot read" in str(caught.value)


def test_plan_of_full_domain_lists_record_ids_in_order() -> None:
    """The record ids are the contract shared by CLI, API and metrics."""
    config = load(ROOT / "config.example.yaml")
    ids = [e.record for e in plan(config.domains[0])]
    assert [
        "spf",
        "dkim:resend",
        "return_path_mx",
        "receiving_mx",
        "dmarc",
        "tracking",
        "starttls:inbound-smtp.us-east-1.amazonaws.com",
        "dane:inbound-smtp.us-east-1.amazonaws.com",
        "mta_sts",
        "tls_rpt",
    ] == ids
    names = [e.name for e in plan(config.domains[0])]
    assert "send.updates.example.com" == names[0]
    assert "resend._domainkey.updates.example.com" == names[1]


def test_dmarc_required_only_when_configured() -> None:
    """DMARC is advisory unless required: true; tracking never counts."""
    config = load(ROOT / "config.example.yaml")
    required = {e.record: e.required for e in plan(config.domains[0])}
    assert (False, False, True) == (required["dmarc"], required["tracking"], required["spf"])
