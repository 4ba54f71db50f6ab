"""Reloading when the config file's content changes (daemon/watch.py)."""

from __future__ import annotations

import os
from pathlib import Path

from domainwatch.daemon.watch import ConfigWatch


def watch(path: Path, reloads: list[int]) -> ConfigWatch:
    async def reload() -> None:
        reloads.append(1)

    return ConfigWatch(str(path), lambda: 1.0, reload)


async def test_a_changed_content_reloads_once(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("domains: []\n")
    reloads: list[int] = []
    watcher = watch(config, reloads)
    assert not await watcher.look()
    config.write_text("domains: [] # changed\n")
    assert await watcher.look()
    assert not await watcher.look()
    assert [1] == reloads


async def test_the_same_content_written_again_does_not_reload(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("domains: []\n")
    reloads: list[int] = []
    watcher = watch(config, reloads)
    config.write_text("domains: []\n")
    os.utime(config, ns=(1, 1))
    assert not await watcher.look()
    assert [] == reloads


async def test_a_configmap_style_symlink_swap_is_seen(tmp_path: Path) -> None:
    """Kubernetes updates a directory-mounted ConfigMap by pointing a symlink at a new folder."""
    old, new = tmp_path / "..2026_01", tmp_path / "..2026_02"
    old.mkdir()
    new.mkdir()
    (old / "config.yaml").write_text("domains: []\n")
    (new / "config.yaml").write_text("domains: [] # new\n")
    data = tmp_path / "..data"
    data.symlink_to(old.name)
    config = tmp_path / "config.yaml"
    config.symlink_to("..data/config.yaml")
    reloads: list[int] = []
    watcher = watch(config, reloads)
    swap = tmp_path / "..data_tmp"
    swap.symlink_to(new.name)
    swap.replace(data)
    assert await watcher.look()
    assert [1] == reloads


async def test_a_file_gone_for_a_moment_is_no_change(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("domains: []\n")
    reloads: list[int] = []
    watcher = watch(config, reloads)
    config.unlink()
    assert not await watcher.look()
    config.write_text("domains: []\n")
    assert not await watcher.look()
    assert [] == reloads
