"""Read the contact details of an order: name, mainland mobile number, address, description.

Pure functions raising ContactError with a message the resident can act on.
"""

from __future__ import annotations

import re

from intents.normalize import digits_said, simplify

_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# A mainland landline with its area code (010, 02x, 0xxx) and a 7- or 8-digit number: elderly
# residents without a mobile give their home phone (a trial resident was refused "028-85551234").
_LANDLINE = re.compile(r"(?<!\d)(0(?:10|2\d|[3-9]\d{2}))(\d{7,8})(?!\d)")
_DIGIT_RUN = re.compile(r"\d{5,}")
_NAME_PREFIX = re.compile(
    r"^(?:我的?(?:名字|姓名)?(?:叫|是)|名字(?:是|叫)?|姓名(?:是)?|我叫|叫我|喊我|叫|称呼我?|你就?(?:叫|喊)我)\s*"
)
_NAME_SUFFIX = re.compile(r"(?:就行了?|就好了?|就可以了?|就是了|吧|嘛|哈|哦|噻)$")
# "我姓刘" / "免贵姓王" / "姓刘": the surname is enough to address someone by (刘).
_SURNAME = re.compile(r"^(?:我|本人)?(?:免贵)?姓\s*([\u4e00-\u9fff]{1,2})(?:的|哈|嘛|吧)?$")
# 2-6 Chinese characters ("张秀英", "王阿姨"), longer with a middle dot (minority names), or Latin letters.
_NAME = re.compile(
    r"^(?:[\u4e00-\u9fff]{2,6}|[\u4e00-\u9fff]{1,8}[·•][\u4e00-\u9fff·•]{1,12}|[a-z][a-z .]{1,30})$"
)
_POLITE_END = re.compile(r"[。.!！~\s]*$")


class ContactError(ValueError):
    """Input that is not a valid answer; the message says what is expected."""


def read_mobile(text: str) -> str | None:
    """The 11-digit mobile number in `text` (spaces and dashes allowed), else a landline with its
    area code ("028-85551234"), None when there is neither.

    Raises ContactError when the message has a number that is not a valid mobile number.
    """
    laid_out = _numbers_laid_out(text)
    found = _mobiles_in(laid_out)
    if found:
        return found[0]
    compact = laid_out[-1]
    landline = _LANDLINE.search(compact)
    if landline:
        return f"{landline.group(1)}-{landline.group(2)}"
    digits = _DIGIT_RUN.search(compact)
    if digits:
        raise ContactError(
            f"“{digits.group()}”不是有效的电话号码：手机号是 1 开头的 11 位数字（第二位是 3-9），"
            "座机请带区号，比如 028-85551234。请再发一次。"
        )
    return None


# Whose number a clause gives: "我女儿电话13688001234", "13688001234是我女儿的" — another person's;
# "我的电话是028-85123456" — the resident's own.
_SOMEONE_ELSES = re.compile(
    r"女儿|儿子|老伴|老公|老婆|爱人|媳妇|儿媳|女婿|孙子|孙女|外孙|亲戚|邻居|我爸|我妈|老汉|他的|她的"
)
_MINE = re.compile(r"我的|本人|我自己|我(电话|手机|座机)")
_SAID_OF_IT = re.compile(r"(这个|这是|这|是)")
_CLAUSES = re.compile(r"[\s,，。;；!！、]+")


def own_number(text: str) -> str | None:
    """Of several people's numbers said together ("我的电话是028-85123456 13688001234是我女儿的"),
    the one said to be the resident's; None when the words do not tell them apart (trial ZZ r09:
    the daughter's mobile was kept and "电话已改好" said)."""
    clauses: list[str] = []
    label = ""
    for clause in _CLAUSES.split(numbers_joined(text)):
        if not re.search(r"\d", clause):
            if clauses and not label and _SAID_OF_IT.match(clause):
                clauses[-1] += clause  # "138… 这个是我的手机": said of the number before
            else:
                label += clause  # "我女儿电话 136…": the words before a number are its clause's
            continue
        clauses.append(label + clause)
        label = ""
    if len(clauses) < 2:
        return None
    numbered = [
        (clause, [*_mobiles_in(_numbers_laid_out(clause)), *landlines_in(clause)]) for clause in clauses
    ]
    mine = [found[0] for clause, found in numbered if found and _MINE.search(clause)]
    others = [clause for clause, found in numbered if found and _SOMEONE_ELSES.search(clause)]
    if mine:
        return mine[0]
    unsaid = [found[0] for clause, found in numbered if found and not _SOMEONE_ELSES.search(clause)]
    return unsaid[0] if others and unsaid else None


