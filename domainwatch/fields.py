"""Pydantic field types over domainwatch.values, shared by the record kinds and the config schema.

Strictness is declared per field (`Strict()`) because the per-domain schema is made of slotted
pydantic dataclasses, which pydantic refuses to build from a mapping in strict mode.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, Strict, ValidationInfo

from domainwatch.dns.resolver import Nameserver
from domainwatch.values import (
    MAX_LABELS,
    check_domain_name,
    check_label_key,
    check_label_value,
    check_listen,
    check_region,
    check_relative_host,
    check_return_path,
    check_selector,
    check_watched_name,
    check_webhook_url,
    parse_duration,
    to_nameserver,
)

# The config of every per-domain dataclass: unknown keys are errors.
SECTION_CONFIG = ConfigDict(extra="forbid")
# The config of every pydantic model in the schema (the few, fleet-wide sections).
MODEL_CONFIG = ConfigDict(extra="forbid", strict=True, frozen=True, arbitrary_types_allowed=True)

Text = Annotated[str, Strict()]
Number = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
DomainName = Annotated[str, Strict(), AfterValidator(check_domain_name)]


def _watched(value: str, info: ValidationInfo) -> str:
    """A name to watch; a stored document's name is held only to the rules it was stored under
    (`context={"stored": True}`): a name the stricter rules refuse is never dropped."""
    stored = isinstance(info.context, dict) and info.context.get("stored")
    return check_domain_name(value) if stored else check_watched_name(value)


WatchedName = Annotated[str, Strict(), AfterValidator(_watched)]
Selector = Annotated[str, Strict(), AfterValidator(check_selector)]
ReturnPathLabel = Annotated[str, Strict(), AfterValidator(check_return_path)]
RelativeHost = Annotated[str, Strict(), AfterValidator(check_relative_host)]
Region = Annotated[str, Strict(), AfterValidator(check_region)]
NameserverField = Annotated[Nameserver, BeforeValidator(to_nameserver)]
Listen = Annotated[str, Strict(), AfterValidator(check_listen)]
WebhookUrl = Annotated[str, Strict(), AfterValidator(check_webhook_url)]
LabelKey = Annotated[str, Strict(), AfterValidator(check_label_key)]
LabelValue = Annotated[str, Strict(), AfterValidator(check_label_value)]
# A record id as the API and metrics name it (spf, dkim:<selector>, dmarc, ...): what `pins` lists.
RecordId = Annotated[str, Strict(), Field(pattern=r"^[a-z_]{2,32}(:[A-Za-z0-9._-]{1,253})?$")]
Pins = Annotated[tuple[RecordId, ...], Field(max_length=64, strict=False)]
# A domain's owner labels (team, customer, plan...): routed on by alerts, filtered on by views.
Labels = Annotated[dict[LabelKey, LabelValue], Field(max_length=MAX_LABELS)]
