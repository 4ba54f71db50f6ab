"""Provider presets (presets.yaml) merged under a domain's own keys before validation (pure).

A preset is data: the `sending` (and for a mailbox provider `receiving`, and domain-level keys
such as `dmarc` or `tracking`) a provider asks its customers to publish, as templates. A
template names `{region}`, `{domain}`, `{domain_dashed}` (the name with dots as hyphens, as
Microsoft and Brevo write it) and the account's own inputs: the domain's `account:` mapping,
each key declared by the preset with its help and, when optional, its default. A `variants`
entry replaces parts of the preset by the value of one input (SendGrid's automated security). A
template that is exactly `{input}` for an input left unset is dropped (a provider-made DKIM key
the user has not copied yet). Explicit keys in the domain's config override the preset's.
"""

from __future__ import annotations

import copy
import functools
import re
import string
from importlib import resources
from typing import Any

import yaml

Raw = dict[str, Any]
Problems = list[tuple[str, str]]
_SECTIONS = ("sending", "receiving")  # merged key by key with the domain's own
_DOMAIN_KEYS = ("dmarc", "tracking")  # filled only when the domain does not set them
_WHOLE = re.compile(r"\{(\w+)\}")


@functools.cache
def presets() -> dict[str, Raw]:
    text = resources.files("domainwatch.config").joinpath("presets.yaml").read_text("utf-8")
    data: dict[str, Raw] = yaml.safe_load(text)
    return data


def apply_preset(domain: Raw) -> tuple[Raw, Problems]:
    """Return the domain with its preset's values filled in, and (key path, message) errors."""
    name = domain.get("preset")
    if name is None:
        if domain.get("account") is not None:
            return domain, [("account", "is read by a preset: set preset too")]
        return domain, []
    preset = presets().get(name) if isinstance(name, str) else None
    if preset is None:
        return domain, [("preset", f"unknown preset; known: {', '.join(sorted(presets()))}")]
    variables, errors = _variables(name, preset, domain)
    if errors:
        return domain, errors
    chosen = _variant(preset, variables)
    filled, missing = _filled(chosen, variables)
    if missing:
        return domain, [_missing(name, preset, key) for key in sorted(missing)]
    return _merged(domain, name, filled)


def _variables(name: str, preset: Raw, domain: Raw) -> tuple[dict[str, Any], Problems]:
    """The template's variables: the region, the domain's names and the account's inputs."""
    region, account = domain.get("region"), domain.get("account") or {}
    errors = _region_errors(name, preset, region)
    declared: Raw = preset.get("account") or {}
    if not isinstance(account, dict):
        return {}, [("account", "must be a mapping of the preset's account inputs")]
    for key, value in account.items():
        if key not in declared:
            known = ", ".join(declared) or "none"
            errors.append((f"account.{key}", f"preset {name} takes no such input; it takes: {known}"))
        elif not isinstance(value, str | bool) or (isinstance(value, str) and not 0 < len(value) <= 2048):
            errors.append((f"account.{key}", "must be a string of 1 to 2048 characters, or true or false"))
    text = str(domain.get("name", "")).strip().rstrip(".").lower()
    variables: dict[str, Any] = {
        "region": region or "",
        "domain": text,
        "domain_dashed": text.replace(".", "-"),
        "selector": "{selector}",  # filled per DKIM entry (dkim_cname)
    }
    base = dict(variables)  # a default may name these (Microsoft's MX host)
    variables |= {
        key: spec["default"].format(**base) if isinstance(spec.get("default"), str) else spec.get("default")
        for key, spec in declared.items()
        if "default" in spec
    }
    variables |= {key: value for key, value in account.items() if key in declared}
    return variables, errors


@functools.cache
def _needs_region(name: str) -> bool:
    """Whether a preset names {region} or lists its regions (worked out once per preset, not
    for each of a large fleet's domains at start-up)."""
    preset = presets()[name]
    return "{region}" in yaml.safe_dump(preset) or "regions" in preset


