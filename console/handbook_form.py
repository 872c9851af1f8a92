"""The handbook's edit forms as data: each field names its file, its key in that file (dotted for a
block: `order.hours`), its label and its kind, and one generic pair of functions turns a file into
form values and a posted form into the changes desk/handbook.py writes. A new field of an item is
one line here (the order block's next field, say, who may take its orders). Problems of the
validator (`file: field: problem`) are put beside the field they name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from multidict import MultiMapping

from console.problem_words import HANDBOOK, worded
from knowledge import Handbook
from knowledge.loader import DOCUMENT_FORMS, PLACES, TIME_LIMIT_KINDS
from knowledge.models import ORDER_FIELDS, TAKERS
from knowledge.yamledit import DELETE, YamlEditError, fragment, load, parse_fragment, plain

Options = Callable[[Handbook], list[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class Field:
    key: str  # dotted: a key of the file, or of one of its blocks (order.hours)
    label: str
    kind: str  # text | area | lines | yaml | number | flag | choices | select | block
    hint: str = ""
    options: Options | None = None
    file: str = ""  # "" : the page's own file (the item's)

    @property
    def name(self) -> str:
        """The form control's name (unique on the page)."""
        return f"{self.file}:{self.key}" if self.file else self.key


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    fields: tuple[Field, ...]
    block: str = ""  # set: the section is one optional block (order), switched by a `block` field


def _fixed(pairs: Mapping[str, str]) -> Options:
    return lambda handbook: list(pairs.items())


def _branches(handbook: Handbook) -> list[tuple[str, str]]:
    """office.yaml `nearby`: an external item's local branch, or none."""
    return [("", "不选"), *((key, near.name) for key, near in handbook.office.nearby.items())]


PLACE_NAMES = {"community": "社区", "street": "街道", "compound": "小区", "external": "其他单位"}
LIMIT_NAMES = {"immediate": "即办", "working_days": "按工作日"}
FIELD_NAMES = {"name": "姓名", "mobile": "手机", "address": "地址", "time": "时间", "description": "情况说明"}
assert set(PLACE_NAMES) == set(PLACES) and set(LIMIT_NAMES) == set(TIME_LIMIT_KINDS)
TAKER_NAMES = {
    "staff": "社区工作人员",
    "grid": "网格员（按楼栋）",
    "party_member": "报到党员",
    "volunteer": "志愿者",
}
assert set(FIELD_NAMES) == set(ORDER_FIELDS)
assert set(TAKER_NAMES) == set(TAKERS)

