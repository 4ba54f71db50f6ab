"""Compile the hot modules (domainwatch/runtime/native.py) with mypyc, in place, or remove them.

    python scripts/compile.py          # the extensions next to their sources: imported first
    python scripts/compile.py --clean  # back to the pure-Python modules

`make test` runs every tier compiled, then the unit tier interpreted (scripts/test-tiers.sh).
Without mypyc or a C compiler it says so and leaves the modules pure Python.
"""

from __future__ import annotations

import argparse
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hatch_build import build_extensions, modules, why_not  # noqa: E402


def built(names: tuple[str, ...]) -> list[Path]:
    """The extension files of `names` (and their mypyc runtime libraries) in the source tree."""
    found: list[Path] = []
    for name in names:
        directory, stem = (ROOT / name.replace(".", "/")).parent, name.rpartition(".")[2]
        for suffix in EXTENSION_SUFFIXES:
            found += [
                p for p in (directory / f"{stem}{suffix}", directory / f"{stem}__mypyc{suffix}") if p.exists()
            ]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clean", action="store_true", help="remove the compiled modules")
    args = parser.parse_args()
    names = modules()
    for path in built(names):
        path.unlink()
    if args.clean:
        return 0
    reason = why_not()
    if reason is not None:
        print(f"compile: not compiled, {reason}: the modules stay pure Python")
        return 0
    outputs = build_extensions(names, None)
    print(f"compile: {len(names)} modules compiled with mypyc ({len(outputs)} extension files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
