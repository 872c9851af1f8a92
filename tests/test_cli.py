"""The console script: handbook check/show, chat, and serve answering a signed WeChat request."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

from tests.wechat_peer import TOKEN, WeChatPlatform, reply_content, text_xml


def run(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_handbook_check_prints_summary() -> None:
    result = run("handbook", "check")
    assert result.returncode == 0
    assert "31 items in 6 categories" in result.stdout


def test_handbook_check_prints_errors_for_broken_data(tmp_path) -> None:
    import shutil

    from knowledge.loader import default_data_dir

    shutil.copytree(default_data_dir(), tmp_path / "d")
    path = tmp_path / "d/items/legal_aid.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("fee: 免费\n", ""), encoding="utf-8")
    result = run("handbook", "check", "--dir", str(tmp_path / "d"))
    assert result.returncode == 1
    assert "items/legal_aid.yaml: fee: missing" in result.stdout


def test_handbook_show_item_and_unknown_id() -> None:
    shown = run("handbook", "show", "residence_permit")
    assert shown.returncode == 0 and "【居住证办理】一次性告知" in shown.stdout
    missing = run("handbook", "show", "no_such_item")
    assert missing.returncode == 1 and "unknown item id" in missing.stderr


def test_chat_runs_the_same_pipeline() -> None:
    result = run("chat", stdin="老年证和高龄津贴有什么区别\n2\n退出\n")
    assert result.returncode == 0
    assert "您想问的是哪一项" in result.stdout and "【老年人优待证办理】" in result.stdout


def test_serve_without_token_fails_clearly() -> None:
    result = run("serve", env={"WECHAT_TOKEN": ""})
    assert result.returncode == 2 and "WECHAT_TOKEN is required" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_a_signed_request_on_the_embedded_default() -> None:
    port = _free_port()
    env = {**os.environ, "WECHAT_TOKEN": TOKEN, "REDIS_URL": "", "WECHAT_AES_KEY": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    assert b'"store": "memory"' in response.read()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        request = WeChatPlatform().plaintext(text_xml("cli-resident", "办居住证要带啥子"))
        http = urllib.request.Request(
            f"http://127.0.0.1:{port}{request.path}", data=request.body, method="POST"
        )
        with urllib.request.urlopen(http, timeout=5) as response:
            assert reply_content(response.read().decode()).startswith("【居住证办理】")
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_with_several_workers_needs_redis() -> None:
    result = run("serve", "--workers", "2", env={"WECHAT_TOKEN": TOKEN, "REDIS_URL": ""})
    assert result.returncode == 2 and "needs REDIS_URL" in result.stderr


def test_serve_with_two_workers_shares_the_port_and_redis(redis_url: str) -> None:
    port = _free_port()
    env = {**os.environ, "WECHAT_TOKEN": TOKEN, "REDIS_URL": redis_url, "WECHAT_AES_KEY": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        pids: set[int] = set()
        deadline = time.monotonic() + 30
        while len(pids) < 2 and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    pids.add(json.loads(response.read())["pid"])
            except OSError:
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.2)
        assert len(pids) == 2, "both workers answer on the shared port"
        # A conversation spread over both workers keeps its state: it lives in Redis.
        peer = WeChatPlatform()
        for text, expected in (
            ("老年证和高龄津贴有什么区别", "您想问的是哪一项"),
            ("2", "【老年人优待证办理】"),
        ):
            request = peer.plaintext(text_xml("two-workers", text))
            http = urllib.request.Request(
                f"http://127.0.0.1:{port}{request.path}", data=request.body, method="POST"
            )
            with urllib.request.urlopen(http, timeout=5) as response:
                assert reply_content(response.read().decode()).startswith(expected)
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0


def test_db_upgrade_and_ticket_commands_on_sqlite(tmp_path) -> None:
    import asyncio

    from storage.db import Database
    from storage.tickets import TicketStore

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    upgraded = run("db", "upgrade", env={"DATABASE_URL": url})
    assert upgraded.returncode == 0 and "up to date" in upgraded.stdout

    async def seed() -> str:
        database = Database(url)
        store = TicketStore(database)
        number = (await store.create(resident="r", item_id="facility_repair")).number
        await store.apply(number, "accept", actor="wang")
        await database.close()
        return number

    number = asyncio.run(seed())
    listed = run("tickets", "list", "--state", "accepted", env={"DATABASE_URL": url})
    assert listed.returncode == 0 and listed.stdout.startswith(f"{number}\t已签收\tfacility_repair\twang")
    shown = run("tickets", "show", number, env={"DATABASE_URL": url})
    assert "accept  open → accepted" in shown.stdout
    missing = run("tickets", "show", "99999", env={"DATABASE_URL": url})
    assert missing.returncode == 2 and "没有编号为 99999 的工单" in missing.stderr
