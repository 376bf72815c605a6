"""Import a catalogue export (one row per report) as metadata-only records.

Catalogues come from the government's trip-report site or a library's own
system as CSV, in UTF-8 (often with a BOM) or Big5, with ROC dates. Each row
becomes ``corpus/<id>.yaml``, checked exactly like a sidecar, and the index is
then brought up to date. A bad row is reported by its number and skipped; the
rest is imported. Records already in the KB are left alone.

Catalogues run to tens of thousands of rows, so the rows are imported on
every core, in chunks: the worker that checks a row also writes its sidecar
and indexes the record into a segment of its own, which this process takes
into the index. Sidecars are written without one fsync each: :func:`os.sync`
runs once at the end.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from .analysis import preload
from .check import validated
from .cover import people
from .dates import parse_date, parse_range
from .errors import CatalogueError, DateError, ExtractError, MetadataError, UsageError
from .fsutil import free_name, name_candidates, write_text_via
from .index import live_values, open_index
from .indexer import (BULK_MIN, BatchWriter, ChunkSegment, Entry, Problem, Progress, Staging, SyncReport, chunk_size,
                      prepare, stamp_of, sync_locked)
from .kb import KnowledgeBase
from .lock import writer_lock
from .metadata import KEYS, dump
from .textnorm import display_form
from .vocab import Vocabulary
from .workers import bounded_map, default_workers, orphaned

#: Column headings (NFKC, without spaces) → field. When several columns give one
#: field, the first one listed here that has a value wins (報告名稱 before 計畫名稱).
COLUMNS: dict[str, str] = {
    "系統識別號": "id", "報告名稱": "title", "出國報告名稱": "title", "計畫名稱": "title",
    "服務機關": "institution", "主辦機關": "institution", "出國類別": "category",
    "前往地區": "countries", "派赴國家": "countries", "派赴國家(地區)": "countries",
    "派赴國家/地區": "countries", "前往國家": "countries", "出國地區": "countries",
    "出國期間": "trip", "出國期間(起)": "trip.start", "出國期間(迄)": "trip.end",
    "報告日期": "report_date", "關鍵詞": "keywords", "關鍵字": "keywords",
    "摘要": "abstract", "內容摘要": "abstract", "出國人員": "authors", "姓名": "authors",
    "出國人數": "participants", "頁數": "pages",
}
#: What a column may be mapped to with ``--map COL=FIELD``.
FIELDS = tuple(k for k in KEYS if k not in ("file", "sha256", "extracted")) + ("trip.start", "trip.end")
ENCODINGS = {"utf-8": "utf-8-sig", "big5": "cp950"}  # cp950 is Big5 as Windows writes it
#: (line where the row starts, its number among the non-blank rows, its cells)
_Row = tuple[int, int, list[str]]
_COUNT = re.compile(r"(\d{1,18})\s*[人頁页]?")  # more digits than a count has: refused, not given to int()
#: Rows a worker takes through each step of the import at a time (see :func:`_import_chunk`).
BATCH = 100
_DELIMITERS = (",", "\t", ";")


@dataclass
class ImportReport:
    added: int = 0
    unchanged: int = 0
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    encoding: str = ""
    synced: SyncReport | None = None

    def to_json(self) -> dict[str, Any]:
        """What ``import-csv --json`` prints: the counts, each refused row, and what the index did."""
        def problems(found: list[Problem]) -> list[dict[str, str]]:
            return [{"where": p.path, "problem": p.reason} for p in found]

        index = self.synced or SyncReport()
        return {"encoding": self.encoding, "rows": self.rows, "added": self.added, "unchanged": self.unchanged,
                "refused": problems(self.problems), "warnings": self.warnings,
                "index": {"added": index.added, "updated": index.updated, "removed": index.removed,
                          "unchanged": index.unchanged, "problems": problems(index.problems)}}


def parse_mapping(specs: list[str]) -> dict[str, str]:
    """``["計畫編號=id", "備註="]`` → {column: field}; an empty field ignores the column."""
    mapping = {}
    for spec in specs:
        column, sep, target = spec.partition("=")
        column, target = _heading(column), target.strip()
        if not sep or not column:
            raise UsageError(f"--map {spec!r}: expected COLUMN=FIELD, e.g. 計畫編號=id")
        if target and target not in FIELDS:
            raise UsageError(f"--map {spec!r}: unknown field {target!r} (expected one of {', '.join(FIELDS)})")
        mapping[column] = target
    return mapping


def import_csv(kb: KnowledgeBase, path: Path, encoding: str = "auto",
               mapping: dict[str, str] | None = None, progress: Progress | None = None) -> ImportReport:
    """Write one metadata-only sidecar per new, valid row of the catalogue, and index it."""
    report = ImportReport()
    text, report.encoding = _decode(path, encoding)
    rows = list(_rows(text, path))
    del text  # the rows hold what is needed (a 60,000-row catalogue is 80 MB of text)
    if not rows:
        raise CatalogueError(f"{path}: empty file: expected a header row of column names")
    layout = _columns(path, rows[0][1], mapping or {}, report)
    numbered: list[_Row] = []
    for line, cells in rows[1:]:
        if any(c.strip() for c in cells):
            numbered.append((line, len(numbered) + 1, cells))
    report.rows = len(numbered)
    with writer_lock(kb):
        before = sync_locked(kb, progress)
        indexed = _import_rows(kb, path, layout, numbered, report, progress)
        if report.added:
            os.sync()  # the sidecars, flushed once: written without an fsync each
        after = sync_locked(kb, progress)  # rows whose planned name was taken meanwhile, and any other change
    report.synced = SyncReport(
        added=before.added + indexed + after.added, updated=before.updated + after.updated,
        removed=before.removed + after.removed,
        unchanged=max(0, after.unchanged - indexed - before.added - before.updated),
        problems=before.problems + after.problems, warnings=before.warnings + after.warnings)
    return report


def _import_rows(kb: KnowledgeBase, path: Path, layout: _Layout, rows: list[_Row], report: ImportReport,
                 progress: Progress | None) -> int:
    """Import ``rows`` in chunks on every core (see :func:`_import_chunk`), taking each chunk's
    segment into the index as it is done; fills ``report`` and returns how many rows were indexed."""
    ix = open_index(kb.index_dir)
    with ix.searcher() as searcher:
        known = set(live_values(searcher.reader(), "id"))
    workers = default_workers() if len(rows) >= BULK_MIN else 0
    if workers:
        preload()
    indexed, done = 0, 0
    problems: list[tuple[int, Problem]] = []
    with Staging(kb) as staging, BatchWriter(ix) as writer:
        if staging is None:
            raise CatalogueError(f"{kb.root}: cannot make a folder for the new index segments "
                                 "(is the disk full or read-only?)")

        def show(label: str, ahead: int = 0) -> None:
            if progress:
                progress(min(done + ahead, len(rows)), len(rows), label)

        jobs = bounded_map(partial(_import_chunk, path, layout, kb, staging.folder),
                           _plan(kb, rows, layout, known, workers), workers=workers,
                           waiting=lambda: show("importing rows", staging.running()))
        for chunk, result in jobs:
            staging.settled(chunk.number)
            if isinstance(result, ExtractError):  # the worker died: redo here, where errors show
                result = _import_chunk(path, layout, kb, staging.folder, chunk)
            folder, outcomes = result
            writer.adopt(folder)
            for number, outcome in outcomes:
                if isinstance(outcome, Problem):
                    problems.append((number, outcome))
                elif outcome == "unchanged":
                    report.unchanged += 1
                else:
                    report.added += 1
                    indexed += outcome == "indexed"
            done += len(chunk.rows)
            show(f"row {done}", staging.running())
    report.problems = [problem for _, problem in sorted(problems, key=lambda p: p[0])]
    return indexed


@dataclass
class _Chunk:
    """Rows imported by one worker into one segment."""

    number: int
    rows: list[_Row] = field(default_factory=list)
    #: id → the sidecar name its row takes (free in corpus/ when planned), for the new ids of these rows
    names: dict[str, str] = field(default_factory=dict)
    #: ids of these rows that are in the index already
    known: set[str] = field(default_factory=set)


def _plan(kb: KnowledgeBase, rows: list[_Row], layout: _Layout, known: set[str], workers: int) -> list[_Chunk]:
    """The rows in chunks for the workers, each new id with the sidecar name it will take.

    Rows with one id are put in one chunk (the first valid one is imported, the
    others refused), and every id gets its own name, free in corpus/ and among
    the others (compared without case, as some file systems do), so workers never
    write over one another. Names are planned from one listing of corpus/.
    """
    taken = {name.casefold() for name in os.listdir(kb.corpus)}
    groups: dict[str, list[_Row]] = {}
    for row in rows:
        groups.setdefault(_row_id(row[2], layout) or f"\0{row[1]}", []).append(row)  # no id: a group of its own
    size = chunk_size(len(rows), workers)
    chunks: list[_Chunk] = []
    for doc_id, group in groups.items():
        if not chunks or len(chunks[-1].rows) >= size:
            chunks.append(_Chunk(len(chunks)))
        chunk = chunks[-1]
        chunk.rows.extend(group)
        if doc_id in known:
            chunk.known.add(doc_id)
        elif not doc_id.startswith("\0"):
            name = next(n for n in name_candidates(doc_id, ".yaml", doc_id) if n.casefold() not in taken)
            taken.add(name.casefold())
            chunk.names[doc_id] = name
    return chunks


def _row_id(cells: list[str], layout: _Layout) -> str:
    """The id a row's record will have: its first id cell with a value (as :func:`_record` reads it)."""
    for i in layout.order:
        if layout.targets[i] == "id" and i < len(cells) and cells[i].strip():
            return cells[i].strip()
    return ""


