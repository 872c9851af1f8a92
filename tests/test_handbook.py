"""The handbook covers the fixed catalogue, validates its data, and every checklist fits WeChat."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from handlers import render
from handlers.render import checklist, office_hours
from handlers.types import MAX_REPLY_BYTES
from knowledge import Handbook, HandbookError, load_handbook
from knowledge.loader import default_data_dir

SHARED_CATALOG = Path(__file__).resolve().parents[2] / "shared" / "service-catalog.yaml"


def _catalog_ids(path: Path) -> list[str]:
    return [entry["id"] for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["items"]]


def test_every_catalogue_item_has_a_handbook_entry_in_catalogue_order(handbook: Handbook) -> None:
    ids = _catalog_ids(default_data_dir() / "service-catalog.yaml")
    assert len(ids) >= 50
    assert len(set(ids)) == len(ids)
    assert list(handbook.items) == ids


@pytest.mark.skipif(not SHARED_CATALOG.exists(), reason="../shared/ is not beside this checkout")
def test_bundled_catalogue_keeps_the_shared_public_contract() -> None:
    """The shared catalogue's items come first, unchanged (id, category, title, scope); the
    handbook may only add items after them, and categories are the shared ones."""
    bundled = yaml.safe_load((default_data_dir() / "service-catalog.yaml").read_text(encoding="utf-8"))
    shared = yaml.safe_load(SHARED_CATALOG.read_text(encoding="utf-8"))
    assert bundled["categories"] == shared["categories"]
    assert bundled["items"][: len(shared["items"])] == shared["items"]
    assert len(bundled["items"]) > len(shared["items"])


@pytest.mark.parametrize("item_id", _catalog_ids(default_data_dir() / "service-catalog.yaml"))
def test_checklist_is_complete_and_fits_wechat_limit(handbook: Handbook, item_id: str) -> None:
    item = handbook.item(item_id)
    text = checklist(item, handbook)
    assert len(text.encode("utf-8")) <= MAX_REPLY_BYTES
    for document in item.documents:
        assert document.name in text, f"{item_id}: document {document.name} missing from the checklist"
    for must in ("在哪办", "办理时间", "办多久", "费用", "以当地最新政策为准", handbook.office.phone):
        assert must in text
    assert item.title in text


def test_office_hours_include_lunch_and_weekend_duty(handbook: Handbook) -> None:
    text = office_hours(handbook.office)
    assert "12:00-14:00" in text and "9:00-17:00" in text
    assert handbook.office.places["community"].address in text


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(default_data_dir(), target)
    return target


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _problems(directory: Path) -> list[str]:
    with pytest.raises(HandbookError) as caught:
        load_handbook(directory)
    return caught.value.problems


def test_missing_field_is_reported_with_file_and_field(data_copy: Path) -> None:
    _edit(data_copy / "items/residence_permit.yaml", lambda d: d.pop("fee"))
    assert _problems(data_copy) == ["items/residence_permit.yaml: fee: missing"]


def test_an_external_place_s_branch_must_be_one_the_office_lists(data_copy: Path) -> None:
    _edit(data_copy / "items/death_registration.yaml", lambda d: d["where"].update(nearby="fire_station"))
    assert _problems(data_copy) == [
        "items/death_registration.yaml: where.nearby: 'fire_station' is not in office.yaml nearby"
    ]


def test_an_external_item_says_its_local_branch_and_its_hours(handbook: Handbook) -> None:
    item = handbook.item("death_registration")
    assert "幸福路派出所，幸福路 200 号" in render.place_text(item, handbook.office)
    assert "周六上午" in render.hours_text(item, handbook.office)


def test_unknown_category_and_bad_document_count_are_reported(data_copy: Path) -> None:
    def change(d):
        d["category"] = "sports"
        d["documents"][1]["count"] = 0

    _edit(data_copy / "items/elderly_card.yaml", change)
    problems = _problems(data_copy)
    assert "items/elderly_card.yaml: category: unknown category 'sports'" in problems
    assert "items/elderly_card.yaml: documents[1].count: must be a positive integer" in problems


def test_unknown_id_is_reported(data_copy: Path) -> None:
    (data_copy / "items/pet_licence.yaml").write_text(
        (data_copy / "items/sanitation.yaml")
        .read_text(encoding="utf-8")
        .replace("id: sanitation", "id: pet_licence"),
        encoding="utf-8",
    )
    problems = _problems(data_copy)
    assert any(p.startswith("items/pet_licence.yaml: id: unknown id 'pet_licence'") for p in problems)


def test_alias_claimed_by_two_items_is_reported(data_copy: Path) -> None:
    _edit(data_copy / "items/elderly_allowance.yaml", lambda d: d["aliases"].append("老年证"))
    problems = _problems(data_copy)
    assert any("aliases: '老年证' is already claimed by" in p for p in problems), problems


def test_missing_item_file_and_broken_yaml_are_reported(data_copy: Path) -> None:
    (data_copy / "items/veteran_services.yaml").unlink()
    (data_copy / "items/legal_aid.yaml").write_text("id: legal_aid\ntitle: [unclosed\n", encoding="utf-8")
    problems = _problems(data_copy)
    assert any(p.startswith("items/veteran_services.yaml: missing") for p in problems)
    assert any(p.startswith("legal_aid.yaml: not valid YAML") for p in problems)


def test_unknown_field_is_reported(data_copy: Path) -> None:
    _edit(data_copy / "items/sanitation.yaml", lambda d: d.update(feee="免费"))
    assert _problems(data_copy) == ["items/sanitation.yaml: feee: unknown field"]


def test_income_line_is_checked(data_copy: Path) -> None:
    """The line residents' own figures are set against: whole yuan, low before high, all three words."""
    path = data_copy / "items/subsistence_allowance.yaml"
    _edit(path, lambda d: d["income_line"].update(low=1200))
    assert _problems(data_copy) == [
        "items/subsistence_allowance.yaml: income_line: low and high must be whole yuan per person per "
        "month, low <= high"
    ]
    _edit(path, lambda d: d["income_line"].update(low=700, above=""))
    assert _problems(data_copy) == ["items/subsistence_allowance.yaml: income_line.above: missing"]
    line = load_handbook(default_data_dir()).item("subsistence_allowance").income_line
    assert line is not None and (line.low, line.high) == (700, 1000)


