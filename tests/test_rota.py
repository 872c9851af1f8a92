"""The duty rota and routing rules (pure), and the rota file's validation."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import yaml

from desk.rota import RotaError, parse_rota
from desk.routing import Person, choose
from knowledge import Handbook
from tests.conftest import EXAMPLE_ROTA, SHANGHAI


@pytest.fixture
def rota():
    return parse_rota(yaml.safe_load(EXAMPLE_ROTA.read_text(encoding="utf-8")))[0]


def on_duty(rota, handbook: Handbook, *when: int) -> list[str]:
    return [
        n for _, names in rota.duty_at(datetime(*when, tzinfo=SHANGHAI), handbook.calendar) for n in names
    ]


def test_windows_through_a_week(rota, handbook: Handbook) -> None:
    assert on_duty(rota, handbook, 2026, 11, 23, 10) == ["张敏", "王芳", "赵磊"]  # Monday morning
    assert on_duty(rota, handbook, 2026, 11, 23, 12, 30) == ["李强"]  # lunchtime duty (8+2)
    assert on_duty(rota, handbook, 2026, 11, 23, 18) == ["赵磊"]  # evening extension
    assert on_duty(rota, handbook, 2026, 11, 24, 18) == []  # no evening on Tuesdays
    assert on_duty(rota, handbook, 2026, 11, 23, 22) == []
    assert on_duty(rota, handbook, 2026, 11, 28, 12) == ["李强", "赵磊"]  # Saturday, 王芳 swapped out
    assert on_duty(rota, handbook, 2026, 12, 5, 12) == ["李强", "王芳"]  # next Saturday, no swap
    assert on_duty(rota, handbook, 2026, 10, 1, 10) == ["陈书记"]  # National Day holiday duty
    assert on_duty(rota, handbook, 2026, 10, 2, 10) == []  # holiday without duty
    assert on_duty(rota, handbook, 2026, 10, 10, 10) == [
        "张敏",
        "王芳",
        "赵磊",
    ]  # make-up Saturday: as Monday


def test_next_opening_skips_nights_and_people_on_leave(rota, handbook: Handbook) -> None:
    friday_night = datetime(2026, 11, 27, 20, tzinfo=SHANGHAI)
    start, window, _names = rota.next_opening(friday_night, handbook.calendar, lambda n, d: True)
    assert start == datetime(2026, 11, 28, 9, tzinfo=SHANGHAI) and window.key == "weekend"
    only_wang = rota.next_opening(
        friday_night, handbook.calendar, lambda n, d: n == "王芳" and d != date(2026, 11, 30)
    )
    assert only_wang[0] == datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)


A = Person("张敏", post=("social_security",), backup="李强")
B = Person("李强", post=("social_assistance",), backup="张敏")
W = Person("王芳", grade="B", categories=("residence", "convenience"), post=("residence",), backup="赵磊")
Z = Person("赵磊", grade="B", categories=("convenience", "residence"), post=("convenience",), backup="王芳")
EVERYONE = (A, B, W, Z)


def test_routing_prefers_the_home_post_then_the_backup_then_the_least_loaded() -> None:
    assert choose("social_security", [B, A, Z], EVERYONE, {"张敏": 9}) == A  # A岗 even when busier
    assert choose("social_security", [B, Z], EVERYONE, {}) == B  # 张敏 away: his B角
    assert choose("residence", [A, B], EVERYONE, {"张敏": 3, "李强": 1}) == B  # nobody of the post or backup
    assert choose("residence", [Z], EVERYONE, {}) == Z  # 王芳's backup
    assert choose("social_assistance", [W, Z], EVERYONE, {}) is None  # grade B cannot take it
    assert choose("family", [], EVERYONE, {}) is None


def test_rota_file_problems_are_all_named() -> None:
    doc = {
        "staff": [
            {"name": "甲", "grade": "C", "mobile": "123"},
            {"name": "乙", "grade": "B", "backup": "丙"},
        ],
        "windows": {"am": {"days": "someday", "time": "12:00-09:00"}},
        "week": {"mon": {"am": ["丁"]}, "funday": {}},
        "swaps": [{"date": "2026-13-01", "window": "pm", "from": "甲", "to": "戊"}],
    }
    with pytest.raises(RotaError) as caught:
        parse_rota(doc)
    text = "\n".join(caught.value.problems)
    for expected in (
        "staff[0].grade",
        "staff[0].mobile",
        "staff[1].categories",
        "staff[1].backup: unknown staff member '丙'",
        "windows.am.days",
        "windows.am.time",
        "week.funday",
        "swaps[0].date",
        "swaps[0].window",
        "swaps[0].to",
    ):
        assert expected in text, expected
