"""“我的信息” shows what is kept about the resident (mobile masked); “删除我的信息” erases it.

Answered wherever the conversation is, even halfway through an order: erasing also takes the
copied details out of that draft, which then asks for them as it would for anyone.
"""

from __future__ import annotations

from desk.residents import Profile
from desk.states import OPEN_STATES
from handlers import ordering, profile
from handlers.conversation import ORDERING
from handlers.types import Context, Reply

_HOW = "只用于您下次预约时少填几项，不会发给别人。"


def request_of(ctx: Context) -> str | None:
    """Whether the message asks to erase ("erase") or see ("show") the kept details."""
    lexicon = ctx.services.classifier.lexicon
    said = lexicon.normalize(ctx.message.text)
    if lexicon.profile_erase.search(said):
        return "erase"
    return "show" if lexicon.profile_show.fullmatch(said) else None


async def answer(ctx: Context, request: str) -> Reply | None:
    desk = ctx.services.desk
    if desk is None:
        return None  # nothing is ever kept without a database: let the other routes answer
    if request == "show":
        kept = await desk.residents.recall(ctx.message.resident)
        return Reply(_shown(kept) + _still_ordering(ctx))
    # Days still being written in the background (from this resident's earlier messages) land
    # first, so the erase takes them too (a loaded CI run saw them written after it).
    await desk.conversations.flush()
    erased = await desk.residents.forget(ctx.message.resident)
    ctx.conversation.forget_recent()
    said = "已删除您保存的联系信息（姓名、电话、地址）。" if erased else "我们没有保存您的联系信息。"
    draft = ctx.conversation.get(ORDERING)
    if draft is None or not draft.recalled:
        kept = await _tickets_kept(ctx)
        return Reply(
            said + "以后预约会重新问您，提交后仍会保存，随时可以再删除。" + kept + _still_ordering(ctx)
        )
    for field in draft.recalled:
        draft.drop(field)
    draft.recalled = ()
    return ordering.resume(ctx, draft, [said, "刚才的预约还没提交，我们接着来。"])


async def _tickets_kept(ctx: Context) -> str:
    """Open tickets stand after an erase: "删了信息，我约的还算数不，律师联系得到我不" (trial Z3 r14
    got the checklist again). Only the saved details for next time go; a ticket keeps its phone."""
    assert ctx.services.desk is not None
    tickets = await ctx.services.desk.resident_tickets(ctx.message.resident, limit=10)
    numbers = [str(t.number) for t in tickets if t.state in OPEN_STATES]
    if not numbers:
        return ""
    return f"\n已经提交的工单（{'、'.join(numbers)}）照常办理，单上留的电话工作人员照样能联系您。"


def _shown(kept: Profile | None) -> str:
    if not kept:
        return (
            "我们没有保存您的联系信息。预约提交后会保存姓名、电话和地址，方便下次少填；"
            "随时回复“删除我的信息”可以删除。"
        )
    masked = kept.masked()
    lines = ["我们为您保存的联系信息："]
    lines += [f"{profile.LABELS[f]}：{masked.get(f)}" for f in profile.LABELS if masked.get(f)]
    lines.append(_HOW + "回复“删除我的信息”可以删除。")
    return "\n".join(lines)


def _still_ordering(ctx: Context) -> str:
    return "\n（刚才的预约还没提交，接着回答上面的问题就行。）" if ctx.conversation.get(ORDERING) else ""