def read_contact(text: str) -> str | None:
    """The number to reach the resident on: the one said as theirs among several, else the first
    mobile (then landline) as read_mobile reads it; raises ContactError as read_mobile does."""
    return own_number(text) or read_mobile(text)


def mobiles_in(text: str) -> list[str]:
    """Every mobile number in `text`, in the order said, each once ("13530887264是我的 15902316580是
    我爸的": both are wanted on the ticket)."""
    return _mobiles_in(_numbers_laid_out(text))


def landlines_in(text: str) -> list[str]:
    """Every landline with its area code in `text` ("晚上打座机 028-85551234"), written 028-85551234."""
    compact = _numbers_laid_out(text)[-1]
    return list(dict.fromkeys(f"{m.group(1)}-{m.group(2)}" for m in _LANDLINE.finditer(compact)))


def _mobiles_in(laid_out: tuple[str, ...]) -> list[str]:
    """The mobiles of the first reading of the text that has any (see _numbers_laid_out)."""
    for reading in laid_out:
        found = _MOBILE.findall(reading)
        if found:
            return list(dict.fromkeys(found))
    return []


_SEPARATOR = r"[\s\-–—()（）+]"
_SPOKEN_DIGIT = "0-9零〇一二三四五六七八九幺"
_DIGIT_GROUPS = re.compile(rf"\d+(?:{_SEPARATOR}+\d+)+")
_SPOKEN_GROUPS = re.compile(rf"[{_SPOKEN_DIGIT}]+(?:{_SEPARATOR}+[{_SPOKEN_DIGIT}]+)+")
_COUNTRY_CODE = re.compile(rf"\+?(?<!\d)86(?=1[3-9]\d{{9}}(?!\d)|{_SEPARATOR}+1[3-9])")


def _groups_joined(run: re.Match[str], separator: str = _SEPARATOR) -> str:
    """Digit groups ("139 8247 6103 8栋") joined while they still fit one phone number: 11 digits for
    a mobile, 12 for a landline with its area code; a group beyond that stays apart."""
    numbers: list[str] = []
    for group in re.split(f"{separator}+", run.group()):
        limit = 12 if numbers and numbers[-1].startswith(("0", "零", "〇")) else 11
        if numbers and len(numbers[-1]) + len(group) <= limit:
            numbers[-1] += group
        else:
            numbers.append(group)
    return " ".join(numbers)


_SPACED_GROUPS = re.compile(r"\d+(?:\s+\d+)+")


def numbers_joined(text: str, *, spaces_only: bool = False) -> str:
    """`text` simplified, each phone number written in groups ("139 8247 6103", "028-8555 1234")
    joined into one run of digits, and nothing else joined: "13982476103 5栋" keeps its building.
    `spaces_only`: dashes stay ("座机028-84561234" is kept as written in a ticket's description)."""
    if spaces_only:
        return _SPACED_GROUPS.sub(lambda run: _groups_joined(run, r"\s"), simplify(text))
    return _DIGIT_GROUPS.sub(_groups_joined, simplify(text))


def _numbers_laid_out(text: str) -> tuple[str, str, str]:
    """`text` simplified, read three ways, most literal first: as written; with the spaces, dashes
    and brackets people put inside a number taken out ("139 8247 6103"); with digits said in
    characters written as digits ("幺三九…"). Taking every separator out at once glued the number to
    what stood beside it: "张三 13982476103 5栋" read as 张3139824761035栋 and lost the number."""
    plain = _COUNTRY_CODE.sub("", simplify(text))
    joined = _DIGIT_GROUPS.sub(_groups_joined, plain)
    spoken = digits_said(_SPOKEN_GROUPS.sub(_groups_joined, plain))
    return plain, joined, spoken


def read_name(text: str) -> str:
    """A name or a 称呼 (王阿姨, 刘大爷); a surname alone (我姓刘 → 刘) is taken as said."""
    plain = _POLITE_END.sub("", simplify(text).strip())
    # "座机 87654321 我叫王桂兰", "我是她儿子 我叫孙伟": a name introduced outright wins over the
    # first clause that could be one (trial Q kept 座机 and 她儿子).
    intro = _INTRODUCED.search(plain)
    surname_only = intro is not None and "姓" in intro.group().replace("姓名", "")
    if intro and not surname_only:  # "我姓周 周德明": the whole name after it, below
        introduced = introduced_name(plain)
        if introduced:
            return introduced
    # "我叫刘建华，我爸叫刘德贵" / "我姓周 周德明": the resident's own name is the first clause that
    # is one (a trial resident was asked again for both).
    clauses = (plain, *_CLAUSES.split(plain))
    # A whole name first ("我姓周 周德明" → 周德明), then a surname alone; a full name before a
    # familiar one said beside it ("老赵 赵国强": a trial ticket was made out to 老赵).
    names = [name for clause in clauses if (name := _one_name(clause, surname_alone=False))]
    if names:
        return next((name for name in names if not _FAMILIAR.search(name)), names[0])
    for clause in clauses:
        name = _one_name(clause, surname_alone=True)
        if name:
            return name
    raise ContactError("请告诉我怎么称呼您，比如“张秀英”或“王阿姨”。")