def _import_chunk(path: Path, layout: _Layout, kb: KnowledgeBase, staging: Path, chunk: _Chunk
                  ) -> tuple[Path | None, list[tuple[int, Problem | str]]]:
    """Runs in a worker: check each row of ``chunk``, write the new ones as sidecars and index
    them into a segment of their own. Returns the segment's folder and, for each row by number,
    its problem or what became of it: unchanged, indexed, or written only (its planned
    name was taken meanwhile: the sync after the import indexes it).

    A row's whole work happens here, so its record is never read back from the
    sidecar or sent between processes. A sidecar already there with the very text
    to write is taken as written: an earlier try at this chunk wrote it and died.
    Rows go a batch at a time through each step (check, write, index): a step's code
    and data then stay in the processor's caches, which takes 9% less time than
    taking each row through all three.
    """
    vocab = Vocabulary.load(kb.root)
    outcomes: list[tuple[int, Problem | str]] = []
    seen: dict[str, int] = {}
    scratch = staging / f"{chunk.number}.sidecars"
    scratch.mkdir(exist_ok=True)
    with ChunkSegment(staging, chunk.number) as segment:
        for start in range(0, len(chunk.rows), BATCH):
            segment.count(start)
            checked = _check_rows(chunk, chunk.rows[start:start + BATCH], path, layout, vocab, seen, outcomes)
            written = [(number, record, *_write(kb.corpus, scratch, chunk.names.get(record["id"]), record["id"],
                                                dump(record)))
                       for number, record in checked]
            for number, record, target, stat in written:
                if target.name != chunk.names.get(record["id"]):
                    outcomes.append((number, "written"))
                    continue
                # Stamped as written: a sidecar changed since (or a document of its stem put beside
                # it) makes the sync after the import read it again.
                prepared = prepare(kb, Entry(target.name, target, None), records_only=True,
                                   written=(stamp_of(target.name, stat, None), record), vocab=vocab)
                assert prepared is not None and prepared.fields is not None  # a record alone is always indexed
                segment.add(prepared.fields)
                outcomes.append((number, "indexed"))
        return segment.finish(), outcomes


