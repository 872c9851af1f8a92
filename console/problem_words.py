"""The validators' problems (knowledge/loader.py, desk/rota.py: English, for the CLI and the logs)
in the words the console's forms show beside a field: the secretary reads Chinese.

Written by hand because the problems are this project's own sentences; a pattern not listed here
is shown as it is, so a new validator message is never lost, only untranslated.
"""

from __future__ import annotations

import re

Words = tuple[tuple[re.Pattern[str], str], ...]


def _table(*pairs: tuple[str, str]) -> Words:
    return tuple((re.compile(pattern), words) for pattern, words in pairs)


# parse_rota's problems (desk/rota.py).
ROTA = _table(
    (r"unknown staff member '(.*)'", "没有这位工作人员：{0}（先在“人员”页添加）"),
    (r"'(.*)' is not a date like", "“{0}”不是日期，请写成 2026-10-01"),
    (r"unknown window", "没有这个时段"),
    (r"ends before it starts", "结束日期早于开始日期"),
    (r"must be A", "等级只能是 A（全岗通）或 B"),
    (r"'(.*)' is not an 11-digit mobile", "“{0}”不是 11 位手机号"),
    (r"grade B needs", "B 级（非全岗通）需要勾选能办的类别"),
    (r"unknown role '(.*)'", "没有这个角色：{0}"),
    (r"'(.*)' listed twice", "已经有一位叫“{0}”的工作人员"),
    (r"^missing", "必填"),
    (r"unknown day", "没有这一天"),
)

# The handbook's problems (knowledge/loader.py, knowledge/emergency.py), most specific first.
HANDBOOK = _table(
    (r"'(.*)' is already claimed by '(.*)'", "“{0}”已经是事项 {1} 的别名"),
    (r"'(.*)' is already listed in (.*)", "“{0}”已经写在 {1} 里了"),
    (r"'(.*)' is listed twice", "“{0}”写了两遍"),
    (r"'(.*)' is not a valid pattern", "“{0}”不是有效的说法模式"),
    (r"'(.*)' is not a span like", "“{0}”不是时段，请写成 09:00-12:00"),
    (r"'(.*)' ends before it starts", "“{0}”结束早于开始"),
    (r"'(.*)' is not a date like", "“{0}”不是日期，请写成 2026-10-01 或 2026-10-01..2026-10-07"),
    (r"'(.*)' is not a range of at most a month", "“{0}”这段日期超过一个月"),
    (r"(\S+) is also listed as a holiday", "{0} 也写在节假日里了"),
    (r"unknown taker '(.*)'", "没有这种接单人：{0}"),
    (r"must include staff", "必须包含社区工作人员（没人接的任务要回到社区）"),
    (r"unknown id '(.*)'", "事项编号“{0}”不在服务目录里"),
    (r"unknown field '(.*)'", "没有这项信息：{0}"),
    (r"^unknown field", "没有这一项（是不是写错了？）"),
    (r"unknown category '(.*)'", "没有这个类别：{0}"),
    (r"longer than (\d+) characters", "超过 {0} 个字，请写短一些"),
    (r"bookable: false cannot be ordered online", "这件事设为不可预约，不能开启在线下单"),
    (r"a field is listed twice", "有一项重复了"),
    (r"must be a positive integer for working_days", "工作日天数要写正整数"),
    (r"must be a positive integer", "要写正整数"),
    (r"minutes between 1 and 1440", "要写 1 到 1440 之间的分钟数"),
    (r"stars from 1 to 5", "星级要写 1 到 5"),
    (r"must be one of (.*)", "只能是其中之一：{0}"),
    (r"must be non-empty text", "不能为空"),
    (r"must be text", "要写文字"),
    (r"must be a non-empty list", "至少写一项"),
    (r"must be a list", "要一行写一项"),
    (r"must be true or false", "只能是“是”或“否”"),
    (r"must be a mapping with (.*)", "格式不对：要写 {0} 这几项"),
    (r"must be a mapping", "格式不对"),
    (r"must map a word to a standard word", "每条要写成“方言词: 普通话词”"),
    (r"^missing", "必填"),
)


def worded(problem: str, words: Words) -> str:
    """One problem's message (after 'file: field: ') in Chinese; an unknown one as it is."""
    for pattern, chinese in words:
        found = pattern.search(problem)
        if found:
            return chinese.format(*found.groups())
    return problem
