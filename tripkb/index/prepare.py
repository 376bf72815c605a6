"""One corpus entry made into index fields: its sidecar read, its text extracted, what is missing derived.

It runs in the worker processes, so it never runs OCR: a document whose pages need
it comes back unfinished for the caller to OCR and prepare again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ExtractError, MetadataError
from ..fsutil import sha256_of
from ..kb import KnowledgeBase
from ..meta.sidecar import read_sidecar, to_json
from ..meta.vocab import Vocabulary
from ..reporting import Problem
from ..text.extract import Extracted, begin, read
from ..text.ocr import Mode, Ocr
from .corpus import Entry
from .schema import document_fields


@dataclass
class Prepared:
    """An entry turned into index fields, or the reason it could not be."""

    entry: Entry
    fields: dict[str, Any] | None
    problems: list[Problem]
    warnings: list[str]
    #: (document, text layer) when pages need OCR first: the caller runs it and prepares again.
    awaiting: tuple[Path, Extracted] | None = None


def prepare(kb: KnowledgeBase, entry: Entry, extracted: Extracted | None = None,
            ocr: Mode = "auto", records_only: bool = False,
            written: tuple[str, dict[str, Any]] | None = None, vocab: Vocabulary | None = None) -> Prepared | None:
    """Read the sidecar, extract the text and build the index fields of one entry.

    A document whose text cannot be extracted, or that has no usable text (a
    scan without Tesseract), is still indexed from its metadata (nothing
    known is ever dropped) and reported as a problem. A sidecar that cannot
    be read yields no fields: its last indexed version, if any, stays
    searchable until the sidecar is mended. OCR is not run here (this runs
    in a worker): pages that need it come back as ``awaiting``. With
    ``records_only``, an entry whose sidecar names a document gives None: it is
    to be read on its own, with a document's time and memory bounds.
    ``written`` is (the sidecar's stamp, its normalised record) from the process that
    just wrote it (``import-csv``): the record is taken as it is, without reading the
    file back, while the file keeps that stamp. ``vocab`` is the KB's vocabulary, if
    the caller has loaded it.
    """
    if not _utf8(entry.key):  # Whoosh keys are UTF-8: such a name would stop every command
        return Prepared(entry, None, [Problem(f"corpus/{entry.key}", "the file name is not valid UTF-8 "
                                                                      "(not indexed: rename the file)")], [])
    problems: list[Problem] = []
    record: dict[str, Any] = {}
    warnings: list[str] = []
    document = entry.document
    current = entry.stamp()
    try:
        if entry.sidecar:
            if written is not None and written[0] == current:  # stamped first: a later edit is read next time
                record = dict(written[1])
            else:
                record, warnings = read_sidecar(entry.sidecar)
            if record.get("file") is not None or document is not None:  # else none was beside it
                document = kb.document_path(entry.sidecar, record.get("file"))
            if records_only and document is not None:
                return None
        elif document is not None:
            kb.inside(document, document, document.name)
    except MetadataError as exc:
        where = kb.relative(Path(exc.path)) + (f":{exc.line}" if exc.line else "")
        reason = f"{exc.key}: {exc.problem}" if exc.key else exc.problem
        return Prepared(entry, None, [Problem(where, reason)], [])
    pages: list[str] = []
    info_title = first_line = body = None
    paged = True
    if document is not None:
        if not document.exists():
            problems.append(Problem(kb.relative(entry.sidecar or document),
                                    f"file: {kb.relative(document)} does not exist (indexed as metadata only)"))
            document = None
        else:
            try:
                got = extracted or read(document, ocr == "force")
                if not got.final and got.problems and ocr != "off":
                    return Prepared(entry, None, [], warnings, awaiting=(document, got))
                got = begin(document, got, Ocr("off")).finish()  # nothing to OCR, or not allowed to
                pages, info_title, first_line, paged = got.pages, got.info_title, got.first_line, got.paged
                body = got.body
                if got.flag:
                    problems.append(Problem(kb.relative(document), f"{got.flag} (indexed from its metadata only)"))
                warnings.extend(f"{kb.relative(document)}: {w}" for w in got.warnings)
            except ExtractError as exc:
                problems.append(Problem(kb.relative(document), f"{exc} (indexed from its metadata only)"))
    stem = Path(entry.key).stem
    record.setdefault("id", stem)
    record.setdefault("title", info_title or first_line or stem)
    record.setdefault("type", "other")
    rel_file = document.relative_to(kb.corpus).as_posix() if document else None
    if rel_file:
        record["file"] = rel_file
    if document is not None and paged and "pages" not in record:
        record["pages"] = len(pages)
    if document is not None and entry.sidecar is None:
        record["sha256"] = sha256_of(document)  # so ingesting the same bytes again finds it
    if entry.sidecar is not None and pages and record.get("sections"):
        warnings += _unused_sections(kb.relative(entry.sidecar), record["sections"], pages, paged)
    fields = document_fields(entry.key, current, to_json(record),
                             f"corpus/{rel_file}" if rel_file else None, pages, vocab or Vocabulary.load(kb.root), paged,
                             body)
    return Prepared(entry, fields, problems, warnings)


def _unused_sections(where: str, given: list[dict[str, Any]], pages: list[str], paged: bool) -> list[str]:
    """Warnings for the sidecar's sections the document cannot hold as given (Word has no pages)."""
    from ..text.sections import given_problems

    if not paged:
        return [f"{where}: sections: a Word document has no pages, so its sections are not used"]
    return [f"{where}: sections: {problem}" for problem in given_problems(pages, given)]


def _utf8(name: str) -> bool:
    """Whether a file name decoded by the OS is valid UTF-8 (undecodable bytes become surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
