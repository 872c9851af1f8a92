"""Declared conversation states: what is saved, what older processes wrote, and what is dropped."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from handlers import Conversation
from handlers.conversation import AFTER_ITEM, CHOOSING, ORDERING, PLACED, Choice, Placed
from handlers.draft import OrderDraft
from intents.when import Window
from tests.conftest import SATURDAY_LUNCH

NOW = SATURDAY_LUNCH
ITEMS = {"pension_certification", "elderly_card", "elderly_allowance"}


def load(raw: dict[str, Any], now: datetime = NOW) -> Conversation:
    return Conversation.load(raw, now, ITEMS)


def v1_draft(at: datetime = NOW) -> dict[str, Any]:
    """A draft as version 1 (free keys) saved it."""
    return {
        "item": "pension_certification",
        "visit": True,
        "fields": {
            "name": "张秀英",
            "time": {"start": "2026-11-29T09:00:00+08:00", "end": "2026-11-29T12:00:00+08:00"},
        },
        "asking": "mobile",
        "key": "k1",
        "at": at.isoformat(),
        "urgent": False,
    }


def test_version_1_states_are_read_by_their_keys() -> None:
    ordering = load({"order": v1_draft(), "last_item": "pension_certification"})
    draft = ordering.get(ORDERING)
    assert draft is not None and ordering.item == "pension_certification"
    assert (draft.fields, draft.asking, draft.visit) == ({"name": "张秀英"}, "mobile", True)
    assert draft.time is not None and draft.time.start.hour == 9
    assert load({"await_choice": ["elderly_card", "elderly_allowance"], "intent": "order"}).get(
        CHOOSING
    ) == Choice(("elderly_card", "elderly_allowance"), "order")
    placed = load({"last_item": "elderly_card", "placed": "10001"})
    assert placed.get(PLACED) == Placed("elderly_card", "10001") and placed.item == "elderly_card"
    assert load({"last_item": "elderly_card"}).get(AFTER_ITEM) == "elderly_card"


@pytest.mark.parametrize(
    ("state", "value"),
    [
        (ORDERING, OrderDraft("pension_certification", "k", NOW, True, fields={"name": "张"})),
        (CHOOSING, Choice(("elderly_card", "elderly_allowance"), "consult")),
        (PLACED, Placed("elderly_card", "10002")),
        (AFTER_ITEM, "elderly_card"),
    ],
)
def test_each_state_is_saved_named_and_read_back(state: Any, value: Any) -> None:
    conversation = Conversation()
    conversation.enter(state, value)
    saved = conversation.change()
    assert saved is not None and saved["v"] == 2 and saved["state"] == state.name
    assert load(saved).get(state) == value


def test_saved_states_keep_the_keys_version_1_reads() -> None:
    draft = OrderDraft("pension_certification", "k", NOW, fields={"name": "张"})
    draft.time = Window(NOW, NOW + timedelta(hours=1))
    conversation = Conversation()
    conversation.enter(ORDERING, draft)
    saved = conversation.change()
    assert saved is not None and saved["last_item"] == "pension_certification"
    assert saved["order"]["fields"]["time"] == draft.time.as_json() and saved["order"]["key"] == "k"


def test_entering_a_state_replaces_the_whole_value() -> None:
    conversation = load({"last_item": "elderly_card", "placed": "10001"})
    conversation.enter(CHOOSING, Choice(("elderly_card", "elderly_allowance")))
    assert conversation.get(PLACED) is None and conversation.item is None
    conversation.forget()
    assert conversation.change() == {}


def test_an_untouched_conversation_saves_nothing() -> None:
    assert load({"last_item": "elderly_card"}).change() is None
    assert Conversation().change() is None


def test_an_idle_draft_is_dropped_when_the_turn_starts() -> None:
    fresh = load({"order": v1_draft(NOW - timedelta(minutes=29))})
    assert fresh.get(ORDERING) is not None and fresh.change() is None
    stale = load({"order": v1_draft(NOW - timedelta(minutes=31)), "last_item": "pension_certification"})
    assert stale.get(ORDERING) is None and stale.item is None
    assert stale.change() == {}  # forgotten unless this turn's handler enters a new state


@pytest.mark.parametrize(
    "raw",
    [
        {"v": 3, "state": "ordering"},
        {"v": 2, "state": "dreaming"},
        {"v": 2, "state": "placed", "last_item": "elderly_card"},
        {"order": {"item": "pension_certification"}},
        {"order": {**v1_draft(), "at": "yesterday"}},
        {"order": {**v1_draft(), "at": "2026-11-28T12:00:00"}},
        {"order": "not a draft"},
        {"await_choice": None},
        {"something": "else"},
        {"last_item": "an_item_the_handbook_dropped"},
        {"await_choice": ["elderly_card", "gone"], "intent": "consult"},
    ],
)
def test_an_unreadable_or_unknown_state_is_forgotten_not_an_error(raw: dict[str, Any]) -> None:
    conversation = load(raw)
    assert conversation.state is None and conversation.change() == {}


def test_no_state_is_no_conversation() -> None:
    conversation = load({})
    assert conversation.state is None and conversation.change() is None


def test_the_last_numbered_list_is_kept_for_a_few_messages() -> None:
    # Trial Q: "5" two messages after the life-event list found no list.
    conversation = load({})
    conversation.enter(CHOOSING, Choice(("elderly_card", "elderly_allowance")))
    conversation.remember("优待证要带啥子")
    conversation.enter(AFTER_ITEM, "elderly_card")
    saved = load(conversation.change())
    assert saved.get(CHOOSING) is None and saved.menu == Choice(("elderly_card", "elderly_allowance"))
    assert load({**conversation.change(), "menu": {"options": ["gone_item"], "age": 0}}).menu is None
    for text in ("一", "二", "三"):
        saved.remember(text)
    assert saved.menu is None
    saved.enter(CHOOSING, Choice(("elderly_card",)))
    saved.forget()
    assert saved.menu is None