_CLAUSES = re.compile(r"[，,；;。\s]+")
_FAMILIAR = re.compile(
    r"^(老|小|阿)[\u4e00-\u9fff]$|(阿姨|大爷|大妈|孃孃|嬢嬢|婆婆|爷爷|奶奶|师傅|大哥|大姐)$"
)


def is_form_of_address(word: str) -> bool:
    """ "何阿姨", "老赵", "刘师傅": how residents give themselves at the name question, a 称呼."""
    return _FAMILIAR.search(word) is not None


# "我是王秀英 想预约…", "本人李德明，要开个证明": a name introduced inside a longer first message.
# "我是他女儿孙莉": who they are to the person served, then their name (trial T asked it again).
# "名字写李芳", "姓名填王桂兰": the name for the ticket, said as the form's field.
_NAME_FIELD = re.compile(r"(?:名字|姓名)(?:就)?(?:写成|填成|写|填|是|叫|为)")
_INTRODUCED = re.compile(
    # "我是9栋的吴国华": where they live, then the name (trial KK r09 was asked it again).
    r"(?:我是\d{1,3}\s*(?:栋|幢|号楼|单元)(?:\d{1,3}\s*(?:单元|楼|号))?的|家长[:：]?|"
    # "名字写李芳", "电话用我的 名字写蒋国平": the name for the ticket (trial Z13 r04, r20 got 写李芳).
    r"(?:[她他]的|我的)?" + _NAME_FIELD.pattern + r"[:：]?|"
    r"我叫|我的?名字(?:叫|是)|我是(?:(?:他|她|老人|他们|她们)的?"
    r"(?:女儿|女子|闺女|儿子|幺儿|孙女|孙子|媳妇|儿媳|女婿|外孙女|外孙|侄儿|侄女|老伴|家属|邻居)(?:[,，\s]*叫)?)?|"
    r"我姓|本人|免贵姓)\s*"
)


def introduced_name(text: str) -> str | None:
    """The name a resident introduces themselves with in a longer message, or None.

    Only what jieba's part-of-speech tagger reads as a person's name right after the introduction
    counts ("我是想问一下" names nobody): a session-7 trial resident who opened with her name was
    asked for it again. The tagger loads jieba's full dictionary on first use (about a second).
    """
    plain = simplify(text)
    for match in _INTRODUCED.finditer(plain):
        rest = _CLAUSES.split(plain[match.end() :], maxsplit=1)[0]
        if not rest:
            continue
        import jieba.posseg  # lazily: only orders that open with an introduction pay for its dictionary

        words = []
        for pair in jieba.posseg.lcut(rest):
            if pair.flag != "nr":  # not nrfg ("陈家") nor nrt
                break
            words.append(pair.word)
        said = "".join(words)
        whole = _whole_name(match.group().strip(), rest)
        if whole and len(whole) > len(said):
            said = whole  # "我叫郑海", "我叫王桂兰": the tagger read 海 and 桂兰 as places (trial Q)
        if said and _PLACE_GOES_ON.match(rest[len(said) :]):
            continue  # "我是小龙坎正街的陈婆婆": 小龙 begins a place's name (trial O), not hers
        addressed = re.match(r"[\u4e00-\u9fff]{3,4}", rest)
        if addressed and rest[:1] in _COMMON_SURNAMES and len(said) < 3:
            # "我是黄婆婆", "我是李大爷": a surname and how to address them (the tagger reads 黄 or
            # nothing; trial MM r06 was asked her name after giving it).
            familiar = next(
                (n for n in (3, 4) if is_form_of_address(rest[:n]) and rest[n : n + 1] not in ("家", "的")),
                None,
            )
            if familiar:
                said = rest[:familiar]
        if match.group().strip() in ("我姓", "免贵姓") and not said and rest[:1] in _COMMON_SURNAMES:
            said = rest[:1]  # "我姓黄 黄淑珍": the tagger reads no name in 黄 alone (trial GG r08)
        if match.group().strip() in ("我姓", "免贵姓") and said:
            said = said[:1] if len(said) > 3 else said
            # "我姓李 李建国": the surname, then the whole name (trial U kept only 李).
            whole_after = re.match(
                rf"\s*[,，。]?\s*({re.escape(said[:1])}[\u4e00-\u9fff]{{1,2}})(?![\u4e00-\u9fff])",
                plain[match.end() + len(rest) :],
            )
            if len(said) == 1 and whole_after and is_full_name(whole_after.group(1)):
                return whole_after.group(1)
        if said:
            name = _one_name(said, surname_alone=True)
            if name:
                return name
    return None


