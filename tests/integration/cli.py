"""Run the real `domainwatch` command in a subprocess without blocking the test's event loop."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Completed:
    code: int
    out: str
    err: str


async def run_cli(
    *args: str, deadline: float = 60, python_options: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> Completed:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *python_options,
        "-m",
        "domainwatch",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(), deadline)
    assert process.returncode is not None
    return Completed(process.returncode, out.decode(), err.decode())
