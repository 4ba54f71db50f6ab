"""Which endpoints get an event, and the exact body each is sent (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from domainwatch.config.schema import WebhookConfig
from domainwatch.store.base import NewDelivery, OutboxEntry
from domainwatch.webhooks.payloads import alertmanager_body, standard_body
from domainwatch.webhooks.policy import wants


def deliveries_for(
    entry: OutboxEntry, endpoints: Sequence[WebhookConfig], external_url: str
) -> list[NewDelivery]:
    """One delivery per endpoint subscribed to the event's type and domain (an Alertmanager
    endpoint only gets the changes it can show: failures and their resolution)."""
    kind = str(entry.payload["type"])
    out = []
    for endpoint in endpoints:
        if not wants(endpoint.domains, endpoint.events, kind, entry.domain):
            continue
        body = (
            alertmanager_body(entry.payload, endpoint.name, external_url)
            if endpoint.format == "alertmanager"
            else standard_body(entry.payload)
        )
        if body is not None:
            out.append(NewDelivery(endpoint.name, kind, body))
    return out
