"""Citations of trip reports as Taiwanese LIS papers write them, and in APA style.

The ``tw`` form follows the seed paper's footnotes 21–22:
王文陸、彭慰，〈參加 2007 年美國圖書館學會年會報告〉，《OPEN 政府出版資料回應網公務出國報告》，C09601649。
The id is cited only with a source: it is what locates the report in that
collection, while an id tripkb made up from a file name locates nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .errors import UsageError
from .textnorm import has_han

STYLES = ("tw", "apa")
#: APA's bracketed description of the kind of work.
APA_LABELS = {"report": "Trip report", "paper": "Conference paper", "poster": "Poster presentation",
              "slides": "Presentation slides"}
_APA_MAX_AUTHORS = 20
#: 系統識別號, the id the government's report site gives each 公務出國報告.
SYSTEM_ID = re.compile(r"C\d{8}")
#: That site, as the seed paper's footnotes name it.
REPORT_SITE = "OPEN 政府出版資料回應網公務出國報告"


def source_of(record: dict[str, Any]) -> str | None:
    """The collection that locates the record: its sidecar's source, else the report site for a 系統識別號."""
    if record.get("source"):
        return record["source"]
    return REPORT_SITE if SYSTEM_ID.fullmatch(record.get("id") or "") else None


def citable_id(record: dict[str, Any]) -> str | None:
    """The id, when a source makes it locate something (not one tripkb made from a file name)."""
    return record.get("id") if source_of(record) else None


def check_style(style: str) -> str:
    if style not in STYLES:
        raise UsageError(f"--style must be one of {', '.join(STYLES)}, not {style!r}")
    return style


def cite(record: dict[str, Any], style: str = "tw") -> str:
    """One reference for a JSON-ready record."""
    return {"tw": tw, "apa": apa}[check_style(style)](record)


def reference_list(records: Iterable[dict[str, Any]], style: str = "tw") -> list[str]:
    """References sorted by their text (APA orders a list by author, which the text begins with)."""
    return sorted(cite(r, style) for r in records)


def _year(record: dict[str, Any]) -> int | None:
    """The year the report was published: its report date, else the year tripkb derived."""
    date = record.get("report_date")
    return int(date[:4]) if date else record.get("year")


def tw(record: dict[str, Any]) -> str:
    """作者、作者，〈題名〉，《來源》，識別號。 — or 機關, 年 when there is no source."""
    authors, institution = record.get("authors", []), record.get("institution")
    parts = ["、".join(authors) or institution, f"〈{record.get('title', '')}〉"]
    if record.get("source"):
        parts += [f"《{record['source']}》", record.get("id")]
    else:
        year = _year(record)
        parts += [institution if authors else None, str(year) if year else None]
    return "，".join(p for p in parts if p) + "。"


def apa_name(name: str) -> str:
    """Chen, Y.-T. for a Latin-script "Yu-Ting Chen"; Chinese names (王文陸) stay whole, as APA keeps them."""
    if has_han(name) or (" " not in name.strip() and "," not in name):
        return name
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
    else:
        *givens, family = name.split()
        given = " ".join(givens)
    initials = " ".join("-".join(f"{piece[0]}." for piece in word.split("-") if piece)
                        for word in given.split())
    return f"{family}, {initials}" if initials else family


def _apa_names(names: list[str]) -> str:
    names = [apa_name(n) for n in names]
    if len(names) <= 2:
        return ", & ".join(names)
    if len(names) > _APA_MAX_AUTHORS:
        return ", ".join(names[:_APA_MAX_AUTHORS - 1]) + ", . . . " + names[-1]
    return ", ".join(names[:-1]) + ", & " + names[-1]


def _end(text: str) -> str:
    return text if text.endswith((".", "?", "!", "。", "？", "！")) else text + "."


def apa(record: dict[str, Any]) -> str:
    """Author, A., & Author, B. (Year). Title [Description]. Institution. Source, id."""
    authors, institution = record.get("authors", []), record.get("institution")
    year = _year(record)
    label = APA_LABELS.get(record.get("type", ""))
    title = record.get("title", "") + (f" [{label}]" if label else "")
    author = _apa_names(authors) or institution
    date = f"({year or 'n.d.'})."
    parts = [_end(author), date, _end(title)] if author else [_end(title), date]
    if authors and institution:
        parts.append(_end(institution))
    if record.get("source"):
        parts.append(_end(", ".join(p for p in (record["source"], record.get("id")) if p)))
    return " ".join(parts)