def _check_rows(chunk: _Chunk, rows: list[_Row], path: Path, layout: _Layout, vocab: Vocabulary,
                seen: dict[str, int], outcomes: list[tuple[int, Problem | str]]) -> list[tuple[int, dict[str, Any]]]:
    """(number, record) of each new, valid row of ``rows``; a refused row, or one whose id the
    index has, goes to ``outcomes``. ``seen`` holds the first row of each id of the chunk so far."""
    checked = []
    for line, number, cells in rows:
        where = f"{path}:{line}"
        try:
            record = _record(cells, layout, where, vocab)
            if record["id"] in seen:
                raise MetadataError(where, f"'{record['id']}' is also the id of row {seen[record['id']]}", key="id")
        except MetadataError as exc:
            outcomes.append((number, _problem(where, exc, number, layout)))
            continue
        seen[record["id"]] = number
        if record["id"] in chunk.known:
            outcomes.append((number, "unchanged"))
        else:
            checked.append((number, record))
    return checked


def _write(corpus: Path, scratch: Path, name: str | None, doc_id: str, text: str) -> tuple[Path, os.stat_result]:
    """Write a sidecar under its planned name, or a free one if that was taken meanwhile;
    returns where, and its stat as written."""
    if orphaned():
        os._exit(1)
    target = corpus / name if name else free_name(corpus, doc_id, ".yaml", doc_id)
    if target.exists():
        try:
            if target.read_text(encoding="utf-8") == text:
                return target, os.stat(target)
        except (OSError, UnicodeDecodeError):
            pass
        target = free_name(corpus, doc_id, ".yaml", doc_id)
    return target, write_text_via(scratch, target, text)


