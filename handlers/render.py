"""Turn handbook data into short, plain messages that an elderly resident reads easily."""

from __future__ import annotations

from collections.abc import Callable

from handlers.types import MAX_REPLY_BYTES
from knowledge import Document, Handbook, Item, Office
from knowledge.models import Nearby

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"


def fits(text: str) -> bool:
    return len(text.encode("utf-8")) <= MAX_REPLY_BYTES


def numbered(lines: list[str] | tuple[str, ...]) -> list[str]:
    return [f"{_CIRCLED[i] if i < len(_CIRCLED) else f'{i + 1}.'}{line}" for i, line in enumerate(lines)]


def place_text(item: Item, office: Office) -> str:
    if item.where.place == "external":
        text = item.where.name
        near = office.nearby.get(item.where.nearby)
        if near is not None:
            phone = f"，电话 {near.phone}" if near.phone else ""
            text += f"（离社区最近的：{near.name}，{near.address}{phone}）"
    else:
        place = office.places[item.where.place]
        text = f"{place.name}，{place.address}"
    return f"{text}；{item.where.note}" if item.where.note else text


def hours_text(item: Item, office: Office) -> str:
    """When it can be done. Lunchtime and weekend duty are the community station's: said only for
    items done there (a trial saw "中午、周末有人值班" after a police station's and a school's hours)."""
    when = item.when or office.hours["weekdays"]
    near = office.nearby.get(item.where.nearby)
    if near is not None and near.hours:
        branch = f"{near.name}{near.hours}（以实际为准）"
        return f"{branch}；{when}" if item.when else branch
    if item.where.place != "community":
        return when
    # Whether the duty staff can finish it, not only that someone is there: "周末值班的人能不能给我
    # 办登记" was answered twice with "有人值班" (trial K). Items done on the spot can be; the rest
    # are taken in and done on a working day.
    if item.time_limit.kind == "immediate":
        return f"{when}；中午、周末值班时也能办"
    return f"{when}；中午、周末有人值班，可以先交材料"


def document_line(document: Document, *, with_note: bool = True) -> str:
    """One document as the checklist lists it: name, form and count, then what may stand in for it."""
    line = f"{document.name}（{document.form}{document.count}份）"
    return line + (f"：{document.note}" if with_note and document.note else "")


def documents_line(item: Item) -> str:
    """What to bring, in one line (an item with none says so: a repair asked "要带啥子" got "要带：。")."""
    if not item.documents:
        return "不用带材料。"
    return "要带：" + "、".join(document.name for document in item.documents) + "。"


def checklist_summary(item: Item) -> str:
    """Two lines of an item for a reply that answers several: what to bring, and where."""
    names = "、".join(d.name for d in item.documents[:3]) or "不用带材料"
    return f"要带：{names}{'等' if len(item.documents) > 3 else ''}；{item.scope or ''}".rstrip("；")


def time_limit_text(item: Item) -> str:
    limit = item.time_limit
    base = "当场办结（即办）" if limit.kind == "immediate" else f"{limit.days} 个工作日内"
    return f"{base}，{limit.note}" if limit.note else base


