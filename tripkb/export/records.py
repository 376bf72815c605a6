"""Export records for other systems: CSV and JSON Lines for people and scripts, Dublin Core for libraries.

Each writer takes the selected documents and a binary stream, so the same
code writes to a file or to standard output. The OpenSearch export lives in
:mod:`tripkb.export.opensearch`, bundles in :mod:`tripkb.export.bundle`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from contextlib import nullcontext
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import quote

from ..errors import UsageError
from ..fsutil import open_atomic
from ..meta.sidecar import KEYS
from ..meta.vocab import Vocabulary
from ..query.selection import Selected

#: marc and marcxml are written by :mod:`tripkb.export.marc`, ris and csl-json by :mod:`tripkb.export.references`.
FORMATS = ("csv", "jsonl", "dc", "opensearch", "marc", "marcxml", "ris", "csl-json")
LIST_SEPARATOR = "; "

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_SCHEMA = f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_DC_SCHEMA = f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
for _prefix, _uri in (("", OAI), ("oai_dc", OAI_DC), ("dc", DC), ("xsi", XSI)):
    ET.register_namespace(_prefix, _uri)  # the prefixes OAI-PMH responses conventionally use

#: dc:type from the DCMI Type Vocabulary; the tripkb type (report, poster …) follows it.
DCMI_TYPE = "Text"


def check_format(name: str) -> str:
    if name not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {name!r}")
    return name


def write_format(items: Sequence[Selected], format_: str, output: Path | None, stdout: BinaryIO,
                 bom: bool = False, vocab: Vocabulary | None = None) -> tuple[str | None, list]:
    """Write ``items`` in ``format_``; return where they went (None: to ``stdout``) and the
    problems of the records the format could not hold (MARC: no title, too long), left out.

    One-file formats go to the ``output`` file, replaced only when complete, or to
    ``stdout``; opensearch writes two files into the ``output`` folder. Formats that name
    organisations or sectors take them from ``vocab`` (the KB's; the shipped one if None).
    """
    vocab = vocab or Vocabulary.load()
    if check_format(format_) == "opensearch":
        from .opensearch import write

        bulk, mapping = write(items, output, vocab)
        return f"{bulk} and {mapping}", []
    from .marc import WRITERS as MARC
    from .references import WRITERS as REFERENCES

    writers = {"csv": partial(write_csv, bom=bom), "jsonl": write_jsonl, "dc": write_dc,
               **{name: partial(writer, vocab=vocab) for name, writer in {**MARC, **REFERENCES}.items()}}
    with open_atomic(output) if output else nullcontext(stdout) as out:
        unwritten = writers[format_](items, out) or []  # only the MARC and reference writers leave any out
        out.flush()
    return (str(output) if output else None), unwritten


# --- CSV and JSON Lines --------------------------------------------------------------------


def csv_columns(items: Sequence[Selected]) -> list[str]:
    """Every field any record has: the sidecar keys in order (trip split in two), then unknown keys."""
    columns: list[str] = []
    for key in KEYS:
        columns.extend(("trip_start", "trip_end") if key == "trip" else (key,))
    for item in items:
        columns.extend(k for k in item.record if k not in KEYS and k not in columns)
    return columns


#: A cell a spreadsheet would run as a formula starts with one of these (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text`` with a single quote before it when a spreadsheet would take it for a formula
    (``=cmd|' /C calc'!A0``, ``@SUM(…)``): the quote makes it text, and shows that it was changed."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(items: Sequence[Selected], out: BinaryIO, bom: bool = False) -> None:
    """One row per document, UTF-8; ``bom`` starts the file with a byte-order mark for Excel."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig" if bom else "utf-8", newline="", write_through=True)
    columns = csv_columns(items)
    writer = csv.writer(text)
    writer.writerow(map(spreadsheet_safe, columns))
    for item in items:
        trip = item.record.get("trip") or {}
        row = {**item.record, "trip_start": trip.get("start"), "trip_end": trip.get("end")}
        writer.writerow(spreadsheet_safe(_cell(row.get(c))) for c in columns)
    text.detach()


def write_jsonl(items: Sequence[Selected], out: BinaryIO) -> None:
    """One JSON object per line, the record exactly as the sidecar gives it (dates as ISO text)."""
    for item in items:
        out.write(json.dumps(item.record, ensure_ascii=False).encode("utf-8") + b"\n")


