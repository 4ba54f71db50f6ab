"""Where the store lives (store/urls.py, `storage` in the config): the URL forms, the errors,
and a password that is never shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domainwatch.config.loader import ConfigError, parse
from domainwatch.store.urls import parse_store_url


@pytest.mark.parametrize(
    ("url", "kind", "target"),
    [
        ("sqlite:///state.db", "sqlite", "state.db"),
        ("sqlite:///data/state.db", "sqlite", "data/state.db"),
        ("sqlite:////var/lib/domainwatch/state.db", "sqlite", "/var/lib/domainwatch/state.db"),
        ("postgresql://dw@db:5432/dw", "postgresql", "postgresql://dw@db:5432/dw"),
        ("postgres://dw@db/dw?sslmode=verify-full", "postgresql", "postgres://dw@db/dw?sslmode=verify-full"),
    ],
)
def test_the_url_forms(url: str, kind: str, target: str) -> None:
    location = parse_store_url(url)
    assert (kind, target) == (location.kind, location.target)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://state.db", "sqlite:///relative/path.db"),
        ("sqlite:///", "sqlite:///relative/path.db"),
        ("mysql://db/x", "the scheme must be sqlite or postgresql, not 'mysql'"),
        ("postgresql:db", "postgresql://user:password@host:port/database"),
        ("postgresql://dw:pw@db:port/x", "check the host and port"),
    ],
)
def test_a_wrong_url_says_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        parse_store_url(url)
    assert "pw" not in str(caught.value)


def test_a_password_is_never_shown() -> None:
    location = parse_store_url("postgresql://dw:hunter2-secret@db.internal:6432/dw?sslmode=require")
    assert "postgresql://dw:***@db.internal:6432/dw?sslmode=require" == location.shown == str(location)
    assert "hunter2" not in repr(location)
    assert "postgresql://db/dw" == parse_store_url("postgresql://db/dw").shown


def test_storage_takes_a_path_or_a_url_or_a_url_file_and_the_default(tmp_path: Path) -> None:
    assert ("sqlite", "./domainwatch.db") == _location(parse(""))
    assert ("sqlite", "x.db") == _location(parse("storage: {path: x.db}"))
    assert ("sqlite", "/x.db") == _location(parse("storage: {url: 'sqlite:////x.db'}"))
    env = {"PGPASSWORD": "from-env"}
    config = parse("storage: {url: 'postgresql://dw:${PGPASSWORD}@db/dw'}", env=env)
    assert "postgresql://dw:from-env@db/dw" == config.storage.location.target
    assert "from-env" not in repr(config) + str(config.storage.location)
    (tmp_path / "url").write_text("postgresql://dw:from-file@db/dw\n")
    config = parse("storage: {url_file: url}", base_dir=tmp_path)
    assert "postgresql://dw:from-file@db/dw" == config.storage.location.target


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "storage: {path: x.db, url: 'sqlite:///y.db'}",
            "storage: set either path or url (or url_file), not both",
        ),
        (
            "storage: {url: 'sqlite:///y.db', url_file: f}",
            "storage.url_file: set either url or url_file, not both",
        ),
        ("storage: {url: 'redis://x'}", "storage.url: the scheme must be sqlite or postgresql"),
        ("webhooks: [{name: a, url_file: f}]", "webhooks[0].url_file: unknown key"),
    ],
)
def test_storage_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert any(message in problem for problem in caught.value.problems), caught.value.problems


def _location(config: object) -> tuple[str, str]:
    location = config.storage.location  # type: ignore[attr-defined]
    return location.kind, location.target