def _problem(where: str, exc: MetadataError, number: int, layout: _Layout) -> Problem:
    """A refused row, named by its place in the file, its number and the column at fault."""
    column = layout.column(exc.key)
    return Problem(where, f"row {number}: {column}: {exc.problem}" if column else f"row {number}: {exc.problem}")


def _decode(path: Path, encoding: str) -> tuple[str, str]:
    """The file's text and the encoding it was read in; ``auto`` tries UTF-8, then Big5."""
    if encoding != "auto" and encoding not in ENCODINGS:
        raise UsageError(f"--encoding {encoding!r}: expected auto, utf-8 or big5")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    tried = [encoding] if encoding != "auto" else ["utf-8", "big5"]
    failures = []
    for name in tried:
        try:
            return data.decode(ENCODINGS[name]), name
        except UnicodeDecodeError as exc:
            failures.append(f"{name} text (byte {_where_bad(data, exc)})")
    raise CatalogueError(f"{path}: not {' or '.join(failures)}; try --encoding")


def _where_bad(data: bytes, exc: UnicodeDecodeError) -> str:
    """The first byte a codec refused, by its offset in the file and its line.

    The offset is counted in ``data`` itself: utf-8-sig counts from after the
    byte-order mark, so ``exc.start`` alone is three bytes short.
    """
    at = exc.start + (len(data) - len(exc.object))
    line = data.count(b"\n", 0, at) + 1
    return f"{data[at]:#04x} at offset {at}, line {line}"


def _rows(text: str, path: Path | str = "the catalogue") -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, cells) for each row; a quoted cell may span lines.

    Read strictly: a quote left open would otherwise swallow the rows after it
    into one cell, silently. A CatalogueError names the row where it opens.
    A cell may be as long as the file (an abstract runs past the csv module's
    default limit of 131,072 characters).
    """
    first = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=lambda d: sum(_heading(c) in COLUMNS or _heading(c) in FIELDS
                                                   for c in first.split(d)))
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise CatalogueError(f"{path}:{line}: {_quote_problem(str(exc), reader.line_num)}; "
                             "nothing was imported") from None


def _quote_problem(error: str, at: int) -> str:
    """The csv module's complaint about the row, in words that say what to mend."""
    if "end of data" in error:
        return "a quote opened in this row is never closed (the file ends inside it)"
    if "expected after" in error:
        return (f"a quote in this row ends a cell on line {at}, but text follows it there "
                "(a quote missing, or one too many?)")
    return f"this row cannot be read as CSV ({error})"


