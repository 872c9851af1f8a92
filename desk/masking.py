"""What personal data may leave the database, and how much of it.

Residents write numbers as they please: 138-1234-5678, +86 138 1234 5678, full-width digits, an ID
number in groups of four. Digits may be split by one separator (space, hyphen, dot, middle dot), so
every form a person types is caught, while digits split by words (3栋2单元501) are not joined.

Regex, not the `phonenumbers` library. Measured on tests/data/masking.tsv: PhoneNumberMatcher
(region CN, leniency VALID) finds the same 9 mobiles in all their forms, plus the landline; with
leniency POSSIBLE it also flags ticket numbers ("工单10001"). It never finds ID numbers, so the regex
is needed anyway, and one mechanism is easier to reason about than two. Landlines with an area code
are masked too (session 5): residents without a mobile give their home phone as the contact.
On the 951 labelled messages (tests/data/labelled.tsv) both cost ~3 µs a message and change nothing.
"""

from __future__ import annotations

import re

from intents.normalize import SPOKEN_DIGITS, digits_said

_SEP = r"[ \-.·\u00a0]?"  # at most one separator between two digits
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ－＋（）", "0123456789Xx-+()")
# 18 digits (the last may be X), each optionally followed by one separator; or the old 15 written
# solid (with separators, 15 digits would also be "0086-138-1234-5678").
_ID_NUMBER = re.compile(rf"(?<![0-9])(?:\d(?:{_SEP}\d){{16}}{_SEP}[0-9xX]|\d{{15}})(?![0-9xX])")
# A mobile: 1[3-9] and nine more digits, after an optional +86 / 0086 / (+86) country code.
_MOBILE = re.compile(
    rf"(?<![0-9])(?P<cc>(?:\(?(?:\+|00)?86\)?{_SEP})?)(?P<num>1{_SEP}[3-9](?:{_SEP}\d){{9}})(?![0-9])"
)


# A landline with its area code (010, 02x, 0xxx): 028-8765 4321, (028)87654321, 0816-2345678.
_LANDLINE = re.compile(
    rf"(?<![0-9])(?P<area>\(?0(?:10|2\d|[3-9]\d\d)\)?)(?P<sep>{_SEP})(?P<num>\d(?:{_SEP}\d){{6,7}})(?![0-9])"
)


def _ascii_digits(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def without_id_numbers(text: str) -> str:
    """ID numbers never leave the database, not even to the staff member who owns the ticket."""
    return _ID_NUMBER.sub("[证件号已隐去]", _ascii_digits(text))


def _masked_mobile(found: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", found.group("num"))
    return f"{found.group('cc')}{digits[:3]}****{digits[-4:]}"


def _masked_landline(found: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", found.group("num"))
    return f"{found.group('area')}{found.group('sep')}****{digits[-4:]}"


def mask_text(text: str) -> str:
    """Free text bound for a group chat: ID numbers removed, mobile and landline numbers masked,
    in any form — digits said in characters too ("一三八一二三四五六七八")."""
    return _masked_numbers(SPOKEN_DIGITS.sub(_spoken_masked, text))


def _masked_numbers(text: str) -> str:
    return _LANDLINE.sub(_masked_landline, _MOBILE.sub(_masked_mobile, without_id_numbers(text)))


def _spoken_masked(found: re.Match[str]) -> str:
    """A run of digits said in characters, masked as its digits would be; left as said otherwise."""
    said = found.group()
    written = digits_said(said)
    masked = _masked_numbers(written)
    return masked if masked != written else said


# A contact number as intents.contact.read_mobile keeps it: a mobile, or a landline as 028-85551234.
_CONTACT_NUMBER = re.compile(r"1[3-9]\d{9}|0(?:10|2\d|[3-9]\d\d)-\d{7,8}")


def is_contact_number(value: str) -> bool:
    return _CONTACT_NUMBER.fullmatch(value) is not None


def mask_mobile(mobile: str) -> str:
    """A contact number as the group may see it: 138****5678, 028-****4321; 无 when the resident has
    no phone (staff reach them at the address)."""
    if not mobile:
        return "无"
    if len(mobile) == 11 and mobile.isdigit():
        return f"{mobile[:3]}****{mobile[-4:]}"
    area, _, number = mobile.partition("-")
    if area.startswith("0") and number.isdigit():
        return f"{area}-****{number[-4:]}"
    return "****"
