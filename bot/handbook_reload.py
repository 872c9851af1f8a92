"""Every process answers from the newest published handbook within seconds, without a restart.

Each process asks the database for the newest version number every HANDBOOK_POLL_SECONDS (one
indexed query), and when it grew, loads that version and builds its classifier on a thread
(loading takes about a second, retraining the learned model for new phrasings a few more:
measured in tests/test_handbook_versions.py) while the old pair keeps answering; then it swaps
both in at once. A version that fails to load (it validated when published, so only a newer
code's data could) is logged once and skipped, and the process keeps its handbook.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from intents import Classifier
from knowledge import Handbook, HandbookError
from knowledge.files import load_files
from storage.handbook import HandbookVersions

log = logging.getLogger("baishitong.handbook")
Use = Callable[[Handbook, Classifier, int], None]


def build(files: dict[str, str], number: int) -> tuple[Handbook, Classifier]:
    """A version's handbook and its classifier (blocking: run it on a thread)."""
    handbook = load_files(files, f"database version {number}")
    return handbook, Classifier(handbook)


class HandbookWatcher:
    """Polls for a newer version and hands (handbook, classifier, number) to `use` once built."""

    def __init__(self, versions: HandbookVersions, known: int | None, use: Use, poll_seconds: float = 1.0):
        self._versions = versions
        self.known = known  # the version this process answers from; None: read the newest at start
        self._use = use
        self._poll = poll_seconds
        self._skipped: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self.last_rebuild_seconds: float | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="handbook-watcher")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        failing = False
        while True:
            try:
                await self.check()
            except Exception as exc:  # a database outage: keep the handbook, ask again later
                if not failing:
                    log.warning("handbook updates paused: reading the versions failed: %s", exc)
                failing = True
            else:
                if failing:
                    log.info("handbook updates resumed")
                failing = False
            await asyncio.sleep(self._poll)

    async def check(self) -> bool:
        """Swap in the newest version if it is newer than the one in use; True when swapped."""
        latest = await self._versions.latest_number()
        if self.known is None:
            self.known = latest
            return False
        if latest <= self.known or latest in self._skipped:
            return False
        row = await self._versions.get(latest)
        if row is None:
            return False
        started = time.perf_counter()
        try:
            handbook, classifier = await asyncio.to_thread(build, row.files, latest)
        except HandbookError as exc:
            self._skipped.add(latest)
            log.error("handbook version %d does not load here, kept version %s: %s", latest, self.known, exc)
            return False
        self.last_rebuild_seconds = time.perf_counter() - started
        self._use(handbook, classifier, latest)
        log.info(
            "handbook: now answering from version %d (was %s; rebuilt in %.1fs)",
            latest,
            self.known,
            self.last_rebuild_seconds,
        )
        self.known = latest
        return True
