"""MARC 21 bibliographic records of the documents, for a library catalogue (ISO 2709 or MARCXML).

Written with pymarc, in UTF-8 (leader/09 ``a``), without ISBD punctuation
(leader/18 ``c``): a cataloguer's system adds its own. The field mapping is
documented in docs/exports-library.md. A record without a title cannot be
catalogued, so it is reported and left out rather than written half-empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import quote

from pymarc import Field, Indicators, MARCWriter, Record, Subfield, XMLWriter

from ..meta.vocab import Vocabulary
from ..query.selection import Selected
from ..reporting import Problem
from ..text.normalise import has_han
from .records import MEDIA_TYPES
from .references import inverted_name

#: MARC language codes of the language tags sidecars use (zh-Hant, en …); others are "und".
LANGUAGES = {"zh": ("chi", "Chinese"), "en": ("eng", "English"), "ja": ("jpn", "Japanese"),
             "ko": ("kor", "Korean"), "fr": ("fre", "French"), "de": ("ger", "German"),
             "es": ("spa", "Spanish")}
#: 008/24 nature of contents: t (technical report) for trip reports.
_CONTENTS = {"report": "t"}
#: The largest field and record ISO 2709 can hold: their lengths have four and five digits.
MAX_FIELD_BYTES, MAX_RECORD_BYTES = 9999, 99999
#: New record, language material, monograph, UTF-8; abbreviated encoding level (3), for a
#: cataloguer to complete; ISBD punctuation omitted (c).
LEADER = "     nam a22     3c 4500"


class Unmappable(Exception):
    """A record that cannot become a MARC record; the message says why."""


def _year(record: dict[str, Any]) -> int | None:
    date = record.get("report_date")
    return int(date[:4]) if date else record.get("year")


def _language(record: dict[str, Any]) -> tuple[str, str] | None:
    tag = record.get("language")
    return LANGUAGES.get(tag.split("-")[0].lower(), ("und", tag)) if tag else None


def _field(tag: str, ind: str, *pairs: tuple[str, Any]) -> list[Field]:
    """The field with the subfields that have a value; none at all when no subfield has one."""
    subfields = [Subfield(code, str(value)) for code, value in pairs if value not in (None, "")]
    return [Field(tag=tag, indicators=Indicators(ind[0], ind[1]), subfields=subfields)] if subfields else []


def _fixed(record: dict[str, Any], entered: dt.date) -> str:
    """008 for books: date entered, one date of publication, place, electronic form, language."""
    year = _year(record)
    dates = f"s{year:04d}    " if year else "nuuuu    "
    place = "ch " if record.get("type") == "report" else "xx "  # ch: Taiwan, where the trip reports come from
    conference = "1" if record.get("type") in ("paper", "poster", "slides") else "0"
    language = (_language(record) or ("und", ""))[0]
    books = "    " + " " + "o" + _CONTENTS.get(record.get("type", ""), " ").ljust(4) + "|" + conference + "00 0 "
    return entered.strftime("%y%m%d") + dates + place + books + language + " d"


def _names(names: list[str]) -> list[tuple[str, str]]:
    """(first indicator, heading) of each person: 1 for a surname first, 0 for a single forename."""
    out = []
    for name in names:
        heading = inverted_name(name)
        out.append(("1" if has_han(name) or "," in heading else "0", heading))
    return out


def _responsibility(record: dict[str, Any]) -> str | None:
    authors = record.get("authors", [])
    if not authors:
        return record.get("institution")
    return ("、" if all(has_han(a) for a in authors) else ", ").join(authors)


def _notes(record: dict[str, Any]) -> list[str]:
    trip = record.get("trip") or {}
    notes = []
    if trip.get("start"):
        notes.append("Trip dates: " + " to ".join(v for v in (trip["start"], trip.get("end")) if v))
    if record.get("category"):
        notes.append(f"Trip category: {record['category']}")
    if record.get("participants"):
        notes.append(f"Participants: {record['participants']}")
    if record.get("source"):
        notes.append(f"Source: {record['source']}")
    return notes


def _fit(text: str, limit: int = MAX_FIELD_BYTES - 10) -> str:
    """Text cut at a character boundary to fit a field (a long 摘要 would overflow its 520)."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit - 3].decode("utf-8", "ignore") + "…"


