"""The validators' English problems shown to the secretary in Chinese (console/problem_words.py)."""

from __future__ import annotations

import pytest

from console.problem_words import HANDBOOK, ROTA, worded


@pytest.mark.parametrize(
    ("problem", "chinese"),
    [
        ("must be a positive integer for working_days", "工作日天数要写正整数"),
        ("must be a positive integer", "要写正整数"),
        ("'老年证' is already claimed by 'elderly_card'", "“老年证”已经是事项 elderly_card 的别名"),
        ("'9:00-8:00' ends before it starts", "“9:00-8:00”结束早于开始"),
        ("unknown taker 'robot' (known: staff, grid)", "没有这种接单人：robot"),
        ("missing (use [] when nothing is needed)", "必填"),
        ("must be a mapping with name, form, count", "格式不对：要写 name, form, count 这几项"),
    ],
)
def test_handbook_problems_read_in_chinese(problem: str, chinese: str) -> None:
    assert worded(problem, HANDBOOK) == chinese


def test_rota_problems_read_in_chinese() -> None:
    assert worded("unknown staff member '老王'", ROTA) == "没有这位工作人员：老王（先在“人员”页添加）"


def test_a_problem_nobody_translated_is_shown_as_it_is() -> None:
    assert worded("something new the validator says", HANDBOOK) == "something new the validator says"
