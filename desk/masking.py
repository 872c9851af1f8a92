"""What personal data may leave the database, and how much of it.

Residents write numbers as they please: 138-1234-5678, +86 138 1234 5678, full-width digits, an ID
number in groups of four. Digits may be split by one separator (space, hyphen, dot, middle dot), so
every form a person types is caught, while digits split by words (3栋2单元501) are not joined.

Regex, not the `phonenumbers` library. Measured on tests/data/masking.tsv: PhoneNumberMatcher
(region CN, leniency VALID) finds the same 9 mobiles in all their forms, plus the landline (which
we leave alone); with leniency POSSIBLE it also flags ticket numbers ("工单10001"). It never finds
ID numbers, so the regex is needed anyway, and one mechanism is easier to reason about than two.
On the 951 labelled messages (tests/data/labelled.tsv) both cost ~3 µs a message and change nothing.
"""

from __future__ import annotations

import re

_SEP = r"[ \-.·\u00a0]?"  # at most one separator between two digits
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ－＋（）", "0123456789Xx-+()")
# 18 digits (the last may be X), each optionally followed by one separator; or the old 15 written
# solid (with separators, 15 digits would also be "0086-138-1234-5678").
_ID_NUMBER = re.compile(rf"(?<![0-9])(?:\d(?:{_SEP}\d){{16}}{_SEP}[0-9xX]|\d{{15}})(?![0-9xX])")
# A mobile: 1[3-9] and nine more digits, after an optional +86 / 0086 / (+86) country code.
_MOBILE = re.compile(
    rf"(?<![0-9])(?P<cc>(?:\(?(?:\+|00)?86\)?{_SEP})?)(?P<num>1{_SEP}[3-9](?:{_SEP}\d){{9}})(?![0-9])"
)


def _ascii_digits(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def without_id_numbers(text: str) -> str:
    """ID numbers never leave the database, not even to the staff member who owns the ticket."""
    return _ID_NUMBER.sub("[证件号已隐去]", _ascii_digits(text))


def _masked_mobile(found: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", found.group("num"))
    return f"{found.group('cc')}{digits[:3]}****{digits[-4:]}"


def mask_text(text: str) -> str:
    """Free text bound for a group chat: ID numbers removed, mobile numbers masked, in any form."""
    return _MOBILE.sub(_masked_mobile, without_id_numbers(text))


def mask_mobile(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) == 11 else "****"
