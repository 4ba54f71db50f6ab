"""Reading /proc/net/tcp for the listener of a port (cli/ports.py), from sample text."""

from __future__ import annotations

from domainwatch.cli.ports import listening_inodes

TABLE = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:20EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 43210 1
   1: 0100007F:20EB 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 43211 1
   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1
"""


def test_only_listening_sockets_on_the_port_are_found() -> None:
    """Port 8427 is 0x20EB: the listener, not the established connection beside it."""
    assert {"socket:[43210]"} == listening_inodes(TABLE, 8427)
    assert {"socket:[555]"} == listening_inodes(TABLE, 80)
    assert set() == listening_inodes(TABLE, 25)
    assert set() == listening_inodes("header only\n", 8427)
