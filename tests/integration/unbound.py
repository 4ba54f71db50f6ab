"""Start a real validating resolver (Debian's Unbound) on a free loopback port: stub zones to
test servers, one trust anchor, no root, no remote control; stopped by its PID."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dns.exception
import dns.message
import dns.query

from tests.integration.daemons import require_binary, serving


def _config(directory: Path, port: int, stubs: Mapping[str, int], anchor: str) -> str:
    stub_zones = "".join(
        f'stub-zone:\n    name: "{zone}."\n    stub-addr: 127.0.0.1@{stub_port}\n'
        for zone, stub_port in stubs.items()
    )
    # Unbound answers special-use names (test., invalid., ...) itself unless told not to.
    local_zones = "".join(f'    local-zone: "{zone}." nodefault\n' for zone in stubs)
    return f"""server:
    interface: 127.0.0.1
    port: {port}
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{directory}"
    pidfile: "{directory}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    val-log-level: 2
    module-config: "validator iterator"
    do-not-query-localhost: no
    qname-minimisation: no
    access-control: 127.0.0.0/8 allow
    trust-anchor: "{anchor}"
{local_zones}remote-control:
    control-enable: no
{stub_zones}"""


def _wait_ready(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    query = dns.message.make_query("localhost.", "A")
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"unbound exited with {process.returncode}")
        try:
            dns.query.udp(query, "127.0.0.1", port=port, timeout=0.2)
        except (dns.exception.Timeout, OSError):
            time.sleep(0.05)
            continue
        return
    raise RuntimeError("unbound did not start answering in time")


@contextmanager
def unbound_server(directory: Path, stubs: Mapping[str, int], anchor: str) -> Iterator[int]:
    """Run unbound validating below `anchor` (a DS or DNSKEY record's presentation form), with
    each zone of `stubs` ({zone: port}) served on 127.0.0.1 at that port. Yields its port."""
    unbound = require_binary("unbound", "unbound")
    directory.mkdir(parents=True, exist_ok=True)

    def command_for(port: int) -> list[str]:
        (directory / "unbound.conf").write_text(_config(directory, port, stubs, anchor))
        return [unbound, "-d", "-c", str(directory / "unbound.conf")]

    with serving("unbound", "127.0.0.1", command_for, directory / "unbound.log", _wait_ready) as port:
        yield port