# --- Dublin Core in an OAI-PMH ListRecords response ---------------------------------------------


#: dc:format of each document kind tripkb ingests.
MEDIA_TYPES = {".pdf": "application/pdf", ".doc": "application/msword",
               ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def dc_elements(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(element, value) pairs of simple Dublin Core for one record, in the element order of oai_dc."""
    trip = record.get("trip") or {}
    period = "/".join(v for v in (trip.get("start"), trip.get("end")) if v)
    date = record.get("report_date") or (str(record["year"]) if record.get("year") else None)
    pairs: list[tuple[str, Any]] = [("title", record.get("title"))]
    pairs += [("creator", a) for a in record.get("authors", [])]
    pairs += [("subject", k) for k in record.get("keywords", []) + record.get("events", [])]
    pairs += [("description", record.get("abstract")), ("publisher", record.get("institution")),
              ("date", date), ("type", DCMI_TYPE), ("type", record.get("type")),
              ("format", MEDIA_TYPES.get(PurePosixPath(record.get("file") or "").suffix.lower())),
              ("identifier", record.get("id")), ("source", record.get("source")),
              ("language", record.get("language"))]
    pairs += [("coverage", c) for c in record.get("countries", [])]
    pairs.append(("coverage", period))
    return list(dict.fromkeys((name, str(value)) for name, value in pairs if value))  # IFLA as keyword and event: once


#: What XML 1.0 cannot hold at all, not even as a character reference: most C0 controls,
#: lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` with each character XML cannot hold replaced by U+FFFD, so the file stays well-formed."""
    return _NOT_XML.sub("\ufffd", text)


def dc_record(record: dict[str, Any]) -> ET.Element:
    """One ``oai_dc:dc`` element."""
    dc = ET.Element(f"{{{OAI_DC}}}dc", {f"{{{XSI}}}schemaLocation": OAI_DC_SCHEMA})
    for name, value in dc_elements(record):
        ET.SubElement(dc, f"{{{DC}}}{name}").text = xml_text(value)
    return dc


def oai_identifier(doc_id: str) -> str:
    return "oai:tripkb:" + quote(doc_id, safe="-_.!~*'()", errors="surrogateescape")


def _utc(timestamp: float | dt.datetime) -> dt.datetime:
    if isinstance(timestamp, dt.datetime):
        return timestamp.astimezone(dt.timezone.utc)
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)


def dc_tree(items: Sequence[Selected], now: dt.datetime | None = None) -> ET.ElementTree:
    """An OAI-PMH ``ListRecords`` response holding every record, as a harvester would receive it.

    The datestamp of a record is when its sidecar (or file) last changed. An
    empty selection gives the protocol's ``noRecordsMatch`` error, as a
    repository would answer.
    """
    root = ET.Element(f"{{{OAI}}}OAI-PMH", {f"{{{XSI}}}schemaLocation": OAI_SCHEMA})
    stamp = _utc(now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ET.SubElement(root, f"{{{OAI}}}responseDate").text = stamp
    ET.SubElement(root, f"{{{OAI}}}request", {"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    if not items:
        error = ET.SubElement(root, f"{{{OAI}}}error", {"code": "noRecordsMatch"})
        error.text = "No documents match the selection."
        return ET.ElementTree(root)
    listing = ET.SubElement(root, f"{{{OAI}}}ListRecords")
    for item in items:
        rec = ET.SubElement(listing, f"{{{OAI}}}record")
        header = ET.SubElement(rec, f"{{{OAI}}}header")
        ET.SubElement(header, f"{{{OAI}}}identifier").text = oai_identifier(item.id)
        ET.SubElement(header, f"{{{OAI}}}datestamp").text = _utc(item.changed()).strftime("%Y-%m-%d")
        ET.SubElement(rec, f"{{{OAI}}}metadata").append(dc_record(item.record))
    return ET.ElementTree(root)


def write_dc(items: Sequence[Selected], out: BinaryIO, now: dt.datetime | None = None) -> None:
    tree = dc_tree(items, now)
    ET.indent(tree, space="  ")
    tree.write(out, encoding="utf-8", xml_declaration=True)
    out.write(b"\n")