def _region_errors(name: str, preset: Raw, region: object) -> Problems:
    if not _needs_region(name):
        return []
    if region is None:
        return [("region", f"required by preset {name}")]
    known = preset.get("regions")
    if known and region not in known:
        return [("region", f"preset {name} supports regions {', '.join(known)}")]
    return []


def _variant(preset: Raw, variables: dict[str, Any]) -> Raw:
    """The preset with the parts its variants replace for these inputs."""
    chosen = {k: v for k, v in preset.items() if k not in ("variants", "account", "regions")}
    for key, options in (preset.get("variants") or {}).items():
        value = variables.get(key)
        picked = options.get(str(value).lower() if isinstance(value, bool) else value)
        if picked:
            chosen |= picked
    return chosen


def _filled(value: Any, variables: dict[str, Any]) -> tuple[Any, set[str]]:
    """The templates filled in, and the inputs they need that are not given."""
    missing: set[str] = set()

    def fill(item: Any) -> Any:
        if isinstance(item, str):
            needed = {field for _, field, _, _ in string.Formatter().parse(item) if field}
            absent = {field for field in needed if field not in variables}
            if absent:
                missing.update(absent)
                return item
            whole = _WHOLE.fullmatch(item)
            if whole and variables[whole.group(1)] is None:
                return None  # an optional input left unset: the key is dropped
            return item.format(**{k: "" if v is None else v for k, v in variables.items()})
        if isinstance(item, dict):
            return {k: v for k, v in ((k, fill(v)) for k, v in item.items()) if v is not None}
        if isinstance(item, list):
            return [fill(v) for v in item]
        return item

    return fill(value), missing


def _missing(name: str, preset: Raw, key: str) -> tuple[str, str]:
    spec = (preset.get("account") or {}).get(key)
    if spec is None:  # a template names a variable nobody declared: a defect in presets.yaml
        return ("preset", f"preset {name} names an unknown input {key}")
    return (f"account.{key}", f"required by preset {name}: {spec.get('help', key)}")


def _merged(domain: Raw, name: str, preset: Raw) -> tuple[Raw, Problems]:
    merged = copy.deepcopy(domain)
    for section in _SECTIONS:
        if section not in preset:
            continue
        own = merged.get(section)
        filled = copy.deepcopy(preset[section])
        filled.update(own if isinstance(own, dict) else {})
        merged[section] = filled
    for key in _DOMAIN_KEYS:
        if key in preset and key not in merged:
            merged[key] = copy.deepcopy(preset[key])
    if "sending" in merged:
        own = domain.get("sending")
        own_dkim = own.get("dkim") if isinstance(own, dict) else None
        dkim, errors = _dkim_entries(name, preset, own_dkim)
        if dkim is not None:
            merged["sending"]["dkim"] = dkim
        return merged, errors
    return merged, []


def _dkim_entries(name: str, preset: Raw, own: object) -> tuple[list[Any] | None, Problems]:
    template = preset.get("dkim_cname")
    if own is None:
        selectors = preset.get("dkim_selectors")
        if selectors:
            entries = [{"selector": s} for s in selectors]
            if template is None:
                return entries, []
            keep = set(preset.get("dkim_txt_selectors") or ())
            return [_with_cname(entry, template, keep) for entry in entries], []
        if preset.get("dkim_selector_count"):
            count = preset["dkim_selector_count"]
            why = f"preset {name} needs the {count} DKIM selectors (tokens) your provider gave you"
            return None, [("sending.dkim", why)]
        return None, []
    if not isinstance(own, list) or template is None:
        return None, []
    keep = set(preset.get("dkim_txt_selectors") or ())
    return [_with_cname(entry, template, keep) for entry in own], []


def _with_cname(entry: Any, template: str, keep: set[str]) -> Any:
    """A DKIM entry with neither cname nor public_key gets the preset's delegated CNAME, unless
    its selector is one the provider publishes as a TXT key (Resend's `resend`)."""
    if not isinstance(entry, dict) or "cname" in entry or "public_key" in entry:
        return entry
    selector = entry.get("selector")
    if not isinstance(selector, str) or selector.lower() in keep:
        return entry
    return {**entry, "cname": template.replace("{selector}", selector.lower())}
