"""Start a real Knot DNS (knotd) on a free loopback port with zones written by the test."""

from __future__ import annotations

import functools
import subprocess
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dns.exception
import dns.message
import dns.query

from tests.integration.daemons import require_binary, serving


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
    address: str, zone: str, port: int, process: subprocess.Popen[bytes], deadline: float
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


@contextmanager
def knot_server(
    directory: Path, zones: Mapping[str, str], address: str = "127.0.0.1", signed: Collection[str] = ()
) -> Iterator[int]:
    """Run knotd on `address` serving `zones` ({apex: zone file text}), signing those in
    `signed` (Knot's automatic signing, default policy: its keys stay in `directory` for the
    next start); yields its port; stops it by PID."""
    knotd = require_binary("knotd", "knot")
    (directory / "db").mkdir(exist_ok=True)  # knotd does not create its key and timer store
    for name, text in zones.items():
        (directory / f"{name}.zone").write_text(text)

    def command_for(port: int) -> list[str]:
        (directory / "knot.conf").write_text(_config(directory, address, port, zones, signed))
        return [knotd, "-c", str(directory / "knot.conf")]

    ready = functools.partial(_wait_ready, address, next(iter(zones)))
    with serving("knotd", address, command_for, directory / "knotd.log", ready) as port:
        yield port
