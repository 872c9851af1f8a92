"""A sum the resident writes out and asks to have done ("98乘2块49是好多", "4年乘500 是不是两千块",
"6500除以30乘98等于好多": trial Z14 r20 and Z13 r03 were given the rule again and left to multiply).

Only what is written as a sum is worked out — numbers joined by 加/减/乘/除以 — never a figure guessed
from a policy. Written by hand: cn2an reads each number, and the operators are four words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from handlers.types import Context, Reply
from intents.normalize import number_said, simplify

_CN = "零一二两三四五六七八九十百千万"
# A number: digits (with a decimal point), 2块49 (yuan and fen said the spoken way), or Chinese numerals.
_NUMBER = rf"(?:\d+(?:\.\d+)?(?:块\d{{1,2}}(?![\d]))?|[{_CN}]+(?:块[{_CN}]{{1,2}})?)"
_UNIT = r"(?:块钱|块|元|方|年|个月|月|天|度|吨|斤|个|人|次)?"
# Not "-" nor "/": "12-05", "3/4" are dates far more often than sums.
_OPERATOR = r"(?:乘以|乘|×|x|X|\*|加上|加|\+|减去|减|除以|÷)"
_SUM = re.compile(rf"({_NUMBER}){_UNIT}\s*(?:{_OPERATOR}\s*{_NUMBER}{_UNIT}\s*)+")
_TERM = re.compile(rf"({_OPERATOR})?\s*({_NUMBER}){_UNIT}")
_ASKS = re.compile(
    r"是好多|是多少|等于|得好多|得多少|好多钱|多少钱|对不对|对吗|对不|算下|算一下|帮我算|是不是|几多"
)
# "…是不是两千块": the result the resident worked out, said after the sum
_CLAIMED = re.compile(rf"(?:是不是|是|对不对|等于)\s*({_NUMBER})")
_SYMBOLS = {"乘以": "×", "乘": "×", "×": "×", "x": "×", "X": "×", "*": "×", "加上": "+", "加": "+", "+": "+"}
_SYMBOLS |= {"减去": "-", "减": "-", "除以": "÷", "÷": "÷"}


@dataclass(frozen=True, slots=True)
class Sum:
    numbers: tuple[Decimal, ...]
    operators: tuple[str, ...]  # × + - ÷, one fewer than the numbers
    claimed: Decimal | None = None  # the result the resident worked out, when said


def asked(ctx: Context) -> Sum | None:
    """The sum written in the message when it asks for its result; None otherwise."""
    text = simplify(ctx.message.text or "")
    if not _ASKS.search(text):
        return None
    found = _SUM.search(text)
    if found is None:
        return None
    numbers: list[Decimal] = []
    operators: list[str] = []
    for term in _TERM.finditer(found.group()):
        value = _value(term.group(2))
        if value is None:
            return None
        if numbers:
            if not term.group(1):
                break  # a number said after the sum ("…乘500 是不是两千块"): not part of it
            operators.append(_SYMBOLS[term.group(1)])
        numbers.append(value)
    if len(numbers) < 2 or any(op == "÷" and n == 0 for op, n in zip(operators, numbers[1:], strict=True)):
        return None
    claim = _CLAIMED.search(text, found.start() + 1)
    return Sum(tuple(numbers), tuple(operators), _value(claim.group(1)) if claim else None)


async def answer(ctx: Context, asked_sum: Sum) -> Reply:
    result = _worked_out(asked_sum)
    written = _show(asked_sum.numbers[0]) + "".join(
        f" {op} {_show(n)}" for op, n in zip(asked_sum.operators, asked_sum.numbers[1:], strict=True)
    )
    said = f"帮您算了一下：{written} = {_show(result)}。"
    if asked_sum.claimed is not None:
        right = asked_sum.claimed.quantize(Decimal("0.01")) == result.quantize(Decimal("0.01"))
        said = f"{'对' if right else '不对'}，{said}"
    return Reply(f"{said}\n只是帮您算数；金额、账单以办理部门核定的为准。")


def _worked_out(asked_sum: Sum) -> Decimal:
    """× and ÷ before + and -, as written on paper."""
    terms: list[Decimal] = [asked_sum.numbers[0]]
    signs: list[str] = []
    for op, number in zip(asked_sum.operators, asked_sum.numbers[1:], strict=True):
        if op == "×":
            terms[-1] *= number
        elif op == "÷":
            terms[-1] /= number
        else:
            signs.append(op)
            terms.append(number)
    total = terms[0]
    for sign, term in zip(signs, terms[1:], strict=True):
        total = total + term if sign == "+" else total - term
    return total


def _value(said: str) -> Decimal | None:
    """A number as said: "98", "2.49", "2块49" (2.49), "两千", "一千五"."""
    yuan, _, fen = said.partition("块")
    try:
        whole = Decimal(yuan) if yuan[:1].isdigit() else _whole(yuan)
        if whole is None or not fen:
            return whole
        cents = _whole(fen)
    except InvalidOperation:
        return None
    return None if cents is None else whole + cents / (10 if len(fen) == 1 else 100)


def _whole(said: str) -> Decimal | None:
    value = number_said(said)
    return None if value is None else Decimal(value)


def _show(value: Decimal) -> str:
    """Two decimals at most, without trailing zeros: 244.02, 2000, 216.67."""
    rounded = value.quantize(Decimal("0.01"))
    text = f"{rounded:f}".rstrip("0").rstrip(".")
    return text or "0"
