"""A PostgreSQL server for the tests, started as Knot and Unbound are: Debian's `initdb` and
`postgres` (on PATH or under /usr/lib/postgresql/*/bin), a cluster in a temp dir, a free port on
127.0.0.1, stopped by its PID. PostgreSQL refuses to run as root: as root, the cluster's
directory is given to the unprivileged `nobody` and the server runs as that user. Skipped only
where the binaries are absent; a failure in CI, which installs them (scripts/install-test-deps.sh).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.daemons import free_port

UNPRIVILEGED = "nobody"


@dataclass(frozen=True)
class Postgres:
    port: int
    data_owner: int
    user: str = "domainwatch"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"


def binaries() -> Path:
    """The directory holding initdb and postgres; skipped (a failure in CI) when there is none."""
    on_path = shutil.which("postgres")
    candidates = [Path(on_path).parent] if on_path else []
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True
    )
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "postgres").exists():
            return directory
    if os.environ.get("CI"):
        pytest.fail("PostgreSQL is not installed; `make test` installs Debian's postgresql as root")
    pytest.skip("PostgreSQL is not installed (Debian package postgresql)")


def _as_owner(command: list[str]) -> list[str]:
    """The command as the cluster's owner: `nobody` when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--reuid", UNPRIVILEGED, "--regid", "nogroup", "--clear-groups", "--", *command]


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A fresh cluster in a temp dir of its own, serving until the block ends; stopped by its
    PID, its files removed. (Not under pytest's tmp_path: that is root's alone, and the server
    runs as `nobody` when we are root.)"""
    bin_dir = binaries()
    directory = Path(tempfile.mkdtemp(prefix="domainwatch-postgres-"))
    try:
        with _cluster(bin_dir, directory) as server:
            yield server
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def _cluster(bin_dir: Path, directory: Path) -> Iterator[Postgres]:
    server = Restartable(bin_dir, directory)
    try:
        server.start()
        yield Postgres(server.port, (directory / "data").stat().st_uid)
    finally:
        server.stop()


class Restartable:
    """A cluster that can be stopped and started again on the same port and data (the HA test
    restarts PostgreSQL under load)."""

    def __init__(self, bin_dir: Path, directory: Path) -> None:
        self.bin_dir, self.directory = bin_dir, directory
        data, sockets = directory / "data", directory / "sockets"
        sockets.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(directory, UNPRIVILEGED)
            shutil.chown(sockets, UNPRIVILEGED)
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "domainwatch", "--auth=trust", "-E", "UTF8"]
        subprocess.run(
            _as_owner([*initdb, "--no-instructions"]), check=True, capture_output=True, cwd=directory
        )
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return Postgres(self.port, 0).url

    def start(self) -> None:
        log = (self.directory / "postgres.log").open("ab")
        # fsync off: a test cluster's durability is the test's lifetime.
        settings = ["listen_addresses=127.0.0.1", "fsync=off", "full_page_writes=off", "max_connections=200"]
        data, sockets = self.directory / "data", self.directory / "sockets"
        command = [str(self.bin_dir / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(sockets)]
        command += [arg for setting in settings for arg in ("-c", setting)]
        self.process = subprocess.Popen(_as_owner(command), stdout=log, stderr=log, cwd=self.directory)
        log.close()
        _wait_ready(self.port, self.process, time.monotonic() + 30)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(signal.SIGINT)  # "fast" shutdown: disconnect clients, stop cleanly
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextmanager
def restartable_postgres() -> Iterator[Restartable]:
    bin_dir = binaries()
    directory = Path(tempfile.mkdtemp(prefix="domainwatch-postgres-"))
    try:
        server = Restartable(bin_dir, directory)
        try:
            server.start()
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _wait_ready(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with {process.returncode}; see postgres.log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("postgres did not accept connections within 30 s")
