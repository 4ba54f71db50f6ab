"""Unit tests touch no network and start no process: a socket operation or a subprocess in a
test here fails it, so the tier stays fast and honest (socketpair, which an event loop uses to
wake itself, is allowed: it reaches nothing outside the process)."""

from __future__ import annotations

import socket
import subprocess
from typing import Any, NoReturn

import pytest


def _refuse(what: str) -> Any:
    def refused(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError(f"a unit test used {what}: move it to tests/integration")

    return refused


@pytest.fixture(autouse=True)
def _no_network_or_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    for method in ("bind", "connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, method, _refuse(f"socket.{method}"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("a subprocess"))
