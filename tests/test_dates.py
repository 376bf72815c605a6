from datetime import date

import pytest

from tripkb.errors import DateError, TripkbError
from tripkb.meta.dates import parse_date, parse_range, parse_year, year_from_id


@pytest.mark.parametrize("text", [
    "民國96年6月21日",
    "中華民國96年6月21日",
    "96年6月21日",
    "96/06/21",
    "096.06.21",
    "96.6.21",
    "96-06-21",
    "2007-06-21",
    "2007/6/21",
    "2007.06.21",
    "2007年6月21日",
    "西元2007年6月21日",
    "２００７年６月２１日",
    "民國９６年６月２１日",
    "九十六年六月二十一日",
    "民國九六年六月二一日",
    "96年6月21號",
    "96年6月21日(星期四)",
    "96年6月21日（四）",
    "2007年6月21",
    " 民國 96 年 6 月 21 日 ",
    "0960621",
    "20070621",
])
def test_parse_date_forms(text):
    assert parse_date(text) == date(2007, 6, 21)


@pytest.mark.parametrize("text, expected", [
    ("九十八年十二月三日", date(2009, 12, 3)),
    ("一○○年一月五日", date(2011, 1, 5)),
    ("一〇〇年一月五日", date(2011, 1, 5)),
    ("一零零年一月五日", date(2011, 1, 5)),
    ("一百零一年十月十日", date(2012, 10, 10)),
    ("民國100年1月1日", date(2011, 1, 1)),
    ("民國１００年１月１日", date(2011, 1, 1)),
    ("民國元年1月1日", date(1912, 1, 1)),
    ("98年12月31日", date(2009, 12, 31)),
    ("101/02/29", date(2012, 2, 29)),
])
def test_parse_date_chinese_numerals_and_roc(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("一百年三月", date(2011, 3, 1)),
    ("2007年6月", date(2007, 6, 1)),
    ("96年6月", date(2007, 6, 1)),
    ("2007-06", date(2007, 6, 1)),
])
def test_parse_date_month_precision_is_first_of_month(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", [
    "96/02/30", "2007-02-29", "96年13月1日", "2007-00-10", "96年6月31日", "2007-06-00",
])
def test_parse_date_impossible(text):
    with pytest.raises(DateError, match="cannot read .* as a date"):
        parse_date(text)


@pytest.mark.parametrize("text", [
    "", "   ", "hello", "2007", "96年", "六月二十一日", "6/21", "96年21日",
    "2007-06-21x", "2007/06-21", "96年6月21日至7月3日", "12345",
])
def test_parse_date_garbage(text):
    with pytest.raises(DateError) as err:
        parse_date(text)
    assert isinstance(err.value, TripkbError)


def test_parse_date_message_is_user_fit():
    with pytest.raises(DateError) as err:
        parse_date("next tuesday")
    assert str(err.value) == (
        "cannot read 'next tuesday' as a date (expected e.g. 2007-06-21 or 民國96年6月21日)")
    with pytest.raises(DateError, match="no such day: 2007-02-30"):
        parse_date("96/02/30")


JUNE_21, JULY_3 = date(2007, 6, 21), date(2007, 7, 3)


@pytest.mark.parametrize("text", [
    "96年6月21日至7月3日",
    "96年6月21日到7月3日",
    "96年6月21日起至7月3日止",
    "自96年6月21日至7月3日",
    "96年6月21日至96年7月3日",
    "民國96年6月21日～96年7月3日",
    "民國96年6月21日至民國96年7月3日",
    "96年6月21日(四)至7月3日(二)",
    "96.06.21~96.07.03",
    "96/06/21-96/07/03",
    "2007/6/21-7/3",
    "2007-06-21-2007-07-03",
    "2007-06-21 - 2007-07-03",
    "2007-06-21 to 2007-07-03",
    "2007-06-21—2007-07-03",
    "2007-06-21–2007-07-03",
    "2007-06-21－2007-07-03",
    "2007年6月21日-7月3日",
    "２００７年６月２１日～７月３日",
    "0960621-0960703",
    "九十六年六月二十一日至七月三日",
])
def test_parse_range_forms(text):
    assert parse_range(text) == (JUNE_21, JULY_3)


@pytest.mark.parametrize("text, expected", [
    ("96年6月21日至30日", (date(2007, 6, 21), date(2007, 6, 30))),
    ("2007/6/21-30", (date(2007, 6, 21), date(2007, 6, 30))),
    ("96年12月28日至1月5日", (date(2007, 12, 28), date(2008, 1, 5))),
    ("96年6月28日至3日", (date(2007, 6, 28), date(2007, 7, 3))),
    ("96年12月28日至3日", (date(2007, 12, 28), date(2008, 1, 3))),
    ("96年12月28日至97年1月5日", (date(2007, 12, 28), date(2008, 1, 5))),
    ("2007年6月至7月", (date(2007, 6, 1), date(2007, 7, 31))),
    ("2007-06-2007-07", (date(2007, 6, 1), date(2007, 7, 31))),
    ("2007/06-08", (date(2007, 6, 1), date(2007, 8, 31))),
    ("2007-06-21", (date(2007, 6, 21), None)),
    ("民國96年6月21日", (date(2007, 6, 21), None)),
    ("96年6月21日起", (date(2007, 6, 21), None)),
])
def test_parse_range_partial_ends(text, expected):
    assert parse_range(text) == expected


@pytest.mark.parametrize("text", [
    "", "hello", "96年6月21日至", "96年6月21日至hello", "2007-07-03~2007-06-21",
    "96年6月21日至96年", "96/02/30-96/03/02", "96年6月21日至6月31日", "2007/6/21-2007/7/3/4",
    "2007", "2007/6/21-1/2/3/4",
])
def test_parse_range_errors(text):
    with pytest.raises(DateError, match="cannot read"):
        parse_range(text)


def test_parse_range_backwards_message():
    with pytest.raises(DateError, match="ends before it starts"):
        parse_range("2007-07-03~2007-06-21")


@pytest.mark.parametrize("text, expected", [
    ("一○○年", 2011), ("一〇〇年", 2011), ("一零零年", 2011), ("一百年", 2011),
    ("民國98年", 2009), ("中華民國98年", 2009), ("98年", 2009), ("98年度", 2009), ("98", 2009),
    ("2009", 2009), ("2009年", 2009), ("西元2009年", 2009), ("２００９", 2009),
    ("民國１００年", 2011), ("九十八年", 2009), ("民國元年", 1912),
])
def test_parse_year(text, expected):
    assert parse_year(text) == expected


@pytest.mark.parametrize("text", ["", "year", "2009-06", "98年6月", "98年6月21日", "20090621"])
def test_parse_year_errors(text):
    with pytest.raises(DateError, match="as a year"):
        parse_year(text)


@pytest.mark.parametrize("report_id, expected", [
    ("C09801032", 2009), ("C10100123", 2012), ("C09601649", 2007), (" C09601649 ", 2007),
    ("C1000A1B2", 2011),
])
def test_year_from_id(report_id, expected):
    assert year_from_id(report_id) == expected


@pytest.mark.parametrize("report_id", [
    "", "C0980103", "C098010321", "D09801032", "CA9801032", "09801032", "paper-2009", "c09801032",
])
def test_year_from_id_other_shapes(report_id):
    assert year_from_id(report_id) is None
