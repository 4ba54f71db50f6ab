"""Docs stay in step with the code: every finding code and every config key is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.dataclasses import is_pydantic_dataclass

from domainwatch.checks.registry import finding_codes
from domainwatch.config.schema import Config

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_finding_code_is_documented() -> None:
    """docs/checks.md has a row for each finding code of every record kind."""
    text = (DOCS / "checks.md").read_text()
    assert [] == [code.value for code in finding_codes() if f"`{code.value}`" not in text]


def _keys(model: type[Any]) -> set[str]:
    """Every key of a schema class (models, and the per-domain pydantic dataclasses), nested."""
    keys: set[str] = set()
    fields = model.model_fields if issubclass(model, BaseModel) else model.__pydantic_fields__
    for name, field in fields.items():
        keys.add(name)
        for candidate in (*getattr(field.annotation, "__args__", ()), field.annotation):
            if isinstance(candidate, type) and (
                issubclass(candidate, BaseModel) or is_pydantic_dataclass(candidate)
            ):
                keys |= _keys(candidate)
    return keys


def test_every_config_key_is_documented() -> None:
    """docs/configuration.md names each key of the schema."""
    text = (DOCS / "configuration.md").read_text()
    assert [] == sorted(key for key in _keys(Config) if f"`{key}" not in text and f".{key}`" not in text)


def test_nothing_stops_processes_by_name() -> None:
    """On a developer's machine a process name may be their production DNS: the scripts, the
    Makefile, CI and the tests stop only what they started, by PID."""
    root = DOCS.parent
    places = [root / "Makefile", *(root / ".ci").glob("*"), *(root / "scripts").glob("*")]
    places += [*(root / "tests").rglob("*.py"), *(root / "bench").glob("*.py")]
    pattern = re.compile(r"\b(pkill|killall)\b|systemctl\s+(stop|kill|restart)")
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for path in places
        if path.is_file() and path.name != "test_docs.py"
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if pattern.search(line)
    ]
    assert [] == offenders


def test_the_templates_carry_no_style_attributes() -> None:
    """The page's CSP allows only its nonce'd <style> element: a style= attribute would not apply."""
    templates = Path(__file__).resolve().parents[2] / "domainwatch" / "web" / "templates"
    offenders = [t.name for t in templates.glob("*.html") if re.search(r"\sstyle\s*=", t.read_text())]
    assert [] == offenders


def test_the_image_keeps_its_state_in_a_volume_its_user_can_write() -> None:
    """A compose named volume (or a Kubernetes PVC) over /var/lib/domainwatch is writable by the
    daemon: the directory is made for the image's user before it is declared a VOLUME, and the
    compose file mounts its volume there and keeps the store in it."""
    root = Path(__file__).resolve().parents[2]
    lines = [line.strip() for line in (root / "Dockerfile").read_text().splitlines()]
    runtime = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")) :]
    made = next(i for i, line in enumerate(runtime) if "install -d -o 10001 -g 10001" in line)
    volume = next(i for i, line in enumerate(runtime) if line.startswith("VOLUME "))
    user = next(i for i, line in enumerate(runtime) if line.startswith("USER "))
    assert "/var/lib/domainwatch" in runtime[made]
    assert '["/var/lib/domainwatch"]' in runtime[volume]
    assert made < volume < user
    assert "USER 10001:10001" == runtime[user]
    labels = " ".join(runtime)
    for label in ("version", "revision", "source"):
        assert f"org.opencontainers.image.{label}=" in labels
    compose = yaml.safe_load((root / "deploy" / "compose" / "docker-compose.yml").read_text())
    mounts = compose["services"]["domainwatch"]["volumes"]
    assert "domainwatch-data:/var/lib/domainwatch" in mounts
    assert "domainwatch-data" in compose["volumes"]
    config = yaml.safe_load((root / "deploy" / "compose" / "domainwatch.yaml").read_text())
    assert config["storage"]["path"].startswith("/var/lib/domainwatch/")
