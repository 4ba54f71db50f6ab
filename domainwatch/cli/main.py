"""The `domainwatch` entry point: parse the command line, set the process up once, and run the
command's module, imported only now (each imports what it uses: `spf-eval` never loads the
web server, and `--help` loads no command at all).

Exit codes: 0 fine, 1 records need attention, 2 usage or configuration error, 74 the results
could not be written, 141 the reader of the output went away (`| head`).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import cast

from domainwatch.cli import output
from domainwatch.cli.parser import build_parser

# command -> (module under domainwatch.cli, function taking the parsed arguments)
COMMANDS = {
    "check": ("check", "run_check"),
    "inspect": ("check", "run_inspect"),
    "config": ("check", "run_validate"),
    "run": ("run", "run"),
    "status": ("status", "run_status"),
    "export": ("status", "run_export"),
    "webhooks": ("webhooks", "run"),
    "store": ("store", "run"),
    "spf-eval": ("spf", "run"),
    "domains": ("domains", "run"),
    "mcp": ("mcp", "run"),
    "demo": ("demo", "run"),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo" and args.time_scale <= 0:
        print("domainwatch: --time-scale must be positive", file=sys.stderr)
        return 2
    from domainwatch.runtime import process  # noqa: PLC0415 (after parsing: --help needs none of it)

    process.set_up(args.log_format, args.log_level or ("info" if args.command == "run" else "warning"))
    module, function = COMMANDS[args.command]
    command = cast(
        Callable[..., int], getattr(importlib.import_module(f"domainwatch.cli.{module}"), function)
    )
    with output.complete_stdout():
        try:
            code = command(args)
        except KeyboardInterrupt:
            code = 130
        except BrokenPipeError:  # `domainwatch check ... | head`: the reader has what it wanted
            return output.closed_pipe()
        return output.finish(code)
