"""Confirmed orders per second, end to end: the resident's "确认" request in → the ticket and its
outbox row committed, on SQLite and on PostgreSQL.

`baishitong serve` (plaintext mode, in-process store, outbox worker off so only the order path is
measured) runs pinned to CPU 0 with an always-on-duty rota, so every order is routed. For each
resident the conversation up to the summary is sent first (not timed); then every resident's
"确认" is sent with a fixed number in flight from CPU 1, and the run checks that exactly one ticket
and one outbox row exist per order.

    python -m benchmarks.orders_bench [--orders 2000] [--concurrency 32] [--db sqlite postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import yaml
from sqlalchemy import text

from benchmarks.scratch_db import scratch_database
from benchmarks.webhook_bench import TOKEN, free_port, server, signed_query
from storage.db import Database

CLIENT_CPU = 1
ROTA = {
    "staff": [
        {"name": "赵磊", "wecom": "zhaolei", "grade": "A", "post": ["convenience"]},
        {"name": "李强", "wecom": "liqiang", "grade": "A"},
    ],
    "windows": {
        kind: {"label": "全天", "days": kind, "time": "00:00-23:59"}
        for kind in ("workdays", "weekend", "holidays")
    },
    "week": {
        day: {("weekend" if day in ("sat", "sun") else "workdays"): ["赵磊", "李强"]}
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    },
}
CONVERSATION = ("3栋楼道灯坏了", "王大爷", "13812345678", "阳光苑3栋2单元")


def xml(openid: str, content: str, msg_id: int) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


async def send_all(url: str, jobs: list[tuple[str, str]], concurrency: int, first_id: int) -> list[float]:
    """Send (openid, text) jobs, `concurrency` in flight; returns each latency in seconds."""
    latencies: list[float] = []
    queue = list(enumerate(jobs))
    query = signed_query()

    async def runner(session: aiohttp.ClientSession) -> None:
        while queue:
            n, (openid, content) = queue.pop()
            started = time.perf_counter()
            async with session.post(url, params=query, data=xml(openid, content, first_id + n)) as response:
                body = await response.text()
            latencies.append(time.perf_counter() - started)
            if response.status != 200 or ("工单号" not in body and content == "确认"):
                raise RuntimeError(f"unexpected answer {response.status}: {body[:300]}")

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(runner(session) for _ in range(concurrency)))
    return latencies


async def counts(url: str) -> tuple[int, int]:
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            tickets = (await connection.execute(text("SELECT count(*) FROM tickets"))).scalar()
            outbox = (await connection.execute(text("SELECT count(*) FROM outbox"))).scalar()
    finally:
        await database.close()
    return int(tickets or 0), int(outbox or 0)


def measure(database_url: str, orders: int, concurrency: int, workdir: Path) -> dict[str, float]:
    rota = workdir / "rota.yaml"
    rota.write_text(yaml.safe_dump(ROTA, allow_unicode=True), encoding="utf-8")
    env = {"DATABASE_URL": database_url, "WECHAT_TOKEN": TOKEN, "REDIS_URL": "", "WECHAT_AES_KEY": ""}
    subprocess.run(
        [sys.executable, "-m", "bot", "staff", "import", str(rota)],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    port = free_port()
    command = [sys.executable, "-m", "bot", "serve", "--port", str(port)]
    with server(
        command, {**env, "OUTBOX_WORKER": "off", "LOG_LEVEL": "WARNING"}, f"http://127.0.0.1:{port}/healthz"
    ):
        os.sched_setaffinity(0, {CLIENT_CPU})
        url = f"http://127.0.0.1:{port}/wechat"
        residents = [f"bench-{n}" for n in range(orders)]
        for step, content in enumerate(CONVERSATION):
            asyncio.run(
                send_all(url, [(r, content) for r in residents], concurrency, (step + 1) * 10_000_000)
            )
        started = time.perf_counter()
        latencies = asyncio.run(send_all(url, [(r, "确认") for r in residents], concurrency, 90_000_000))
        elapsed = time.perf_counter() - started
    tickets, outbox = asyncio.run(counts(database_url))
    if tickets != orders or outbox != orders:
        raise RuntimeError(f"{orders} orders gave {tickets} tickets and {outbox} outbox rows")
    latencies.sort()
    return {
        "per_second": orders / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"], choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    for kind in args.db:
        with scratch_database(kind) as (url, workdir):
            result = measure(url, args.orders, args.concurrency, workdir)
        print(
            f"{kind:<10} {result['per_second']:8,.0f} confirmed orders/s  "
            f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
            f"({args.orders} orders, {args.concurrency} in flight; one ticket + one outbox row each, checked)"
        )


if __name__ == "__main__":
    main()