# Common surnames (the most frequent hundred or so, about nine in ten residents). Written by hand:
# jieba's tagger reads many given names as places (郑海 → ns, 王桂兰 → 王 + ns) and no installed
# library lists surnames; a surname and one or two characters after 我叫 is a name.
_COMMON_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴"
    "霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)


def _whole_name(introduction: str, rest: str) -> str | None:
    """The clause after 我叫 (or 我的名字是) when it is a common surname and one or two characters:
    "郑海", "王桂兰"; None for anything else. Not after 我是: "我是高血压", "我是明天来" would pass."""
    if not introduction.startswith(("我叫", "我名字", "我的名字")) and not _NAME_FIELD.search(introduction):
        return None
    head = re.match(r"[\u4e00-\u9fff]{2,3}", rest)
    if head is None or head.group()[0] not in _COMMON_SURNAMES:
        return None
    name = head.group()
    after = rest[len(name) :]
    if after[:1] and "\u4e00" <= after[0] <= "\u9fff":
        return None  # more characters run on: "我是王家的媳妇", a phrase, not a name
    return name if _NOT_A_NAME.search(name) is None else None


_NUMBER_LABEL = re.compile(r"(?:联系)?(?:电话|手机|座机|号码|手机号|电话号码)(?:号码|号)?(?:是|:|：)?$")


def name_beside_number(text: str) -> str | None:
    """A full name said as a clause of its own right before or after a phone number ("明天上午 陈刚
    13666219083", "谭志勇 电话13032867719"): the order's contact, though not introduced (three
    session-21 trial residents were asked for the name they had just given)."""
    clauses = [c for c in _CLAUSES.split(numbers_joined(text)) if c]
    for index, clause in enumerate(clauses):
        number = re.search(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}", clause)
        if number is None:
            continue
        before = _NUMBER_LABEL.sub("", clause[: number.start()])
        candidates = [before] if before else []
        if not before and index > 0:
            candidates.append(clauses[index - 1])
        if number.end() == len(clause) and index + 1 < len(clauses):
            candidates.append(clauses[index + 1])
        for word in candidates:
            if len(word) <= 3 and not _TIME_WORD.search(word) and is_full_name(word):
                return word
            surname = _SURNAME.match(word)
            if surname and surname.group(1)[0] in _COMMON_SURNAMES:
                return surname.group(1)  # "姓郑 电话136…": how to address them (blind batch 58)
    return None


# "明天上午 电话…": 明 is a surname, but a day and a part of it are no one's name.
_TIME_WORD = re.compile(r"[今明后昨]天|[上下中]午|早上|晚上|礼拜|星期|周[一二三四五六日天末]|\d")


def is_said_name(word: str) -> bool:
    """A name said right after "叫" or "名字" ("名字也加上 刘丽华"): a common surname and one to three
    characters, not a phrase — jieba's frequency is not asked, the words around it say it is a name
    (刘丽华 is a known name in jieba's dictionary, so is_full_name refuses it)."""
    return (
        2 <= len(word) <= 4
        and word[0] in _COMMON_SURNAMES
        and re.fullmatch(r"[\u4e00-\u9fff]+", word) is not None
        and _NOT_A_NAME.search(word) is None
    )


def is_full_name(word: str) -> bool:
    """A common surname and one to three characters, not a phrase ("徐淑芬", not "残疾人", "不醒"),
    nor a word jieba's dictionary knows well ("高血压", "胡说": 高 and 胡 are surnames too)."""
    if not is_said_name(word):
        return False
    import jieba  # lazily, as above: only a caller naming someone else pays for the dictionary

    jieba.dt.check_initialized()
    return jieba.dt.FREQ.get(word, 0) < _COMMON_WORD


# A dictionary frequency this high is a common word, not a person (王建国 12, 高血压 876, 胡说 699).
_COMMON_WORD = 50


