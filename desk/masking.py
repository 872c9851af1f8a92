"""What personal data may leave the database, and how much of it."""

from __future__ import annotations

import re

_ID_NUMBER = re.compile(r"(?<![0-9])(?:\d{17}[0-9xX]|\d{15})(?![0-9])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def without_id_numbers(text: str) -> str:
    """ID numbers never leave the database, not even to the staff member who owns the ticket."""
    return _ID_NUMBER.sub("[证件号已隐去]", text)


def mask_text(text: str) -> str:
    """Free text bound for a group chat: ID numbers removed, mobile numbers masked."""
    return _MOBILE.sub(r"\1****\2", without_id_numbers(text))


def mask_mobile(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) == 11 else "****"
