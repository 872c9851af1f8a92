"""What residents write reaches the staff group masked and neutralised: mobiles and ID numbers in
every form (tests/data/masking.tsv), and no markdown, mentions, links or forged lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.masking import mask_text
from handlers.notices import group_markdown, quoted
from knowledge import Handbook

CASES = [
    line.split("\t")
    for line in (Path(__file__).parent / "data" / "masking.tsv").read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_mobiles_and_id_numbers_are_masked_in_every_form(text: str, expected: str) -> None:
    assert mask_text(text) == expected


ATTACKS = [
    "<@all> 水管爆了",
    "漏水\n请 <@zhangmin> 回复 接单 10002",
    "详情见 [点这里](http://evil.example/login) 或 https://evil.example/x?y=1 www.evil.cn/a",
    "![图](http://evil.example/a.png) 看图",
    '<font color="warning">【紧急】</font> 假的',
    "楼道灯坏了\r\n\r\n**新工单 19999**\n> 联系电话：13812345678",
    "`code` # 标题 ~~删~~ <script>",
    "行一\u2028行二\u0085行三\x0b行四\u202e反转",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_quoted_keeps_resident_text_on_one_inert_line(attack: str) -> None:
    safe = quoted(attack)
    assert "\n" not in safe and "\r" not in safe and "\u2028" not in safe and "\u202e" not in safe
    for forbidden in ("<", ">", "[", "]", "(http", "http", "www.", "**", "`", "#", "@"):
        assert forbidden not in safe, (forbidden, safe)
    assert "13812345678" not in safe


def _payload(**extra: object) -> dict[str, object]:
    base = {
        "ticket": "10001",
        "item_id": "facility_repair",
        "mobile": "138****5678",
        "window": None,
        "assignee": "李强",
        "wecom": "liqiang",
        "urgent": False,
    }
    return {**base, **extra}


@pytest.mark.parametrize(
    ("event", "extra"),
    [
        ("new_ticket", {"description": "{x}"}),
        ("follow_up", {"comment": "{x}", "stars": 1, "parent": "10000"}),
        ("emergency", {"description": "{x}", "hazard": "燃气", "mentions": ["zhangmin"]}),
        ("detail", {"field": "address", "text": "{x}"}),
        ("detail", {"field": "detail", "text": "{x}"}),
        ("cancelled", {"description": "{x}"}),
    ],
)
def test_every_push_quotes_every_resident_field(
    handbook: Handbook, event: str, extra: dict[str, object]
) -> None:
    attack = "漏水\n**新工单 19999**\n请 <@all> 回复 接单 19999 [登录](http://evil.example) 13812345678"
    payload = _payload(**{k: (attack if v == "{x}" else v) for k, v in extra.items()})
    content = group_markdown(event, payload, handbook)
    assert "<@all>" not in content and "http" not in content and "13812345678" not in content
    assert "**新工单 19999**" not in content
    lines = content.splitlines()
    # Exactly one line carries the resident's words, and it is a quote line.
    carrying = [line for line in lines if "漏水" in line]
    assert len(carrying) == 1 and carrying[0].startswith("> ")
    assert not any("19999" in line for line in lines if line is not carrying[0])


def test_quoted_drops_only_the_link_and_mention_not_the_words_around_them() -> None:
    safe = quoted("登录evil.cn/a然后输入密码，请@zhangmin 看看楼道灯")
    assert "evil" not in safe and "zhangmin" not in safe
    assert "登录" in safe and "然后输入密码" in safe and "看看楼道灯" in safe


def test_a_change_the_resident_made_is_quoted_too(handbook: Handbook) -> None:
    """改地址 puts the resident's new address into the 'amended' push: it is resident text as well."""
    attack = "幸福里5栋\n**新工单 19999**\n请 <@all> 回复 接单 19999 [登录](http://evil.example)"
    content = group_markdown("amended", _payload(changes=[f"地址 阳光苑3栋 → {attack}"]), handbook)
    assert "<@all>" not in content and "http" not in content and "**新工单 19999**" not in content
    assert next(line for line in content.splitlines() if "幸福里5栋" in line).startswith("> 改动：")


def test_a_landline_contact_is_masked_like_a_mobile() -> None:
    """Residents without a mobile give their home phone; the group sees its area code and last four."""
    from desk.masking import mask_mobile

    assert mask_mobile("028-85551234") == "028-****1234"
    assert mask_mobile("0816-2345678") == "0816-****5678"
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("85551234") == "****"
