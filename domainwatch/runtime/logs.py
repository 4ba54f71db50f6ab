"""structlog set-up: JSON lines for machines, console lines for people (coloured only on a
terminal: escape codes in a log file are noise), on stderr. Libraries' standard-library
logging (aiohttp, the MCP SDK) goes through the same renderer, at warning and above: their
info lines would repeat ours, and a library's own handler (the MCP SDK installs one when none
is set) would mix another format into the stream."""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.tracebacks import ExceptionDictTransformer


def configure_logging(fmt: str = "console", level: str = "info") -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    # A JSON line carries its exception's traceback as data (the console renderer prints it).
    # No local variables: they may hold secrets (a token, a store URL's password).
    as_data = structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))
    tracebacks: list[structlog.types.Processor] = [as_data] if fmt == "json" else []
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, structlog.processors.add_log_level, stamp],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            stamp,
            *tracebacks,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
