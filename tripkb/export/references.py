"""Records for reference managers: RIS (EndNote, Zotero) and CSL-JSON (Zotero, Pandoc, citeproc).

Chinese personal names are kept whole (王文陸 has no given name to abbreviate);
Latin-script names are split into family and given names, as both formats
expect. The field mapping is documented in docs/exports-library.md.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any, BinaryIO

import rispy

from ..meta.vocab import Vocabulary
from ..query.selection import Selected
from ..reporting import Problem
from ..text.normalise import has_han
from .cite import citable_id, source_of

#: tripkb type → (RIS type, CSL type, genre). Posters and slides are what CSL calls a speech.
TYPES = {"report": ("RPRT", "report", "Trip report"),
         "paper": ("CPAPER", "paper-conference", None),
         "poster": ("SLIDE", "speech", "Poster"),
         "slides": ("SLIDE", "speech", "Presentation slides"),
         "other": ("GEN", "document", None)}


def split_name(name: str) -> tuple[str, str] | None:
    """(family, given) of a Latin-script name, "Yu-Ting Chen" or "Chen, Yu-Ting"; None for a name kept whole."""
    name = name.strip()
    if has_han(name):
        return None
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        return (family, given) if family and given else None
    *given, family = name.split()
    return (family, " ".join(given)) if given else None


def inverted_name(name: str) -> str:
    """Chen, Yu-Ting: the family-name-first form of RIS and MARC headings; Chinese names as written."""
    parts = split_name(name)
    return f"{parts[0]}, {parts[1]}" if parts else name.strip()


def csl_name(name: str) -> dict[str, str]:
    parts = split_name(name)
    return {"family": parts[0], "given": parts[1]} if parts else {"literal": name.strip()}


def _type(record: dict[str, Any]) -> tuple[str, str, str | None]:
    return TYPES.get(record.get("type", "other"), TYPES["other"])


def _event_names(record: dict[str, Any], vocab: Vocabulary) -> list[str]:
    orgs = [vocab.org(code) for code in record.get("events", [])]
    return [org.name if org and org.name else code for org, code in zip(orgs, record.get("events", []))]


def _notes(record: dict[str, Any], vocab: Vocabulary) -> list[str]:
    trip = record.get("trip") or {}
    notes = []
    if trip.get("start"):
        notes.append("Trip dates: " + " to ".join(v for v in (trip["start"], trip.get("end")) if v))
    for label, key in (("Trip category", "category"), ("Countries", "countries")):
        value = record.get(key)
        if value:
            notes.append(f"{label}: " + ("、".join(value) if isinstance(value, list) else value))
    if record.get("events"):
        notes.append("Events: " + "; ".join(_event_names(record, vocab)))
    return notes


def ris_entry(record: dict[str, Any], vocab: Vocabulary | None = None) -> dict[str, Any]:
    """One rispy reference (tag names as rispy spells them)."""
    vocab = vocab or Vocabulary.load()
    ris_type, _, genre = _type(record)
    date, year = record.get("report_date"), record.get("year")
    entry: dict[str, Any] = {
        "type_of_reference": ris_type, "id": record.get("id"), "title": record.get("title"),
        "authors": [inverted_name(a) for a in record.get("authors", [])],
        "year": str(int(date[:4]) if date else year or "") or None,
        "date": date.replace("-", "/") if date else None,
        "publisher" if record.get("type") == "report" else "author_address": record.get("institution"),
        "secondary_title": None if record.get("type") == "report" else next(iter(_event_names(record, vocab)), None),
        "type_of_work": genre, "abstract": record.get("abstract"), "keywords": record.get("keywords"),
        "language": record.get("language"), "name_of_database": source_of(record),
        "accession_number": citable_id(record), "notes": _notes(record, vocab),
        "file_attachments1": f"corpus/{record['file']}" if record.get("file") else None,
    }
    return {key: value for key, value in entry.items() if value}


def csl_item(record: dict[str, Any], vocab: Vocabulary | None = None) -> dict[str, Any]:
    """One CSL-JSON item, as Zotero exports and citeproc reads it."""
    vocab = vocab or Vocabulary.load()
    _, csl_type, genre = _type(record)
    date = record.get("report_date")
    year = int(date[:4]) if date else record.get("year")
    parts = [int(p) for p in date.split("-")] if date else [year] if year else None
    events = _event_names(record, vocab)
    item: dict[str, Any] = {
        "id": record["id"], "type": csl_type, "title": record.get("title"),
        "author": [csl_name(a) for a in record.get("authors", [])],
        "issued": {"date-parts": [parts]} if parts else None, "genre": genre,
        "publisher": record.get("institution"),
        "event-title": events[0] if events and record.get("type") != "report" else None,
        "number": citable_id(record), "archive": source_of(record),
        "abstract": record.get("abstract"), "keyword": ", ".join(record.get("keywords", [])),
        "language": record.get("language"), "note": "\n".join(_notes(record, vocab)),
    }
    return {key: value for key, value in item.items() if value}


class _RisWriter(rispy.RisWriter):
    """rispy's writer without the "1." line it puts before each record, which the RIS format has not."""

    def set_header(self, count: int) -> str:
        return ""


def write_ris(items: Sequence[Selected], out: BinaryIO, vocab: Vocabulary | None = None) -> list[Problem]:
    """An RIS file of the records, UTF-8."""
    vocab = vocab or Vocabulary.load()
    text = io.StringIO()
    rispy.dump([ris_entry(item.record, vocab) for item in items], text, implementation=_RisWriter)
    out.write(text.getvalue().encode("utf-8"))
    return []


def write_csl_json(items: Sequence[Selected], out: BinaryIO, vocab: Vocabulary | None = None) -> list[Problem]:
    """A CSL-JSON array of the records, UTF-8."""
    vocab = vocab or Vocabulary.load()
    data = [csl_item(item.record, vocab) for item in items]
    out.write(json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    return []


WRITERS = {"ris": write_ris, "csl-json": write_csl_json}
