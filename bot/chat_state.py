"""`baishitong chat` run once per message on the embedded default keeps the conversation.

The embedded store lives in the process, so a form started by one `chat` run ("请问怎么称呼您？")
was forgotten by the next, and the name typed there read as small talk (a session-8 trial played
one run per message and could not finish a single booking). Between runs the chatting resident's
state is kept in a small JSON file beside the SQLite database (for another database, in the model
cache directory, named by the database URL), with the store's own idle expiry. With REDIS_URL set,
`chat` uses Redis like `serve` and this file is not used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
from pathlib import Path

from intents.learned import default_cache_dir
from storage.base import State

log = logging.getLogger("baishitong.chat")


def state_file(database_url: str) -> Path:
    sqlite = _SQLITE_FILE.match(database_url)
    if sqlite and sqlite.group(1) != ":memory:":
        return Path(sqlite.group(1) + ".chat-state.json")
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return default_cache_dir() / f"chat-state-{digest}.json"


_SQLITE_FILE = re.compile(r"^sqlite(?:\+\w+)?:///(.+?)(?:\?.*)?$")


def load(path: Path, resident: str) -> tuple[State, float]:
    """(state, seconds it has left) kept by an earlier run, ({}, 0) when none or expired."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8")).get(resident)
    except (OSError, ValueError, AttributeError):
        return {}, 0.0
    if not isinstance(kept, dict) or not isinstance(kept.get("state"), dict):
        return {}, 0.0
    left = float(kept.get("expires", 0)) - time.time()
    return (kept["state"], left) if left > 0 else ({}, 0.0)


def save(path: Path, resident: str, state: State, ttl: float) -> None:
    """Keep `state` for `ttl` seconds (an empty state forgets the resident); never fails the chat."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        if not isinstance(kept, dict):
            kept = {}
        now = time.time()
        kept = {k: v for k, v in kept.items() if isinstance(v, dict) and float(v.get("expires", 0)) > now}
        if state:
            kept[resident] = {"state": state, "expires": now + ttl}
        else:
            kept.pop(resident, None)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".json", delete=False) as handle:
            json.dump(kept, handle, ensure_ascii=False)
        os.replace(handle.name, path)
    except (OSError, TypeError, ValueError) as exc:
        log.warning("chat state not kept for the next run (%s)", exc)