def marc_record(record: dict[str, Any], vocab: Vocabulary | None = None,
                entered: dt.date | None = None) -> Record:
    """The MARC 21 record of one JSON-ready record; :class:`Unmappable` without a title."""
    if not record.get("title"):
        raise Unmappable("no title, so no MARC record (give the sidecar a title)")
    marc = Record(force_utf8=True, leader=LEADER)
    people = _names(record.get("authors", []))
    language = _language(record)
    marc.add_field(Field(tag="001", data=record["id"]),
                   Field(tag="008", data=_fixed(record, entered or dt.date.today())),
                   *_field("035", "  ", ("a", record["id"])),
                   *_field("041", "0 ", ("a", language and language[0])),
                   *_description(record, people, language),
                   *_access(record, people, vocab or Vocabulary.load()))
    _check_size(marc)
    return marc


def _description(record: dict[str, Any], people: list[tuple[str, str]],
                 language: tuple[str, str] | None) -> list[Field]:
    """Main entry, title, publication, extent and notes (1XX–5XX)."""
    institution = record.get("institution")
    if people:
        fields = _field("100", people[0][0] + " ", ("a", people[0][1]), ("e", "author"))
    else:
        fields = _field("110", "2 ", ("a", institution))
    fields += _field("245", ("1" if people or institution else "0") + "0",
                     ("a", _fit(record["title"])), ("c", _responsibility(record)))
    fields += _field("264", " 1", ("b", institution), ("c", _year(record)))
    pages = record.get("pages")
    fields += _field("300", "  ", ("a", f"1 online resource ({pages} pages)" if pages else None))
    for note in _notes(record):
        fields += _field("500", "  ", ("a", note))
    fields += _field("520", "  ", ("a", _fit(record.get("abstract") or "")))
    fields += _field("546", "  ", ("a", language and language[1]),
                     ("b", "Traditional Chinese script" if record.get("language") == "zh-Hant" else None))
    return fields


def _access(record: dict[str, Any], people: list[tuple[str, str]], vocab: Vocabulary) -> list[Field]:
    """Subjects, added entries and the file (6XX–8XX)."""
    fields = []
    for country in record.get("countries", []):
        fields += _field("651", " 4", ("a", country))
    for keyword in record.get("keywords", []):
        fields += _field("653", "  ", ("a", keyword))
    for ind, name in people[1:]:
        fields += _field("700", ind + " ", ("a", name), ("e", "author"))
    if people and record.get("institution"):
        fields += _field("710", "2 ", ("a", record["institution"]), ("e", "issuing body"))
    for code in record.get("events", []):
        org = vocab.org(code)
        fields += _field("711", "2 ", ("a", org.name if org and org.name else code))
    if record.get("file"):
        media = MEDIA_TYPES.get(PurePosixPath(record["file"]).suffix.lower())
        fields += _field("856", "4 ", ("u", quote(f"corpus/{record['file']}")), ("q", media))
    return fields


def _check_size(marc: Record) -> None:
    """ISO 2709 cannot hold a field or record past its length digits: refuse rather than write a broken file."""
    for field in marc.get_fields():
        if len(field.as_marc("utf-8")) > MAX_FIELD_BYTES:
            raise Unmappable(f"field {field.tag} is longer than MARC's {MAX_FIELD_BYTES} bytes")
    if len(marc.as_marc()) > MAX_RECORD_BYTES:
        raise Unmappable(f"the record is longer than MARC's {MAX_RECORD_BYTES} bytes")


def _own_title(item: Selected) -> dict[str, Any]:
    """The record, without the title the indexer falls back to (the file name), which names nothing."""
    if item.record.get("title") == PurePosixPath(item.key).stem:
        return {k: v for k, v in item.record.items() if k != "title"}
    return item.record


def _write(items: Sequence[Selected], write: Callable[[Record], None], vocab: Vocabulary | None) -> list[Problem]:
    vocab, problems = vocab or Vocabulary.load(), []
    for item in items:
        try:
            write(marc_record(_own_title(item), vocab))
        except Unmappable as exc:
            problems.append(Problem(f"corpus/{item.key}", f"{exc} (left out)"))
    return problems


def write_marc(items: Sequence[Selected], out: BinaryIO, vocab: Vocabulary | None = None) -> list[Problem]:
    """ISO 2709 (.mrc): the records one after another; returns the records left out and why."""
    return _write(items, MARCWriter(out).write, vocab)


def write_marcxml(items: Sequence[Selected], out: BinaryIO, vocab: Vocabulary | None = None) -> list[Problem]:
    """A MARCXML collection; returns the records left out and why."""
    writer = XMLWriter(out)
    problems = _write(items, writer.write, vocab)
    writer.close(close_fh=False)
    out.write(b"\n")
    return problems


WRITERS = {"marc": write_marc, "marcxml": write_marcxml}
