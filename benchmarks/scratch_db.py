"""A throwaway database for one benchmark run: a SQLite file in a temporary directory, or a new
PostgreSQL database (created on the server at BENCH_PG_URL's, dropped afterwards)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from storage.db import Database

PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://root@127.0.0.1:5432/test")


async def create_pg_database() -> tuple[str, str]:
    name = f"bst_bench_{uuid.uuid4().hex[:8]}"
    admin = Database(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.engine.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.close()
    return name, PG_ADMIN.rsplit("/", 1)[0] + "/" + name


async def drop_pg_database(name: str) -> None:
    admin = Database(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.close()


@contextmanager
def scratch_database(kind: str) -> Iterator[tuple[str, Path]]:
    """(database URL, a scratch directory) for `kind` "sqlite" or "postgresql"; removed afterwards."""
    with tempfile.TemporaryDirectory() as workdir:
        if kind == "sqlite":
            yield f"sqlite+aiosqlite:///{workdir}/bench.db", Path(workdir)
            return
        name, url = asyncio.run(create_pg_database())
        try:
            yield url, Path(workdir)
        finally:
            asyncio.run(drop_pg_database(name))
