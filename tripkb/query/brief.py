"""A one-page brief for a trip: the trips before it, who went, what they visited and recommended.

It answers "what should I know before I go" from the reports a query and filters select:
catalogue records (no text) count in the timeline and among the travellers; reports whose
outline is known (recognised by text/sections.py, or listed in the sidecar) give the institutions
visited (from their 過程 sections) and the recommendations (from their 建議 sections), and the
brief says how many reports gave sections, and how many a 過程 and a 建議 section.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from ..kb import KnowledgeBase

#: Characteristic terms shown, and the text read for them (per report, and in all).
TERMS = 15
MAX_TEXT_PER_REPORT = 20_000
MAX_TEXT = 400_000
#: A recommendation is one numbered or bulleted point; longer ones are cut to this many characters.
MAX_ITEM = 160

_ITEM_START = re.compile(r"^\s*(?:[（(][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}[、．]|"
                         r"\d{1,2}[.、)]\s*|[•●◆■▪\-–]\s*)")
_PLACE = re.compile(r"[\u4e00-\u9fff]{2,14}(?:圖書館|大學|博物館|檔案館|美術館|研究院|資料館)")
_VISIT = re.compile(r"參觀|參訪|拜訪|訪問|前往")
_NOT_A_NAME = ("各", "本", "該", "兩", "多", "一", "其")
_GENERIC = {"圖書館", "大學", "博物館", "檔案館", "美術館", "公共圖書館", "國家圖書館", "大學圖書館", "學術圖書館",
            "醫學圖書館", "分館圖書館", "各圖書館", "市立圖書館", "區立圖書館", "兒童圖書館", "都市圖書館", "本館"}


@dataclass
class Trip:
    id: str
    year: int | None
    title: str
    institution: str | None
    travellers: list[str]
    destination: list[str]
    organisations: list[str]
    sections: bool


@dataclass
class Recommendation:
    id: str
    year: int | None
    page: int
    text: str


@dataclass
class Brief:
    query: str | None
    filters: dict[str, Any]
    trips: list[Trip] = field(default_factory=list)
    #: Institution → [(traveller, trips)], most trips first.
    travellers: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    #: (institution visited, reports naming it in their 過程 section), most named first.
    visited: list[tuple[str, int]] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    with_sections: int = 0
    with_text: int = 0
    #: Reports with a 過程 section (where the institutions visited come from), and with a 建議 one.
    with_process: int = 0
    with_recommendations: int = 0

    def summary(self) -> str:
        """How many documents, and how many of them gave text and sections (catalogue records give neither)."""
        noun = "document" if len(self.trips) == 1 else "documents"
        return f"{len(self.trips)} {noun}; sections read from {self.with_sections}, text in {self.with_text}"

    def visited_from(self) -> str:
        """Where the institutions visited come from, said under their heading."""
        return f"named in the 過程 sections of {_reports(self.with_process)}"

    def recommendations_from(self) -> str:
        return f"from the 建議 sections of {_reports(self.with_recommendations)}"

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "filters": self.filters, "documents": len(self.trips),
                "with_text": self.with_text, "with_sections": self.with_sections,
                "with_process": self.with_process, "with_recommendations": self.with_recommendations,
                "trips": [asdict(t) for t in self.trips],
                "travellers": {inst: [{"name": n, "trips": c} for n, c in people]
                               for inst, people in self.travellers.items()},
                "visited": [{"institution": n, "reports": c} for n, c in self.visited],
                "recommendations": [asdict(r) for r in self.recommendations],
                "terms": self.terms}


def brief(kb: KnowledgeBase, query: str | None = None, filters=None, city: str | None = None,
          progress=None) -> Brief:
    """The brief of the reports ``query`` and ``filters`` select; ``city`` must be named in them."""
    from ..meta.vocab import Vocabulary
    from .selection import select
    from .outline import sections_meant
    from .search import Filters

    filters = filters or Filters()
    if city and city.strip():
        query = f"{query} {city.strip()}" if query else city.strip()
    selection = select(kb, query, filters, progress)
    vocab = Vocabulary.load(kb.root)
    items = sorted(selection.items, key=lambda i: (-(i.record.get("year") or 0), i.id))
    result = Brief(query=query, filters={k: v for k, v in asdict(filters).items() if v is not None})
    people: dict[str, Counter] = defaultdict(Counter)
    visited: Counter = Counter()
    texts = []
    for item in items:
        record, stored = item.record, item.stored
        institution = vocab.canonical_institution(record["institution"], record.get("year")) \
            if record.get("institution") else None
        sections = bool(stored.sections)
        result.trips.append(Trip(item.id, record.get("year"), record.get("title", ""), institution,
                                 list(record.get("authors", [])), list(record.get("countries", [])),
                                 list(record.get("events", [])), sections))
        for name in record.get("authors", []):
            people[institution or "(institution unknown)"][name] += 1
        if stored.text:
            result.with_text += 1
            texts.append(stored.text[:MAX_TEXT_PER_REPORT])
        if sections:
            result.with_sections += 1
            process, advice = sections_meant(stored, "過程"), sections_meant(stored, "建議")
            result.with_process += bool(process)
            result.with_recommendations += bool(advice)
            visited.update(set(_places(process)))
            result.recommendations += _recommendations(item.id, record.get("year"), advice)
    result.travellers = {inst: people[inst].most_common()
                         for inst in sorted(people, key=lambda i: (-sum(people[i].values()), i))}
    result.visited = sorted(visited.items(), key=lambda kv: (-kv[1], kv[0]))
    result.terms = _terms(kb, "\n".join(texts)[:MAX_TEXT])
    return result


def _recommendations(doc_id: str, year: int | None, advice) -> list[Recommendation]:
    """The numbered or bulleted points of a report's 建議 sections (``advice``), one line each."""
    found = []
    for part in advice:
        current: list[Any] | None = None
        for page, text in part.parts:
            for line in (_below_heading(text) if page == part.section.start_page else text).split("\n"):
                if _ITEM_START.match(line):
                    current = [page, _ITEM_START.sub("", line, count=1).strip()]
                    found.append(current)
                elif current is not None and line.strip():
                    current[1] += line.strip()
    return [Recommendation(doc_id, year, page, _cut(text)) for page, text in found]


