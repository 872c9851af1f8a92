"""Cue words that signal an intent, independent of which service item is meant.

Patterns run on normalised text (simplified, dialect mapped, fillers removed). They are code, not
handbook data: they describe how people ask, not what the centre offers.
"""

from __future__ import annotations

import re


def _any(*parts: str) -> re.Pattern[str]:
    """One pattern matching any part, rewritten so every alternative starts with a literal.

    CPython's regex search skips non-candidate positions in C only when each top-level
    alternative begins with a literal character; a leading group such as "(办好|修好)了吗" defeats
    that and makes a search ~5x slower. Expanding leading groups and character sets keeps the
    language identical (tests/test_lexicon.py) and the per-message cost low.
    """
    return re.compile("|".join(alt for part in parts for alt in literal_first(part)))


def literal_first(part: str, limit: int = 64) -> list[str]:
    """Equivalent alternatives of `part`, each starting with a literal where that can be arranged."""
    if part.startswith("(") and not part.startswith("(?"):
        end = _closing_paren(part)
        inner, rest = part[1:end], part[end + 1 :]
        optional = rest.startswith("?") and not rest.startswith("??")
        if optional:
            rest = rest[1:]
        expanded = [alt for choice in _top_level_split(inner) for alt in literal_first(choice + rest, limit)]
        if optional:
            expanded += literal_first(rest, limit)
        return expanded if 0 < len(expanded) <= limit and all(expanded) else [part]
    if part.startswith("[") and "]" in part:
        end = part.index("]")
        chars = _charset(part[1:end])
        if chars is not None:
            return [c + part[end + 1 :] for c in chars]
    return [part]


def _charset(spec: str) -> list[str] | None:
    if not spec or spec.startswith("^") or "\\" in spec:
        return None
    chars: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            chars += [chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1)]
            i += 3
        else:
            chars.append(spec[i])
            i += 1
    return chars if len(chars) <= 16 and all(re.escape(c) == c for c in chars) else None


