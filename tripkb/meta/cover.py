"""Read a document's cover page and 摘要 into sidecar fields, so librarians need not type them.

Trip-report covers follow one government form (出國報告（出國類別：開會）, then 服務機關,
姓名職稱, 派赴國家, 出國期間, 報告日期), but once a PDF becomes text it is laid out many
ways: ``label:value``; the label on one line and its value on the next; a table
flattened into ``服務機關國立臺中圖書館職稱輔導員姓名陳淑芬``; values wrapped onto
the next line. So the cover is read as a stream of known labels, each owning
the text up to the next label, and a value is kept only if it reads as what
its label promises. An unreadable value is left out, never guessed.

Papers and posters have no such form: their title and authors come from the
PDF's own metadata and the first lines, where those are recognisable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..errors import DateError
from ..text.normalise import _CJK
from .dates import parse_date, parse_range
from .vocab import Vocabulary

#: Cover labels (display form: NFKC, no spaces between CJK characters) → what they hold.
#: "plan" and "host" stand in for the title and institution when those are missing;
#: "other" labels are recognised only so that they end the value before them.
_LABELS: tuple[tuple[str, str], ...] = (
    (r"系統識別號", "id"),
    (r"(?:出國)?報告名稱", "title"),
    (r"計[畫劃]名稱", "plan"),
    (r"出國類別", "category"),
    (r"服務機關", "institution"),
    (r"主辦機關", "host"),
    (r"姓名職稱|出國人員(?:姓名)?", "authors"),
    (r"姓名", "name"),
    (r"(?:派赴|前往|出國)(?:國家|地區)(?:\((?:地區|國家)\)|/(?:地區|國家))?", "countries"),
    (r"出國(?:起迄)?(?:期間|日期)", "trip"),
    (r"報告(?:完成)?日期", "report_date"),
    (r"出國人數", "participants"),
    (r"職稱|服務單位|官職等|電話|聯絡人|頁數|關鍵[詞字]", "other"),
)
_LABEL = re.compile("|".join(f"(?P<g{i}>{pattern})" for i, (pattern, _) in enumerate(_LABELS)))
_MULTI_LINE = ("title", "plan", "institution", "host")
_PERSON_LABELS = ("institution", "host", "authors", "name")

#: A cover's heading line: 出國報告, 行政院所屬各機關出國報告, 出國報告(開會) …
_HEADING = re.compile(r"^(?:.*(?:機關|政府|行政院|公務))?出國報告(?:書|提要)?"
                      r"(?:\((?:出國類別:?)?(?P<category>[^)]*)\)?)?$")
_ABSTRACT = re.compile(r"^(?:(?:(?:中文|內容|報告)?摘要|提要)\s*[:.]?|Abstract\s*(?:[:.—-]|$))\s*(?P<rest>.*)$",
                       re.IGNORECASE)
_TOC_ENTRY = re.compile(r"[.…·‧-]{3,}\s*\d*$")  # 摘要 ........ 1 in a table of contents
_KEYWORDS = re.compile(r"^(?:關鍵[詞字]\s*[:.]?|Key\s*words?\s*[:.—-])\s*(?P<rest>.*)$", re.IGNORECASE)
#: Lines that start the body: 目次, 一、前言, 壹、, 1 Introduction, 第一章 …
_BODY_HEADING = re.compile(r"^(?:目次|目錄|前言|[一二三四五六七八九十壹貳參肆伍陸柒捌玖拾]+[、.]|第[一二三四五六七八九十\d]+章"
                           r"|\d{1,2}(?:\.\d+)*\.?\s+[A-Z\u4e00-\u9fff]|Introduction\b)")
_ITEM_SPLIT = re.compile(r"\s*[;、,]\s*")
_PEOPLE_SPLIT = re.compile(r"\s*(?:[、,;/]|\band\b|&)\s*")
_JOB = ("編輯|助理編輯|編審|編纂|研究員|副研究員|助理研究員|研究助理|館長|副館長|主任|副主任|組長|副組長"
        "|課長|股長|科長|專員|高級專員|專門委員|秘書|主任秘書|機要秘書|教授|副教授|助理教授|講師|助教"
        "|館員|助理館員|輔導員|助理員|管理員|幹事|科員|辦事員|書記|技正|技士|技佐|參事|督學|視察"
        "|處長|副處長|局長|副局長|所長|院長|副院長|系主任|執行長|董事長|經理|工程師|設計師|分析師"
        "|委員|主任委員|部長|次長|司長|署長|校長|理事長|秘書長|總幹事|助理|研究生|博士生|策展人")
_JOB_TITLES = re.compile(rf"(?:(?:簡任|薦任|委任|代理|兼任|兼|約聘|約僱)?(?:{_JOB}))+$")
_BRACKETED = re.compile(r"\([^)]*\)")
_HAN_NAME = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,4}|[\u3400-\u9fff\uf900-\ufaff]+(?:[‧·・][\u3400-\u9fff]+)+")
_LATIN_NAME = re.compile(r"[A-Z][A-Za-z'’.-]*(?:\s+[A-Z][A-Za-z'’.-]*){1,3}")
_NOT_NAME_WORDS = re.compile(r"\b(?:Library|Libraries|University|Department|Institute|School|College|"
                             r"Center|Centre|Association|National|Taiwan|Conference|Session|Public|"
                             r"Annual|Society|Museum|Press|Abstract|Keywords|Introduction)\b")
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff][\u3400-\u9fff\uf900-\ufaff、‧·・()]*")
#: Spaces, telephone numbers and separators between the people of a 提要 form's 出國人員 line.
_NOT_IN_NAMES = re.compile(r"[\s\d()\-–/:;,、#]+")
_REPORT_ID = re.compile(r"[A-Z][0-9A-Z]{6,15}")
_COUNT = re.compile(r"(\d+)\s*人?")
_CHECKED = "■☑☒✔✓▉█●◼"
_JOINS = ("、", ",", "/", "至", "~", "-", "及", "與", "起")
_CJKISH = re.compile(f"[{_CJK}]")


@dataclass
class CoverFields:
    """What the first pages say about a document; ``None`` or empty where they say nothing readable."""

    type: str | None = None
    id: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    institution: str | None = None
    category: str | None = None
    countries: list[str] = field(default_factory=list)
    trip_start: date | None = None
    trip_end: date | None = None
    report_date: date | None = None
    participants: int | None = None
    keywords: list[str] = field(default_factory=list)
    abstract: str | None = None
    events: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """The fields found, as sidecar keys and values."""
        out: dict[str, Any] = {}
        for key in ("type", "id", "title", "authors", "institution", "category", "events",
                    "countries", "report_date", "keywords", "abstract", "participants"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.trip_start:
            out["trip"] = {"start": self.trip_start} | ({"end": self.trip_end} if self.trip_end else {})
        return out


@dataclass
class _Item:
    """One label on the cover and the text after it: ``value`` on its line, ``more`` on the next ones."""

    field: str
    line: int
    value: str
    more: list[tuple[int, str]] = field(default_factory=list)
    last: bool = False


def read_cover(pages: list[str], vocab: Vocabulary, info_title: str | None = None,
               info_author: str | None = None) -> CoverFields:
    """Recognise the cover fields, 摘要 and 關鍵詞 in the first pages (display form).

    ``info_title`` and ``info_author`` are the PDF's own metadata: used for
    documents without a report cover (papers, posters), and for a report's
    title when its cover shows none.
    """
    found = CoverFields()
    first = pages[:4]
    abstract_at = _find_abstract(first)
    if abstract_at:
        found.abstract = _abstract(first[abstract_at[0]], abstract_at[1])
    found.keywords = _keywords(first, abstract_at)
    cover = _cover_page(first, abstract_at)
    if cover is not None:
        _read_form(cover, vocab, found)
    if found.type == "report":
        found.title = found.title or info_title
    else:
        found.title = info_title or _first_line(first)
        found.authors = people(info_author or "") or _author_line(first, found.title)
    found.events = vocab.detect_orgs("\n".join([found.title or "", *found.keywords, found.abstract or ""]))
    return found


# The cover form

def _cover_page(pages: list[str], abstract_at: tuple[int, int] | None) -> str | None:
    """The first page holding a cover heading or label, up to its 摘要 if that is on it too."""
    for n, page in enumerate(pages[:3]):
        text = page if not abstract_at or abstract_at[0] != n else \
            "\n".join(page.splitlines()[:abstract_at[1]])
        lines = [line.strip() for line in text.splitlines()]
        if any(_HEADING.match(line) for line in lines) or len(_LABEL.findall(text)) >= 2:
            return text
    return None


def _read_form(text: str, vocab: Vocabulary, found: CoverFields) -> None:
    """Fill ``found`` from a report cover; a page that is not one (too few fields) fills nothing."""
    lines = [line.strip() for line in text.splitlines()]
    items, loose = _items(lines)
    headings = [m for _, line in loose if (m := _HEADING.match(line))]
    if not headings and len({item.field for item in items} - {"other"}) < 3:
        return
    found.type = "report"
    loose = [(n, line) for n, line in loose if not _HEADING.match(line)]
    values: dict[str, list[str]] = {}
    for item in items:
        loose.extend(_consume(item))
        values.setdefault(item.field, []).append(item.value)
    _fill(found, values, vocab)
    found.category = found.category or next(
        (c for m in headings if (c := _category(m.group("category") or "", vocab))), None)
    found.title = found.title or _title(sorted(loose), items)


def _items(lines: list[str]) -> tuple[list[_Item], list[tuple[int, str]]]:
    """Split the cover into labelled items; lines before any label are loose."""
    items: list[_Item] = []
    loose: list[tuple[int, str]] = []
    for n, line in enumerate(lines):
        if not line:
            continue
        matches = list(_LABEL.finditer(line))
        head = line[:matches[0].start()].strip() if matches else line
        if head and items:
            items[-1].more.append((n, head))
        elif head:
            loose.append((n, head))
        for m, nxt in zip(matches, matches[1:] + [None]):
            kind = _LABELS[int(m.lastgroup[1:])][1]
            items.append(_Item(kind, n, _clean(line[m.end():nxt.start() if nxt else len(line)])))
    if items:
        items[-1].last = True
    return items, loose


def _clean(value: str) -> str:
    """A value without the colon after its label or a bracket left open by the label."""
    value = value.strip().lstrip(":").strip()
    if value.endswith(")") and "(" not in value:
        value = value[:-1].strip()
    if value.startswith("(") and ")" not in value:
        value = value[1:].strip()
    return value


def _consume(item: _Item) -> list[tuple[int, str]]:
    """Move the lines after a label into its value as far as they belong to it; return the rest."""
    more = list(item.more)
    if not item.value and more:
        item.value = more.pop(0)[1]
    if item.field in _MULTI_LINE and not item.last:
        item.value = _join([item.value] + [line for _, line in more])
        return []
    if item.field == "authors":
        while more and people(more[0][1]):
            item.value += "、" + more.pop(0)[1]
        return more
    while more and (item.value.endswith(_JOINS) or (item.field in ("trip", "report_date")
                                                    and not _readable_date(item))):
        item.value = _join([item.value, more.pop(0)[1]])
    return more


def _readable_date(item: _Item) -> bool:
    try:
        (parse_range if item.field == "trip" else parse_date)(item.value)
    except DateError:
        return False
    return True


def _fill(found: CoverFields, values: dict[str, list[str]], vocab: Vocabulary) -> None:
    """Keep each value that reads as what its label promises."""
    def first(*keys: str) -> str:
        return next((v for k in keys for v in values.get(k, []) if v), "")

    if m := _REPORT_ID.fullmatch(first("id")):
        found.id = m.group()
    found.title = first("title", "plan") or None
    found.institution = first("institution", "host") or None
    found.category = _category(first("category"), vocab) or found.category
    found.countries = vocab.countries_from_text(first("countries"))
    named = [people(v) for v in values.get("authors", []) + values.get("name", []) if v]
    if named and not all(named):  # the 提要 form: 陳美玲國家圖書館數位知識系統組編輯
        institutions = (found.institution or "", *vocab.institution_names())
        named = [run_together(v, institutions) for v in values.get("authors", []) if v]
    if named and all(named):
        found.authors = list(dict.fromkeys(name for names in named for name in names))
    try:
        found.trip_start, found.trip_end = parse_range(first("trip"))
    except DateError:
        pass
    try:
        found.report_date = parse_date(first("report_date"))
    except DateError:
        pass
    if m := _COUNT.fullmatch(first("participants")):
        found.participants = int(m.group(1))


def _category(value: str, vocab: Vocabulary) -> str | None:
    """開會, or on a tick-box form (□考察 ■開會) the ticked one."""
    plain = re.sub(r"[()\s:]", "", value)
    if plain and vocab.canonical_category(plain):
        return vocab.canonical_category(plain)
    names = "|".join(map(re.escape, vocab.categories))
    ticked = re.findall(rf"[{_CHECKED}]\s*\d*\s*({names})", value)
    return ticked[0] if len(ticked) == 1 else None


def _title(loose: list[tuple[int, str]], items: list[_Item]) -> str | None:
    """The first run of unlabelled lines before the people on the cover."""
    people_at = min((item.line for item in items if item.field in _PERSON_LABELS), default=None)
    run: list[tuple[int, str]] = []
    for n, line in loose:
        if people_at is not None and n > people_at:
            break
        if run and n != run[-1][0] + 1:
            break
        run.append((n, line))
    return _join([line for _, line in run]) or None


# People

def people(text: str) -> list[str] | None:
    """Names from 王小明 編輯、周建宏（助理編輯）, Yu-Ting Chen and Ming-Hsien Lai;
    None unless every piece is recognisably a name (with or without a job title)."""
    text = _BRACKETED.sub("", text).strip()
    if not text:
        return None
    names = []
    for piece in _PEOPLE_SPLIT.split(text):
        if not piece:
            continue
        if _HAN_NAME.fullmatch(han := _JOB_TITLES.sub("", piece) or piece):
            names.append(han)
        elif _LATIN_NAME.fullmatch(piece) and not _NOT_NAME_WORDS.search(piece):
            names.append(piece)
        else:
            return None
    return names or None


def run_together(text: str, institutions: tuple[str, ...]) -> list[str] | None:
    """Names from the 提要 form's 出國人員 line, where each person's name, institution, unit and
    title run together (陳美玲國家圖書館數位知識系統組編輯彭慰國家圖書館國際合作組編輯);
    None unless every person is a name before a known institution and a title ends each."""
    text = _NOT_IN_NAMES.sub("", text)
    known = "|".join(map(re.escape, sorted({i for i in institutions if i}, key=len, reverse=True)))
    spans = [m.span() for m in re.finditer(known, text)] if known else []
    if not spans or not _JOB_TITLES.search(text[spans[-1][1]:]):
        return None
    names, start = [], 0
    for n, (at, end) in enumerate(spans):
        name = text[start:at] if n == 0 else _name_after_title(text[start:at])
        if not name or not _HAN_NAME.fullmatch(name):
            return None
        names.append(name)
        start = end
    return names


def _name_after_title(text: str) -> str | None:
    """The name that ends ``unit title name`` (系統組編輯王文陸 → 王文陸); three characters are likeliest."""
    for size in (3, 2, 4):
        if len(text) > size and _HAN_NAME.fullmatch(text[-size:]) and _JOB_TITLES.search(text[:-size]):
            return text[-size:]
    return None


def _first_line(pages: list[str]) -> str | None:
    """A paper's first line, which is where its title starts."""
    line = next((line.strip() for line in (pages[0].splitlines() if pages else []) if line.strip()), "")
    return line if line and not (_ABSTRACT.match(line) or _KEYWORDS.match(line)) else None


