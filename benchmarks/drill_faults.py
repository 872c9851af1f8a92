"""Helpers for the fault drill's database, worker and log scenarios (benchmarks/fault_drill.py).

TcpProxy   a loopback TCP proxy the drill controls: forward, refuse (listening socket closed and
           existing connections dropped) or stall (connections accepted, nothing forwarded).
LineCount  a logging.Handler counting records only while a fault is on, and the seconds it was on.
pg_scratch a PostgreSQL database of the drill's own (bst_drill_<random>), dropped afterwards.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import time
import uuid

from sqlalchemy import text

from storage.db import Database

PG_ADMIN = os.environ.get("DRILL_PG_URL", "postgresql+asyncpg://root@127.0.0.1:5432/postgres")


class TcpProxy:
    def __init__(self, upstream_port: int, port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = port
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.flowing = asyncio.Event()
        self.flowing.set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

    async def refuse(self) -> None:
        """New connections are refused (nothing listens) and existing ones are dropped."""
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def stall(self) -> None:
        """Listening again, but nothing is forwarded either way until recover()."""
        self.flowing.clear()
        if self.server is None:
            await self.start()

    async def recover(self) -> None:
        if self.server is None:
            await self.start()
        self.flowing.set()

    async def close(self) -> None:
        await self.refuse()
        self.flowing.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            self.writers.discard(writer)
            return
        self.writers.add(up_writer)
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )
        for w in (writer, up_writer):
            self.writers.discard(w)
            w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                await self.flowing.wait()  # stalled: hold the bytes
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.transport.abort()


class LineCount(logging.Handler):
    """Counts log records (INFO and above, the access log aside) while `on`; times the outage."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: collections.Counter[str] = collections.Counter()
        self.messages: collections.Counter[str] = collections.Counter()
        self.seconds: collections.Counter[str] = collections.Counter()
        self.fault: str | None = None
        self._since = 0.0

    def begin(self, fault: str) -> None:
        if self.fault is None:
            self.fault, self._since = fault, time.monotonic()

    def end(self) -> None:
        if self.fault is not None:
            self.seconds[self.fault] += time.monotonic() - self._since
            self.fault = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.fault is None or record.name == "aiohttp.access":
            return
        self.records[self.fault] += 1
        self.messages[f"{self.fault}: {record.name}: {str(record.msg)[:70]}"] += 1

    def per_second(self, fault: str) -> float:
        return self.records[fault] / self.seconds[fault] if self.seconds[fault] else 0.0


@contextlib.asynccontextmanager
async def pg_scratch(proxy_port: int):  # type: ignore[no-untyped-def]
    """(name, URL through the proxy) of a new database; dropped on the way out."""
    name = f"bst_drill_{uuid.uuid4().hex[:8]}"
    admin = Database(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.engine.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        base = PG_ADMIN.rsplit("/", 1)[0].replace("127.0.0.1:5432", f"127.0.0.1:{proxy_port}")
        yield name, f"{base}/{name}"
    finally:
        async with admin.engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.close()
