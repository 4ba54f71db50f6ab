"""Start a real Knot DNS (knotd) on a free loopback port with zones written by the test."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dns.message
import dns.query
import pytest

KNOTD = shutil.which("knotd") or ("/usr/sbin/knotd" if Path("/usr/sbin/knotd").exists() else None)


def require_knotd() -> str:
    """knotd's path; skipped where it is absent, but a failure in CI, where it must run."""
    if KNOTD is None:
        if os.environ.get("CI"):
            pytest.fail("knotd is not installed; `make test` installs Debian's knot package as root")
        pytest.skip("knotd is not installed (Debian package knot)")
    return KNOTD


def free_port(address: str) -> int:
    """A port free for both UDP and TCP on `address`."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind((address, 0))
        port: int = udp.getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        tcp.bind((address, port))  # fails (and we retry) if TCP's side is taken
    return port


def _config(
    directory: Path, address: str, port: int, zones: Mapping[str, str], signed: Collection[str]
) -> str:
    zone_lines = "".join(
        f'  - domain: {name}\n    file: "{name}.zone"\n'
        + ("    dnssec-signing: on\n" if name in signed else "")
        for name in zones
    )
    return f"""server:
    rundir: "{directory}"
    listen: {address}@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "{directory}/db"
control:
    listen: "{directory}/knot.sock"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "{directory}"
    zonefile-sync: -1
    journal-content: none
zone:
{zone_lines}"""


def _wait_ready(
    address: str, port: int, zone: str, process: subprocess.Popen[bytes], deadline: float
) -> None:
    query = dns.message.make_query(zone, "SOA")
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"knotd exited with {process.returncode}")
        try:
            response = dns.query.udp(query, address, port=port, timeout=0.2)
        except (dns.exception.Timeout, OSError):
            continue
        if response.answer:
            return
        time.sleep(0.05)
    raise RuntimeError("knotd did not start serving in time")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def knot_server(
    directory: Path, zones: Mapping[str, str], address: str = "127.0.0.1", signed: Collection[str] = ()
) -> Iterator[int]:
    """Run knotd on `address` serving `zones` ({apex: zone file text}), signing those in
    `signed` (Knot's automatic signing, default policy: its keys stay in `directory` for the
    next start); yields its port; stops it by PID."""
    knotd = require_knotd()
    (directory / "db").mkdir(exist_ok=True)  # knotd does not create its key and timer store
    for name, text in zones.items():
        (directory / f"{name}.zone").write_text(text)
    for _ in range(3):  # a port taken between choosing and binding
        port = free_port(address)
        (directory / "knot.conf").write_text(_config(directory, address, port, zones, signed))
        with (directory / "knotd.log").open("ab") as log:
            process = subprocess.Popen([knotd, "-c", str(directory / "knot.conf")], stdout=log, stderr=log)
        try:
            _wait_ready(address, port, next(iter(zones)), process, time.monotonic() + 15)
        except RuntimeError:
            _stop(process)
            continue
        try:
            yield port
        finally:
            _stop(process)
        return
    raise RuntimeError("could not start knotd on a free port")
