"""The locked install: uv.lock is what every install reads, a changed lock reinstalls, and a
lock that no longer matches pyproject.toml fails `make lint` naming the lock file."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"


def copy_project(tmp_path: Path) -> Path:
    for name in ("pyproject.toml", "uv.lock", "README.md", "hatch_build.py", "domainwatch/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def uv_check(project: Path) -> subprocess.CompletedProcess[str]:
    """uv's own staleness check, offline (from the cache the install filled)."""
    return subprocess.run(
        [UV, "lock", "--check", "--offline"], cwd=project, capture_output=True, text=True, check=False
    )


def test_the_lock_matches_pyproject(tmp_path: Path) -> None:
    """uv's own staleness check passes on the lock as committed (offline: from uv's cache)."""
    checked = uv_check(copy_project(tmp_path))
    assert 0 == checked.returncode, checked.stderr


def test_a_stale_lock_fails_naming_the_lock_file(tmp_path: Path) -> None:
    """A requirement changed in pyproject.toml and not locked: the check fails, naming uv.lock."""
    project = copy_project(tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"pyyaml>=6,<7"', '"pyyaml>=6.0.1,<7"'))
    checked = uv_check(project)
    assert 0 != checked.returncode
    assert "uv.lock" in checked.stderr
    lint = subprocess.run(["make", "-n", "lint"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "lock --check" in lint.stdout  # `make lint` runs that very check first


def test_a_changed_lock_reinstalls() -> None:
    """The install stamp depends on uv.lock: with it newer, make would install again, from it."""
    planned = subprocess.run(
        ["make", "-n", "-W", "uv.lock", ".venv/.installed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "sync --frozen" in planned.stdout
    assert "--require-hashes" in planned.stdout


def test_the_bootstrap_requirement_carries_every_hash_the_lock_has() -> None:
    """The uv that installs everything else is pinned by the lock itself, with its hashes."""
    printed = subprocess.run(
        [sys.executable, ROOT / "scripts" / "lock_requirement.py", "uv"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (uv,) = [p for p in lock["package"] if p["name"] == "uv"]
    hashes = {f["hash"] for f in [uv["sdist"], *uv["wheels"]]}
    assert printed.startswith(f"uv=={uv['version']} ")
    assert hashes == {word.removeprefix("--hash=") for word in printed.split()[1:]}
