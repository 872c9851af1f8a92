"""Normalisation and classification, measured on the labelled set plus the shared public sample."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from intents import INTENTS, Classifier
from knowledge import Handbook

DATA = Path(__file__).parent / "data" / "labelled.tsv"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "nlu-examples.tsv"


def _read_labelled(path: Path) -> list[tuple[str, str, str | None]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, intent, item = line.split("\t")
        rows.append((text, intent, None if item == "-" else item))
    return rows


def _evaluation_rows() -> list[tuple[str, str, str | None]]:
    rows = _read_labelled(DATA)
    if SHARED.exists():
        rows += _read_labelled(SHARED)
    return rows


def test_labelled_set_is_large_and_well_formed(handbook: Handbook) -> None:
    rows = _read_labelled(DATA)
    assert len(rows) >= 400
    assert len({text for text, _, _ in rows}) == len(rows), "duplicate messages in the labelled set"
    for text, intent, item in rows:
        assert intent in INTENTS, text
        assert (item is None) or (item in handbook.items), text
        if intent not in ("consult", "order"):
            assert item is None, f"{text}: only consult and order name an item"
    covered = {item for _, intent, item in rows if item}
    assert covered == set(handbook.items), f"items without examples: {set(handbook.items) - covered}"


def test_accuracy_meets_targets(classifier: Classifier) -> None:
    rows = _evaluation_rows()
    intent_hits = item_total = item_hits = oos_total = oos_hits = 0
    misses = []
    for text, intent, item in rows:
        result = classifier.classify(text)
        intent_hits += result.intent == intent
        if intent in ("consult", "order"):
            item_total += 1
            item_hits += result.item == item
        if intent == "unknown":
            oos_total += 1
            oos_hits += result.intent == "unknown"
        if result.intent != intent or (intent in ("consult", "order") and result.item != item):
            misses.append(f"  {text!r}: expected {intent}/{item}, got {result.intent}/{result.item}")
    intent_accuracy = intent_hits / len(rows)
    item_accuracy = item_hits / item_total
    oos_recall = oos_hits / oos_total
    print(
        f"\nclassifier on {len(rows)} messages: intent accuracy {intent_accuracy:.1%}, "
        f"item accuracy {item_accuracy:.1%} ({item_total} consult/order), "
        f"out-of-scope recall {oos_recall:.1%} ({oos_total} messages)"
    )
    print("\n".join(misses))
    assert intent_accuracy >= 0.95
    assert item_accuracy >= 0.95
    assert oos_recall >= 0.90


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("辦居住證要帶什麼", "办居住证要带什么"),  # traditional → simplified
        ("ＡＢＣ１２３，", "abc123"),  # full-width → half-width
        ("你好[微笑]😊👍", "你好"),  # WeChat emoji codes and pictographs
        ("养老金认证咋个弄嘛", "养老金认证怎么办"),  # dialect + particle
        ("屋头娃儿莫得医保", "家里孩子没有医保"),
        ("嗯那个，呃，我想问一下啊", "我想问一下"),  # voice fillers
    ],
)
def test_normalize(classifier: Classifier, raw: str, expected: str) -> None:
    assert classifier.normalize(raw) == expected


def test_close_items_are_offered_as_candidates(classifier: Classifier) -> None:
    result = classifier.classify("老年证和高龄津贴有什么区别")
    assert result.ambiguous
    assert set(result.candidates) == {"elderly_card", "elderly_allowance"}


def test_negated_item_is_not_evidence(classifier: Classifier) -> None:
    assert classifier.classify("不是居住证，是居住证明，学校要的").item == "community_certificate"


def test_general_question_is_consult_without_item(classifier: Classifier) -> None:
    result = classifier.classify("你们能办哪些业务")
    assert (result.intent, result.item) == ("consult", None)


def test_classify_cli_json_contract() -> None:
    texts = ["办居住证要带啥子", "今天股市行情怎么样"]
    by_args = subprocess.run(
        [sys.executable, "-m", "bot", "classify", "--json", *texts],
        capture_output=True,
        text=True,
        check=True,
    )
    by_stdin = subprocess.run(
        [sys.executable, "-m", "bot", "classify", "--json"],
        input="\n".join(texts) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    for output in (by_args.stdout, by_stdin.stdout):
        objects = [json.loads(line) for line in output.splitlines()]
        assert [set(o) for o in objects] == [{"text", "intent", "item", "confidence"}] * 2
        assert objects[0] == {**objects[0], "text": texts[0], "intent": "consult", "item": "residence_permit"}
        assert objects[1]["intent"] == "unknown" and objects[1]["item"] is None
        assert all(0 <= o["confidence"] <= 1 for o in objects)


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("生存认正", "pension_certification"),  # 证 typed as 正
        ("居主正要带什么", "residence_permit"),
        ("高零津贴怎么领", "elderly_allowance"),
        ("刘动人口登记去哪里", "residence_registration"),
        ("退休人员资格任正", "pension_certification"),
    ],
)
def test_homophone_typos_still_name_the_service(classifier: Classifier, text: str, item: str) -> None:
    result = classifier.classify(text)
    assert (result.intent, result.item) == ("consult", item)


def test_homophones_do_not_invent_services(classifier: Classifier) -> None:
    for text in ("明天天气怎么样", "今天吃什么", "我想去旅游", "这个电视剧真好看", "他是我的老同学"):
        assert classifier.classify(text).item is None, text


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("我妈已经有老年证了，现在满八十了，每个月那个补贴怎么领", "elderly_allowance"),
        ("养老保险我交满了，现在退休了每年要做的那个认证", "pension_certification"),
        ("低保我们家不够条件，但是最近出了意外很困难，有没有其他帮助", "temporary_assistance"),
    ],
)
def test_a_service_mentioned_as_context_is_not_the_subject(
    classifier: Classifier, text: str, item: str
) -> None:
    assert classifier.classify(text).item == item


def test_saying_it_is_a_question_outranks_requests_in_the_background(classifier: Classifier) -> None:
    text = "上次你们社区的小王上门帮我办了认证，很感谢，这次我想问下高龄补贴怎么申请"
    assert classifier.classify(text)[1:3] == ("consult", "elderly_allowance")
