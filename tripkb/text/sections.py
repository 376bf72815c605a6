"""A report's sections (目的, 過程, 心得, 建議, 摘要, 附錄 …) recognised from its page text.

Official trip reports follow a mandated outline, and papers a conventional one; knowing
where each part starts lets a search look only at recommendations, and a brief list them.
Headings are recognised only in the forms reports write them (壹、目的 / 一、目的 / 第一章 目的 /
目的： / 1. 目的 / Abstract / 1 Introduction): a document without them has no sections,
rather than guessed ones. Headings use one numbering style per document, and their numbers
rise, which tells a heading (一、目的) from a numbered point inside a section (一、建議本館…).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

#: Canonical section name → the titles that name it (CJK without spaces, English lower-cased).
ALIASES: dict[str, tuple[str, ...]] = {
    "摘要": ("摘要", "提要", "中文摘要", "abstract", "summary"),
    "前言": ("前言", "緒論", "緒言", "引言", "introduction"),
    "目的": ("目的", "緣起", "緣起與目的", "背景與目的", "purpose", "purposes", "objectives"),
    "過程": ("過程", "經過", "行程", "紀要", "行程與過程", "過程紀要", "process", "itinerary"),
    "心得": ("心得", "感想", "reflections"),
    "建議": ("建議", "建議事項", "具體建議", "recommendations", "recommendation", "suggestions"),
    "心得及建議": ("心得及建議", "心得與建議", "心得暨建議", "心得和建議", "心得、建議"),
    "結論": ("結論", "結語", "討論與結論", "conclusion", "conclusions", "discussion and conclusion",
           "discussion and conclusions"),
    "結論及建議": ("結論及建議", "結論與建議", "結論暨建議", "conclusions and recommendations",
               "conclusion and recommendations"),
    "參考文獻": ("參考文獻", "參考資料", "references", "bibliography"),
    "附錄": ("附錄", "附件", "附表", "appendix", "appendices"),
}
#: Words reports put before a title: 考察目的, 訪問過程, 會議過程, 參訪心得.
_QUALIFIERS = "考察|訪問|會議|出國|參訪|參觀|研習|開會|實習|研究|交流|本次|出席|工作"
_TITLE_TO_NAME = {title: name for name, titles in ALIASES.items() for title in titles}

_CN_DIGITS = "〇一二三四五六七八九十"
_UPPER_DIGITS = "零壹貳參肆伍陸柒捌玖拾"
_NUMBERED = (
    ("upper", re.compile(f"^([{_UPPER_DIGITS}]{{1,3}})[、．.]\\s*(.+)$")),
    ("chapter", re.compile(f"^第([{_CN_DIGITS}]{{1,3}})[章部篇節]\\s*[、：:]?\\s*(.+)$")),
    ("chinese", re.compile(f"^([{_CN_DIGITS}]{{1,3}})[、．]\\s*(.+)$")),
    ("arabic", re.compile(r"^(\d{1,2})(?:\.|\s|、)\s*(\D.*)$")),
)
#: A table of contents line: leader dots, or a title ending in a page number.
_TOC_LINE = re.compile(r"(\.{3,}|…|‧{2,}|·{3,}|－{3,}|-{4,})|\S\s+\d{1,3}$")
_TOC_TITLES = {"目次", "目錄", "目录", "contents", "tableofcontents"}
#: What a line longer than a bare title must start with to be a heading: a number, or a title and a colon.
_MAYBE_HEADING = re.compile(f"[{_UPPER_DIGITS}{_CN_DIGITS}第0-9０-９]|[^:：.]{{1,12}}(?:[:：]|\\.\\s)")
_SPACES = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u9fff]")
#: No title of a heading is longer (with a qualifier and the spaces a PDF may put between characters).
_LONGEST_TITLE = 48
_SENTENCE = re.compile(r"[，。；,;]")
_MAX_TITLE = 20


@dataclass(frozen=True)
class Section:
    """One recognised section: its canonical name, its heading as written and where it lies.

    ``start`` and ``end`` are (page index, offset in that page's text): the section runs
    from its heading up to the next section's heading, or the end of the document.
    """

    name: str
    heading: str
    start_page: int
    end_page: int
    start: tuple[int, int]
    end: tuple[int, int]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"], data["end"] = list(self.start), list(self.end)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Section":
        return cls(name=data["name"], heading=data["heading"], start_page=data["start_page"],
                   end_page=data["end_page"], start=tuple(data["start"]), end=tuple(data["end"]))


@dataclass(frozen=True)
class _Heading:
    style: str | None  # None: unnumbered (摘要, 附錄, 目的：)
    number: int
    name: str | None  # None: a numbered heading of no known section, which only ends the one before
    heading: str
    page: int
    offset: int


def canonical(title: str) -> str | None:
    """The canonical section name a heading's title stands for (None if none)."""
    if len(title) > _LONGEST_TITLE:
        return None
    folded = _fold(title)
    if folded in _TITLE_TO_NAME:
        return _TITLE_TO_NAME[folded]
    stripped = re.sub(f"^(?:{_QUALIFIERS})+", "", folded)
    return _TITLE_TO_NAME.get(stripped) if stripped else None


def section_wanted(name: str, wanted: str) -> bool:
    """Whether the section ``name`` is one a user asking for ``wanted`` means.

    建議 means 建議, 心得及建議 and 結論及建議 alike; an English or variant title
    (Recommendations, 建議事項) means what its canonical name means.
    """
    want = canonical(wanted) or _fold(wanted)
    return bool(want) and want in name


def find_sections(pages: list[str]) -> list[Section]:
    """The sections of a document whose pages are ``pages`` (display-form text), in order."""
    candidates = list(_candidates(pages))
    style = _main_style(candidates)
    headings = _outline(candidates, style)
    sections = []
    for i, head in enumerate(headings):
        nxt = headings[i + 1] if i + 1 < len(headings) else None
        end = (nxt.page, nxt.offset) if nxt else (len(pages) - 1, len(pages[-1]))
        if head.name is not None:
            sections.append(Section(head.name, head.heading, head.page + 1, _end_page(pages, head.page, end) + 1,
                                    (head.page, head.offset), end))
    return sections


def section_text(pages: list[str], section: Section) -> list[tuple[int, str]]:
    """The section's text as (page number, text on that page), from its heading on."""
    (first, start), (last, end) = section.start, section.end
    parts = []
    for page in range(first, min(last, len(pages) - 1) + 1):
        text = pages[page]
        lo = start if page == first else 0
        hi = end if page == last else len(text)
        if text[lo:hi].strip():
            parts.append((page + 1, text[lo:hi]))
    return parts


def given_sections(pages: list[str], given: list[dict[str, Any]]) -> list[Section]:
    """The sections a person listed in the sidecar ({name, page, heading?} in order), placed in the text.

    Each starts at its heading on its page: the line starting with the ``heading`` given,
    else a heading naming the section in a form recognised; without one, at the top of the
    page (or where the section before it on that page starts). One on a page the document
    does not have is left out (:func:`given_problems` says so). An empty list: no sections.
    """
    starts = [(mark["name"], heading, page, offset) for mark, heading, page, offset, _ in _placed(pages, given)]
    sections = []
    for i, (name, heading, page, offset) in enumerate(starts):
        end = (starts[i + 1][2], starts[i + 1][3]) if i + 1 < len(starts) else (len(pages) - 1, len(pages[-1]))
        sections.append(Section(name, heading, page + 1, _end_page(pages, page, end) + 1, (page, offset), end))
    return sections


def given_problems(pages: list[str], given: list[dict[str, Any]]) -> list[str]:
    """What of the sidecar's sections the document does not hold as listed: a page past its end,
    a heading given that is not on its page, a second section on a page without its heading."""
    problems = [f"{mark['name']} on page {mark['page']}, but the document has {len(pages)} pages (left out)"
                for mark in given if mark["page"] > len(pages)]
    before: tuple[str, int] | None = None
    for mark, _, page, offset, found in _placed(pages, given):
        if not found and "heading" in mark:
            where = f"where {before[0]} does" if offset and before else "at the top of the page"
            problems.append(f"{mark['name']}: no line on page {page + 1} starts with {mark['heading']!r} "
                            f"(it starts {where})")
        elif not found and before is not None and before[1] == page:
            problems.append(f"{mark['name']}: no heading of it found on page {page + 1}, where {before[0]} "
                            "starts: give it as written (heading: …) to tell where one ends")
        before = (mark["name"], page)
    return problems


def _placed(pages: list[str], given: list[dict[str, Any]]):
    """Each listed section on a page the document has: (mark, heading, page index, offset, heading found)."""
    placed: list[tuple[dict[str, Any], str, int, int, bool]] = []
    for mark in given:
        page = mark["page"] - 1
        if not 0 <= page < len(pages):
            continue
        after = placed[-1][3] if placed and placed[-1][2] == page else None  # the one before starts there
        found = _heading_on(pages[page], page, mark, 0 if after is None else after + 1)
        heading, offset = found or (mark.get("heading", mark["name"]), after or 0)
        placed.append((mark, heading, page, offset, found is not None))
    return placed


def _heading_on(text: str, page: int, mark: dict[str, Any], after: int) -> tuple[str, int] | None:
    """The heading of the section ``mark`` on a page, at or after offset ``after``, and its offset:
    the line starting with the heading given, else one naming the section in a recognised form."""
    written = _fold(mark["heading"]).replace(" ", "") if "heading" in mark else None
    offset = 0
    for line in text.split("\n"):
        start = offset + len(line) - len(line.lstrip())
        offset += len(line) + 1
        if start < after or not line.strip():
            continue
        if written is not None:
            if _fold(line).replace(" ", "").startswith(written):
                return line.strip(), start
            continue
        head = _heading(line, page, start)
        if head is not None and head.name is not None and section_wanted(head.name, mark["name"]):
            return head.heading, start
    return None


def _fold(title: str) -> str:
    """The title compared: NFKC, no spaces between CJK, trailing colon dropped, English lower-cased."""
    title = unicodedata.normalize("NFKC", title).strip().rstrip(":：").strip()
    return _SPACES.sub("" if _HAN.search(title) else " ", title).lower()


def _candidates(pages: list[str]):
    """Every line that looks like a heading, outside tables of contents."""
    for page_no, text in enumerate(pages):
        lines = text.split("\n")
        if any(len(line) < 30 and _fold(line).replace(" ", "") in _TOC_TITLES for line in lines[:5]):
            continue
        offset = 0
        for line in lines:
            head = _heading(line, page_no, offset + len(line) - len(line.lstrip()))
            if head is not None:
                yield head
            offset += len(line) + 1


def _heading(line: str, page: int, offset: int) -> _Heading | None:
    """The heading a line is, if it is one."""
    text = line.strip()
    if not text or len(text) > 80 or (len(text) > 30 and not _MAYBE_HEADING.match(text)):
        return None  # most lines: body text, told apart cheaply
    text = unicodedata.normalize("NFKC", text)
    if _TOC_LINE.search(text):
        return None
    for style, pattern in _NUMBERED:
        match = pattern.match(text)
        if match:
            title = match.group(2).strip()
            name = canonical(title)
            short = len(_fold(title)) <= _MAX_TITLE and not _SENTENCE.search(title)
            if name is None and not short:
                return None
            return _Heading(style, _number(match.group(1)), name, text, page, offset)
    name = canonical(text)
    if name is None:  # 目的：本次… or Abstract. This paper…
        match = re.match(r"^([^:：.]{1,12})(?:[:：]|\.\s)", text)
        name = canonical(match.group(1)) if match else None
        text = match.group(0).rstrip() if name else text
    return _Heading(None, 0, name, text.rstrip(":：."), page, offset) if name else None


def _number(digits: str) -> int:
    """1 for 一, 壹 or 1; 十二 → 12."""
    if digits.isdigit():
        return int(digits)
    values = [(_CN_DIGITS.find(d) if d in _CN_DIGITS else _UPPER_DIGITS.find(d)) for d in digits]
    if len(values) == 1:
        return values[0]
    if values[0] == 10:  # 十二
        return 10 + values[1]
    return values[0] * 10 + (values[2] if len(values) > 2 else 0)


def _main_style(candidates: list[_Heading]) -> str | None:
    """The numbering style of the document's known headings (the most used)."""
    counts: dict[str, int] = {}
    for head in candidates:
        if head.style and head.name:
            counts[head.style] = counts.get(head.style, 0) + 1
    return max(counts, key=lambda s: counts[s]) if counts else None


def _outline(candidates: list[_Heading], style: str | None) -> list[_Heading]:
    """The headings kept: unnumbered known ones, and those in the main style whose numbers rise."""
    kept, last = [], 0
    for head in candidates:
        if head.style is None:
            kept.append(head)
        elif head.style == style and head.number > last:
            kept.append(head)
            last = head.number
    return kept


def _end_page(pages: list[str], first: int, end: tuple[int, int]) -> int:
    """The last page holding the section's text (it starts on page index ``first``): the next
    heading's page, unless it opens that page."""
    page, offset = end
    while page > first and not pages[page][:offset].strip():
        page -= 1
        offset = len(pages[page])
    return page
