"""Docs stay in step with the code: every finding code and every config key is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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
