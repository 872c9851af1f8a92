"""Open-loop load at a fixed rate, for latency percentiles at a given requests/s.

wrk keeps a fixed number of connections busy (closed loop); paced with its delay() hook, those
connections stay in lock-step and requests arrive in bursts, so it measures burst queueing, not
latency at a rate. wrk2 would do this, but it is not packaged for this machine. Here every
request has its scheduled send time (start + n / rate) and its latency is measured from that
time, so a slow server cannot hide delays by slowing the client down (no coordinated omission).

    python -m benchmarks.loadgen URL REQUESTS_FILE --rate 1000 --seconds 10
REQUESTS_FILE holds one request per line: "<path and query>\\t<body>".
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time

import aiohttp


async def run(
    base_url: str, requests: list[tuple[str, str]], rate: float, seconds: float
) -> dict[str, float]:
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=512, force_close=False)
    headers = {"Content-Type": "text/xml"}
    # WeChat gives up after 5 s; anything slower than 10 s is counted as an error, not waited for.
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def send(n: int, scheduled: float) -> None:
            nonlocal errors
            path, body = requests[n % len(requests)]
            try:
                async with session.post(base_url + path, data=body.encode(), headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
            except (aiohttp.ClientError, TimeoutError, OSError):
                errors += 1
            latencies.append(time.perf_counter() - scheduled)

        # perf_counter, not loop.time(): uvloop's clock has millisecond granularity.
        start = time.perf_counter() + 0.2
        tasks = []
        for n in range(total):
            scheduled = start + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(n, scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    return {
        "rate": rate,
        "achieved_rps": total / elapsed,
        "requests": float(total),
        "errors": float(errors),
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": ordered[-1] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
    }


def load_requests(path: str) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8") as handle:
        return [tuple(line.rstrip("\n").split("\t", 1)) for line in handle if "\t" in line]  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("base_url", help="e.g. http://127.0.0.1:8080")
    parser.add_argument("requests_file")
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    requests = load_requests(args.requests_file)
    gc.disable()  # the generator's own collection pauses would be charged to the server under test
    result = runner(run(args.base_url, requests, args.rate, args.seconds))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