# What a place name goes on with after the characters jieba took for a person's name: the tagger
# reads 小龙 in 小龙坎正街 as a name, and no library here knows Chongqing's streets.
# "我是阳光苑1栋2单元101的": the estate's name, then its building (trial Z11 r12 was called 阳光苑).
_PLACE_GOES_ON = re.compile(
    r"^[\u4e00-\u9fff]{0,3}(路|街|巷|村|小区|苑|坎|坝|桥|湾|沟|坡|岗|嘴|院|栋|楼|号)"
    r"|^\s*[0-9一二三四五六七八九十]{1,4}\s*(栋|幢|号楼|单元|号院|楼|号)"
)


def _one_name(clause: str, *, surname_alone: bool) -> str | None:
    surname = _SURNAME.match(clause)
    if surname:
        return surname.group(1) if surname_alone else None
    name = _NAME_SUFFIX.sub("", _POLITE_END.sub("", _NAME_PREFIX.sub("", clause))).strip()
    if surname_alone and _ONE_CHARACTER.match(name):
        return name  # "冯": asked how to address them, a surname alone (a trial resident was refused)
    if not _NAME.match(name) or any(ch.isdigit() for ch in name) or _NOT_A_NAME.search(name):
        return None
    return name


# Written by hand: no library tells a Chinese name from a short phrase. A name never starts with a
# negation and never holds these particles; "不是调解" and "错了" were kept as names in a trial.
_NOT_A_NAME = re.compile(
    r"^(不|没|是|要|我|你|在|她|他)|[了吗呢也啥么错吧]|什么|怎么|事项|不是|座机|手机|电话|号码|地址"
    r"|帮我|帮忙|麻烦|预约|约个|约一|一个|一下|办理|上门"  # "要得 帮我约一个" (session 17: 姓名：帮我约一个)
    r"|[他她]|出院|回来|等一"  # "姓邓…等他出院回来" (trial AA r18: 姓名：等他出院回来)
    r"|^(确认|取消|提交|好的|可以|谢谢|收到|知道)$"  # a reply word sent too early (trial X r12: 姓名：确认)
    r"|^等下$|^等等$|稍等|先说|志愿|^报"  # "等下 先说下有哪些班", "报志愿者" (trial JJ r04, r13)
    r"|先问|问下|问一|问哈|^等"  # "等哈 先问下 你们调解了…" (trial Z14 r11, r16: 姓名：先问下)
    r"|^哪|哪天|有人|几点|多久|好久"  # "…我到社区来找人教我就是了 哪天有人" (trial Z12 r13: 姓名：哪天有人)
)
# One character that can be a surname, not a reply word ("是", "好", "对", "嗯").
_ONE_CHARACTER = re.compile(r"^(?![是好对嗯哦啊行不没有要在我你他她它的了吗呢吧嘛哈喂等])[\u4e00-\u9fff]$")


# Words that make a message an address: building, unit, room, courtyard, road, or a compound name.
_ADDRESS = re.compile(
    r"\d+\s*(?:栋|幢|号楼|单元|楼|室|层|弄|巷|组)|[一二三四五六七八九十]+(?:栋|幢|号楼|单元|楼)|"
    # "5号下午", "12月5号" are days, not doors (a day answering the address was read back as it).
    r"(?<![月\d])\d+\s*号(?!\s*(?:上午|下午|晚上|早上|中午|早晨|傍晚|之前|以前|以后|左右|前|后))|"
    r"小区|花园|家园|新村|公寓|大厦|广场|院|苑|村|路|街|巷|胡同|门口|楼道|楼下|楼上"
)


def looks_like_address(text: str) -> bool:
    """Does the message say where (阳光苑3栋2单元, 5号楼楼道)?"""
    return _ADDRESS.search(simplify(text)) is not None


# Where someone could be found: a building number or a named compound, not "楼上" or "门口".
_FINDABLE = re.compile(
    r"\d+\s*(?:栋|幢|号楼|单元|室|号)|[一二三四五六七八九十]+(?:栋|幢|号楼|单元)|小区|花园|家园|新村|公寓|大厦|苑"
)


# Looser than _FINDABLE, stricter than _ADDRESS: a number or a place's name, not only 楼上/楼道.
_PLACE_NAMED = re.compile(
    r"\d|[一二三四五六七八九十百]+\s*(?:栋|幢|单元|号|楼|层)|小区|花园|家园|新村|公寓|大厦|苑|院|村|路|街|巷"
)


def names_a_place(text: str) -> bool:
    """A number or a place's name, not only where it is from here: "社区能不能帮忙联系楼上业主"
    names 楼上, which is no address for an emergency ticket (a session-8 trial)."""
    return _PLACE_NAMED.search(text) is not None


def names_a_findable_place(text: str) -> bool:
    """Could staff find the place from this message alone ("幸福里5栋2单元601", not "我们楼上")?"""
    return _FINDABLE.search(simplify(text)) is not None


