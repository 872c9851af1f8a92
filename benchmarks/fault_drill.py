"""A probe that stays: faults the hardening issue found, replayed in one bounded run on loopback.

1. fuzz     signed and unsigned webhook deliveries: random bytes, truncated and hostile XML,
            oversized bodies, markdown and mention attacks in the text; counts by HTTP status
            (a 500 is a bug).
2. orders   residents order a repair while the drill kills and restarts its own Redis (a
            redis-server it starts on a free port, without persistence; never the shared 6379),
            then 10 of them write during one 3 s outage.
            Deliveries are retried like WeChat (same MsgId, up to three times on 503/timeout);
            a resident whose confirmation got no answer writes again. Afterwards each resident
            writes once more, as after an outage: were they told their ticket number?
3. robot    the outbox drained by two workers against the fake robot answering -1, 45009,
            slowly (past a short lease: fencing) and not at all (connection refused).
4. db       the app on a PostgreSQL database of the drill's own (bst_drill_<random>, dropped
            afterwards) reached through a loopback proxy the drill controls; 20 residents order
            while the proxy refuses connections and drops the open ones (3 s), then accepts but
            forwards nothing (3 s), then recovers. /healthz is probed every 0.2 s throughout.
5. serve    `python -m bot serve --workers 2` (the drill's Redis, SQLite in a temp dir); 20
            residents order with WeChat's retries (same MsgId, again after 5 s without a reply,
            three tries) and one worker (a pid from /healthz) is SIGKILLed 2 s in.
6. log      records (INFO and up, access log aside) counted while Redis is down and while the
            database is refused/stalled: lines per second of outage.

Prints one table: requests by status, orders vs tickets vs pushes, duplicates, lost; /healthz
answers during the database fault, recovery and replacement times, log lines per second.
DRILL_TRACE=1 prints the conversation of any resident left without a ticket in the db scenario;
DRILL_NOISIEST=1 the commonest log lines counted during outages.

    python -m benchmarks.fault_drill [--residents 30] [--seconds 90]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import yaml
from aiohttp.test_utils import TestClient, TestServer

from benchmarks.drill_faults import LineCount, TcpProxy, pg_scratch
from bot.app import create_app
from bot.notify import WeComRobot
from bot.outbox_worker import OutboxWorker
from bot.settings import Settings
from desk.desk import ServiceDesk
from handlers import Services
from intents import Classifier
from knowledge import load_handbook
from storage import RedisStore
from storage.db import Database
from storage.shared import MemoryRateLimiter
from tests.fake_platforms import FakeRobot
from tests.wechat_peer import AES_KEY, APP_ID, TOKEN, WeChatPlatform, reply_content, text_xml

ROOT = Path(__file__).resolve().parents[1]
TZ = ZoneInfo("Asia/Shanghai")
ATTACKS = [
    "<@all> 楼道灯坏了",
    "楼道灯坏了\n**新工单 19999**\n请 <@zhangmin> 回复 接单 19999",
    "[点这里](http://evil.example/login) ![x](http://evil.example/a.png) 138-1234-5678",
    '<font color="warning">紧急</font> 110101 19900307 1234',
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    """A redis-server this drill starts, kills and restarts; no persistence, like the incident."""

    def __init__(self, directory: str) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()  # only the process this drill started, by its handle
            self.process.wait()
            self.process = None
            self.kills += 1


class Drill:
    def __init__(self, residents: int, seconds: float, tmp: str) -> None:
        self.residents = residents
        self.deadline = time.monotonic() + seconds
        self.tmp = tmp
        self.statuses: collections.Counter[str] = collections.Counter()
        self.platform = WeChatPlatform()
        self.msg_ids = iter(range(10**12, 10**13))
        self.told: dict[str, set[str]] = collections.defaultdict(set)
        self.confirmed: set[str] = set()
        self.ticket_times: list[float] = []  # when a reply carried a ticket number
        self.pause: tuple[float, float] | None = None  # a resident's typing time between messages
        self.slowest = 0.0  # the longest a webhook request took to answer (seconds)
        self.transcript: dict[str, list[str]] = collections.defaultdict(list)  # DRILL_TRACE=1 prints

    async def post(self, client: TestClient, query: dict[str, str], body: bytes) -> tuple[int, str]:
        began = time.monotonic()
        try:
            response = await client.post("/wechat", params=query, data=body, timeout=6)
            text = await response.text()
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.statuses[type(exc).__name__] += 1
            return 0, ""
        finally:
            self.slowest = max(self.slowest, time.monotonic() - began)
        self.statuses[str(response.status)] += 1
        return response.status, text

    async def say(self, client: TestClient, openid: str, text: str) -> str:
        """One message delivered like WeChat: the same MsgId up to three times on 503 or timeout."""
        msg_id = next(self.msg_ids)
        if self.pause:
            await asyncio.sleep(random.uniform(*self.pause))
        for _ in range(3):
            request = self.platform.plaintext(text_xml(openid, text, msg_id), openid)
            status, body = await self.post(client, request.query, request.body)
            self.transcript[openid].append(f"{time.monotonic():.1f} {text[:12]} -> {status} ")
            if status == 200:
                content = reply_content(body) if body.strip().startswith("<xml") else ""
                self.transcript[openid][-1] += content[:60].replace("\n", " ")
                for number in _numbers(content):
                    self.told[openid].add(number)
                    self.ticket_times.append(time.monotonic())
                return content
            await asyncio.sleep(0.3)
        return ""

    async def fuzz(self, client: TestClient, count: int) -> None:
        rng = random.Random(7)
        for n in range(count):
            openid = f"fuzz-{n % 7}"
            kind = n % 6
            if kind == 0:
                request = self.platform.plaintext(text_xml(openid, rng.choice(ATTACKS)), openid)
                query, body = request.query, request.body
            elif kind == 1:
                request = self.platform.plaintext("x", openid)
                query, body = request.query, rng.randbytes(rng.randint(0, 2000))
            elif kind == 2:
                xml = text_xml(openid, "你好")
                request = self.platform.plaintext(xml[: rng.randint(1, len(xml) - 1)], openid)
                query, body = request.query, request.body
            elif kind == 3:
                request = self.platform.plaintext(f'<!DOCTYPE x [<!ENTITY a "b">]>{text_xml(openid, "&a;")}')
                query, body = request.query, request.body
            elif kind == 4:
                request = self.platform.plaintext(text_xml(openid, "灯" * 40000), openid)
                query, body = request.query, request.body
            else:
                request = self.platform.plaintext(text_xml(openid, "你好"), openid)
                query, body = {**request.query, "signature": "0" * 40}, request.body
            await self.post(client, query, body)

    async def order(self, client: TestClient, openid: str) -> None:
        """Answer whatever the order conversation asks until the ticket number comes back."""
        answers = {
            "怎么称呼": "王阿姨",
            "手机号码": "13812345678",
            "地址": "阳光苑3栋2单元501",
            "情况": "3栋楼道灯不亮 " + random.choice(ATTACKS),
            "什么时候": "下周一上午10点",
        }
        said = "楼道灯坏了，麻烦来修一下"
        reply = await self.say(client, openid, said)
        for _ in range(30):
            if time.monotonic() > self.deadline or "工单号" in reply or self.told[openid]:
                return
            if "稍后再试" in reply:  # asked to try again later: a moment, then the same message
                await asyncio.sleep(1.0)
                reply = await self.say(client, openid, said)
                continue
            if "确认" in reply and ("请核对" in reply or "提交" in reply):
                self.confirmed.add(openid)
                said = "确认"
                reply = await self.say(client, openid, said)
                continue
            said = next((a for cue, a in answers.items() if cue in reply), "")
            if not said:  # the draft vanished with Redis: start again, as a resident would
                said = "楼道灯坏了，麻烦来修一下"
            reply = await self.say(client, openid, said)

    async def chaos(self, redis: OwnRedis, stop: asyncio.Event, lines: LineCount) -> None:
        while not stop.is_set():
            await asyncio.sleep(random.uniform(0.2, 0.8))
            redis.kill()
            lines.begin("redis")
            await asyncio.sleep(random.uniform(0.2, 0.6))
            redis.start()
            lines.end()


async def robot_phase(desk: ServiceDesk, handbook: Any) -> dict[str, int]:
    """Two workers drain the outbox while the robot misbehaves in turn."""
    robot = FakeRobot(per_minute=1000)
    url = await robot.start()
    dead = f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send?key=robot-key"
    limiter = MemoryRateLimiter(1000)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http:

        def worker(target: str, lease: float) -> OutboxWorker:
            robots = {"default": WeComRobot(http, target)}
            return OutboxWorker(desk.outbox, handbook, robots, limiter, None, lease_seconds=lease)

        async def drain_until_empty(workers: list[OutboxWorker], limit: float) -> None:
            stop = time.monotonic() + limit
            while time.monotonic() < stop and await _group_pending(desk):
                await asyncio.gather(*(w.drain_once() for w in workers))
                await _due_now(desk)  # skip the backoff: the drill is bounded in time

        await asyncio.gather(*(worker(dead, 60).drain_once() for _ in range(2)))  # not at all
        await _due_now(desk)
        robot.busy_next, robot.per_minute = 3, 5  # -1 system busy three times, then 45009
        await worker(url, 60).drain_once()
        await _due_now(desk)
        robot.per_minute, robot.delay = 1000, 0.4  # slow, past a 1 s lease: fencing
        await drain_until_empty([worker(url, 1.0), worker(url, 1.0)], 30)
    firsts = [c.splitlines()[0] for c in robot.contents if c]
    await robot.close()
    return {
        "pushes delivered": len(firsts),
        "pushes duplicated": len(firsts) - len(set(firsts)),
        "pushes refused (-1, 45009)": len(robot.refused),
        "pushes left unsent": await _group_pending(desk),
    }


async def _group_pending(desk: ServiceDesk) -> int:
    return sum(1 for r in await desk.outbox.rows() if r.sent_at is None and r.channel == "group")


async def _due_now(desk: ServiceDesk) -> None:
    from sqlalchemy import update

    from storage.models import OutboxMessage

    async with desk.database.transaction() as session:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).values(due_at=desk.clock())
        )


def _numbers(text: str) -> list[str]:
    import re

    return re.findall(r"(?<!\d)1\d{4}(?!\d)", text)


async def _healthz(client: TestClient, proxy_state: list[str], stop: asyncio.Event, seen: list) -> None:
    """Probe /healthz every 0.2 s: (state of the proxy, status or 'hang', seconds)."""
    while not stop.is_set():
        state, began = proxy_state[0], time.monotonic()
        try:
            response = await client.get("/healthz", timeout=3)
            await response.read()
            outcome: int | str = response.status
        except (TimeoutError, aiohttp.ClientError):
            outcome = "hang"
        seen.append((state, outcome, time.monotonic() - began))
        await asyncio.sleep(0.2)


async def database_phase(
    redis: OwnRedis, handbook: Any, settings: Settings, lines: LineCount, residents: int, tmp: str
) -> dict[str, Any]:
    """The app on PostgreSQL behind a proxy that refuses, then stalls, then recovers while residents order."""
    proxy = TcpProxy(5432, free_port())
    await proxy.start()
    async with pg_scratch(proxy.port) as (_name, url):
        database = Database(url)
        await database.upgrade()
        desk = ServiceDesk(database, handbook.calendar, TZ)
        await desk.staff.import_rota(
            yaml.safe_load((ROOT / "examples" / "rota.yaml").read_text(encoding="utf-8"))
        )
        services = replace(Services(handbook, Classifier(handbook)), desk=desk, tz=TZ)
        store = RedisStore(redis.url, prefix="drilldb:", lock_timeout=3.0)
        client = TestClient(TestServer(create_app(settings, services, store), host="127.0.0.1"))
        await client.start_server()
        drill = Drill(residents, 60, tmp)
        drill.pause = (0.2, 0.6)
        state = ["normal"]
        probes: list[tuple[str, int | str, float]] = []
        stop = asyncio.Event()
        openids = [f"db-{n}" for n in range(residents)]

        async def resident(openid: str, delay: float) -> None:
            await asyncio.sleep(delay)
            await drill.order(client, openid)

        async def fault() -> float:
            await asyncio.sleep(1.5)
            state[0] = "refuse"
            lines.begin("database")
            await proxy.refuse()
            await asyncio.sleep(3)
            state[0] = "stall"
            await proxy.stall()
            await asyncio.sleep(3)
            await proxy.recover()
            lines.end()
            state[0] = "after"
            return time.monotonic()

        try:
            health = asyncio.create_task(_healthz(client, state, stop, probes))
            fault_task = asyncio.create_task(fault())
            await asyncio.gather(*(resident(o, n * 7.0 / residents) for n, o in enumerate(openids)))
            fault_end = await fault_task
            await asyncio.sleep(0.5)
            drill.pause = None
            for openid in openids:  # the next message after the outage
                await drill.say(client, openid, "你好")
            stop.set()
            await health
            tickets = await desk.tickets.list()
            rows = [r for r in await desk.outbox.rows() if r.channel == "group"]
        finally:
            await client.close()
            await store.close()
            await proxy.close()
            await asyncio.wait_for(database.close(), 10)
    if os.environ.get("DRILL_TRACE"):
        for openid in sorted(set(openids) - {t.resident for t in tickets}):
            window = f"(fault {fault_end - 6:.1f}-{fault_end:.1f})"
            print(openid, window, *drill.transcript[openid], sep="\n  ")
    after = [t - fault_end for t in drill.ticket_times if t >= fault_end]
    in_fault = [(o, s) for st, o, s in probes if st in ("refuse", "stall")]
    by_resident = collections.Counter(t.resident for t in tickets)
    pushes = collections.Counter(r.ticket_id for r in rows)
    return {
        "statuses": drill.statuses,
        "db: orders (residents)": residents,
        "db: orders confirmed": len(drill.confirmed),
        "db: tickets": len(tickets),
        "db: group pushes queued": len(rows),
        "db: duplicate tickets": sum(n - 1 for n in by_resident.values()),
        "db: duplicate pushes": sum(n - 1 for n in pushes.values()),
        "db: slowest webhook answer (s)": f"{drill.slowest:.2f}",
        "db: tickets never told (lost)": sum(1 for t in tickets if t.number not in drill.told[t.resident]),
        "db: residents without a ticket": residents - len(by_resident),
        "db: /healthz in fault 503 <=1 s": sum(1 for o, s in in_fault if o == 503 and s <= 1.0),
        "db: /healthz in fault 503 >1 s": sum(1 for o, s in in_fault if o == 503 and s > 1.0),
        "db: /healthz in fault 200": sum(1 for o, _ in in_fault if o == 200),
        "db: /healthz in fault 500/hang": sum(1 for o, _ in in_fault if o not in (200, 503)),
        "db: /healthz slowest in fault (s)": f"{max((s for _, s in in_fault), default=0):.2f}",
        "db: /healthz after fault not 200": sum(1 for st, o, _ in probes if st == "after" and o != 200),
        "db: recovery, fault end to order (s)": f"{min(after):.2f}" if after else "never",
    }


class ServeDrill(Drill):
    """Residents against `python -m bot serve --workers 2`: WeChat waits 5 s for a reply, then
    sends the same message (same MsgId) again, three tries in all."""

    def __init__(self, residents: int, seconds: float, tmp: str) -> None:
        super().__init__(residents, seconds, tmp)
        self.answers: collections.Counter[str] = collections.Counter()

    async def say(self, client: Any, openid: str, text: str) -> str:
        session, base = client
        msg_id = next(self.msg_ids)
        if self.pause:
            await asyncio.sleep(random.uniform(*self.pause))
        for _ in range(3):
            began = time.monotonic()
            request = self.platform.plaintext(text_xml(openid, text, msg_id), openid)
            try:
                async with session.post(
                    f"{base}/wechat",
                    params=request.query,
                    data=request.body,
                    timeout=aiohttp.ClientTimeout(total=5),
                ) as response:
                    status, body = response.status, await response.text()
            except (TimeoutError, aiohttp.ClientError) as exc:
                status, body = 0, ""
                self.statuses[type(exc).__name__] += 1
            else:
                self.statuses[str(status)] += 1
            if status == 200:
                if not body.strip().startswith("<xml"):
                    self.answers["success only"] += 1
                    return ""
                self.answers["reply"] += 1
                content = reply_content(body)
                for number in _numbers(content):
                    self.told[openid].add(number)
                    self.ticket_times.append(time.monotonic())
                return content
            await asyncio.sleep(max(0.0, 5 - (time.monotonic() - began)))
        self.answers["no answer after 3 tries"] += 1
        return ""


async def workers_phase(redis: OwnRedis, handbook: Any, residents: int, tmp: str) -> dict[str, Any]:
    """`serve --workers 2` with one worker SIGKILLed while residents order."""
    port = free_port()
    db_path = os.path.join(tmp, "serve.db")
    env = {
        **os.environ,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_AES_KEY": "",
        "REDIS_URL": redis.url.rsplit("/", 1)[0] + "/1",
        "DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
        "OUTBOX_WORKER": "off",
    }
    log_path = os.path.join(tmp, "serve.log")
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    drill = ServeDrill(residents, 60, tmp)
    drill.pause = (0.2, 0.6)
    figures: dict[str, Any] = {}
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:

            async def pid() -> int | None:
                try:
                    async with session.get(f"{base}/healthz", timeout=aiohttp.ClientTimeout(total=1)) as r:
                        return int((await r.json())["pid"])
                except (TimeoutError, aiohttp.ClientError, ValueError, KeyError):
                    return None

            pids: set[int] = set()
            deadline = time.monotonic() + 60
            while len(pids) < 2 and time.monotonic() < deadline and process.poll() is None:
                found = await pid()
                if found is None:
                    await asyncio.sleep(0.2)
                else:
                    pids.add(found)
            if len(pids) < 2:
                raise RuntimeError("serve --workers 2 did not start: " + Path(log_path).read_text()[-500:])
            await database_ready(db_path)
            openids = [f"serve-{n}" for n in range(residents)]

            async def resident(openid: str, delay: float) -> None:
                await asyncio.sleep(delay)
                await drill.order((session, base), openid)

            async def kill() -> None:
                await asyncio.sleep(2.0)
                victim = None
                while victim is None:
                    victim = await pid()
                os.kill(victim, signal.SIGKILL)  # one worker of the server this drill started
                killed = time.monotonic()
                replaced = None
                while time.monotonic() - killed < 20:
                    found = await pid()
                    if found is not None and found not in pids:
                        replaced = time.monotonic() - killed
                        break
                    await asyncio.sleep(0.05)
                figures["serve: worker replaced after (s)"] = f"{replaced:.2f}" if replaced else "never"

            await asyncio.gather(kill(), *(resident(o, n * 4.0 / residents) for n, o in enumerate(openids)))
            drill.pause = None
            for openid in openids:  # the next message after the kill
                await drill.say((session, base), openid, "你好")
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    database = Database(f"sqlite+aiosqlite:///{db_path}")
    tickets = await ServiceDesk(database, handbook.calendar, TZ).tickets.list()
    await database.close()
    log_text = Path(log_path).read_text(errors="replace")
    by_resident = collections.Counter(t.resident for t in tickets)
    return {
        "statuses": drill.statuses,
        "serve: answers: reply": drill.answers["reply"],
        "serve: answers: 'success' only": drill.answers["success only"],
        "serve: no answer after 3 tries": drill.answers["no answer after 3 tries"],
        "serve: orders confirmed": len(drill.confirmed),
        "serve: tickets": len(tickets),
        "serve: duplicate tickets": sum(n - 1 for n in by_resident.values()),
        "serve: tickets never told (lost)": sum(1 for t in tickets if t.number not in drill.told[t.resident]),
        "serve: residents without a ticket": residents - len(by_resident),
        **figures,
        "serve: 'died of SIGKILL' logged": log_text.count("died of SIGKILL"),
        "serve: Traceback in its log": log_text.count("Traceback"),
    }


async def database_ready(path: str) -> None:
    """serve migrated the database before forking; the rota is imported so tickets get assigned."""
    handbook = load_handbook()
    database = Database(f"sqlite+aiosqlite:///{path}")
    await ServiceDesk(database, handbook.calendar, TZ).staff.import_rota(
        yaml.safe_load((ROOT / "examples" / "rota.yaml").read_text(encoding="utf-8"))
    )
    await database.close()


async def main(residents: int, seconds: float, lines: LineCount) -> None:
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed")
    tmp = tempfile.mkdtemp(prefix="bst-drill-")
    redis = OwnRedis(tmp)
    redis.start()
    database = Database(f"sqlite+aiosqlite:///{os.path.join(tmp, 'drill.db')}")
    await database.upgrade()
    handbook = load_handbook()
    desk = ServiceDesk(database, handbook.calendar, TZ)
    await desk.staff.import_rota(
        yaml.safe_load((ROOT / "examples" / "rota.yaml").read_text(encoding="utf-8"))
    )
    services = replace(Services(handbook, Classifier(handbook)), desk=desk, tz=TZ)
    store = RedisStore(redis.url, prefix="drill:", lock_timeout=3.0)
    settings = Settings(
        wechat_token=TOKEN, wechat_app_id=APP_ID, wechat_aes_key=AES_KEY, message_mode="plaintext"
    )
    client = TestClient(TestServer(create_app(settings, services, store), host="127.0.0.1"))
    await client.start_server()
    drill = Drill(residents, seconds, tmp)
    started = time.monotonic()
    try:
        await drill.fuzz(client, 300)
        stop = asyncio.Event()
        chaos = asyncio.create_task(drill.chaos(redis, stop, lines))
        openids = [f"drill-{n}" for n in range(residents)]
        await asyncio.gather(*(drill.order(client, o) for o in openids))
        stop.set()
        await chaos
        # One longer outage of a known length (3 s) under traffic, for the log line count.
        redis.kill()
        lines.begin("redis")
        outage = time.monotonic() + 3

        async def during_outage(openid: str) -> None:
            while time.monotonic() < outage - 0.5:
                await drill.say(client, openid, "老年证怎么办")
                await asyncio.sleep(0.3)

        await asyncio.gather(*(during_outage(o) for o in openids[:10]))
        await asyncio.sleep(max(0.0, outage - time.monotonic()))
        redis.start()
        lines.end()
        await asyncio.sleep(0.5)
        for openid in openids:  # the next message after the outage
            await drill.say(client, openid, "你好")
        tickets = await desk.tickets.list()
        robot = await robot_phase(desk, handbook)
        db = await database_phase(redis, handbook, settings, lines, 20, tmp)
        serve = await workers_phase(redis, handbook, 20, tmp)
    finally:
        await client.close()
        await store.close()
        await database.close()
        redis.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    by_resident = collections.Counter(t.resident for t in tickets)
    never_told = [t for t in tickets if t.number not in drill.told[t.resident]]
    print(
        f"fault drill: {residents} residents, Redis killed {redis.kills} times, "
        f"{time.monotonic() - started:.0f}s"
    )
    print(f"{'':40} {'count':>7}")
    for status in sorted(drill.statuses):
        print(f"{'requests ' + status:40} {drill.statuses[status]:>7}")
    figures = {
        "orders (residents)": residents,
        "orders confirmed": len(drill.confirmed),
        "tickets": len(tickets),
        "duplicate tickets": sum(n - 1 for n in by_resident.values()),
        "tickets never told (lost)": len(never_told),
        "residents without a ticket": residents - len(by_resident),
        **robot,
    }
    for name, value in figures.items():
        print(f"{name:40} {value:>7}")
    for phase, label in ((db, "db"), (serve, "serve")):
        statuses = phase.pop("statuses")
        for status in sorted(statuses):
            print(f"{label + ': requests ' + status:40} {statuses[status]:>7}")
        for name, value in phase.items():
            print(f"{name:40} {value:>7}")
    for fault in ("redis", "database"):
        print(
            f"{'log lines/s of ' + fault + ' outage':40} {lines.per_second(fault):>7.1f}"
            f"   ({lines.records[fault]} in {lines.seconds[fault]:.1f}s)"
        )
    if os.environ.get("DRILL_NOISIEST"):
        for message, count in lines.messages.most_common(12):
            print(f"  {count:6} {message}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=90.0, help="upper bound on the order phase")
    parser.add_argument("--verbose", action="store_true", help="show the service's log lines")
    args = parser.parse_args()
    # Records are made at INFO (as LOG_LEVEL's default) so the outage line count sees them; they
    # are shown only with --verbose.
    logging.basicConfig(level=logging.INFO)
    logging.getLogger().handlers[0].setLevel(logging.INFO if args.verbose else logging.CRITICAL)
    lines = LineCount()
    logging.getLogger().addHandler(lines)
    asyncio.run(main(args.residents, args.seconds, lines))
