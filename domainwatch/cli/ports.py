"""Is a listen address free, and if not, who holds it: for `domainwatch demo`, which must say so
before it prints a URL that would lead to someone else's server.

The holder is read from Linux's /proc (the listening socket's inode in /proc/net/tcp*, then the
process with a descriptor on it); elsewhere, or without the right to look, only "in use" is said.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

_LISTEN = "0A"  # the TCP state LISTEN in /proc/net/tcp


def in_use(host: str, port: int) -> str | None:
    """None when `host:port` can be bound now; else why not, naming the holder when known:
    `127.0.0.1:8427 is in use (pid 1234, python3)`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will bind it
        try:
            probe.bind((host, port))
        except OSError as exc:
            where = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
            holder = listener_of(port)
            if holder is not None:
                return f"{where} is in use (pid {holder[0]}, {holder[1]})"
            return f"{where} is in use" if exc.errno == 98 else f"{where}: {exc.strerror}"
    return None


def listener_of(port: int, proc: Path = Path("/proc")) -> tuple[int, str] | None:
    """(pid, command name) of a process listening on TCP `port`, if /proc tells."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            inodes |= listening_inodes((proc / "net" / table).read_text(), port)
    if not inodes:
        return None
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (pid_dir / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(pid_dir.name), (pid_dir / "comm").read_text().strip()
    return None


def listening_inodes(table: str, port: int) -> set[str]:
    """`socket:[inode]` of each socket listening on `port` in a /proc/net/tcp table (pure)."""
    found = set()
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != _LISTEN:
            continue
        _, _, local_port = fields[1].rpartition(":")
        if int(local_port, 16) == port:
            found.add(f"socket:[{fields[9]}]")
    return found
