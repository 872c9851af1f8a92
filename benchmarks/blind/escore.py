"""Score a blind emergency round through the bot's own pipeline (handlers, state, a scratch SQLite desk
with the example rota), each message from a new resident, before anything is changed because of it.

A row is `text<TAB>kind<TAB>number` (kind `none` for a look-alike; number the writer's first number, a
key of emergency.yaml's numbers or the number itself, `-` for none). Caught: the reply starts with
【紧急】; a false alarm: a look-alike's reply does; a wrong first number: the writer's first number is
not on the reply's first line.

    python -m benchmarks.blind.escore ROUND.tsv [--misses]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

from bot.pipeline import Pipeline
from bot.runtime import build_services, open_desk
from bot.settings import Settings
from handlers import Message
from storage.memory import MemoryStore


def rows(path: str) -> list[tuple[str, str, str]]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            text, kind, number = [*line.split("\t"), "-", "-"][:3]
            out.append((text.strip(), kind.strip(), number.strip() or "-"))
    return out


async def score(path: str, show: bool) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["DATABASE_URL"] = f"sqlite+aiosqlite:///{scratch}/escore.db"
        settings = Settings.from_env()
        services, database = await open_desk(settings, build_services(settings))
        pipeline = Pipeline(services, MemoryStore(), deadline=60.0)
        numbers = {key: n.phone for key, n in services.handbook.emergency.numbers.items()}
        missed, false_alarms, wrong_first, caught, quiet = [], [], [], 0, 0
        try:
            for index, (text, kind, wanted) in enumerate(rows(path)):
                message = Message(f"e-{index}", "text", text)
                reply = await pipeline.respond(f"e:{index}", message, lambda r: r.text or "")
                alarmed = reply.startswith("【紧急】")
                if kind == "none":
                    quiet += not alarmed
                    if alarmed:
                        false_alarms.append((text, reply.splitlines()[0]))
                    continue
                if not alarmed:
                    missed.append((text, kind, reply[:50].replace("\n", " ")))
                    continue
                caught += 1
                first = wanted.split(",")[0].strip()
                if first != "-" and numbers.get(first, first) not in reply.splitlines()[0]:
                    wrong_first.append((text, first, reply.splitlines()[0]))
        finally:
            await services.desk.conversations.flush()
            await database.close()
    emergencies = caught + len(missed)
    print(
        f"{caught}/{emergencies} emergencies caught, {len(false_alarms)}/{quiet + len(false_alarms)} "
        f"false alarms, {len(wrong_first)} wrong first numbers"
    )
    if show:
        for entry in missed:
            print("  missed:", *entry)
        for entry in false_alarms:
            print("  false alarm:", *entry)
        for entry in wrong_first:
            print("  wrong first:", *entry)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("round")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    asyncio.run(score(args.round, args.misses))


if __name__ == "__main__":
    main()
