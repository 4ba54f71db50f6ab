"""Operating the daemon (issue #34): `domainwatch store backup|restore|check` against a running
daemon's store, and a config file reloaded when its content changes.

Backup and restore:
the backup of a live store restores into a new daemon's place with the same statuses, history
and pending deliveries, which are then sent with their ids; a restore is refused while a daemon
holds the store, and so is a second daemon."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from domainwatch.testing import DnsTestServer
from tests.integration.api_daemon import ApiDaemon, started, write_config
from tests.integration.cli import run_cli
from tests.integration.daemons import free_port
from tests.integration.receiver import Receiver, new_secret
from tests.integration.test_domains_lifecycle import document, provider, publish_answer

NAME = "backup.example.org"


def statuses(store: Path) -> tuple[dict[str, str], list[tuple[str, int]], list[str]]:
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        domains = dict(db.execute("SELECT name, status FROM domains ORDER BY name").fetchall())
        history = db.execute("SELECT domain, sequence FROM history ORDER BY domain, sequence").fetchall()
        pending = [
            row[0]
            for row in db.execute("SELECT event_id FROM deliveries WHERE state = 'pending' ORDER BY event_id")
        ]
    finally:
        db.close()
    return domains, history, pending


async def test_backup_of_a_running_daemon_restores_with_everything(
    tmp_path: Path, dns_server: DnsTestServer
) -> None:
    provider(dns_server)
    receiver = await Receiver([new_secret()]).start()
    receiver.fail(503, times=1000)  # every delivery stays pending
    daemon = await started(tmp_path, dns_server, receiver)
    try:
        created = await daemon.call("POST", "/api/v1/domains", {**document(NAME), "verify": True})
        assert 201 == created.status, created.body
        publish_answer(dns_server, created.body)
        await daemon.status(NAME, "verified")
        running = str(daemon.config)
        backup = tmp_path / "backup.db"
        saved = await run_cli("store", "backup", "-c", running, str(backup))
        assert 0 == saved.code, saved.err
        again = await run_cli("store", "backup", "-c", running, str(backup))
        assert 2 == again.code  # never over an existing file
        refused = await run_cli("store", "restore", "-c", running, str(backup))
        assert (2, True) == (refused.code, "holds this store" in refused.err)
        second = await run_cli("run", "-c", running, deadline=30)
        assert (2, True) == (second.code, "holds this store" in second.err)
    finally:
        await daemon.stop()
    before = statuses(backup)
    assert before[2], "no pending delivery to carry over"
    # A new place: its own config and store, restored from the backup, then a daemon on it.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = elsewhere / "config.yaml"
    write_config(config, dns_server, free_port(), receiver)
    checked = await run_cli("store", "check", "-c", str(config))
    assert 2 == checked.code  # no store there yet
    restored = await run_cli("store", "restore", "-c", str(config), str(backup))
    assert 0 == restored.code, restored.err
    checked = await run_cli("store", "check", "-c", str(config))
    assert 0 == checked.code, checked.out + checked.err
    assert "integrity ok; schema" in checked.out
    assert before == statuses(elsewhere / "state.db")
    receiver.script.clear()
    port = free_port()
    write_config(config, dns_server, port, receiver)
    revived = await ApiDaemon(config, port).start()
    try:
        await revived.until(lambda: _delivered(receiver, before[2]), within=30)
    finally:
        await revived.stop()
        await receiver.stop()


async def _delivered(receiver: Receiver, ids: list[str]) -> bool:
    return set(ids) <= set(receiver.ids())


async def test_check_reports_a_damaged_or_foreign_file(tmp_path: Path, dns_server: DnsTestServer) -> None:
    config = tmp_path / "config.yaml"
    write_config(config, dns_server, free_port(), None)
    (tmp_path / "state.db").write_bytes(b"this is not a database" * 100)
    damaged = await run_cli("store", "check", "-c", str(config))
    assert 1 == damaged.code
    assert "not a SQLite database" in damaged.out
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    refused = await run_cli("store", "restore", "-c", str(config), str(foreign))
    assert (2, True) == (refused.code, "not a domainwatch store" in refused.err)


async def test_a_config_file_changed_on_disk_is_reloaded_and_a_broken_one_kept_out(
    tmp_path: Path, dns_server: DnsTestServer
) -> None:
    """Issue #34, item 4: `reload.watch_interval`, as a directory-mounted ConfigMap needs."""
    provider(dns_server)
    daemon = await started(tmp_path, dns_server, None, extra="reload: {watch_interval: 1s}\n")
    try:
        text = daemon.config.read_text()
        added = text + "  - name: added.example.com\n    sending: {spf: {include: [provider.example.net]}}\n"
        daemon.config.write_text(added)

        async def listed() -> bool:
            return 200 == (await daemon.call("GET", "/api/v1/domains/added.example.com")).status

        await daemon.until(listed, within=10)
        daemon.config.write_text(added + "  - name: [broken\n")
        await asyncio.sleep(2.5)
        assert await listed()  # the running config stays
        assert 200 == (await daemon.call("GET", "/livez")).status
    finally:
        log = await daemon.stop()
    assert "config_reload_failed" in log
