"""Read the dates that Taiwanese trip reports are written with.

Reports mix ROC (民國) and Gregorian years, Chinese and Arabic numerals,
full-width digits and many separators, and trip periods often omit the year
or month of the end date (96年6月21日至7月3日).  Everything is normalised to
ASCII digits first, then read by one small tokenizer, so every form shares the
same rules: a year written with 1-3 digits is ROC (+1911), with 4 digits
Gregorian, unless 民國 or 西元 says otherwise.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from tripkb.errors import DateError

ROC_OFFSET = 1911

_DATE_HINT = "expected e.g. 2007-06-21 or 民國96年6月21日"
_RANGE_HINT = "expected e.g. 2007-06-21~2007-07-03 or 96年6月21日至7月3日"
_YEAR_HINT = "expected e.g. 2009 or 民國98年"

_FIELDS = ("y", "m", "d")
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[〇○零一二三四五六七八九十百廿卅]+")
_NOTES = re.compile(r"[(（][^)）]*[)）]|(?:星期|禮拜|礼拜|週|周)[一二三四五六日天]")
_ERA = re.compile(r"(?:自|從|从)?(中華民國|中华民国|民國|民国|民|西元|公元)?")
_ERAS = {"西元": "ad", "公元": "ad"}  # every other era prefix is ROC
_RANGE_SEP = re.compile(r"起至|起迄|至|到|迄|~|〜|∼|-|—|–|―|−|to")
_NUMBER = re.compile(r"\d{1,9}(?!\d)")  # longer runs are no part of a date (and int() refuses 4,300 digits)
_LABELS = {"年": "y", "月": "m", "日": "d", "號": "d", "号": "d"}
_NUMERIC_SEPS = ("-", "/", ".")
_REPORT_ID = re.compile(r"C(\d{3})[0-9A-Z]{5}")


@dataclass(frozen=True)
class _Parts:
    """What one date string says, before missing fields are filled in.

    ``labelled`` holds fields named by 年/月/日 (or a compact 0960621);
    ``numbers`` holds unlabelled ones (2007/6/21, 7/3) whose meaning depends
    on whether the date starts a period or ends one.
    """

    labelled: dict[str, int]
    numbers: tuple[int, ...]
    year_digits: int
    era: str | None  # "roc", "ad", or None: decide by year_digits

    def fields(self, order: tuple[str, ...]) -> dict[str, int]:
        """The fields, unlabelled numbers taking the last fields of ``order``."""
        if self.labelled:
            return dict(self.labelled)
        if len(self.numbers) > len(order):
            return {}
        return dict(zip(order[len(order) - len(self.numbers):], self.numbers))

    def gregorian(self, year: int) -> int:
        roc = self.era == "roc" or (self.era is None and self.year_digits <= 3)
        return year + ROC_OFFSET if roc else year


def parse_date(text: str) -> date:
    """Read one date; a missing day means the first of the month (一百年三月 → 2011-03-01).

    A year alone is not a date: use :func:`parse_year` for that.
    """
    s = _normalise(text)
    parts, pos = _read(s, 0)
    fields = _start_fields(parts)
    if pos != len(s) or "m" not in fields:
        raise DateError(f"cannot read '{text.strip()}' as a date ({_DATE_HINT})")
    return _to_date(text, fields, last_day=False)


def parse_range(text: str) -> tuple[date, date | None]:
    """Read a date or a period; the end may omit what it shares with the start.

    A missing day in the end means the last day of that month (2007年6月至7月 ends
    2007-07-31). An end that omits its year (or month) and would fall before the
    start rolls over (96年12月28日至1月5日 ends 2008-01-05).
    """
    s = _normalise(text)
    parts, pos = _read(s, 0)
    start_fields = _start_fields(parts)
    if "m" not in start_fields:
        raise DateError(f"cannot read '{text.strip()}' as a date range ({_RANGE_HINT})")
    start = _to_date(text, start_fields, last_day=False)
    if pos == len(s):
        return start, None
    sep = _RANGE_SEP.match(s, pos)
    end_parts, end_pos = _read(s, sep.end()) if sep else (None, pos)
    if end_parts is None or end_pos != len(s):
        raise DateError(f"cannot read '{text.strip()}' as a date range ({_RANGE_HINT})")
    return start, _range_end(text, start, start_fields, end_parts)


def parse_year(text: str) -> int:
    """Read a year alone (一○○年, 民國98年, 98年度, 2009) as a Gregorian year."""
    s = _normalise(text)
    parts, pos = _read(s, 0)
    fields = _start_fields(parts)
    if pos != len(s) or set(fields) != {"y"}:
        raise DateError(f"cannot read '{text.strip()}' as a year ({_YEAR_HINT})")
    return fields["y"]


def year_from_id(report_id: str) -> int | None:
    """The year in a 系統識別號 (C + 3-digit ROC year + 5 characters), else None."""
    m = _REPORT_ID.fullmatch(report_id.strip())
    return int(m.group(1)) + ROC_OFFSET if m else None


def _normalise(text: str) -> str:
    """ASCII digits and separators, no spaces, no weekday or bracketed notes."""
    s = unicodedata.normalize("NFKC", text)
    s = _NOTES.sub("", s)
    s = re.sub(r"\s+", "", s)
    s = _CN_NUMBER.sub(lambda m: _cn_number(m.group()), s)
    return s.replace("元年", "1年").replace("年度", "年")


def _cn_number(run: str) -> str:
    """一○○ → 100 (digit by digit), 九十八 → 98, 一百零一 → 101 (positional)."""
    if not any(ch in "十百廿卅" for ch in run):
        return "".join(str(_CN_DIGITS[ch]) for ch in run)
    total, digit = 0, None
    for ch in run:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in "廿卅":
            total += 20 if ch == "廿" else 30
        else:
            total += (1 if digit is None else digit) * (100 if ch == "百" else 10)
            digit = None
    return str(total + (digit or 0))


def _read(s: str, pos: int) -> tuple[_Parts | None, int]:
    """Read one date at ``pos``; return what it says and where reading stopped.

    Numeric dates keep one separator throughout and have at most three parts,
    and month and day at most two digits, so in 2007/6/21-7/3 and
    2007-06-2007-07 the range separator is where the date stops fitting.
    """
    era_match = _ERA.match(s, pos)
    prefix = era_match.group(1)
    era = _ERAS.get(prefix, "roc") if prefix else None
    pos = era_match.end()
    numbers: list[str] = []
    labels: list[str | None] = []
    sep: str | None = None
    while (m := _NUMBER.match(s, pos)) is not None:
        numbers.append(m.group())
        pos = m.end()
        nxt = s[pos:pos + 1]
        if nxt in _LABELS:
            labels.append(_LABELS[nxt])
            pos += 1
            if labels[-1] == "d":
                break
            continue
        labels.append(None)
        following = _NUMBER.match(s, pos + 1)
        if (nxt not in _NUMERIC_SEPS or sep not in (None, nxt) or any(labels)
                or len(numbers) == 3 or following is None or len(following.group()) > 2):
            break
        sep = nxt
        pos += 1
    if s[pos:] in ("止", "起"):
        pos = len(s)
    return _parts(numbers, labels, era), pos


def _parts(numbers: list[str], labels: list[str | None], era: str | None) -> _Parts | None:
    """Name the numbers read: by label, as a compact date, or leave them positional."""
    if not numbers:
        return None
    if len(numbers) == 1 and labels[0] is None and len(numbers[0]) in (7, 8):
        n = numbers[0]  # 0960621 (ROC) or 20070621
        return _Parts({"y": int(n[:-4]), "m": int(n[-4:-2]), "d": int(n[-2:])}, (),
                      len(n) - 4, era)
    if not any(labels):
        return _Parts({}, tuple(int(n) for n in numbers), len(numbers[0]), era)
    labelled: dict[str, int] = {}
    year_digits = 0
    previous: str | None = None
    for number, label in zip(numbers, labels):
        label = label or {"y": "m", "m": "d"}.get(previous or "")  # 2007年6月21 (日 left out)
        if label is None or label in labelled:
            return None
        labelled[label] = int(number)
        year_digits = len(number) if label == "y" else year_digits
        previous = label
    present = [f in labelled for f in _FIELDS]
    first, last = present.index(True), len(present) - 1 - present[::-1].index(True)
    if not all(present[first:last + 1]):  # 96年21日
        return None
    return _Parts(labelled, (), year_digits, era)


def _start_fields(parts: _Parts | None) -> dict[str, int]:
    """Fields of a date that stands alone or starts a period: it must give a year."""
    # Unlabelled numbers of a start date are read from the year on: 2007/6 is a month.
    fields = parts.fields(_FIELDS[:len(parts.numbers)] or _FIELDS) if parts else {}
    if "y" not in fields:
        return {}
    return fields | {"y": parts.gregorian(fields["y"])}


def _to_date(text: str, fields: dict[str, int], last_day: bool) -> date:
    y, m = fields["y"], fields["m"]
    if not (1 <= m <= 12 and 1 <= y <= 9999):
        raise DateError(f"cannot read '{text.strip()}' as a date (no such month: {y}-{m:02d})")
    d = fields.get("d", calendar.monthrange(y, m)[1] if last_day else 1)
    try:
        return date(y, m, d)
    except ValueError:
        raise DateError(
            f"cannot read '{text.strip()}' as a date (no such day: {y}-{m:02d}-{d:02d})"
        ) from None


def _range_end(text: str, start: date, start_fields: dict[str, int], parts: _Parts) -> date:
    """Complete the end of a period from its start; it may not precede the start."""
    given = parts.fields(tuple(f for f in _FIELDS if f in start_fields))
    if not given or ("y" in given and "m" not in given):
        raise DateError(f"cannot read '{text.strip()}' as a date range ({_RANGE_HINT})")
    fields = dict(given)
    if "y" in given:
        fields["y"] = parts.gregorian(given["y"])
    else:
        inherited = _FIELDS[:_FIELDS.index(next(f for f in _FIELDS if f in given))]
        fields |= {f: start_fields[f] for f in inherited}
    end = _to_date(text, fields, last_day=True)
    if end < start and "y" not in given:  # 12月28日至1月5日, 6月28日至3日
        if "m" in given:
            fields["y"] += 1
        else:
            fields["y"], fields["m"] = fields["y"] + fields["m"] // 12, fields["m"] % 12 + 1
        end = _to_date(text, fields, last_day=True)
    if end < start:
        raise DateError(f"cannot read '{text.strip()}' as a date range (it ends before it starts)")
    return end