# The words around an answer ("地址改一下，是阳光苑3栋", "我住在…", "情况是…"): staff get the value only.
# "刚才说了的嘛 幸福小区5栋…" (said crossly) leads in too; "下" alone does not: it begins 下水道
# (a trial ticket read "水道堵了").
_LEAD_IN = re.compile(
    r"^(?:[\s，,。：:、了啦的吧呢啊]|一下(?!子))*"
    r"(?:我?(?:刚才|前面|之前|上面|早就|都)(?:都|已经)?(?:说|讲|发)(?:了|过)(?:的)?(?:嘛|噻|啊|呀|哦|撒)?[\s，,。：:、]+)?"
    r"(?:(?:我家?|家里?)?(?:住在|住|在)|地址(?:是|在)?|住址(?:是)?|情况是|是在|是|就是)?[\s，,。：:、]*"
)


def value_of(text: str) -> str:
    """The answer without the words leading into it."""
    return _LEAD_IN.sub("", text.strip(), count=1).strip(" ，,。：:")


def read_address(text: str) -> str:
    return read_address_and_aside(text)[0]


def read_address_and_aside(text: str) -> tuple[str, str]:
    """The address in an answer (ContactError when too short to find) and what else it said."""
    address, aside = address_said(text)
    if len(address) < 3:
        raise ContactError("请说详细一点的地址，比如“阳光苑3栋2单元501”。")
    return address[:120], aside


def address_said(text: str) -> tuple[str, str]:
    """(the address, what else was said) in an answer to the address question. A place denied ("不是
    阳光苑") and the words that lead into one ("我是", "我住") are no part of it, and a clause that
    says nothing about where ("电梯是整栋的") is set aside for the description — trial GG r11's
    address read "我是幸福里小区 不是阳光苑幸福里小区9栋 电梯是整栋的 我住2单元1801"."""
    plain = value_of(simplify(text))
    clauses = [c for c in _ADDRESS_CLAUSES.split(plain) if c]
    if len(clauses) < 2 or not any(_ADDRESS.search(c) for c in clauses):
        return _clause_place(plain, plain), ""
    kept, aside = [], []
    for clause in clauses:
        if _DENIED_PLACE.match(clause):
            continue
        if _NEIGHBOURS_PLACE.match(clause):
            aside.append(clause)  # "我是402 楼上是502": the flat the trouble comes from (trial Z3 r11)
            continue
        if _PHONE_ONLY.search(clause) and not _ADDRESS.search(clause):
            aside.append(clause)  # "座机02885123467先打座机": a number, not a flat (trial KK r09)
            continue
        if _ADDRESS.search(clause) or _PLACE_PART.search(clause):
            kept.append(_clause_place(clause, _PLACE_LEAD_IN.sub("", clause).strip() or clause))
        else:
            aside.append(clause)
    # "幸福里小区9栋" and "2单元1801" are one address; "幸福里5栋" and "菜市场旁边" two parts of one.
    joined = "".join(f"{' ' if i and not kept[i][0].isdigit() else ''}{part}" for i, part in enumerate(kept))
    return joined if kept else plain, " ".join(aside)


_PHONE_ONLY = re.compile(r"\d{7,}|座机|手机|电话")


def _clause_place(clause: str, otherwise: str) -> str:
    """ "还有地址是5栋3单元401": the place a clause ends in, without the words that lead into it (trial
    HH r09's address read "还有地址是…"); `otherwise` when the clause goes on after its place."""
    place = place_in(clause)
    return place if place and clause.endswith(place) and len(place) >= 4 else otherwise


_ADDRESS_CLAUSES = re.compile(r"[\s,，。；;！!]+")
_DENIED_PLACE = re.compile(r"^(?:我|我们|我家)?(?:不是|不在|不住)")
# The households around the resident's (楼上, 隔壁…): a place said with them is someone else's.
NEIGHBOURS = "楼上|楼下|隔壁|对门|对面"
_NEIGHBOURS_PLACE = re.compile(rf"^(?:{NEIGHBOURS})(?:那家|的|那户)?(?:是|住)")


def read_description(text: str) -> str:
    description = value_of(simplify(text))
    if len(description) < 2:
        raise ContactError("请简单说一下是什么情况，比如“3栋楼道灯不亮了”。")
    return description[:300]