def _below_heading(text: str) -> str:
    """A section's text on its first page without its heading line (a heading 參訪紀實 names no visit)."""
    return text.partition("\n")[2]


def _reports(n: int) -> str:
    return f"{n} report" if n == 1 else f"{n} reports"


def _cut(text: str) -> str:
    return text if len(text) <= MAX_ITEM else text[:MAX_ITEM - 1] + "…"


def _places(process) -> list[str]:
    """The institutions a report's 過程 sections (``process``) name (libraries, universities, museums, archives)."""
    names = []
    for part in process:
        for page, text in part.parts:
            body = _below_heading(text) if page == part.section.start_page else text
            flat = re.sub(r"[（(][^）)]*[）)]", "", body.replace("\n", ""))
            for sentence in re.split(r"[，,。；;]", flat):
                visit = _VISIT.search(sentence)
                if visit is None:
                    continue
                for piece in re.split(r"[、與及和暨]", sentence[visit.end():]):
                    match = _PLACE.match(piece.strip())
                    if match and match.group() not in _GENERIC and not match.group().startswith(_NOT_A_NAME):
                        names.append(match.group())
    return names


def _terms(kb: KnowledgeBase, text: str) -> list[str]:
    """The most characteristic words of the reports' text against the whole index (Whoosh's Bo1 model)."""
    from ..index.schema import open_index
    from ..text.normalise import match_form

    if not text.strip():
        return []
    folded = match_form(text)
    with open_index(kb.index_dir).searcher() as searcher:
        terms = [t for t, _ in searcher.key_terms_from_text("body", folded, numterms=TERMS * 2)
                 if len(t) > 1 and not t.isdigit()]
    terms = [t for t in terms if not any(t != other and t in other for other in terms)]
    return [_as_written(text, folded, t) for t in terms][:TERMS]


def _as_written(text: str, folded: str, term: str) -> str:
    at = folded.find(term)
    return text[at:at + len(term)] if at >= 0 else term


def markdown(result: Brief) -> str:
    """The brief as Markdown, to share with colleagues."""
    asked = " ".join([result.query or ""] + [f"{k}={v}" for k, v in result.filters.items()]).strip()
    lines = [f"# Trip brief{': ' + asked if asked else ''}", "",
             f"{result.summary()}.", "", "## Trips, newest first", "",
             "| year | institution | travellers | destination | report |", "|---|---|---|---|---|"]
    for t in result.trips:
        lines.append(f"| {t.year or ''} | {_md(t.institution or '')} | {_md('、'.join(t.travellers))} | "
                     f"{_md('、'.join(t.destination))} | {_md(t.title)} ({t.id}) |")
    lines += ["", "## Who went (people to ask)", ""]
    for inst, people in result.travellers.items():
        lines.append(f"- **{_md(inst)}**: " + "、".join(f"{_md(n)} ({c})" for n, c in people))
    lines += ["", "## Institutions visited", "", f"{result.visited_from().capitalize()}.", ""]
    lines += [f"- {_md(name)} ({_reports(count)})" for name, count in result.visited] \
        or ["(none named)"]
    lines += ["", "## Recommendations, newest first", "", f"{result.recommendations_from().capitalize()}.", ""]
    lines += [f"- {_md(r.text)} ({r.id}, p. {r.page})" for r in result.recommendations] \
        or ["(no 建議 sections among these reports)"]
    lines += ["", "## Characteristic terms", "", "、".join(_md(t) for t in result.terms) or "(none)", ""]
    return "\n".join(lines)


def _md(text: str) -> str:
    """Text safe in a Markdown table cell or list item: no pipes, no line breaks, no control characters."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).replace("|", "\\|")