ITEM_SECTIONS = (
    Section(
        "名称和说法",
        (
            Field("title", "名称", "text"),
            Field("aliases", "别名", "lines", "每行一个：居民会这样叫这件事（含常见错别字）"),
            Field("phrasings", "居民的说法", "lines", "每行一句居民的原话：机器人照着学"),
            Field("situations", "居民的处境", "lines", "每行一句：会引出这件事的情况（刚生了娃）"),
            Field("keywords", "关键词", "lines", "每行一个：提到就可能是这件事的词"),
        ),
    ),
    Section(
        "一次性告知",
        (
            Field(
                "documents",
                "要带的材料",
                "yaml",
                "每行一项：- {name: 名称, form: " + "/".join(DOCUMENT_FORMS) + ", count: 份数, note: 备注}；"
                "不用带材料写 []",
            ),
            Field("eligibility", "谁能办", "lines", "每行一条"),
            Field("where.place", "在哪里办", "select", options=_fixed(PLACE_NAMES)),
            Field("where.name", "地点名称", "text", "其他单位时写单位名称"),
            Field("where.note", "地点说明", "text"),
            Field(
                "where.nearby",
                "附近的分支",
                "select",
                "其他单位时：办公信息里登记的附近分支（地址、电话、开门时间会一起告诉居民）",
                options=_branches,
            ),
            Field("when", "办理时间", "text", "不写：按社区办公时间"),
            Field("time_limit.kind", "办理时限", "select", options=_fixed(LIMIT_NAMES)),
            Field("time_limit.days", "工作日数", "number"),
            Field("time_limit.note", "时限说明", "text"),
            Field("fee", "费用", "text"),
            Field("amount", "发放标准", "text", "津贴、补助的标准（居民最常问）"),
            Field(
                "income_line",
                "人均收入线",
                "yaml",
                "按家庭人均收入审核的事项才填（居民报了人数和收入，机器人算出人均再对这条线）：\n"
                "low: 700\nhigh: 1000\nbelow: 低于线时怎么说\nwithin: 在范围里怎么说\nabove: 高于线时怎么说",
            ),
            Field(
                "questions",
                "居民常问",
                "yaml",
                "- ask: [问法, 问法]\n  answer: 回答（300 字以内）",
            ),
            Field("steps", "办理步骤", "lines", "每行一步"),
            Field("online", "网上办理", "text"),
            Field("notes", "提醒", "lines", "每行一条"),
            Field("bookable", "可以预约", "flag"),
            Field("home_visit", "可以上门办理", "flag"),
        ),
    ),
    Section(
        "在线下单（群众点单）",
        (
            Field("order", "居民可以在公众号下单", "block"),
            Field(
                "order.fields",
                "要问的信息",
                "choices",
                "按勾选顺序一项一项问",
                options=_fixed(FIELD_NAMES),
            ),
            Field(
                "order.hours",
                "可约时段",
                "select",
                "办公信息页的“可预约时段”里的一组",
                options=lambda handbook: [(k, k) for k in handbook.office.booking_hours],
            ),
            Field(
                "order.claim_minutes",
                "接单时限（分钟）",
                "number",
                "在班时间内多少分钟没人接单就提醒；不写：15 分钟",
            ),
            Field(
                "order.ask",
                "问情况时怎么问",
                "text",
                "不写：请简单说一下情况：在哪里、什么问题（报名类写“想报哪个班？”）",
            ),
            Field("order.urgent", "紧急词", "lines", "每行一个：居民说到就按紧急工单推送（燃气味、井盖）"),
            Field(
                "order.takers",
                "谁能接单",
                "choices",
                "必须含社区工作人员；勾上网格员、报到党员、志愿者，任务先推给他们，没人接再回到值班",
                options=_fixed(TAKER_NAMES),
            ),
        ),
        block="order",
    ),
)

OFFICE = "office.yaml"
EMERGENCY = "emergency.yaml"
OFFICE_SECTIONS = (
    Section(
        "社区",
        (
            Field("name", "名称", "text", file=OFFICE),
            Field("phone", "办公电话", "text", file=OFFICE),
            Field("duty_phone", "值班电话", "text", file=OFFICE),
            Field("places.community.name", "服务站名称", "text", file=OFFICE),
            Field("places.community.address", "服务站地址", "text", file=OFFICE),
            Field("places.street.name", "街道便民服务中心", "text", file=OFFICE),
            Field("places.street.address", "街道地址", "text", file=OFFICE),
            Field("places.compound.name", "小区服务点", "text", file=OFFICE),
            Field("places.compound.address", "小区服务点地址", "text", file=OFFICE),
            Field("online", "网上办理", "text", file=OFFICE),
            Field("policy_note", "政策说明", "text", file=OFFICE),
            Field(
                "nearby",
                "就近的其他部门",
                "yaml",
                "键名是转介目录里的部门 id（police_station、community_health_center…），"
                "每个写 name、address，可写 phone、hours；居民问“附近派出所在哪”时转介回答带上这里的地址电话",
                file=OFFICE,
            ),
        ),
    ),
    Section(
        "办公和值班时间",
        (
            Field("hours.weekdays", "工作日", "text", file=OFFICE),
            Field("hours.lunch_duty", "中午值班", "text", file=OFFICE),
            Field("hours.weekend_duty", "周末值班", "text", file=OFFICE),
            Field("hours.compound_points", "小区驻点", "text", "不写：没有驻点", file=OFFICE),
            Field("holidays", "节假日", "area", file=OFFICE),
            Field(
                "booking_hours",
                "可预约时段",
                "yaml",
                '每组：workdays（工作日）和 weekend（周末）的时段，如 ["09:00-12:00", "14:00-17:30"]',
                file=OFFICE,
            ),
        ),
    ),
    Section(
        "紧急电话",
        (
            Field(
                "numbers",
                "号码表",
                "yaml",
                "键名被险情的 call 引用：改号码改 phone，不要改键名",
                file=EMERGENCY,
            ),
        ),
    ),
)


def fields_of(sections: tuple[Section, ...]) -> list[Field]:
    return [f for section in sections for f in section.fields]


