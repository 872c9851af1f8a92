"""Unanswered questions (未识别问题): every message that ended in the apology, a referral to another
agency, a life-event list or a "which one?" choice is recorded for staff review, and so is what the
resident then picked. The review is how the handbook learns residents' words, so it keeps the
words — but with mobiles masked and ID numbers removed, since staff read it in a list."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from desk.masking import mask_text
from storage.db import Database
from storage.unanswered import UnansweredStore

PICK_WINDOW = timedelta(minutes=30)  # a number sent later than this answers something else
MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class UnansweredGroup:
    """Messages that say the same thing once normalised, with how often and what was offered."""

    text: str
    count: int
    outcome: str
    offered: tuple[str, ...]
    picked: dict[str, int]
    key: str = ""  # the normalised text the group is gathered under (what 非社区业务 marks)


class UnansweredLog:
    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._store = UnansweredStore(database, clock)
        self._clock = clock

    async def record(self, resident: str, text: str, outcome: str, offered: tuple[str, ...] = ()) -> None:
        await self._store.add(resident, mask_text(text.strip())[:MAX_TEXT], outcome, offered)

    async def picked(self, resident: str, item_id: str) -> bool:
        return await self._store.mark_picked(resident, item_id, PICK_WINDOW)

    async def review(self, days: int, normalize: Callable[[str], str]) -> list[UnansweredGroup]:
        """The last `days` days, grouped by normalised text, most frequent first; groups marked
        非社区业务 (dismiss) are left out, so the review is an inbox."""
        rows = await self._store.since(self._clock() - timedelta(days=days))
        dismissed = await self._store.dismissed()
        groups: dict[str, list] = {}
        for row in rows:
            key = group_key(row.text, normalize)
            if key not in dismissed:
                groups.setdefault(key, []).append(row)
        result = []
        for key, members in groups.items():
            picked = Counter(row.picked for row in members if row.picked)
            last = members[-1]
            result.append(
                UnansweredGroup(
                    text=last.text,
                    count=len(members),
                    outcome=last.outcome,
                    offered=tuple(filter(None, last.offered.split(","))),
                    picked=dict(picked),
                    key=key,
                )
            )
        return sorted(result, key=lambda group: -group.count)

    async def dismiss(self, key: str, staff: str) -> None:
        """Mark a group as outside community services (非社区业务): it leaves the review."""
        await self._store.dismiss(key, staff)


def group_key(text: str, normalize: Callable[[str], str]) -> str:
    """What a message is grouped (and dismissed) under: its normalised text."""
    return (normalize(text) or text)[:MAX_TEXT]
