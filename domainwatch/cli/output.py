"""Standard output that is written whole, or fails loudly.

Why: after an event loop closes, the kernel may end the process's next blocking write early (the
loop's teardown leaves work for the task to do on its way back to user space, and a pipe or pty
write that has written something then returns a short count, as POSIX allows). Python's text
stdout, when unbuffered (`PYTHONUNBUFFERED=1`, which our image and many CI runners set), writes
each string once and drops what a short write left: `check | (sleep 2; wc -c)` received 65,536
bytes of a 395,733-byte report, with the usual exit code. A stdout left non-blocking by another
process sharing the terminal or pipe fails the same way with EAGAIN.

So the commands write through a raw writer that loops until every byte is out (waiting when the
descriptor is non-blocking), under a buffer flushed before the exit code is returned: a write
that still fails is an exit with a message, and a reader that went away (`| head`) ends the
command quietly with 141, as a process killed by SIGPIPE would.
"""

from __future__ import annotations

import contextlib
import io
import os
import select
import sys
from collections.abc import Iterator
from typing import Any

EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader left
EXIT_OUTPUT_FAILED = 74  # EX_IOERR (sysexits.h): the results could not be written


class CompleteWriter(io.RawIOBase):
    """A raw writer over a file descriptor whose `write` returns only when all of it is written."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        total = len(view)
        while view:
            try:
                written = os.write(self._fd, view)  # EINTR is retried by Python (PEP 475)
            except BlockingIOError:
                select.select([], [self._fd], [])  # non-blocking: wait until it can take more
                continue
            view = view[written:]
        return total


@contextlib.contextmanager
def complete_stdout() -> Iterator[None]:
    """sys.stdout as a buffered text stream over CompleteWriter, for the block; the original is
    put back after (left alone when it has no descriptor, as under a test's capture)."""
    original = sys.stdout
    try:
        fd = original.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    original.flush()
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(CompleteWriter(fd)),
        encoding=original.encoding,
        errors=original.errors,
        line_buffering=os.isatty(fd),
    )
    try:
        yield
    finally:
        replaced, sys.stdout = sys.stdout, original
        with contextlib.suppress(OSError, ValueError):
            replaced.detach()  # flushed by the caller; the descriptor stays open for `original`


def finish(code: int) -> int:
    """Flush what the command wrote; the exit code, or the one for a failed write."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return closed_pipe()
    except OSError as exc:
        print(f"domainwatch: writing the results failed: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_OUTPUT_FAILED
    return code


def closed_pipe() -> int:
    """The reader went away: nothing more to say, on stdout or stderr. What is still buffered
    goes to /dev/null, so the interpreter's own flush at exit has nothing to complain about."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return EXIT_CLOSED_PIPE