def checklist(item: Item, handbook: Handbook, *, complete: bool = False) -> str:
    """The one-time checklist (一次性告知): complete, in one message, within WeChat's byte limit.

    Sections are dropped from the least to the most essential until it fits; the list of what to
    bring, where, when, time limit and fee are never dropped. `complete`: every section, whatever
    its size (the console's preview compares it with the limit).
    """
    office = handbook.office

    def documents(with_notes: bool) -> list[str]:
        if not item.documents:
            return ["不用带材料，说清楚位置和情况就行"]
        return numbered([document_line(d, with_note=with_notes) for d in item.documents])

    def build(
        *, notes: bool, steps: bool, eligibility: int, doc_notes: bool, online: bool, amount: bool = True
    ) -> str:
        parts = [f"【{item.title}】一次性告知", "一、要带的材料：", *documents(doc_notes)]
        if eligibility:
            parts += ["二、谁能办：", *item.eligibility[:eligibility]]
        parts.append(f"三、在哪办：{place_text(item, office)}")
        parts.append(f"四、办理时间：{hours_text(item, office)}")
        parts.append(f"五、办多久：{time_limit_text(item)}")
        parts.append(f"六、费用：{item.fee}")
        if amount and item.amount:
            # What an allowance pays is the first thing asked about it (trial AA r2 asked again for it).
            parts.append(f"标准：{item.amount}")
        if steps:
            parts += ["七、怎么办：", *numbered(item.steps)]
        if online and item.online:
            parts.append(f"网上办：{item.online}")
        if notes:
            parts += [f"提示：{note}" for note in item.notes]
        parts.append(_booking_hint(item))
        parts.append(f"咨询电话 {office.phone}。{office.policy_note}")
        return "\n".join(p for p in parts if p)

    variants: list[Callable[[], str]] = [
        lambda: build(notes=True, steps=True, eligibility=3, doc_notes=True, online=True),
        lambda: build(notes=False, steps=True, eligibility=1, doc_notes=True, online=True),
        lambda: build(notes=False, steps=False, eligibility=1, doc_notes=True, online=True),
        lambda: build(notes=False, steps=False, eligibility=0, doc_notes=True, online=False),
        lambda: build(notes=False, steps=False, eligibility=0, doc_notes=False, online=False),
        lambda: build(notes=False, steps=False, eligibility=0, doc_notes=False, online=False, amount=False),
    ]
    if complete:
        return variants[0]()
    for variant in variants:
        text = variant()
        if fits(text):
            return text
    return truncate(text)


def _booking_hint(item: Item) -> str:
    if item.bookable and item.home_visit:
        return "行动不便的可上门办理。需要预约或上门，请回复“预约”。"
    if item.bookable:
        return "需要预约，请回复“预约”。"
    if item.home_visit:
        return "行动不便的可回复“上门”，我们安排工作人员联系您。"
    return ""


def truncate(text: str) -> str:
    """Cut at a line boundary so the reply fits; the resident is told how to get the rest.

    A text that fits is returned as it is: the note says something was cut, so only then."""
    if fits(text):
        return text
    tail = "\n（内容较多，详情请回复“人工”）"
    budget = MAX_REPLY_BYTES - len(tail.encode())
    lines, used = [], 0
    for line in text.split("\n"):
        size = len(line.encode()) + 1
        if used + size > budget:
            break
        lines.append(line)
        used += size
    return "\n".join(lines) + tail


def office_hours(office: Office) -> str:
    community = office.places["community"]
    lines = [
        f"【{office.name}】",
        f"地址：{community.address}",
        f"办公时间：{office.hours['weekdays']}",
        f"午间值班：{office.hours['lunch_duty']}",
        f"周末值班：{office.hours['weekend_duty']}",
    ]
    if "compound_points" in office.hours:
        lines.append(f"小区服务点：{office.hours['compound_points']}")
    lines += [f"节假日：{office.holidays}", f"电话：{office.phone}；值班手机：{office.duty_phone}"]
    return "\n".join(lines)


def service_menu(handbook: Handbook) -> str:
    by_category: dict[str, list[str]] = {}
    for item in handbook.items.values():
        by_category.setdefault(item.category, []).append(item.title)
    lines = ["我是社区百事通，能告诉您办事要带什么、去哪办、多久办好。常见事项："]
    for category, titles in by_category.items():
        lines.append(
            f"· {handbook.categories[category]}：{'、'.join(titles[:4])}{'等' if len(titles) > 4 else ''}"
        )
    lines.append("直接说您想办的事就行，比如“办居住证要带什么”。查上班时间回复“时间”，找工作人员回复“人工”。")
    return "\n".join(lines)


def nearby_line(near: Nearby) -> str:
    """The local branch of another agency as one line: name, address, phone and hours as far as the
    community wrote them (office.yaml nearby)."""
    parts = [f"离社区最近的：{near.name}，地址 {near.address}"]
    parts.extend(part for part in (f"电话 {near.phone}" if near.phone else "", near.hours) if part)
    return "；".join(parts) + "（以实际为准）"
