"""The CLI's results reach their reader whole: a slow pipe reader and a pseudo-terminal get every
byte of a report larger than their buffers (20 runs each, compared with the report written to a
file), and a reader that went away ends the command quietly with 141."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from domainwatch.testing import DnsTestServer
from domainwatch.testing.dns_server import serve_in_thread
from tests.integration.web_fixtures import config_text, make_daemon

RUNS = 20
BATCH = 5  # runs at a time: each waits on its slow reader more than it works
DOMAINS = 24  # each with a 3 KB SPF record the report shows: 118 KB, few queries
SLOW = 1.5  # seconds before the reader starts reading: after the report is written, or stuck


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsTestServer]:
    """On its own thread: two reports at once must not wait on the test's event loop."""
    with serve_in_thread(DnsTestServer()) as server:
        yield server


def fleet_config(tmp_path: Path, server: DnsTestServer) -> Path:
    """A fleet whose report is large (each SPF record found is shown whole) at a few queries."""
    long_spf = "v=spf1 " + " ".join(f"ip4:192.0.{n}.0/24" for n in range(200)) + " -all"
    entries = ""
    for n in range(DOMAINS):
        server.set(f"send.d{n}.example.com", "TXT", [long_spf])
        entries += (
            f"\n  - name: d{n}.example.com\n    preset: resend\n    region: us-east-1\n"
            "    sending:\n      dkim: [{selector: resend}]\n"
        )
    resolver = f"resolver:\n  nameservers: ['{server.address}']\n  max_qps: 0\n  timeout: 3s\n  attempts: 3\n"
    path = tmp_path / "fleet.yaml"
    path.write_text(f"{resolver}domains:{entries}")
    return path


async def run_to(stdout: int, *args: str) -> tuple[int, bytes]:
    """Run `domainwatch ARGS` with stdout on the descriptor given (closed here once handed over)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "domainwatch", *args, stdout=stdout, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    os.close(stdout)
    assert process.stderr is not None
    err = await process.stderr.read()
    return await process.wait(), err


async def read_slowly(fd: int) -> bytes:
    """Everything from `fd` until end of file (a pty's EIO once its writer is gone), starting late."""
    await asyncio.sleep(SLOW)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = await asyncio.to_thread(os.read, fd, 65536)
        except OSError:  # a pty's master after the last writer closed
            chunk = b""
        if not chunk:
            os.close(fd)
            return b"".join(chunks)
        chunks.append(chunk)


async def through_pipe(*args: str) -> tuple[int, bytes]:
    read_end, write_end = os.pipe()
    (code, _), data = await asyncio.gather(run_to(write_end, *args), read_slowly(read_end))
    return code, data


async def through_pty(*args: str) -> tuple[int, bytes]:
    master, slave = pty.openpty()
    (code, _), data = await asyncio.gather(run_to(slave, *args), read_slowly(master))
    return code, data.replace(b"\r\n", b"\n")  # the terminal's line discipline adds the CRs


@pytest.mark.parametrize("fmt", ["table", "json"])
@pytest.mark.parametrize("reader", [through_pipe, through_pty], ids=["slow pipe", "pty"])
async def test_a_large_report_reaches_a_slow_reader_whole(
    dns_server: DnsTestServer, tmp_path: Path, reader: object, fmt: str
) -> None:
    args = ("check", "-c", str(fleet_config(tmp_path, dns_server)), "--format", fmt)
    expected = tmp_path / "report"
    code, _ = await run_to(os.open(expected, os.O_WRONLY | os.O_CREAT, 0o600), *args)
    whole = expected.read_bytes()
    assert len(whole) > 65536
    runs = RUNS if fmt == "table" else BATCH  # the JSON takes the same path: fewer runs
    for _ in range(runs // BATCH):
        results = await asyncio.gather(*(reader(*args) for _ in range(BATCH)))  # type: ignore[operator]
        for got_code, data in results:
            assert (code, len(whole)) == (got_code, len(data))
            assert whole == data


@pytest.mark.parametrize(
    "args",
    [
        ("check", "-c", "{config}"),
        ("inspect", "example.com", "--nameserver", "{nameserver}"),
        ("config", "validate", "{config}"),
    ],
)
async def test_a_reader_that_went_away_ends_the_command_with_141_and_no_words(
    dns_server: DnsTestServer, tmp_path: Path, args: tuple[str, ...]
) -> None:
    """As `domainwatch check ... | head` once head has what it wanted: no BrokenPipeError
    traceback, nothing on stderr, and the exit status of a process killed by SIGPIPE."""
    config = fleet_config(tmp_path, dns_server)
    filled = tuple(a.format(config=config, nameserver=dns_server.address) for a in args)
    read_end, write_end = os.pipe()
    os.close(read_end)  # gone before the command writes a byte
    code, err = await run_to(write_end, *filled)
    assert (141, b"") == (code, err)


async def stderr_through_pty(*args: str) -> tuple[int, bytes]:
    """The command with its stderr (and stdout) on a pseudo-terminal, read whole."""
    master, slave = pty.openpty()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "domainwatch", *args, stdout=asyncio.subprocess.DEVNULL, stderr=slave,
    )  # fmt: skip
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = await asyncio.to_thread(os.read, master, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return await process.wait(), b"".join(chunks)


async def test_check_shows_progress_and_a_summary_on_a_terminal_and_only_the_summary_on_a_pipe(
    dns_server: DnsTestServer, tmp_path: Path
) -> None:
    """Issue #29, item 5: progress on a TTY (never on a pipe, never with --quiet), the summary
    line always but with --quiet, stdout the results alone."""
    config = str(fleet_config(tmp_path, dns_server))
    code, terminal = await stderr_through_pty("check", "-c", config)
    assert 1 == code
    assert b"%|" in terminal  # tqdm's bar
    assert b"check: 24 domains in " in terminal
    piped = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "domainwatch", "check", "-c", config, "--format", "json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await piped.communicate()
    assert b"\x1b" not in err
    assert b"%|" not in err
    assert err.startswith(b"check: 24 domains in "), err
    assert 24 == len(json.loads(out)["domains"])  # stdout: the results, parseable
    quiet = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "domainwatch", "check", "-c", config, "--quiet",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert (1, b"") == (await quiet.wait(), await quiet.stderr.read() if quiet.stderr else b"")


async def test_export_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    """`export` on a TTY shows a bar over the domains (a count over the history); on a pipe or
    with --quiet, nothing on stderr and the CSV whole on stdout."""
    daemon, _ = await make_daemon(tmp_path)
    await daemon.shutdown()
    config = tmp_path / "config.yaml"
    config.write_text(config_text(tmp_path, False))
    code, terminal = await stderr_through_pty("export", "-c", str(config), "--what", "domains")
    assert 0 == code
    assert b"%|" in terminal
    assert b"domain" in terminal
    code, counted = await stderr_through_pty("export", "-c", str(config), "--what", "history")
    assert (0, True) == (code, b"event" in counted)
    piped = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "domainwatch", "export", "-c", str(config), "--what", "domains",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await piped.communicate()
    assert (b"", 4) == (err, len(out.decode().splitlines()))  # the header and the three domains
    quiet_code, quiet = await stderr_through_pty("export", "-c", str(config), "--what", "domains", "--quiet")
    assert (0, b"") == (quiet_code, quiet)
