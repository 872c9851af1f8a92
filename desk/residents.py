"""Remembering residents, with consent: the contact details of a confirmed order are kept so the
next order asks one question ("还是用……吗？") instead of three, and erased on request.

Consent is by informing: the confirmation reply says what is kept and that "删除我的信息" erases
it. Only name, mobile and address are kept, and never a value holding an ID number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from desk.masking import is_contact_number, mask_mobile, without_id_numbers
from storage.db import Database
from storage.residents import ResidentStore

KEPT = ("name", "mobile", "address")  # the order fields a profile holds, in asking order
_LIMITS = {"name": 64, "mobile": 20, "address": 120}


@dataclass(frozen=True, slots=True)
class Profile:
    """What is kept for one resident; an empty string is a field not kept."""

    name: str = ""
    mobile: str = ""
    address: str = ""

    def get(self, field: str) -> str:
        return str(getattr(self, field, "") or "")

    def masked(self) -> Profile:
        """For showing back: the mobile as 139****5678."""
        return Profile(self.name, mask_mobile(self.mobile) if self.mobile else "", self.address)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


def keepable(field: str, value: str) -> str:
    """The value as it may be kept: trimmed, capped, and empty when it holds an ID number."""
    value = (value or "").strip()[: _LIMITS[field]]
    if without_id_numbers(value) != value:
        return ""
    if field == "mobile" and not is_contact_number(value):
        return ""
    return value


class ResidentDesk:
    """Recall, remember and forget a resident's contact details (the rule; storage/ persists)."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._store = ResidentStore(database, clock)

    async def recall(self, resident: str) -> Profile | None:
        row = await self._store.get(resident)
        if row is None:
            return None
        return Profile(row.name, row.mobile, row.address) or None

    async def remember(self, resident: str, details: dict[str, str]) -> Profile | None:
        """Keep the details of a confirmed order; a field the order did not ask keeps its old value.
        Returns what is now kept, None when nothing may be kept."""
        given = {field: keepable(field, details.get(field, "")) for field in KEPT}
        kept = await self.recall(resident) or Profile()
        profile = Profile(**{field: given[field] or kept.get(field) for field in KEPT})
        if not profile:
            return None
        await self._store.save(resident, profile.name, profile.mobile, profile.address)
        return profile

    async def forget(self, resident: str) -> Profile | None:
        """Erase what is kept; returns what was erased (None: nothing was kept)."""
        kept = await self.recall(resident)
        await self._store.erase(resident)
        return kept
