"""Schemathesis fuzzes the API from docs/openapi.yaml: no 5xx, and every answer as documented."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from domainwatch.web.app import create_app
from tests.examples import examples
from tests.integration.web_fixtures import ADMIN, make_daemon

# listDomains: a cursor is opaque, only one this server gave is valid; a made-up one is a 400.
SEMANTIC = {
    "createDomain",
    "updateDomain",
    "deleteDomain",
    "diagnoseDomain",
    "listDomains",
    "acknowledgeRecord",
    "createMaintenanceWindow",
}


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a real port, served from its own event loop in a thread."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict[str, Any] = {}

    async def serve() -> None:
        daemon, exposition = await make_daemon(tmp_path_factory.mktemp("api"), tokens=True)
        runner = web.AppRunner(create_app(daemon, exposition))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state["runner"], state["port"] = runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve())
        started.set()
        loop.run_forever()
        loop.run_until_complete(state["runner"].cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(30)
    yield f"http://127.0.0.1:{state['port']}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)


def test_api_conforms_to_its_openapi_document(live_url: str) -> None:
    """Arbitrary requests to every operation: documented status codes and shapes, never a 5xx.

    Driven through hypothesis directly: schemathesis' pytest plugin does not load on this pytest.
    """
    schema = schemathesis.openapi.from_path(Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert 16 == len(operations)
    for operation in operations:
        # Documents are checked by the config's models, beyond what a JSON schema can say (a
        # domain name's labels, a preset's regions): a schema-valid body may rightly get a 422.
        semantic = operation.definition.raw.get("operationId") in SEMANTIC
        conformance(operation, live_url, [positive_data_acceptance] if semantic else [])()


def conformance(operation: Any, live_url: str, excluded: list[Any]) -> Any:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples(40), deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def conforms(case: Any) -> None:
        case.call_and_validate(
            base_url=live_url, headers={"Authorization": f"Bearer {ADMIN}"}, excluded_checks=excluded
        )

    return conforms
