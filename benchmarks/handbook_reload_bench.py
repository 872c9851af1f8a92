"""How long a published handbook version takes to reach a running `serve`, and what residents'
requests cost while that process rebuilds its classifier on a thread.

Starts `baishitong serve` (plaintext mode, SQLite), sends one signed text message after another,
publishes a version with a new phrasing (`baishitong handbook import`: the learned model retrains),
and reports the seconds until /healthz names the new version and the request latencies before and
during the swap.

    python -m benchmarks.handbook_reload_bench
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from knowledge.files import read_files, write_files
from knowledge.loader import default_data_dir
from knowledge.yamledit import load as load_yaml
from knowledge.yamledit import plain, set_fields

TOKEN = "bench-token"
XML = (
    "<xml><ToUserName>gh</ToUserName><FromUserName>{u}</FromUserName><CreateTime>{t}</CreateTime>"
    "<MsgType>text</MsgType><Content>{c}</Content><MsgId>{m}</MsgId></xml>"
)


def health(url: str) -> dict:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())
    except OSError:
        return {}


def send(url: str, n: int) -> float:
    timestamp, nonce = str(int(time.time())), f"n{n}-{time.monotonic_ns()}"
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    body = XML.format(u=f"o-bench-{n % 50}", t=timestamp, c="办居住证要带啥子", m=10_000 + n).encode()
    query = urlencode({"signature": signature, "timestamp": timestamp, "nonce": nonce})
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(f"{url}/wechat?{query}", data=body), timeout=30) as r:
        r.read()
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        env = {
            **os.environ,
            "WECHAT_TOKEN": TOKEN,
            "DATABASE_URL": f"sqlite+aiosqlite:///{work}/bench.db",
            "BAISHITONG_CACHE_DIR": f"{work}/cache",
            "LOG_LEVEL": "WARNING",
            "REDIS_URL": "",
        }
        url = "http://127.0.0.1:18931"
        server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", "18931"], env=env)
        try:
            while health(url).get("handbook_version") != 1:
                time.sleep(0.2)
            latencies: list[tuple[float, float]] = []  # (when sent, seconds)
            stop = threading.Event()

            def keep_asking() -> None:
                n = 0
                while not stop.is_set():
                    n += 1
                    latencies.append((time.monotonic(), send(url, n)))

            sender = threading.Thread(target=keep_asking)
            sender.start()
            time.sleep(3)
            files = read_files(default_data_dir())
            path = "items/pet_registration.yaml"
            phrasings = plain(load_yaml(files[path])).get("phrasings") or []
            files[path] = set_fields(files[path], {"phrasings": [*phrasings, "屋头的猫要办个身份证"]})
            source = Path(work) / "new"
            write_files(files, source)
            subprocess.run(
                [sys.executable, "-m", "bot", "handbook", "import", str(source)], env=env, check=True
            )
            published = time.monotonic()
            while health(url).get("handbook_version") != 2:
                time.sleep(0.05)
            swapped = time.monotonic()
            time.sleep(2)
            stop.set()
            sender.join()
        finally:
            server.terminate()
            server.wait(15)
    before = [s for at, s in latencies if at < published]
    during = [s for at, s in latencies if published <= at <= swapped]

    def line(name: str, values: list[float]) -> str:
        values = sorted(values)
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        return (
            f"{name}: {len(values)} requests, median {statistics.median(values) * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {values[-1] * 1000:.0f} ms"
        )

    print(f"published → answered from the new version in {swapped - published:.1f} s")
    print(line("before", before))
    print(line("during the rebuild", during))


if __name__ == "__main__":
    main()