def _author_line(pages: list[str], title: str | None) -> list[str]:
    """Authors of a paper or poster: the first line listing two or more names among the few
    after its title. One short name alone on a line could as well be a heading (愿景)."""
    lines = [line.strip() for line in (pages[0].splitlines() if pages else []) if line.strip()]
    start = _title_end(lines, title)
    for line in lines[start:start + 4]:
        if _ABSTRACT.match(line) or _KEYWORDS.match(line):
            break
        han = "".join(_HAN_RUN.findall(line))
        names = people(han) if han else None
        if names is None and han != line:
            names = people(_HAN_RUN.sub(" ", line))
        if names and len(names) > 1:
            return names
    return []


def _title_end(lines: list[str], title: str | None) -> int:
    """How many first lines spell the title (a long title wraps), at least one."""
    joined = ""
    for n, line in enumerate(lines):
        joined = _join([joined, line])
        if not title or not title.replace(" ", "").startswith(joined.replace(" ", "")):
            return max(n, 1)
    return len(lines)


# 摘要 and 關鍵詞

def _find_abstract(pages: list[str]) -> tuple[int, int] | None:
    """(page, line) of the first 摘要 / Abstract heading."""
    for p, page in enumerate(pages):
        for n, line in enumerate(page.splitlines()):
            m = _ABSTRACT.match(line.strip())
            if m and not _TOC_ENTRY.search(m.group("rest")):
                return p, n
    return None


