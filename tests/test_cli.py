"""The console script: handbook check/show, chat, and serve answering a signed WeChat request."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from tests.wechat_peer import TOKEN, WeChatPlatform, reply_content, text_xml

# Commands that open the database use this file unless a test says otherwise (not the checkout's).
SCRATCH_DB = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='bst-cli-')}/cli.db"


def run(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DATABASE_URL": SCRATCH_DB, **(env or {})},
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


def test_handbook_check_names_a_broken_phrasing(tmp_path) -> None:
    import shutil

    from knowledge.loader import default_data_dir

    shutil.copytree(default_data_dir(), tmp_path / "d")
    path = tmp_path / "d/phrasings.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    - '人工'\n", "    - '人工('\n", 1), encoding="utf-8")
    result = run("handbook", "check", "--dir", str(tmp_path / "d"))
    assert result.returncode == 1
    assert "phrasings.yaml: cues.human[6]: '人工(' is not a valid pattern" in result.stdout


def test_handbook_show_item_and_unknown_id() -> None:
    shown = run("handbook", "show", "residence_permit")
    assert shown.returncode == 0 and "【居住证办理】一次性告知" in shown.stdout
    missing = run("handbook", "show", "no_such_item")
    assert missing.returncode == 1 and "unknown item id" in missing.stderr


def test_chat_runs_the_same_pipeline() -> None:
    result = run("chat", stdin="老年证和高龄津贴有什么区别\n2\n退出\n")
    assert result.returncode == 0
    assert "这几项的区别" in result.stdout and "【老年人优待证办理】" in result.stdout


def test_serve_without_token_fails_clearly() -> None:
    result = run("serve", env={"WECHAT_TOKEN": ""})
    assert result.returncode == 2 and "WECHAT_TOKEN is required" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_a_signed_request_on_the_embedded_default() -> None:
    port = _free_port()
    env = {
        **os.environ,
        "WECHAT_TOKEN": TOKEN,
        "REDIS_URL": "",
        "WECHAT_AES_KEY": "",
        "DATABASE_URL": SCRATCH_DB,
    }
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
    """`serve` writes under the app's own prefix (bst:): the resident is named after this run, and
    every key the conversation made (its turns and state, each request's replay guard) is deleted."""
    import urllib.parse

    import redis

    from tests.conftest import RUN

    resident = f"two-workers-{RUN}"
    seen: list[str] = []
    port = _free_port()
    env = {
        **os.environ,
        "WECHAT_TOKEN": TOKEN,
        "REDIS_URL": redis_url,
        "WECHAT_AES_KEY": "",
        "DATABASE_URL": SCRATCH_DB,
    }
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
            ("老年证和高龄津贴有什么区别", "这几项的区别"),
            ("2", "【老年人优待证办理】"),
        ):
            request = peer.plaintext(text_xml(resident, text))
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query)
            seen.append(f"bst:seen:{query['timestamp'][0]}:{query['nonce'][0]}")
            http = urllib.request.Request(
                f"http://127.0.0.1:{port}{request.path}", data=request.body, method="POST"
            )
            with urllib.request.urlopen(http, timeout=5) as response:
                assert reply_content(response.read().decode()).startswith(expected)
    finally:
        process.terminate()
        status = process.wait(timeout=15)
        client = redis.Redis.from_url(redis_url)
        kept = list(client.scan_iter(f"bst:{{{resident}}}:*"))
        if kept or seen:
            client.delete(*kept, *seen)
        client.close()
    assert status == 0
    assert kept, "the conversation was kept in Redis"
    client = redis.Redis.from_url(redis_url)
    assert not list(client.scan_iter(f"*{resident}*")) and client.exists(*seen) == 0
    client.close()


def test_db_upgrade_and_ticket_commands_on_sqlite(tmp_path) -> None:
    import asyncio

    from desk.operations import apply, open_ticket
    from storage.db import Database
    from storage.tickets import TicketStore

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    upgraded = run("db", "upgrade", env={"DATABASE_URL": url})
    assert upgraded.returncode == 0 and "up to date" in upgraded.stdout

    async def seed() -> str:
        database = Database(url)
        store = TicketStore(database)
        number = (await open_ticket(store, resident="r", item_id="facility_repair")).number
        await apply(store, number, "accept", actor="wang")
        await database.close()
        return number

    number = asyncio.run(seed())
    listed = run("tickets", "list", "--state", "accepted", env={"DATABASE_URL": url})
    assert listed.returncode == 0 and listed.stdout.startswith(f"{number}\t已签收\tfacility_repair\twang")
    shown = run("tickets", "show", number, env={"DATABASE_URL": url})
    assert "accept  open → accepted" in shown.stdout
    missing = run("tickets", "show", "99999", env={"DATABASE_URL": url})
    assert missing.returncode == 2 and "没有编号为 99999 的工单" in missing.stderr


def test_staff_rota_commands_and_chat_ordering(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'staff.db'}"
    env = {"DATABASE_URL": url}
    imported = run("staff", "import", "examples/rota.yaml", env=env)
    assert imported.returncode == 0 and "imported 5 staff" in imported.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text("staff: [{name: 甲, grade: C}]\nwindows: {}\n", encoding="utf-8")
    refused = run("staff", "import", str(broken), env=env)
    assert refused.returncode == 1 and "staff[0].grade" in refused.stdout
    added = run(
        "staff", "add", "孙丽", "--grade", "B", "--categories", "family", "--mobile", "13800001006", env=env
    )
    assert added.returncode == 0
    bad = run("staff", "add", "钱多", "--mobile", "12345", env=env)
    assert bad.returncode == 2 and "not an 11-digit mobile number" in bad.stderr
    invite = run("staff", "invite", "李强", env=env)
    code = invite.stdout.strip()
    assert invite.returncode == 0 and len(code.replace("-", "")) == 10 and "绑定" in invite.stderr
    assert run("staff", "invite", "无此人", env=env).returncode == 2
    leave = run("staff", "leave", "张敏", "--from", "2026-12-01", "--to", "2026-12-02", env=env)
    assert leave.returncode == 0
    assert run("staff", "leave", "张敏", "--from", "12/01", env=env).returncode == 2
    listing = run("staff", "list", env=env).stdout
    assert "孙丽\tB: family" in listing and "陈书记\t全岗通" in listing
    assert run("staff", "duty", env=env).returncode == 0

    # The same order conversation works in the terminal and creates a real ticket.
    chat = run("chat", stdin="3栋楼道灯坏了\n王大爷\n13812345678\n阳光苑3栋\n确认\n进度\n退出\n", env=env)
    assert "工单号 10001" in chat.stdout and "10001【公共设施报修】：已派单" in chat.stdout
    bound = run("chat", "--resident", "staff-li", stdin=f"绑定 {code}\n接单 10001\n退出\n", env=env)
    assert "绑定成功" in bound.stdout and "接单成功" in bound.stdout
    today = run("tickets", "list", "--state", "accepted", "--from", "2000-01-01", env=env)
    assert today.stdout.startswith("10001\t已签收\tfacility_repair\t李强")
    assert run("tickets", "list", "--to", "2000-01-01", env=env).stdout == ""
    shown = run("tickets", "show", "10001", env=env).stdout
    assert "居民 王大爷 138****5678" in shown and "办结时限" in shown
