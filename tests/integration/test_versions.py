"""Versions come from git tags (hatch-vcs): a tagged tree, an untagged one, one without .git,
and a build told its version (the Dockerfile's build argument); each a PEP 440 version."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

from domainwatch import __version__, revision

ROOT = Path(__file__).resolve().parents[2]
HATCHLING = Path(sys.executable).parent / "hatchling"


def tree(tmp_path: Path, *, git: bool) -> Path:
    """The files a build reads, in a repository of their own (one commit) or none."""
    for name in ("pyproject.toml", "README.md", "hatch_build.py", "domainwatch/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    if git:
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
        for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "one"]):
            subprocess.run(["git", *args], cwd=tmp_path, check=True, env=env)
    return tmp_path


def version(where: Path, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "SETUPTOOLS_SCM_PRETEND_VERSION"}
    shown = subprocess.run([HATCHLING, "version"], cwd=where, env={**environ, **env},
                           capture_output=True, text=True, check=True)  # fmt: skip
    text = shown.stdout.strip()
    Version(text)  # PEP 440, or InvalidVersion
    return text


def test_a_tagged_tree_is_its_tag(tmp_path: Path) -> None:
    where = tree(tmp_path, git=True)
    subprocess.run(["git", "tag", "v0.2.0"], cwd=where, check=True)
    assert "0.2.0" == version(where)


def test_an_untagged_tree_is_a_development_version(tmp_path: Path) -> None:
    parsed = Version(version(tree(tmp_path, git=True)))
    assert parsed.is_devrelease
    assert parsed.local is not None


def test_a_tree_without_git_is_unknown(tmp_path: Path) -> None:
    assert "0.0.0+unknown" == version(tree(tmp_path, git=False))


@pytest.mark.parametrize("git", [True, False])
def test_the_build_argument_decides(tmp_path: Path, git: bool) -> None:
    assert "1.2.3" == version(tree(tmp_path, git=git), SETUPTOOLS_SCM_PRETEND_VERSION="1.2.3")


def test_the_cli_and_the_build_info_say_the_installed_version() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "domainwatch", "--version"], capture_output=True, text=True, check=True
    )
    # The version file as it is now (an editable install rewrites it when it is built again).
    built = importlib.reload(importlib.import_module("domainwatch._version")).version
    assert f"domainwatch {built}" == shown.stdout.strip()
    Version(__version__)
    if not os.environ.get("DOMAINWATCH_REVISION"):  # the image's build argument wins
        assert "1a2b3c4d" == revision("0.2.1.dev3+g1a2b3c4d")
        assert "unknown" == revision("0.2.0")


def test_make_release_produces_the_artefacts_and_their_sums(tmp_path: Path) -> None:
    """Wheel and sdist (twine-checked), the SBOM of the locked runtime, SHA-256 sums that verify."""
    dist = tmp_path / "dist"
    release = ["make", "--no-print-directory", "release", f"DIST={dist}", "IMAGE=0"]
    subprocess.run(release, cwd=ROOT, check=True, capture_output=True, text=True)
    names = sorted(p.name for p in dist.iterdir())
    assert 4 == len(names), names
    assert names[0] == "SHA256SUMS"
    assert [n for n in names if n.endswith(".whl")]
    assert [n for n in names if n.endswith(".tar.gz")]
    sbom = next(dist.glob("*.cdx.json"))
    components = {c["name"] for c in json.loads(sbom.read_text())["components"]}
    assert {"dnspython", "aiohttp", "cryptography"} <= components
    assert "pytest" not in components  # the runtime's, not the developers'
    subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=dist, check=True)
