"""The wheel's build hook: the modules domainwatch/runtime/native.py names, compiled with mypyc.

`make release` (uv build) runs it for the wheel, which is then a platform wheel; the sdist and
the editable install stay pure Python. DOMAINWATCH_COMPILE=1 makes a build that cannot compile
(no mypyc, no C compiler) an error, as `make release` sets it; DOMAINWATCH_COMPILE=0 never
compiles; unset, a build that cannot compile makes the pure-Python wheel and says so.
scripts/compile.py compiles the same modules in place, for the compiled test tier.
"""

from __future__ import annotations

import ast
import contextlib
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ROOT = Path(__file__).resolve().parent
NATIVE = ROOT / "domainwatch" / "runtime" / "native.py"


def modules() -> tuple[str, ...]:
    """MODULES of native.py, read without importing the package (the build may lack its deps)."""
    for node in ast.parse(NATIVE.read_text()).body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "MODULES":
            assert node.value is not None
            return tuple(ast.literal_eval(node.value))
    raise RuntimeError(f"{NATIVE}: no MODULES")


def why_not() -> str | None:
    """Why this machine cannot compile (None when it can)."""
    try:
        import mypyc.build  # noqa: F401, PLC0415
        import setuptools  # noqa: F401, PLC0415
    except ImportError as exc:
        return f"mypyc is not installed ({exc.name})"
    if not any(shutil.which(cc) for cc in (os.environ.get("CC", "cc"), "cc", "gcc", "clang")):
        return "no C compiler"
    return None


def build_extensions(names: tuple[str, ...], out: Path | None) -> list[Path]:
    """Compile `names` with mypyc: the extension files, in `out` (a tree like the package's), or
    next to their sources when `out` is None."""
    from mypyc.build import mypycify  # noqa: PLC0415
    from setuptools import Distribution  # noqa: PLC0415

    sources = [name.replace(".", "/") + ".py" for name in names]
    with (
        tempfile.TemporaryDirectory(prefix="domainwatch-mypyc-") as work,
        contextlib.chdir(ROOT),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")  # setuptools' advice against running setup.py: not ours
        extensions = mypycify(sources, opt_level="3", separate=True, target_dir=f"{work}/c")
        distribution = Distribution({"name": "domainwatch", "ext_modules": extensions})
        command = distribution.get_command_obj("build_ext")
        command.inplace = out is None
        command.build_lib = str(out or f"{work}/lib")
        command.build_temp = f"{work}/temp"
        command.ensure_finalized()
        command.run()
        return [Path(command.get_ext_fullpath(e.name)).resolve() for e in command.extensions]


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        wanted = os.environ.get("DOMAINWATCH_COMPILE", "")
        if self.target_name != "wheel" or version == "editable" or wanted == "0":
            return
        reason = why_not()
        if reason is not None:
            if wanted == "1":
                raise RuntimeError(f"DOMAINWATCH_COMPILE=1, but {reason}")
            print(f"domainwatch: a pure-Python wheel: {reason}", file=sys.stderr)
            return
        self._out = Path(tempfile.mkdtemp(prefix="domainwatch-wheel-"))
        for path in build_extensions(modules(), self._out):
            build_data["force_include"][str(path)] = str(path.relative_to(self._out))
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        out = getattr(self, "_out", None)
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
