"""Print one package of uv.lock as a pip requirement with every file hash the lock lists.

The Makefile and the Dockerfile bootstrap the lock tool from the lock itself:
    python3 scripts/lock_requirement.py uv > req.txt && pip install --require-hashes --no-deps -r req.txt
so the uv that installs everything else is the one `make lock` recorded, checked by hash. Standard
library only: it runs before anything is installed.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path


def requirement(lock_text: str, name: str) -> str:
    """`name==version --hash=sha256:...` for every sdist and wheel the lock records for `name`."""
    lock = tomllib.loads(lock_text)
    for package in lock.get("package", []):
        if package.get("name") == name and "version" in package:
            files = [package["sdist"]] if "sdist" in package else []
            files += package.get("wheels", [])
            hashes = " ".join(f"--hash={file['hash']}" for file in files)
            return f"{name}=={package['version']} {hashes}"
    raise SystemExit(f"uv.lock: no locked package named {name!r}")


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: lock_requirement.py PACKAGE")
    lock_path = Path(__file__).resolve().parent.parent / "uv.lock"
    print(requirement(lock_path.read_text(encoding="utf-8"), sys.argv[1]))


if __name__ == "__main__":
    main()
