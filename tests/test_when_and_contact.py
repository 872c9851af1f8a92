"""Reading times, dates and contact details the way residents write them (pure functions)."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from intents.contact import (
    ContactError,
    address_said,
    corrected_address,
    corrected_mobile,
    introduced_name,
    is_full_name,
    name_said,
    place_in,
    read_address,
    read_description,
    read_mobile,
    read_name,
)
from intents.when import WhenError, WhenUnclear, Window, check_booked_week, first_fit, fit_window, read_window
from knowledge import Handbook
from tests.conftest import SHANGHAI

FRIDAY_4PM = datetime(2026, 11, 27, 16, 0, tzinfo=SHANGHAI)


def window(text: str, now: datetime = FRIDAY_4PM) -> str:
    found = read_window(text, now)
    assert found is not None, text
    return f"{found.start:%m-%d %H:%M}-{found.end:%H:%M}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天上午", "11-28 09:00-12:00"),
        ("明天下午3:30", "11-28 15:30-16:30"),
        ("后天早上9点", "11-29 09:00-10:00"),
        ("周六中午12点半吧", "11-28 12:30-13:30"),
        ("下週三 上午十點半", "12-02 10:30-11:30"),  # traditional characters, Chinese numerals
        ("下周一下午两点", "11-30 14:00-15:00"),
        ("2026-12-01 中午", "12-01 12:00-14:00"),
        ("12月3号上午", "12-03 09:00-12:00"),
        ("明天中午1点", "11-28 13:00-14:00"),
        ("3点", "11-27 15:00-16:00"),  # a bare 3点 at a service desk is the afternoon
        ("明天", "11-28 00:00-00:00"),  # the whole day; fit_window clips it
    ],
)
def test_read_window(text: str, expected: str) -> None:
    assert window(text) == expected


def test_no_time_and_impossible_dates() -> None:
    assert read_window("我要办居住证", FRIDAY_4PM) is None
    with pytest.raises(WhenUnclear, match="尽快"):
        read_window("随便什么时候都行吧", FRIDAY_4PM)  # asked for a day, never guessed
    with pytest.raises(WhenError, match="没有2月30日"):
        read_window("2月30日上午", FRIDAY_4PM)
    with pytest.raises(WhenError, match="不是有效的时间"):
        read_window("明天25点", FRIDAY_4PM)


def fit(handbook: Handbook, text: str, hours: str = "office", now: datetime = FRIDAY_4PM) -> Window:
    found = read_window(text, now)
    assert found is not None
    spans = handbook.office.booking_hours[hours]
    return first_fit(
        found,
        lambda day: handbook.calendar.spans(spans, day),
        lambda day: handbook.calendar.holiday(day) or "不办公",
        now,
    )


def test_fit_refuses_past_closed_and_out_of_hours_times_saying_why(handbook: Handbook) -> None:
    with pytest.raises(WhenError, match="已经过了"):
        fit(handbook, "今天下午3点")
    with pytest.raises(WhenError, match=r"不在服务时间.*09:00-17:00"):
        fit(handbook, "明天晚上8点")  # Saturday: weekend duty hours
    with pytest.raises(WhenError, match="不办公"):
        fit(handbook, "明天上午", hours="workdays")  # a weekday-only service on Saturday
    with pytest.raises(WhenError, match="国庆节"):
        fit(handbook, "10月2日上午", now=datetime(2026, 9, 28, 9, tzinfo=SHANGHAI))
    clipped = fit(handbook, "明天")
    assert (clipped.start.time(), clipped.end.time()) == (time(9), time(17))


def test_make_up_working_days_and_asap(handbook: Handbook) -> None:
    # Sunday 2026-09-20 is a make-up working day (调休): weekday hours apply.
    sunday = fit(handbook, "9月20日下午", now=datetime(2026, 9, 18, 9, tzinfo=SHANGHAI))
    assert sunday.end.time() == time(17, 30)
    # "尽快" on Friday evening rolls over to Saturday's weekend duty.
    asap = fit(handbook, "尽快", now=datetime(2026, 11, 27, 19, tzinfo=SHANGHAI))
    assert asap.start == datetime(2026, 11, 28, 9, tzinfo=SHANGHAI)


def test_fit_window_keeps_the_part_inside_the_span() -> None:
    spans = ((time(9), time(12)), (time(14), time(17, 30)))
    w = Window(
        datetime(2026, 11, 30, 11, 30, tzinfo=SHANGHAI), datetime(2026, 11, 30, 12, 30, tzinfo=SHANGHAI)
    )
    fitted = fit_window(w, spans, FRIDAY_4PM)
    assert (fitted.start.time(), fitted.end.time()) == (time(11, 30), time(12))


@pytest.mark.parametrize(
    ("text", "mobile"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("电话是138-1234-5678", "13812345678"),
        ("+86 139 8765 4321", "13987654321"),
        ("１３８１２３４５６７８", "13812345678"),
        ("没有", None),
        # Beside a name ending in a numeral or an address starting with a digit, the number stays
        # apart (session 21: "张三 13982476103 5栋2单元301" lost the number and was asked for it again).
        ("张三 13982476103 5栋2单元301", "13982476103"),
        ("李四 139 8247 6103 8栋", "13982476103"),
        ("我叫王五 幺三九八二四七六幺零三", "13982476103"),
        ("8613982476103", "13982476103"),
    ],
)
def test_read_mobile(text: str, mobile: str | None) -> None:
    assert read_mobile(text) == mobile


@pytest.mark.parametrize("text", ["1381234567", "12812345678", "138123456789", "88886666", "028-888866"])
def test_invalid_mobile_numbers_are_refused(text: str) -> None:
    with pytest.raises(ContactError, match=r"手机号.*座机请带区号"):
        read_mobile(text)


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("028-88886666", "028-88886666"),
        ("我沒得手機 就屋頭座機 028-85551234", "028-85551234"),
        ("(028)8555 1234", "028-85551234"),
        ("010 12345678", "010-12345678"),
        ("0816-2345678", "0816-2345678"),
    ],
)
def test_a_landline_with_its_area_code_is_a_contact_number(text: str, phone: str) -> None:
    """A trial resident without a mobile was refused her home phone and gave up her sign-up."""
    assert read_mobile(text) == phone


def test_names_and_addresses() -> None:
    assert read_name("我叫张秀英") == "张秀英"
    assert read_name("王阿姨。") == "王阿姨"
    assert read_name("阿依古丽·买买提") == "阿依古丽·买买提"
    # "…我到社区来找人教我就是了 哪天有人": a question about the day, not a name (trial Z12 r13).
    not_names = ("不用上门 我自己走得动 我到社区来找人教我就是了 哪天有人", "几点有人")
    for bad in ("13812345678", "办居住证要带什么东西呀", "是", "不是调解 是房子漏水要修", "错了", *not_names):
        with pytest.raises(ContactError):
            read_name(bad)
    # A surname alone is how a resident may be addressed (a session-7 trial resident's "冯" was refused).
    assert read_name("冯") == "冯" and read_name("名字错了 我姓何 事项也错了") == "何"
    with pytest.raises(ContactError):
        read_address("3")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("我是王秀英 想预约上门办老年证 电话13908081234", "王秀英"),
        ("本人李德明，要开个证明", "李德明"),
        ("我姓李 想约个调解", "李"),
        ("我是王老师 帮我约一下", "王老师"),
        ("我是想问一下老年证", None),
        ("我是他儿子 帮他约个上门", None),
        ("我是陈家的 帮我报个修", None),
        ("是这样的 我是社区居民", None),
        # Trial Q: the tagger read 海 and 桂兰 as places.
        ("11栋门口那个窨井盖子烂了一半 报个修 我叫郑海 13551112233", "郑海"),
        ("要得嘛 那给我登记一哈 我叫王桂兰 77岁了", "王桂兰"),
        ("我是高血压 想问慢性病", None),
        ("我叫你们快点来", None),
    ],
)
def test_a_name_introduced_in_a_longer_message(text: str, name: str | None) -> None:
    """A session-7 trial resident who opened with her name was asked for it again."""
    assert introduced_name(text) == name


def test_values_keep_their_words_and_lose_only_the_lead_in() -> None:
    """Trial K: a ticket read "水道堵了", an address began "刚才说了的嘛", a name was the nickname."""
    assert read_description("下水道堵了 污水漫出来") == "下水道堵了 污水漫出来"
    assert read_description("一下子就坏了") == "一下子就坏了"
    assert read_address("刚才说了的嘛 幸福小区5栋1单元102") == "幸福小区5栋1单元102"
    assert read_address("我都说了噻 幸福里5栋2单元301") == "幸福里5栋2单元301"
    assert read_description("都说了好几天了还没修") == "都说了好几天了还没修"
    assert read_address("我住在阳光苑3栋") == "阳光苑3栋"
    assert read_name("老赵 赵国强") == "赵国强"
    assert read_name("老赵") == "老赵"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("座机 87654321 我叫王桂兰", "王桂兰"),
        ("我是她儿子 我叫孙伟", "孙伟"),
        ("我姓周 周德明", "周德明"),
        ("我叫刘建华，我爸叫刘德贵", "刘建华"),
    ],
)
def test_a_name_introduced_outright_wins_over_other_words_at_the_name_question(text: str, name: str) -> None:
    """Trial Q: "座机" and "她儿子" were kept as names."""
    assert read_name(text) == name


@pytest.mark.parametrize(
    ("text", "place"),
    [
        # Trial T: the compound (幸福里) was dropped from "她住幸福里3栋2单元501".
        ("王建国，是我妈刘桂芬要签字哈，她住幸福里3栋2单元501", "幸福里3栋2单元501"),
        ("锦绣城 3栋1单元", "锦绣城 3栋1单元"),
        ("幸福里小区3栋2单元501", "幸福里小区3栋2单元501"),
        ("3栋2单元楼道灯坏了", "3栋2单元楼道"),
        ("我在家里3栋", "3栋"),  # 家里 is no compound
        # Trial X r01, r20: the 是 and the 址 of 地址 before a compound are not part of it.
        ("我是幸福里3栋的 我妈85了", "幸福里3栋"),
        ("礼拜三上午 要到屋头来哈 地址幸福里2栋1单元702", "幸福里2栋1单元702"),
        ("地址是阳光小区5栋", "阳光小区5栋"),
        # Trial Z3 r11: an old compound called a 院子; r12: 了 before a compound's name is no part of it.
        ("地址不对 是幸福里老院子2栋402", "幸福里老院子2栋402"),
        ("上个月我就报了阳光苑门口那个路灯坏了", "阳光苑门口"),
    ],
)
def test_a_compound_named_before_its_building_stays_in_the_address(text: str, place: str) -> None:
    assert place_in(text) == place


@pytest.mark.parametrize(
    ("word", "name"),
    [
        ("徐淑芬", True),
        ("王建国", True),
        ("王芳", True),
        ("残疾人", False),
        ("不醒", False),
        ("高血压", False),
        ("胡说", False),
    ],
)
def test_a_full_name_is_a_surname_and_not_a_common_word(word: str, name: bool) -> None:
    assert is_full_name(word) is name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("我姓李 李建国", "李建国"),  # trial U kept only 李
        ("我姓王，王秀英 13812345678", "王秀英"),
        ("我姓李", "李"),
        ("我姓李 李子坝的", "李"),  # a place after the surname, not a name
    ],
)
def test_a_surname_then_the_whole_name_is_the_whole_name(text: str, name: str) -> None:
    assert introduced_name(text) == name


@pytest.mark.parametrize("word", ["确认", "取消", "好的", "可以"])
def test_a_reply_word_sent_at_the_name_question_is_no_name(word: str) -> None:
    """Trial X r12: 确认 typed before the form was done became 姓名：确认."""
    with pytest.raises(ContactError):
        read_name(word)


WEDNESDAY_MORNING = datetime(2026, 12, 2, 10, 15, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("这周随便哪天嘛 周四", "12-03 00:00-00:00"),  # the week said apart from its day (trial OO)
        ("下个礼拜 礼拜二上午", "12-08 09:00-12:00"),
        ("这周工作日下午都行", "12-02 14:00-17:30"),  # any day of this week: the first one ahead
        ("下周工作日上午都行", "12-07 09:00-12:00"),
        ("这周有事 下周三吧", "12-09 00:00-00:00"),  # this week refused, a day of next week chosen
        ("这周不行 下周随便哪天", "12-07 00:00-00:00"),
    ],
)
def test_a_week_said_apart_from_its_day(text: str, expected: str) -> None:
    assert window(text, WEDNESDAY_MORNING) == expected


@pytest.mark.parametrize("text", ["这周没空 周五吧", "这周", "下周吧", "这个星期都不在家"])
def test_a_week_without_its_day_or_with_a_day_of_either_week_is_asked_again(text: str) -> None:
    with pytest.raises(WhenUnclear):
        read_window(text, WEDNESDAY_MORNING)


@pytest.mark.parametrize(
    ("kept", "said", "address", "rest"),
    [
        (
            "5栋1单元3楼",
            "不是5栋 是6栋2单元 还有地下车库门口那个下水道也堵了",
            "6栋2单元3楼",
            "地下车库门口那个下水道也堵了",
        ),
        ("6栋2单元2017", "201 不是2017", "6栋2单元201", ""),
        ("6栋2单元2017", "是201 不是2017哦", "6栋2单元201", ""),
        ("幸福里5栋1单元301", "不是1单元，是2单元的", "幸福里5栋2单元301", ""),
        ("幸福里5栋1单元301", "不是5栋是15栋", "幸福里15栋1单元301", ""),
    ],
)
def test_a_wrong_part_of_the_address_is_put_right(kept: str, said: str, address: str, rest: str) -> None:
    assert corrected_address(kept, said) == (address, rest)


@pytest.mark.parametrize(
    "said",
    [
        "不是张三 是李四",
        "不是楼道灯 是电梯",
        "不是8栋 是9栋",
        "6栋2单元301",
    ],  # no part of the address, or none said wrong
)
def test_no_address_correction_is_read_where_none_is_made(said: str) -> None:
    assert corrected_address("幸福里5栋1单元301", said) is None


def test_a_bare_weekday_before_the_booked_week_is_asked() -> None:
    """Session 24 (trial VV r18): a Monday-the-14th booking moved by "改成礼拜二下午", read as Tuesday the
    8th, is asked about (8th or 15th); a weekday in the booked week or with 下 before it is taken."""
    booked = datetime(2026, 12, 14, 9, 30, tzinfo=SHANGHAI)
    with pytest.raises(WhenError, match="12月15日"):
        check_booked_week(
            "礼拜一我要带孙娃 改成礼拜二下午嘛", datetime(2026, 12, 8, 14, tzinfo=SHANGHAI), booked
        )
    check_booked_week("改成礼拜二下午", datetime(2026, 12, 15, 14, tzinfo=SHANGHAI), booked)
    check_booked_week("改成下礼拜二下午", datetime(2026, 12, 8, 14, tzinfo=SHANGHAI), booked)


def test_the_phones_last_digits_are_put_right() -> None:
    """Session 24 (trial VV r20): "电话最后一位是3不是2" at the read-back."""
    assert corrected_mobile("13811112222", "电话最后一位是3不是2") == ("13811112223", "")
    assert corrected_mobile("13811112222", "手机尾号是23 地址不变")[0] == "13811112223"
    assert corrected_mobile("13811112222", "最后一位是3") is None  # whose number is not said
    assert corrected_mobile("", "电话最后一位是3") is None


def test_the_flat_the_trouble_comes_from_is_no_part_of_the_address() -> None:
    """ "我是402 楼上是502": the resident's flat, the one upstairs set aside (trial Z3 r11)."""
    address, aside = address_said("幸福里老院子2栋4楼 我是402 楼上是502")
    assert address == "幸福里老院子2栋4楼402"
    assert "楼上是502" in aside


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (
            "我就是在社区窗口交的材料 叫刘丽华 身份证尾号是0422",
            "刘丽华",
        ),  # jieba knows 刘丽华: said, still a name
        ("名字也加上 刘丽华", "刘丽华"),
        ("张老师晓得我叫啥子不", None),
        ("叫你们领导来", None),
        ("我叫王老师来帮忙", None),
    ],
)
def test_a_name_given_for_the_person_asked_is_read(text: str, name: str | None) -> None:
    """After a handoff, "名字也加上 刘丽华" puts the name on the ticket (trial Z4 r17)."""
    assert name_said(text) == name