# A district said before a road: 金牛区, 武侯区, 渝中区, 双流县 (not from 我在…, 地址是…).
_DISTRICT = r"(?:(?:(?![这那个们我你他她的哪该此本址是在住])[\u4e00-\u9fff]){2,3}?(?:区|县)\s?)?"
# A place specific enough to find: a numbered building, unit or room, a named compound (阳光苑), a
# street number. A bare floor or number ("3楼", "2号") is not: it may be a date or part of a question.
_PLACE_SPECIFIC = re.compile(
    r"(?:\d+|[一二三四五六七八九十]+)\s*(?:栋|幢|号楼|单元|室)|"
    # A compound's own name before 小区, not "我们这个老小区" (a session-10 trial order got "们这个老小区"
    # as its address and never asked for one).
    # A road before it too ("长江二路职工宿舍", "南坪东路金山小区": trial O lost the road and the compound).
    # Not from the 址 of 地址 ("地址是阳光小区5栋" was 址是阳光小区5栋: trial X r20).
    # And the district before the road ("金牛区营门口路锦绣花园" kept only 区营门口路…: trial Z13 r01).
    + _DISTRICT
    + r"(?:[\u4e00-\u9fff]{2,4}?(?:路|街)\s?)?"
    # Nor from a time said before it ("电瓶车昨晚上在小区车棚被偷了" was 昨晚上在小区: trial SS r14),
    # nor from 了 ("我就报了阳光苑门口那个路灯" was 报了阳光苑门口: trial Z3 r12).
    r"(?:(?![这那个们我你他她的哪该此本址昨在了])[\u4e00-\u9fff]){2,4}?(?:小区|花园|家园|新村|公寓|大厦|苑|宿舍|家属院|大院)|"
    # Not from 地址是 either ("地址是幸福路88号…" was 址是幸福路88号…: trial DD r01).
     + _DISTRICT + r"(?:(?![这那个们我你他她的哪该此本址是在住])[\u4e00-\u9fff]){2,4}?(?:路|街|巷)\d+号|"
    # A compound named X里, X坊, X城… only right before its building ("她住幸福里3栋2单元501": trial T's
    # address lost the compound): 里 alone is too common a character to be a place anywhere else.
    # Not from the 址 of 地址 either ("地址幸福里2栋1单元702": trial X r20).
    r"(?:(?![这那个们我你他她的哪该此本家屋址])[\u4e00-\u9fff]){2,3}?(?:里|坊|城|湾|园|庭|府)"
    r"(?=\s?(?:\d+|[一二三四五六七八九十]+)\s*(?:栋|幢|号楼|单元))|"
    # An old compound called a 院子 ("幸福里老院子2栋402": trial Z3 r11 kept only 2栋402), likewise.
    r"(?:(?![这那个们我你他她的哪该此本家屋址])[\u4e00-\u9fff]){1,5}?(?:院子|大院|院)"
    r"(?=\s?(?:\d+|[一二三四五六七八九十]+)\s*(?:栋|幢|号楼|单元))"
)
# What may follow it and still be the place (楼道 of 2单元, 门口 of 5栋, the room 501).
_PLACE_PART = re.compile(
    _PLACE_SPECIFIC.pattern
    + r"|\d+(?:-\d+)*(?:\s*(?:号|楼(?![顶道梯])|层|室))?"  # not the 楼 of 楼顶漏水 after "701 "
    + r"|门口|楼道|楼下|楼上|大门|电梯口|车库|地下室|院子|旁边|对面|附近"
)
# "我是幸福里3栋的", "地址是阳光小区5栋": the 地址 and 是 before a place are not part of it (trial X r01
# kept "是幸福里3栋" as the address).
_PLACE_LEAD_IN = re.compile(
    r"^(?:我们家|我家|我们|我|一下|帮忙|麻烦)?(?:就)?(?:地址|住址)?(?:是)?(?:住在|家在|住|在)?"
)


def place_in(text: str) -> str | None:
    """The address a message names on the way ("3栋2单元楼道灯坏了" → "3栋2单元楼道"), None when it
    names none specific enough to find (a bare "楼道灯坏了" still needs the address asked)."""
    plain = simplify(text)
    # The most specific place said, not the first: "4栋还是5栋哦…我住4栋3单元" is 4栋3单元 (trial Q).
    best = ""
    for found in _PLACE_SPECIFIC.finditer(plain):
        start = end = found.start()
        for part in _PLACE_PART.finditer(plain, start):
            if plain[end : part.start()].strip(" -"):
                break  # a gap of words: the place has ended ("5栋门口的路灯": stops before 的)
            end = part.end()
        place = _PLACE_LEAD_IN.sub("", plain[start:end].strip()).strip()
        if len(place) > len(best):
            best = place
    best = _DENIED_AFTER.split(best, maxsplit=1)[0]  # "幸福里小区 不是阳光苑": not the one denied
    return best[:120] if len(best) >= 2 else None