def _closing_paren(text: str) -> int:
    depth = 0
    for index, char in enumerate(text):
        if char == "(" and (index == 0 or text[index - 1] != "\\"):
            depth += 1
        elif char == ")" and text[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unbalanced pattern: {text}")


def _top_level_split(body: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in body:
        depth += (char == "(") - (char == ")")
        if char == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


HUMAN = _any(
    r"我要找(他|她|你们|领导)",
    r"领导是谁",
    r"换(个)?人",
    r"(负责|管事)的(人|同志)",
    r"(请|让).{0,6}联系我",
    r"(找|叫|换)个人(吧|来)?$",
    r"人工",
    r"真人",
    r"客服",
    r"活人",
    r"(找|叫|换)(一下|个)?(你们|社区)(的)?(工作人员|人|领导|书记|主任|网格员)",
    r"(找|叫|换)(一下|个)?(工作人员|领导|书记|主任|网格员)",
    r"(和|跟|同)(工作人员|真人|人)(说|讲|聊|通话)",
    r"(和|跟|同)(你们|社区)?(的)?(工作人员|领导|书记|主任|网格员)(说|讲|聊|通|联系)",
    r"回(个)?电话",
    r"急事",
    r"转(个)?人",
    r"(不想|不要|不愿意)(和|跟)?机器",
    r"(工作人员|你们|社区).{0,4}(给|跟)我(打|联系)",
    r"给我打(个)?电话",
    r"打电话(给|联系)我",
    r"(不要|不想)(跟|和)?机器人",
    r"机器人(听不懂|不懂|没用)",
    r"说不清楚",
    r"有人(在|吗)没有",
)
# "我的…", "我(之前|上次)…报/约/申请的" — the resident refers to an earlier request of theirs.
# A message that is nothing but a progress query ("进度", "查进度", "我的工单").
STATUS_ALONE = re.compile(
    r"^(?:查(?:一?下|询)?)?(?:办理|工单|预约|我的)?(?:进度|进展)(?:查询)?(?:呢|嘛|吗)?$"
    r"|^我的(?:工单|预约|申请|单子|报修)$"
    r"|^(?:办|弄|修|处理)得?怎么样了(?:呢|嘛)?$"
)

OWN_REQUEST = _any(
    r"我.{0,4}(报|约|预约|申请|提交|反映)(修)?的",
    r"我(的|们的|家的)(工单|订单|单子|预约|申请|报修|报名|反映|投诉|事情|事|低保|材料|证)",
    r"(我|我们|我家)?(之前|上次|前几天|前天|昨天|上周|刚才|早上|上午|下午|那天)(报|约|预约|申请|提交|反映|登记|说|下单|交)",
    r"(报|约|预约|申请|提交|反映|登记|下)(的|了的)(那个)?(单|事|工单|订单|预约|申请|维修)",
    r"报修单",
    r"(那个|这个|的)单子",
    r"(?<![0-9])1[0-9]{4}(?![0-9])",  # a ticket number (10001…), never part of a phone number
    r"我(们|家)?(报|约|预约|申请|提交|反映|登记|下)(修)?(的|了)",
    r"工单",
    r"订单",
    r"单号",
    r"编号",
)
STATUS = _any(
    r"到现在(都)?(还|没)",
    r"进度",
    r"进展",
    r"到哪(一步|步|了|里了)",
    r"(处理|办|弄|修|审|批)(得)?(怎么样|如何)了",
    r"怎么样了",
    r"(办好|修好|弄好|批下来|批|办完|修完|处理完|处理|通过|审核|审批|好|完|来|到)了(没有|没|吗|不)",
    r"(办好|修好|弄好|批下来|办完|修完|处理完)(没有|没|吗)",
    r"(有没有|有没)人(接|管|处理|来)",
    r"有人(接|管|处理|来)了?(吗|没)",
    r"有(没有)?人接单",
    r"(什么|啥)(情况|进展)(了)",
    r"现在(怎么样|什么情况|到哪)",
    r"接单(了)?(吗|没)",
    r"(派|接)(了)?单(了)?(吗|没)",
    r"什么时候(来|到|上门|修|处理|办好|能好|有结果|批)",
    r"(还|咋还|怎么还)(没|没有)(人)?(来|到|修|处理|联系|回复|批|动静|消息)",
    r"(查|查询|查一下|看一下|问一下)(我的|一下我的)",
    r"(催|催一下|催促)",
    r"结果(出来|怎么样)",
    r"有(消息|结果)(了)?(吗|没)",
    r"受理了(吗|没)",
)
CANCEL = _any(
    r"去不了",
    r"(帮我)?退(了|掉|订)",
    r"取消(?<!被取消)",
    r"撤销",
    r"撤回",
    r"(不用|不要|不需要|不必)(来|上门|办|修|预约|了)",
    r"不办了",
    r"不预约了",
    r"不去了",
    r"退(掉|订)",
    r"算了(吧)?$",
    r"不需要了",
)
RATE = _any(
    r"(说话|态度|口气)(太|很|真|好|特别)?(冲|凶|横|难听)",
    r"满分",
    r"(给|打)(个)?(高分|低分|零分)",
    r"[1-5一二三四五]\s*(颗)?星",
    r"好评",
    r"差评",
    r"(不)?满意",
    r"点赞",
    r"点个赞",
    r"表扬",
    r"打分",
    r"(给|做)(个)?评价",
    r"评价一下",
    r"(服务|态度|效率)(真|很|非常|特别|太|挺|蛮|好|不|差|一般|高|低)",
    r"(很|非常|特别|真|太)(耐心|热情|周到|专业|负责|及时|敷衍)",
    r"(投诉|举报)(你们|社区|工作人员|网格员|小[\u4e00-\u9fff]|[\u4e00-\u9fff]师傅|服务)",
    r"(敷衍|推诿|踢皮球|爱理不理|不耐烦)",
    r"感谢(你们|社区|工作人员|小[\u4e00-\u9fff]|[\u4e00-\u9fff]师傅).{0,12}(服务|帮|上门|办)",
    r"(服务|办)得(真|很|非常)?(好|快|周到|到位|差|慢)",
    r"锦旗",
    r"给.{0,4}(打|评)(个)?(分|星)",
)
# Any of the four intents about an earlier request or a person; one search rules all four out for
# the common message that is none of them.
ABOUT_REQUEST_OR_PERSON = re.compile("|".join(p.pattern for p in (HUMAN, CANCEL, STATUS, RATE)))
# Asked how / what / where / whether: the resident wants information, not action.
QUESTION = _any(
    r"找(哪个|谁|哪里|哪儿)",
    r"能.{1,3}不$",
    r"是.{0,8}还是",  # "按月发还是按年发": a choice question
    r"问的是",
    r"想问",
    r"怎么",
    r"如何",
    r"什么",
    r"哪些",
    r"哪里",
    r"哪个",
    r"哪家",
    r"在哪",
    r"吗",
    r"呢",
    r"多少",
    r"多久",
    r"几天",
    r"几个",
    r"能不能",
    r"能否",
    r"可不可以",
    r"可以不",
    r"是不是",
    r"是否",
    r"有没有",
    r"有.{1,10}没有$",  # "有年龄限制没得" (没得 is read as 没有): a yes/no question
    r"限制",
    r"要不要",
    r"需不需要",
    r"要带",
    r"需要",
    r"流程",
    r"条件",
    r"标准",
    r"材料",
    r"手续",
    r"资格",
    r"咨询",
    r"了解",
    r"问一下",
    r"问问",
    r"请问",
    r"怎样",
    r"\?",
    r"知道",
    r"告诉我",
    r"规定",
    r"政策",
    r"证件",
    r"步骤",
    r"费用",
    r"收费",
    r"时间",
)
AVAILABILITY = _any(r"有没有(地方|机构|哪里|什么地方|人能|人可以)", r"哪里(有|可以)")
# "我想问下…": the resident says outright that this is a question, whatever requests the rest mentions.
ASKING = _any(r"想问", r"问下", r"问一下", r"咨询一下")
# Explicit requests for staff to act: these override question words ("能帮我预约吗" is an order).
ORDER_STRONG = _any(
    r"(能|可以|能不能)用一下",
    r"(能|可以|能不能)借",
    r"帮(她|他|我们|老人|我家|我妈|我爸|家里)(交|缴|办|开|预约|申请|报名|弄|查|充|代)",
    r"(能不能|可不可以|能否)(你们|社区)?(帮|替)",
    r"帮我",
    r"帮忙",
    r"帮帮",
    r"帮下",
    r"帮一下",
    r"帮我们",
    r"帮(家里|家)?老人",
    r"替我",
    r"给我(预约|约|办|安排|登记|报名|代缴|交|开|派)",
    r"派(个)?人",
    r"派(个)?师傅",
    r"(能|可以|可不可以|能不能)(帮|给|派|替)",
    r"(想|要)请(你们|社区|工作人员)?.{0,6}(来|上门)",
    r"(请|麻烦)(你们|社区|工作人员)?.{0,6}(来|派|修|处理|清|调解|上门|帮|安排|代缴|代办)",
    r"我(要|想|需要)(预约|约|报名|报修|预定|订)",
    r"(预约|约)(一下|个|明天|后天|今天|下周|周[一二三四五六日天]|星期)",
    r"尽快(来|处理|修|清)",
    r"赶紧(来|处理|修|清)",
    r"快(点)?(来|派|修|处理)",
    r"过来(看|修|处理|一下)",
    r"(能不能|可不可以|能否|可以|能)上门(来)?(办|认证|服务|弄|帮)",
)
ORDER_WEAK = _any(
    r"想借",
    r"借(你们|社区)",
    r"(想|要)找(个)?(地方|场地)",
    r"预约",
    r"上门",
    r"代缴",
    r"代办",
    r"报(个)?名",
    r"报修",
    r"安排",
    r"办一下",
    r"处理一下",
    r"修一下",
    r"来一下",
    r"借(个|一下|用|场地|教室|会议室|活动室|间)",
    r"(想|要)用",
    r"用一下",
    r"预定",
    r"订(一下|个)",
)
# A description of something wrong right now: for report-type items this is an order, even as a question.
PROBLEM = _any(
    r"坏了",
    r"坏掉",
    r"不亮",
    r"不能用",
    r"用不了",
    r"打不开",
    r"关不上",
    r"堵",
    r"漏水",
    r"渗水",
    r"冒水",
    r"返水",
    r"积水",
    r"没人(清|收|管|扫|修|处理|运)",
    r"臭",
    r"满了",
    r"吵",
    r"矛盾",
    r"纠纷",
    r"打架",
    r"扯皮",
    r"乱(堆|停|放|扔|丢|贴|收费)",
    r"噪音",
    r"掉了",
    r"断了",
    r"塌",
    r"破了",
    r"松动",
    r"缺了",
    r"丢了",
    r"被偷",
    r"闹",
    r"占(用|了|道)",
    r"一直",
    r"好几天",
    r"危险",
    r"隐患",
    r"味道",
    r"蚊",
    r"蟑螂",
    r"老鼠",
)
OFFICE = _any(
    r"周[一二三四五六日天]到周[一二三四五六日天]",
    r"都开(门)?吗",
    r"休息日",
    r"哪天休息",
    r"哪天上班",
    r"礼拜几",
    r"(几点|什么时候|时间|哪天|周.|星期.|礼拜.|今天|明天|你们|社区|中心|服务站|居委会|过年|节假日|假期).{0,3}(上班|下班)",
    r"(上班|下班)(吗|没|不|时间|几点)",
    r"几点(上班|下班|开门|关门|开始|结束|到几点)",
    r"到几点",
    r"开门",
    r"关门",
    r"办公时间",
    r"工作时间",
    r"营业",
    r"周六",
    r"周日",
    r"周末",
    r"星期[六天日]",
    r"礼拜[六天日]",
    r"节假日",
    r"放假",
    r"假期",
    r"国庆",
    r"春节",
    r"过年",
    r"五一",
    r"中秋",
    r"元旦",
    r"端午",
    r"中午",
    r"午休",
    r"午饭",
    r"休息时间",
    r"地址",
    r"怎么走",
    r"(你们|社区|服务中心|服务站|居委会|办公室|党群)(在|的位置|位置|地点)",
    r"电话",
    r"联系方式",
    r"值班",
    r"开放时间",
    r"晚上(几点|开门|开放|上班|有人|值班)",
    r"几点钟",
    r"在哪办公",
    r"坐几路",
)
GENERAL_CONSULT = _any(
    r"(能|可以|会)(办|做|帮|干)(哪些|什么|啥)",
    r"(哪些|什么)(业务|服务|事项|事情)",
    r"业务范围",
    r"服务项目",
    r"有什么(用|功能)",
    r"你(是谁|能做什么|会什么)",
    r"功能",
    r"菜单",
    r"帮助",
    r"^help$",
    r"^\?$",
    r"办事指南",
    r"百事通",
)
GREETING = _any(
    r"^(你好|您好|你们好|大家好|hi|hello|嗨|在吗|在不在|有人吗|早|早上好|上午好|中午好|下午好|晚上好|晚安)",
    r"^(谢谢|感谢|多谢|谢了|谢啦|辛苦了|辛苦|麻烦了|麻烦你了)",
    r"^(再见|拜拜|bye|88|回头见)",
    r"^(好的|好|行|可以|ok|okay|嗯|收到|知道了|明白了|懂了|了解了|是的|对|没问题|好滴)",
    r"(谢谢|感谢|多谢)(你|您|你们|啦|了)?$",
    r"^(没事了|没有了|就这样)",
)
# A message that is nothing but a greeting or thanks: answered as such even when it names a time of day.
GREETING_ONLY = re.compile(
    r"(你好|您好|你们好|大家好|hi|hello|嗨|在吗|在不在|有人吗|早|早上好|上午好|中午好|下午好|晚上好|晚安|谢谢|感谢|多谢|谢了|辛苦了"
    r"|再见|拜拜|bye|88|好的|好|行|ok|收到|知道了|明白了|懂了|嗯|对|是的|没问题|谢谢你|谢谢您|谢谢你们|\s)+"
)
# Words that mark a message as outside community services even when it brushes against a keyword.
OUT_OF_SCOPE = _any(
    r"银行卡",
    r"信用卡",
    r"存折",
    r"网银",
    r"驾驶证",
    r"驾照",
    r"行驶证",
    r"违章",
    r"限行",
    r"车险",
    r"护照",
    r"港澳通行证",
    r"签证",
    r"公积金",
    r"个税",
    r"所得税",
    r"报税",
    r"宽带",
    r"话费",
    r"出租车",
    r"滴滴",
    r"疫苗",
    r"挂号",
    r"专家号",
    r"药店",
    r"买药",
    r"电视",
    r"冰箱",
    r"洗衣机",
    r"燃气灶",
    r"热水器",
    r"油烟机",
    r"结婚证",
    r"离婚证",
    r"养老院",
    r"退货",
    r"网购",
    r"超市",
    r"菜价",
    r"彩礼",
    r"天气",
    r"下雨",
    r"气温",
    r"股票",
    r"股市",
    r"基金",
    r"比特币",
    r"彩票",
    r"奶茶",
    r"外卖",
    r"咖啡",
    r"电影",
    r"电视剧",
    r"笑话",
    r"游戏",
    r"唱(首)?歌",
    r"菜谱",
    r"做菜",
    r"炒菜",
    r"减肥",
    r"星座",
    r"算命",
    r"红包",
    r"快递",
    r"打车",
    r"机票",
    r"火车票",
    r"高铁",
    r"现在几点",
    r"几点了",
    r"旅游",
    r"旅行",
    r"足球",
    r"篮球",
    r"世界杯",
    r"明星",
    r"翻译",
    r"写(一)?(首|篇)",
    r"作文",
    r"数学题",
    r"充话费",
    r"流量",
    r"手机号码?卡",
    r"wifi",
    r"发烧",
    r"感冒",
    r"咳嗽",
    r"头疼",
    r"挂号",
    r"买菜",
    r"淘宝",
    r"拼多多",
    r"京东",
    r"美团",
    r"房价",
    r"租金多少",
    r"汇率",
    r"油价",
    r"谈恋爱",
    r"女朋友",
    r"男朋友",
    r"相亲",
    r"宠物",
    r"猫粮",
    r"狗粮",
    r"旅游攻略",
    r"景点推荐",
    r"酒店",
    r"餐厅",
    r"好吃",
    r"火锅",
)
