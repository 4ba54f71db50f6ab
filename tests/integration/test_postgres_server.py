"""The tests' PostgreSQL (tests/integration/postgres.py): a cluster of its own on a free port,
owned by an unprivileged user, answering SQL, and stopped by its PID."""

from __future__ import annotations

import asyncio
import os
import socket

import psycopg

from tests.integration.postgres import postgres_server


async def test_a_cluster_of_its_own_answers_and_stops() -> None:
    with postgres_server() as server:
        connection = None
        for _ in range(100):  # accepting TCP comes a moment before accepting logins
            try:
                connection = await psycopg.AsyncConnection.connect(server.url, autocommit=True)
                break
            except psycopg.OperationalError:
                await asyncio.sleep(0.1)
        assert connection is not None
        async with connection:
            await connection.execute("CREATE TABLE t (n integer)")
            await connection.execute("INSERT INTO t VALUES (1), (2)")
            row = await (await connection.execute("SELECT sum(n), current_setting('port') FROM t")).fetchone()
            assert (3, str(server.port)) == row
            owner = await (await connection.execute("SELECT pg_stat_file('PG_VERSION')")).fetchone()
            assert owner is not None
        assert server.data_owner == (65534 if os.geteuid() == 0 else os.geteuid())
    with socket.socket() as probe:
        assert 0 != probe.connect_ex(("127.0.0.1", server.port))  # stopped