def test_item_questions_are_checked(data_copy: Path) -> None:
    def change(d):
        d["questions"] = [
            {"ask": ["有车"]},
            {"ask": [], "answer": "太长" * 200},
            {"ask": ["有房"], "answer": "有房的一般不能办。", "why": "?"},
            {"ask": ["有车库", "存款"], "answer": "车库算房产。"},  # 有车 (questions[0]) asks first
        ]

    _edit(data_copy / "items/subsistence_allowance.yaml", change)
    problems = _problems(data_copy)
    where = "items/subsistence_allowance.yaml: questions"
    assert f"{where}[0].answer: missing" in problems
    assert f"{where}[1].ask: must be a non-empty list" in problems
    assert f"{where}[1].answer: longer than 300 characters" in problems
    assert f"{where}[2].why: unknown field" in problems
    assert f"{where}[3].ask: '有车库' is already asked by questions[0] ('有车' comes first)" in problems
    assert not any(f"{where}[3].ask: '存款'" in p for p in problems)


def test_a_question_asked_anywhere_is_asked_by_no_other_item(data_copy: Path) -> None:
    # elderly_visiting asks 防走失 anywhere and its file is read before home_care's: the same word
    # asked by the later item is reported, whichever item claimed it first.
    def change(d):
        d["questions"].append({"ask": ["防走失"], "answer": "问社区。"})

    _edit(data_copy / "items/home_care.yaml", change)
    problems = _problems(data_copy)
    where = "items/elderly_visiting.yaml: questions"
    assert f"{where}: '防走失' is asked anywhere but 'home_care' asks it too" in problems, problems


def test_a_longer_word_asked_anywhere_is_no_clash_with_a_shorter_one_elsewhere(data_copy: Path) -> None:
    # residence_registration asks 租房备案 anywhere; childcare_tutoring's 租房 inside it is the less
    # specific question, so it is no clash — but another item asking 租房备案 itself is.
    load_handbook(data_copy)

    def change(d):
        d.setdefault("questions", []).append({"ask": ["租房备案"], "answer": "问社区。"})

    _edit(data_copy / "items/venue_booking.yaml", change)
    problems = _problems(data_copy)
    where = "items/residence_registration.yaml: questions"
    assert problems == [f"{where}: '租房备案' is asked anywhere but 'venue_booking' asks it too"], problems


