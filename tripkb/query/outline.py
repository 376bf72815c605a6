"""A document's outline and the text of its sections, as the index stored them.

Sections are recognised when a document is indexed (text/sections.py); reading them
back needs no re-extraction, so ``show --section`` and ``search --section`` stay as
quick as any lookup.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from ..errors import NotFoundError, UsageError
from ..index.schema import StoredDoc
from ..text.sections import ALIASES, Section, section_text, section_wanted

_SECTION_CLAUSE = re.compile(r"(?<!\S)section:(\S+)", re.IGNORECASE)


@dataclass
class SectionText:
    """One section of a document and its text, page by page (page number, text)."""

    section: Section
    parts: list[tuple[int, str]]

    def to_json(self) -> dict:
        return {"name": self.section.name, "heading": self.section.heading,
                "start_page": self.section.start_page, "end_page": self.section.end_page,
                "pages": [{"page": page, "text": text} for page, text in self.parts]}


def outline(doc: StoredDoc) -> list[Section]:
    """The document's sections, in order: as its sidecar lists them, else as recognised (none when
    no outline was recognised)."""
    return [Section.from_json(data) for data in doc.sections]


def given(doc: StoredDoc) -> bool:
    """Whether the document's sections are the ones its sidecar lists, rather than recognised."""
    return isinstance(doc.record.get("sections"), list)


def names_meant(wanted: str) -> list[str]:
    """The canonical section names ``wanted`` means (建議 → 建議, 心得及建議, 結論及建議)."""
    names = [name for name in ALIASES if section_wanted(name, wanted)]
    if not names:
        known = "、".join(ALIASES)
        raise UsageError(f"no section is called {wanted!r}; sections are: {known}")
    return names


def read_section(doc: StoredDoc, wanted: str) -> list[SectionText]:
    """The text of every section of ``doc`` that ``wanted`` means, or NotFoundError saying what there is."""
    names_meant(wanted)
    chosen = sections_meant(doc, wanted)
    if not chosen:
        sections = outline(doc)
        there = "、".join(s.name for s in sections) if sections else \
            "no sections, as its sidecar says" if given(doc) else "no recognised sections"
        raise NotFoundError(f"{doc.record.get('id', '')} has no {wanted} section (it has {there})")
    return chosen


def sections_meant(doc: StoredDoc, wanted: str) -> list[SectionText]:
    """The text of every section of ``doc`` that ``wanted`` means; none when it has none."""
    chosen = [s for s in outline(doc) if section_wanted(s.name, wanted)]
    pages = doc.pages() if chosen else []
    return [SectionText(s, section_text(pages, s)) for s in chosen]


def split_section_clause(text: str) -> tuple[str, str | None]:
    """A query without its ``section:NAME`` clause, and that name (the last, if several)."""
    found = _SECTION_CLAUSE.findall(text)
    if not found:
        return text, None
    return _SECTION_CLAUSE.sub(" ", text).strip(), found[-1]


def section_bounds(doc: StoredDoc, wanted: str) -> list[tuple[int, int]]:
    """Where in the document's stored text (offsets) the sections ``wanted`` means lie."""
    bounds = []
    for section in outline(doc):
        if section_wanted(section.name, wanted):
            (p0, o0), (p1, o1) = section.start, section.end
            if p1 < len(doc.starts):
                bounds.append((doc.starts[p0] + o0, doc.starts[p1] + o1))
    return bounds


def page_of(doc: StoredDoc, offset: int) -> int:
    """The page number (from 1) of an offset in the stored text."""
    return bisect.bisect_right(doc.starts, offset)


def section_hit(hit, stored: StoredDoc, wanted: str, literal_re, word_re):
    """``hit`` with its pages and snippet taken from the sections ``wanted`` means; None if they do not hold the query."""
    from ..index.schema import PAGE_BREAK
    from ..text.normalise import match_form
    from .search import _snippet, find_spans

    text = stored.text
    folded = match_form(text)
    for lo, hi in section_bounds(stored, wanted):
        spans = [(lo + s, lo + e) for s, e in find_spans(folded[lo:hi], literal_re, word_re)]
        if not spans:
            continue
        page = page_of(stored, spans[0][0]) - 1
        page_end = stored.starts[page + 1] - len(PAGE_BREAK) if page + 1 < len(stored.starts) else len(text)
        hit.snippet, hit.snippet_spans = _snippet(text, spans, lo=max(lo, stored.starts[page]), hi=min(hi, page_end))
        hit.pages = sorted({page_of(stored, s) for s, _ in spans}) if hit.pages or stored.paged else []
        return hit
    return None