def _get(data: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def values_of(sections: tuple[Section, ...], files: Mapping[str, str], own: str) -> dict[str, Any]:
    """The form's values from the files (what the page shows before any edit)."""
    parsed: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for f in fields_of(sections):
        path = f.file or own
        if path not in parsed:
            try:
                parsed[path] = plain(load(files[path]))
            except (YamlEditError, KeyError):
                parsed[path] = {}
        value = _get(parsed[path], f.key)
        values[f.name] = shown(f, value)
    return values


def shown(f: Field, value: Any) -> Any:
    """A file's value as the form control holds it."""
    if f.kind == "block":
        return value is not None
    if f.kind == "flag":
        return bool(value)
    if f.kind == "lines":
        return (
            "\n".join(str(v) for v in value)
            if isinstance(value, list)
            else ("" if value is None else str(value))
        )
    if f.kind == "yaml":
        return fragment(value)
    if f.kind == "choices":
        return [str(v) for v in value] if isinstance(value, list) else []
    return "" if value is None else str(value)


@dataclass
class Posted:
    """A posted form: the changes per file, the values to show again, and problems found before
    the validator (a YAML block that does not parse)."""

    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)


def read_form(sections: tuple[Section, ...], form: MultiMapping[Any], own: str) -> Posted:
    """The changes a posted form asks for. An empty field removes its key (the validator then says
    "missing" where it is required); a number that is not one is passed on as written, so the
    validator's own words name the problem."""
    posted = Posted()
    blocks_off = {section.block for section in sections if section.block and not form.get(section.block)}
    for section in sections:
        for f in section.fields:
            path = f.file or own
            changes = posted.changes.setdefault(path, {})
            if f.kind == "choices":  # a checkbox group: every checked value, in page order
                raw: Any = [v for v in form.getall(f.name, []) if isinstance(v, str)]
            else:
                value = form.get(f.name, "")
                raw = value if isinstance(value, str) else ""
            posted.values[f.name] = raw if f.kind not in ("flag", "block") else bool(raw)
            if f.kind == "block":
                if f.key in blocks_off:
                    changes[f.key] = DELETE
                continue
            if section.block and section.block in blocks_off:
                continue
            try:
                value = _parsed(f, raw)
            except YamlEditError as exc:
                posted.problems.setdefault(f.name, []).append(str(exc))
                continue
            _put(changes, f.key, value)
    return posted


def _parsed(f: Field, raw: Any) -> Any:
    if f.kind == "flag":
        return bool(raw)
    if f.kind == "choices":
        return list(raw) if raw else DELETE
    text = raw.replace("\r\n", "\n")
    if f.kind == "lines":
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        return lines or DELETE
    if f.kind == "yaml":
        value = parse_fragment(text)
        return DELETE if value is None else value
    text = text.strip()
    if not text:
        return DELETE
    if f.kind == "number":
        return int(text) if text.isdigit() else text
    return text


def _put(changes: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    target = changes
    for part in parents:
        nested = target.get(part)
        if not isinstance(nested, dict):
            nested = target[part] = {}
        target = nested
    target[last] = value


def place_problems(
    sections: tuple[Section, ...], problems: list[str], own: str
) -> tuple[dict[str, list[str]], list[str]]:
    """Each validator problem beside the field it names ({control name: [problem]}), and those that
    name no field of this page (another file, a field the form does not show)."""
    fields = fields_of(sections)
    beside: dict[str, list[str]] = {}
    elsewhere: list[str] = []
    for problem in problems:
        path, _, rest = problem.partition(": ")
        key, _, message = rest.partition(": ")
        target = _field_for(fields, path, key, own)
        if target is None or not message:
            elsewhere.append(f"{path}: {key}: {worded(message, HANDBOOK)}" if message else problem)
        else:
            message = worded(message, HANDBOOK)
            beside.setdefault(target.name, []).append(f"{key}: {message}" if key != target.key else message)
    return beside, elsewhere


def _field_for(fields: list[Field], path: str, key: str, own: str) -> Field | None:
    best: Field | None = None
    for f in fields:
        if (f.file or own) != path:
            continue
        names = key == f.key or key.startswith((f.key + ".", f.key + "["))
        if names and (best is None or len(f.key) > len(best.key)):
            best = f
    return best
