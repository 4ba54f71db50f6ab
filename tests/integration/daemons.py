"""Real server processes for integration tests (knotd, unbound): found or skipped, started on a
free loopback port, stopped by their own PID (never by name: that would stop a developer's
own servers)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# (port, the process, a deadline) -> None once it serves; raises RuntimeError if it never will.
WaitReady = Callable[[int, "subprocess.Popen[bytes]", float], None]


def require_binary(name: str, package: str) -> str:
    """The program's path; skipped where it is absent, but a failure in CI, where it must run."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; `make test` installs Debian's {package} package as root")
        pytest.skip(f"{name} is not installed (Debian package {package})")
    return path


def free_port(address: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on `address`: the kernel picks a free UDP port, whose TCP
    side may still be taken (by a listener or a closing connection), so try another then."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((address, 0))
            port: int = udp.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind((address, port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no port on {address} is free for both UDP and TCP")


@contextmanager
def serving(
    name: str, address: str, command_for: Callable[[int], list[str]], log: Path, wait_ready: WaitReady
) -> Iterator[int]:
    """Run `command_for(port)` on a free port of `address` (its output appended to `log`) until
    `wait_ready` says it serves; yield the port; stop it by its PID."""
    for _ in range(3):  # a port taken between choosing and binding
        port = free_port(address)
        with log.open("ab") as output:
            process = subprocess.Popen(command_for(port), stdout=output, stderr=output)
        try:
            wait_ready(port, process, time.monotonic() + 15)
        except RuntimeError:
            stop(process)
            continue
        try:
            yield port
        finally:
            stop(process)
        return
    raise RuntimeError(f"could not start {name} on a free port")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
