"""Citations of trip reports as Taiwanese LIS papers write them, and in the standard CSL styles.

The ``tw`` form is tripkb's own; it follows the seed paper's footnotes 21–22:
王文陸、彭慰，〈參加 2007 年美國圖書館學會年會報告〉，《OPEN 政府出版資料回應網公務出國報告》，C09601649。
Every other style (APA, Chicago …) is a CSL style rendered by :mod:`tripkb.export.csl`.
The id is cited only with a source: it is what locates the report in that
collection, while an id tripkb made up from a file name locates nothing. A
系統識別號 (C and eight digits) is the government report site's own id, so it
is cited with that site as its source even when the sidecar names none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any


#: The styles the help names; any CSL style name is accepted too.
STYLES = ("tw", "apa", "chicago")
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
    """``tw``, or a CSL style that can be loaded (its errors name the styles there are)."""
    if style != "tw":
        from .csl import load_style

        load_style(style)
    return style


def cite(record: dict[str, Any], style: str = "tw") -> str:
    """One reference for a JSON-ready record."""
    return reference_list([record], style)[0]


def reference_list(records: Iterable[dict[str, Any]], style: str = "tw") -> list[str]:
    """References sorted by their text for ``tw``, in the CSL style's own order otherwise."""
    return [text for _, text in references(records, style)]


def references(records: Iterable[dict[str, Any]], style: str = "tw") -> list[tuple[dict[str, Any], str]]:
    """Each record with its reference, in the order of :func:`reference_list`."""
    if style == "tw":
        return sorted(((r, tw(r)) for r in records), key=lambda pair: pair[1])
    from .csl import render

    return render(records, check_style(style))


def citations_json(records: Iterable[dict[str, Any]], style: str = "tw") -> dict[str, Any]:
    """What ``cite --json`` prints (docs/contracts.md §4): the style and each reference with its id."""
    return {"style": style, "citations": [{"id": record.get("id"), "text": text}
                                          for record, text in references(records, style)]}


def _year(record: dict[str, Any]) -> int | None:
    """The year the report was published: its report date, else the year tripkb derived."""
    date = record.get("report_date")
    return int(date[:4]) if date else record.get("year")


def tw(record: dict[str, Any]) -> str:
    """作者、作者，〈題名〉，《來源》，識別號。 — or 機關, 年 when there is no source."""
    authors, institution = record.get("authors", []), record.get("institution")
    parts = ["、".join(authors) or institution, f"〈{record.get('title', '')}〉"]
    if source_of(record):
        parts += [f"《{source_of(record)}》", citable_id(record)]
    else:
        year = _year(record)
        parts += [institution if authors else None, str(year) if year else None]
    return "，".join(p for p in parts if p) + "。"