_DENIED_AFTER = re.compile(r"\s*(?:不是|不在)")


# One numbered part of an address and its kind: "6栋" (building), "2单元" (unit), "3楼" (floor),
# "201" or "201室" (room).
_NUMBERED_PART = re.compile(r"(?<!\d)(\d+)\s*(?:(栋|幢|号楼|单元|楼|层|室|号)|(?!\d))")
_PART_KIND = {"幢": "栋", "号楼": "栋", "层": "楼", "室": "", "号": ""}
# "不是5栋 是6栋2单元", "是201 不是2017": the wrong part first or second, the right one beside it.
_NOT_THIS_BUT = (
    re.compile(r"不是\s*(?P<old>[\w-]+?)\s*[，,]?\s*(?:而|应该|应当)?是\s*(?P<new>[\w-]+)"),
    re.compile(r"(?:是|应该是)?\s*(?P<new>[\w-]+?)\s*[，,]?\s*不是\s*(?P<old>[\w-]+)"),
)
_TRAILING_PARTICLE = re.compile(r"[哦哈嘛噻啊呀的了]+$")


def corrected_mobile(kept: str, text: str) -> tuple[str, str] | None:
    """ "电话最后一位是3不是2", "手机尾号是23": (the kept number with its last digits put right, the
    words left) at a read-back; None when no such correction is said or it does not fit the number
    (trial VV r20's was written into the notes, the number left wrong)."""
    plain = simplify(text)
    found = _LAST_DIGITS.search(plain)
    if found is None or not kept:
        return None
    digits = found.group("digits")
    if len(digits) >= len(kept):
        return None
    fixed = kept[: len(kept) - len(digits)] + digits
    return fixed, (plain[: found.start()] + plain[found.end() :]).strip()


_LAST_DIGITS = re.compile(
    r"(?:电话|手机|号码)[^ ，,。\d]{0,3}(?:最后(?:一|两|二|三|1|2|3)位(?:数)?|尾号|尾数)"
    r"(?:是|应该是|改成)?\s*"
    r"(?P<digits>\d{1,3})(?:\s*[，,]?\s*不是\s*\d{1,3})?"
)


def corrected_address(kept: str, text: str) -> tuple[str, str] | None:
    """(the address with the parts put right, what else the message said) when it says one numbered
    part of `kept` is wrong and gives the right one ("不是5栋 是6栋2单元 还有地下车库的下水道也堵了",
    "201 不是2017"); None otherwise. Trial RR: the correction and the second problem both went
    into the description and the address stayed wrong. Written by hand: part-by-part replacement
    of a Chinese building/unit/room address is no library's job."""
    plain = simplify(text)
    for found in (found for pattern in _NOT_THIS_BUT for found in pattern.finditer(plain)):
        old = _TRAILING_PARTICLE.sub("", found.group("old"))
        new = _TRAILING_PARTICLE.sub("", found.group("new"))
        if not old or old not in kept or not _NUMBERED_PART.search(new):
            continue
        address = kept
        for part in _NUMBERED_PART.finditer(new):
            address = _with_part(address, part)
        if address == kept:
            continue
        rest = (plain[: found.start()] + " " + plain[found.end() :]).strip(" ，,。；")
        rest = re.sub(r"^(还有|另外|对了|然后)\s*", "", rest)
        return address, rest
    return None


def _with_part(address: str, part: re.Match[str]) -> str:
    """`address` with its part of the same kind as `part` (building, unit, floor, room) replaced."""
    kind = _PART_KIND.get(part.group(2) or "", part.group(2) or "")
    for mine in _NUMBERED_PART.finditer(address):
        if _PART_KIND.get(mine.group(2) or "", mine.group(2) or "") == kind:
            return address[: mine.start()] + part.group() + address[mine.end() :]
    return address


# "叫刘丽华", "名字也加上 刘丽华", "改名字 刘丽华", "我名字刘丽华": the name for the person asked.
_NAME_FOR_A_PERSON = re.compile(
    r"(?:我叫|叫|名字|姓名)(?:是|叫|也加上|加上|记上|写上|改成|改为)?\s*([\u4e00-\u9fff]{2,4})"
)
_NOT_THEIR_NAME = re.compile(r"老师|师傅|领导|书记|主任|阿姨|来|去|帮|过")


def name_said(text: str) -> str | None:
    """The full name a message gives for the person handling it, or None."""
    for found in _NAME_FOR_A_PERSON.finditer(simplify(text)):
        word = found.group(1)
        if is_said_name(word) and not _NOT_THEIR_NAME.search(word):
            return word
    return None