def test_emergency_questions_are_checked(data_copy: Path) -> None:
    def change(d):
        medical = next(h for h in d["hazards"] if h["kind"] == "medical")
        medical["questions"].append({"ask": "(喝水", "answer": "先不要喂水。"})
        medical["questions"].append({"ask": "喝水"})

    _edit(data_copy / "emergency.yaml", change)
    problems = _problems(data_copy)
    medical = next(
        h
        for h in yaml.safe_load((data_copy / "emergency.yaml").read_text())["hazards"]
        if h["kind"] == "medical"
    )
    bad, missing = len(medical["questions"]) - 2, len(medical["questions"]) - 1
    bad_pattern = f"questions[{bad}].ask: not a valid"
    assert any(p.startswith("emergency.yaml: hazards[") and bad_pattern in p for p in problems), problems
    assert any(f"questions[{missing}]: needs ask (a regular expression) and answer" in p for p in problems), (
        problems
    )


def test_questions_for_every_emergency_are_checked(data_copy: Path) -> None:
    def change(d):
        d["any_questions"].append({"ask": "(然后", "answer": "接下来打电话。"})
        d["any_questions"].append({"ask": "然后"})

    _edit(data_copy / "emergency.yaml", change)
    problems = _problems(data_copy)
    count = len(yaml.safe_load((data_copy / "emergency.yaml").read_text())["any_questions"])
    assert f"emergency.yaml: any_questions[{count - 2}].ask: not a valid" in "\n".join(problems), problems
    missing = f"emergency.yaml: any_questions[{count - 1}]: needs ask (a regular expression) and answer"
    assert missing in problems, problems


def test_phrasings_problems_are_reported_with_file_and_field(data_copy: Path) -> None:
    def change(d):
        d["cues"]["cancel"] = []  # emptied
        d["cues"]["human"].append("(找|叫")  # unbalanced pattern
        d["fillers"].append("嗯")  # listed twice
        d["ordering"]["confrim"] = d["ordering"].pop("confirm")  # misspelt key
        d["after_item"]["checklist"].append("预约")  # also a follow-up word
        d["rating"]["stars"]["超级满意"] = 6
        d["smalltalk"]["hello"] = ["你好"]

    _edit(data_copy / "phrasings.yaml", change)
    problems = _problems(data_copy)
    human = len(load_handbook().phrasings.cues["human"])
    expected = [
        "phrasings.yaml: cues.cancel: must be a non-empty list",
        f"phrasings.yaml: cues.human[{human}]: '(找|叫' is not a valid pattern: "
        "missing ), unterminated subpattern at position 0",
        "phrasings.yaml: fillers[22]: '嗯' is listed twice",
        "phrasings.yaml: ordering.confrim: unknown field",
        "phrasings.yaml: ordering.confirm: missing",
        "phrasings.yaml: after_item.checklist: '预约' is already listed in after_item.order",
        "phrasings.yaml: rating.stars.超级满意: must be a whole number of stars from 1 to 5",
        "phrasings.yaml: smalltalk.hello: unknown field",
    ]
    assert sorted(problems) == sorted(expected)


def test_missing_phrasings_file_is_reported(data_copy: Path) -> None:
    (data_copy / "phrasings.yaml").unlink()
    problems = _problems(data_copy)
    assert len(problems) == 1 and problems[0].endswith("phrasings.yaml: file not found"), problems


def test_referral_questions_are_checked(data_copy: Path) -> None:
    def change(d):
        place = next(p for p in d["places"] if p["id"] == "vehicle_office")
        place["questions"] = [
            {"ask": [], "answer": "无"},
            {"ask": ["三力"], "answer": "测试。"},
            {"ask": ["三力测试"], "answer": "长" * 301, "anywhere": True},
        ]

    # The same checks as an item's questions (the directory had its own parser without the last two).
    _edit(data_copy / "referrals.yaml", change)
    where = "referrals.yaml: places[3].questions"
    assert _problems(data_copy) == [
        f"{where}[0].ask: must be a non-empty list",
        f"{where}[2].anywhere: unknown field",
        f"{where}[2].answer: longer than 300 characters",
        f"{where}[2].ask: '三力测试' is already asked by questions[1] ('三力' comes first)",
    ]
