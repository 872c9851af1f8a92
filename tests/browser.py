"""What the browser tests stand on: a real `baishitong serve` subprocess on a SQLite file with the
fake WeChat API and WeCom robot, signed webhook deliveries, and the system Chromium (Debian's
package) driven by Playwright. With CI=true a missing Chromium or Playwright fails the tests."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from desk.desk import ServiceDesk
from knowledge import Handbook
from storage.db import Database
from tests.conftest import SHANGHAI
from tests.fake_platforms import FakeRobot, FakeWeChat
from tests.wechat_peer import AES_KEY, APP_ID, TOKEN, WeChatPlatform, reply_content, text_xml

CHROMIUM = "/usr/bin/chromium"
# Where the screenshots go: a scratch directory, so a test run leaves the checkout clean; refresh
# the README's pictures with BAISHITONG_SCREENSHOTS=docs/screenshots (see the README).
SCREENSHOTS = Path(
    os.environ.get("BAISHITONG_SCREENSHOTS") or Path(tempfile.gettempdir()) / "baishitong-screenshots"
)
WIDTHS = (390, 1280)
T = TypeVar("T")

# Everyone on duty all day, every day, so routing does not depend on when the tests run.
ROTA = {
    "staff": [
        {
            "name": "李强",
            "mobile": "13800001002",
            "wecom": "liqiang",
            "grade": "A",
            "post": ["social_security"],
        },
        {
            "name": "赵磊",
            "mobile": "13800001004",
            "wecom": "zhaolei",
            "grade": "B",
            "categories": ["convenience"],
            "post": ["convenience"],
        },
        {
            "name": "陈书记",
            "mobile": "13800001005",
            "wecom": "chenshuji",
            "grade": "A",
            "roles": ["secretary", "leader"],
        },
    ],
    "windows": {
        "day": {"label": "全天", "days": "workdays", "time": "00:00-23:59"},
        "weekend": {"label": "全天", "days": "weekend", "time": "00:00-23:59"},
        "holiday": {"label": "全天", "days": "holidays", "time": "00:00-23:59"},
    },
    "week": {
        d: ({"day": ["李强", "赵磊"]} if d not in ("sat", "sun") else {"weekend": ["李强", "赵磊"]})
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    },
}


def require_chromium() -> None:
    """Skip without Chromium or Playwright, except in CI, where their absence is a failure."""
    problem = None
    if not os.path.exists(CHROMIUM):
        problem = f"{CHROMIUM} missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed (pip install -e '.[test]')"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem + " (CI=true: browser tests must run)")
        pytest.skip(problem)


class Background:
    """An event loop on a thread of its own, for the fake platforms and the test's own desk."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running `baishitong serve` and everything around it."""

    url: str
    database_url: str
    desk: ServiceDesk
    robot: FakeRobot
    wechat: FakeWeChat
    background: Background
    env: dict[str, str]
    platform: WeChatPlatform

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.background.run(work)

    def say(self, openid: str, text: str) -> str:
        """One signed, encrypted message from `openid`; the bot's reply text."""
        request = self.platform.safe(text_xml(openid, text), openid)
        sent = urllib.request.Request(self.url + request.path, data=request.body, method="POST")
        with urllib.request.urlopen(sent, timeout=10) as response:
            body = response.read().decode()
        return reply_content(self.platform.decrypt_reply(body, request))

    def link(self, name: str) -> str:
        """`baishitong console link NAME`, as the secretary runs it on the server."""
        done = subprocess.run(
            [sys.executable, "-m", "bot", "console", "link", name, "--base", self.url],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout.strip()

    def bind(self, name: str, openid: str) -> None:
        code, _ = self.run(self.desk.staff.invite(name))
        assert "绑定成功" in self.say(openid, f"绑定 {code}")


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"serve exited with {process.returncode}: {process.stderr.read().decode()[-2000:]}"
            )
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not become healthy in time")


def stop_serve(process: subprocess.Popen[bytes]) -> None:
    """Stop a `serve` started by start_serve: politely, then for good."""
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def start_serve(env: dict[str, str], attempts: int = 3) -> tuple[subprocess.Popen[bytes], str]:
    """`baishitong serve` on a free port, healthy. The port is free when chosen and may be taken by
    another test worker before serve binds it (a CI run saw Errno 98): then another port is tried."""
    for attempt in range(attempts):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process)
        except AssertionError as exc:
            if process.poll() is None:  # never healthy: not left running
                process.kill()
                process.wait(5)
            if "address already in use" not in str(exc) or attempt == attempts - 1:
                raise
            continue
        return process, url
    raise AssertionError("unreachable")


def serve(
    tmp_path: Path,
    handbook: Handbook,
    prepare: Callable[[ServiceDesk], Coroutine[Any, Any, None]] | None = None,
) -> Iterator[Served]:
    """Start `baishitong serve` on a migrated SQLite file with the all-day rota; stop it after."""
    background = Background()
    robot, wechat = FakeRobot(), FakeWeChat(APP_ID, "app-secret")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"
    database = Database(database_url)
    desk = ServiceDesk(database, handbook.calendar, SHANGHAI, lambda: datetime.now(UTC))

    async def setup() -> tuple[str, str]:
        await database.upgrade()
        await desk.staff.import_rota(ROTA)
        if prepare is not None:
            await prepare(desk)
        return await robot.start(), await wechat.start()

    robot_url, wechat_url = background.run(setup())
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_AES_KEY": AES_KEY,
        "WECHAT_APP_SECRET": "app-secret",
        "WECHAT_API_BASE": wechat_url,
        "WECOM_WEBHOOK_URL": robot_url,
        "OUTBOX_POLL_SECONDS": "0.1",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
    }
    process: subprocess.Popen[bytes] | None = None
    try:
        process, url = start_serve(env)
        yield Served(url, database_url, desk, robot, wechat, background, env, WeChatPlatform())
    finally:
        if process is not None:
            stop_serve(process)
        background.run(robot.close())
        background.run(wechat.close())
        background.run(database.close())
        background.close()


def fonts_config(tmp_path: Path) -> str:
    """A fontconfig file adding the packaged Noto Sans CJK, so Chinese renders in screenshots on
    a machine without CJK system fonts (and without installing any)."""
    import noto_cjk_sans_otc

    font_dir = Path(noto_cjk_sans_otc.__file__).parent
    path = tmp_path / "fonts.conf"
    cache = tmp_path / "fontcache"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{font_dir}</dir><cachedir>{cache}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return str(path)


def launch(playwright: Any, tmp_path: Path) -> Any:
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-dev-shm-usage"],
        env={**os.environ, "FONTCONFIG_FILE": fonts_config(tmp_path)},
    )


def screenshots(page: Any, name: str, *, full_page: bool = True) -> None:
    """docs/screenshots/NAME-390.png and NAME-1280.png: the page at phone and desktop width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 844 if width < 600 else 800})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=full_page)
    page.set_viewport_size({"width": 1280, "height": 800})
