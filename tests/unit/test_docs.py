"""Docs stay in step with the code: every finding code and every config key is documented."""

from __future__ import annotations

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
