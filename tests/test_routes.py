"""Text routing as an ordered list: the order is declared, matchers are pure, a declining handler
passes the message on."""

from __future__ import annotations

from handlers import Context, Conversation, Message, Reply, Services
from handlers.conversation import CHOOSING, PLACED, Choice, Placed
from handlers.routes import TEXT_ROUTES, Route, first_reply


def ctx(services: Services, text: str, conversation: Conversation | None = None) -> Context:
    return Context(Message("r", "text", text), conversation or Conversation(), services)


def test_the_routes_are_tried_in_this_order() -> None:
    assert [route.name for route in TEXT_ROUTES] == [
        "emergency",
        "my_details",
        "emergency_details",
        "registering",
        "responder",
        "staff_command",
        "order_draft",
        "which_ticket",
        "ticket_change_value",
        "not_a_complaint",
        "complaint",
        "handoff",
        "duty_unreachable",
        "working_days",
        "sum",
        "own_tickets",
        "per_person",
        "placed_again",
        "placed_question",
        "placed_also",
        "retirement_month",
        "age",
        "place_asked",
        "numbered_choice",
        "book_which",
        "choice_question",
        "follow_up",
        "checklist",
        "not_understood",
        "item_follow_up",
        "item_request",
        "centre_question",
        "placed_unanswered",
        "referral_taken_up",
        "referral_follow_up",
        "anywhere_question",
        "complaint_visit",
        "complained_more",
        "book_later",
        "menu",
        "office_word",
        "open_question",
        "rating",
        "who",
        "order_and_question",
        "lonely",
        "life_event",
        "classify",
    ]


def test_matchers_extract_without_changing_the_conversation(services: Services) -> None:
    choosing = Conversation()
    choosing.enter(CHOOSING, Choice(("elderly_allowance", "elderly_card"), "order"))
    choosing.changed = False
    turn = ctx(services, "2", choosing)
    found = {route.name: route.match(turn) for route in TEXT_ROUTES}
    assert found["numbered_choice"].item == "elderly_card" and found["numbered_choice"].intent == "order"
    assert found["staff_command"] is None and found["order_draft"] is None and found["rating"] is not None
    assert choosing.change() is None


def test_placed_again_matches_only_a_confirmation_after_an_order(services: Services) -> None:
    placed = Conversation()
    placed.enter(PLACED, Placed("elderly_card", "10001"))
    [route] = [r for r in TEXT_ROUTES if r.name == "placed_again"]
    assert route.match(ctx(services, "确认", placed)) == Placed("elderly_card", "10001")
    assert route.match(ctx(services, "进度", placed)) is None
    assert route.match(ctx(services, "确认")) is None


async def test_a_declining_handler_passes_the_message_to_the_next_route(services: Services) -> None:
    async def decline(ctx: Context, found: str) -> Reply | None:
        return None

    async def answer(ctx: Context, found: str) -> Reply | None:
        return Reply(f"second: {found}")

    routes = (
        Route("declines", lambda ctx: "x", decline),
        Route("passes", lambda ctx: None, answer),
        Route("answers", lambda ctx: ctx.message.text, answer),
    )
    assert await first_reply(routes, ctx(services, "hi")) == Reply("second: hi")
    assert await first_reply(routes[:2], ctx(services, "hi")) is None


async def test_a_route_put_first_answers_before_all_the_others(services: Services) -> None:
    async def emergency(ctx: Context, found: str) -> Reply:
        return Reply("请立即拨打 119")

    routes = (Route("emergency", lambda ctx: "gas" if "燃气味" in ctx.message.text else None, emergency),)
    assert await first_reply((*routes, *TEXT_ROUTES), ctx(services, "家里有燃气味")) == Reply(
        "请立即拨打 119"
    )
    other = await first_reply((*routes, *TEXT_ROUTES), ctx(services, "帮我点一杯奶茶"))
    assert other is not None and "社区办不了" in other.text