def _heading(name: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).strip('"')


@dataclass
class _Layout:
    """The file's columns: heading and field of each cell, and the order they are read in."""

    headings: list[str]
    targets: list[str]
    order: list[int]  # cell indexes, the column that wins a field first

    def column(self, target: str | None) -> str | None:
        """The column a field came from, to name it in a message."""
        return next((self.headings[i] for i in self.order if self.targets[i].split(".")[0] == target), target)


def _columns(path: Path, header: list[str], mapping: dict[str, str], report: ImportReport) -> _Layout:
    headings = [_heading(h) for h in header]
    missing = [c for c in mapping if c not in headings]
    if missing:
        raise UsageError(f"--map: no column {', '.join(missing)} in {path} "
                         f"(its columns: {', '.join(headings)})")
    targets = [mapping.get(h, COLUMNS.get(h, h if h in FIELDS else "")) for h in headings]
    if "id" not in targets:
        raise CatalogueError(f"{path}: no 系統識別號 (id) column; name one with --map COLUMN=id")
    ignored = [h for h, t in zip(headings, targets) if not t and h not in mapping]
    if ignored:
        report.warnings.append(f"{path}: columns not imported: {', '.join(ignored)} "
                               f"(use --map COLUMN=FIELD to import one)")
    rank = {name: n for n, name in enumerate(list(mapping) + list(COLUMNS))}
    order = sorted(range(len(headings)), key=lambda i: rank.get(headings[i], len(rank)))
    return _Layout(headings, targets, order)


def _record(cells: list[str], layout: _Layout, where: str, vocab: Vocabulary) -> dict[str, Any]:
    """One row as a checked sidecar record; MetadataError names the field at fault."""
    if len(cells) > len(layout.headings):
        raise MetadataError(where, f"has {len(cells)} cells, the header {len(layout.headings)}")
    raw: dict[str, Any] = {}
    for i in layout.order:
        target, value = layout.targets[i], (cells[i] if i < len(cells) else "").strip()
        if target and value and target not in raw:
            raw[target] = _convert(target, value, where, vocab)
    trip = {k: raw.pop(f"trip.{k}") for k in ("start", "end") if f"trip.{k}" in raw}
    if trip:
        raw.setdefault("trip", trip)
    if not raw.get("id"):
        raise MetadataError(where, "missing: every row needs an id", key="id")
    raw.setdefault("type", "report")
    if "events" not in raw:
        raw["events"] = vocab.detect_orgs("\n".join(str(raw.get(k, "")) for k in ("title", "keywords", "abstract")))
    return validated({k: v for k, v in raw.items() if v != []}, where, vocab)[0]


def _convert(target: str, value: str, where: str, vocab: Vocabulary) -> Any:
    """A cell's text as the value its field holds; MetadataError when it cannot be."""
    key = target.split(".")[0]
    try:
        if target == "trip":
            start, end = parse_range(value)
            return {"start": start} | ({"end": end} if end else {})
        if target in ("trip.start", "trip.end", "report_date"):
            return parse_date(value)
    except DateError as exc:
        raise MetadataError(where, str(exc), key=key) from None
    if target == "countries":
        found = vocab.countries_from_text(value)
        if not found:
            raise MetadataError(where, f"no known country in '{value}'", key=key)
        return found
    if target == "authors":
        return people(display_form(value)) or value
    if target in ("participants", "pages", "year"):
        m = _COUNT.fullmatch(value)
        if not m:
            raise MetadataError(where, f"expected a whole number, found '{value}'", key=key)
        return int(m.group(1))
    return value