def _abstract(page: str, at: int) -> str | None:
    """The 摘要: from its heading to the 關鍵詞, the body's first heading or the page's end."""
    lines = [line.strip() for line in page.splitlines()]
    body = [_ABSTRACT.match(lines[at]).group("rest")]
    for line in lines[at + 1:]:
        if _KEYWORDS.match(line) or _ABSTRACT.match(line) or _BODY_HEADING.match(line):
            break
        body.append(line)
    return _join(body) or None


def _keywords(pages: list[str], abstract_at: tuple[int, int] | None) -> list[str]:
    """關鍵詞 / Keywords after the 摘要 (or anywhere on the first pages), wrapped lines joined."""
    start_page, start_line = abstract_at or (0, 0)
    for p in range(start_page, len(pages)):
        lines = [line.strip() for line in pages[p].splitlines()]
        for n in range(start_line if p == start_page else 0, len(lines)):
            m = _KEYWORDS.match(lines[n])
            if not m:
                continue
            text = m.group("rest")
            for line in lines[n + 1:n + 4]:
                if (not line or len(line) >= len(lines[n]) or "。" in line or _BODY_HEADING.match(line)
                        or _ABSTRACT.match(line) or _LABEL.match(line)):
                    break
                text = _join([text, line])
            return [k.strip(" .。") for k in _ITEM_SPLIT.split(text) if k.strip(" .。")]
    return []


def _join(lines: list[str]) -> str:
    """Wrapped lines as one text: CJK joins directly, Latin words get a space."""
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if out and not (_CJKISH.match(out[-1]) or _CJKISH.match(line[0])):
            out += " "
        out += line
    return out
