"""Import a catalogue export (one row per report) as metadata-only records.

Catalogues come from the government's trip-report site or a library's own
system as CSV, in UTF-8 (often with a BOM) or Big5, with ROC dates. Each row
becomes ``corpus/<id>.yaml``, checked exactly like a sidecar, and the index is
then brought up to date. A bad row is reported by its number and skipped; the
rest is imported. Records already in the KB are left alone.

A catalogue is read as a stream, twice: once to check its encoding, header and
ids, once to hand its rows to the workers a chunk at a time, so memory holds the
ids and the chunks in flight, never the file. Refused rows are listed up to
:data:`LISTED_PROBLEMS`, the rest counted.

Catalogues run to tens of thousands of rows, so the rows are imported on
every core, in chunks: the worker that checks a row also writes its sidecar
and indexes the record into a segment of its own, which this process takes
into the index. Sidecars are written without one fsync each: :func:`os.sync`
runs once at the end.
"""

from __future__ import annotations

import codecs
import csv
import heapq
import itertools
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import CatalogueError, DateError, ExtractError, MetadataError, UsageError
from ..fsutil import free_name, name_candidates, read_regular, write_text_via
from ..index.analysis import preload
from ..index.batch_writer import BatchWriter
from ..index.bulk import ChunkSegment, Staging, chunk_size
from ..index.corpus import Entry, stamp_of
from ..index.prepare import prepare
from ..index.schema import live_values, open_index
from ..index.sync import BULK_MIN, SyncReport, sync_locked
from ..kb import KnowledgeBase
from ..lock import writer_lock
from ..meta.cover import people
from ..meta.dates import parse_date, parse_range
from ..meta.sidecar import KEYS, dump
from ..meta.validate import validated
from ..meta.vocab import Vocabulary
from ..reporting import Problem, Progress
from ..text.normalise import display_form
from ..workers import bounded_map, default_workers, orphaned

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
FIELDS = tuple(k for k in KEYS if k not in ("file", "sha256", "sections", "extracted")) + ("trip.start", "trip.end")
ENCODINGS = {"utf-8": "utf-8-sig", "big5": "cp950"}  # cp950 is Big5 as Windows writes it
#: (line where the row starts, its number among the non-blank rows, its cells)
_Row = tuple[int, int, list[str]]
_COUNT = re.compile(r"(\d{1,18})\s*[人頁页]?")  # more digits than a count has: refused, not given to int()
#: Rows a worker takes through each step of the import at a time (see :func:`_import_chunk`).
BATCH = 100
_DELIMITERS = (",", "\t", ";")
#: Refused rows listed one by one; any more are counted (a broken file can refuse a million).
LISTED_PROBLEMS = 100


@dataclass
class ImportReport:
    added: int = 0
    unchanged: int = 0
    rows: int = 0
    #: the first :data:`LISTED_PROBLEMS` refused rows, in file order
    problems: list[Problem] = field(default_factory=list)
    refused: int = 0
    warnings: list[str] = field(default_factory=list)
    encoding: str = ""
    synced: SyncReport | None = None

    def to_json(self) -> dict[str, Any]:
        """What ``import-csv --json`` prints: the counts, the refused rows listed (all of them are
        ``rows - added - unchanged``), and what the index did."""
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
    report.encoding = _encoding(path, encoding)
    with _open(path, report.encoding) as fh:
        rows = _rows(fh, path)
        header = next(rows, None)
        if header is None:
            raise CatalogueError(f"{path}: empty file: expected a header row of column names")
        layout = _columns(path, header[1], mapping or {}, report)  # no id column: refused before reading on
        groups = Counter(key for key, _ in _keyed(_numbered(rows), layout))
    report.rows = sum(groups.values())
    with writer_lock(kb):
        before = sync_locked(kb, progress)
        indexed = _import_rows(kb, path, layout, groups, report, progress)
        if report.added:
            os.sync()  # the sidecars, flushed once: written without an fsync each
        after = sync_locked(kb, progress)  # rows whose planned name was taken meanwhile, and any other change
    report.synced = SyncReport(
        added=before.added + indexed + after.added, updated=before.updated + after.updated,
        removed=before.removed + after.removed,
        unchanged=max(0, after.unchanged - indexed - before.added - before.updated),
        problems=before.problems + after.problems, warnings=before.warnings + after.warnings)
    return report


def _import_rows(kb: KnowledgeBase, path: Path, layout: _Layout, groups: Counter[str], report: ImportReport,
                 progress: Progress | None) -> int:
    """Import the rows (``groups``: see :func:`_keyed`) in chunks on every core (see
    :func:`_import_chunk`), reading the file again to fill each chunk and taking each chunk's
    segment into the index as it is done; fills ``report`` and returns how many rows were indexed."""
    ix = open_index(kb.index_dir)
    with ix.searcher() as searcher:
        known = set(live_values(searcher.reader(), "id"))
    total = sum(groups.values())
    workers = default_workers() if total >= BULK_MIN else 0
    if workers:
        preload()
    indexed, done = 0, 0
    listed: list[tuple[int, Problem]] = []  # the first problems by row number, as a heap of (-number, problem)
    chunks, where = _plan(kb, groups, known, workers)
    with Staging(kb) as staging, BatchWriter(ix) as writer, _open(path, report.encoding) as fh:
        if staging is None:
            raise CatalogueError(f"{kb.root}: cannot make a folder for the new index segments "
                                 "(is the disk full or read-only?)")

        def show(label: str, ahead: int = 0) -> None:
            if progress:
                progress(min(done + ahead, total), total, label)

        rows = _rows(fh, path)
        next(rows, None)  # the header
        jobs = bounded_map(partial(_import_chunk, path, layout, kb, staging.folder),
                           _filled(path, _keyed(_numbered(rows), layout), chunks, where), workers=workers,
                           waiting=lambda: show("importing rows", staging.running()))
        for chunk, result in jobs:
            staging.settled(chunk.number)
            if isinstance(result, ExtractError):  # the worker died: redo here, where errors show
                result = _import_chunk(path, layout, kb, staging.folder, chunk)
            folder, outcomes = result
            writer.adopt(folder)
            for number, outcome in outcomes:
                if isinstance(outcome, Problem):
                    report.refused += 1
                    heapq.heappush(listed, (-number, outcome))
                    if len(listed) > LISTED_PROBLEMS:
                        heapq.heappop(listed)  # the latest row of those listed goes
                elif outcome == "unchanged":
                    report.unchanged += 1
                else:
                    report.added += 1
                    indexed += outcome == "indexed"
            done += len(chunk.rows)
            chunk.rows, chunk.names = [], {}  # imported: only the ids in flight stay held
            show(f"row {done}", staging.running())
    report.problems = [problem for _, problem in sorted(listed, key=lambda p: -p[0])]
    return indexed


@dataclass
class _Chunk:
    """Rows imported by one worker into one segment."""

    number: int
    #: how many rows it takes: it is handed on once all are read
    size: int = 0
    rows: list[_Row] = field(default_factory=list)
    #: id → the sidecar name its row takes (free in corpus/ when planned), for the new ids of these rows
    names: dict[str, str] = field(default_factory=dict)
    #: ids of these rows that are in the index already
    known: set[str] = field(default_factory=set)


def _keyed(rows: Iterator[_Row], layout: _Layout) -> Iterator[tuple[str, _Row]]:
    """Each row with the key of its group: its id, or for a run of rows without one, NUL and
    the number of the run's first row (rows without an id are refused, so they need no group
    of their own: each run is kept together, in its place)."""
    run = ""
    for row in rows:
        doc_id = _row_id(row[2], layout)
        if doc_id:
            run = ""
            yield doc_id, row
        else:
            run = run or f"\0{row[1]}"
            yield run, row


def _plan(kb: KnowledgeBase, groups: Counter[str], known: set[str], workers: int
          ) -> tuple[list[_Chunk], dict[str, int]]:
    """The chunks for the workers, still without their rows, and the chunk of each group.

    Rows with one id are put in one chunk (the first valid one is imported, the
    others refused), and every id gets its own name, free in corpus/ and among
    the others (compared without case, as some file systems do), so workers never
    write over one another. Names are planned from one listing of corpus/.
    """
    taken = {name.casefold() for name in os.listdir(kb.corpus)}
    size = chunk_size(sum(groups.values()), workers)
    chunks: list[_Chunk] = []
    where: dict[str, int] = {}
    for key, count in groups.items():
        if not chunks or chunks[-1].size >= size:
            chunks.append(_Chunk(len(chunks)))
        chunk = chunks[-1]
        chunk.size += count
        where[key] = chunk.number
        if key in known:
            chunk.known.add(key)
        elif not key.startswith("\0"):
            name = next(n for n in name_candidates(key, ".yaml", key) if n.casefold() not in taken)
            taken.add(name.casefold())
            chunk.names[key] = name
    return chunks, where


def _filled(path: Path, rows: Iterator[tuple[str, _Row]], chunks: list[_Chunk], where: dict[str, int]
            ) -> Iterator[_Chunk]:
    """Each chunk as soon as all its rows are read, so that only the rows of chunks still
    filling are held."""
    handed = 0
    for key, row in rows:
        if key not in where:
            raise CatalogueError(f"{path}: the file changed while it was being imported; import it again")
        chunk = chunks[where[key]]
        chunk.rows.append(row)
        if len(chunk.rows) == chunk.size:
            handed += 1
            yield chunk
    if handed != len(chunks):
        raise CatalogueError(f"{path}: the file changed while it was being imported; import it again")


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
    and data then stay in the processor's caches, which is cheaper than taking
    each row through all three.
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
            written = [(number, record, *_write_sidecar(kb.corpus, scratch, chunk.names.get(record["id"]), record["id"],
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


def _write_sidecar(corpus: Path, scratch: Path, name: str | None, doc_id: str, text: str) -> tuple[Path, os.stat_result]:
    """Write a sidecar under its planned name, or a free one if that was taken meanwhile;
    returns where, and its stat as written."""
    if orphaned():
        os._exit(1)
    target = corpus / name if name else free_name(corpus, doc_id, ".yaml", doc_id)
    if os.path.lexists(target):
        try:
            if read_regular(target).decode("utf-8") == text:  # never read through a link
                return target, os.stat(target)
        except (OSError, UnicodeDecodeError):
            pass
        target = free_name(corpus, doc_id, ".yaml", doc_id)
    return target, write_text_via(scratch, target, text)


def _problem(where: str, exc: MetadataError, number: int, layout: _Layout) -> Problem:
    """A refused row, named by its place in the file, its number and the column at fault."""
    column = layout.column(exc.key)
    return Problem(where, f"row {number}: {column}: {exc.problem}" if column else f"row {number}: {exc.problem}")


def _encoding(path: Path, encoding: str) -> str:
    """The encoding the file is in: the one asked for, or with ``auto`` UTF-8, else Big5;
    checked over the whole file, a block at a time."""
    if encoding != "auto" and encoding not in ENCODINGS:
        raise UsageError(f"--encoding {encoding!r}: expected auto, utf-8 or big5")
    tried = [encoding] if encoding != "auto" else ["utf-8", "big5"]
    failures = []
    for name in tried:
        failure = _first_bad_byte(path, _SCAN_CODECS[name])
        if failure is None:
            return name
        offset, byte, line = failure
        failures.append(f"{name} text (byte {byte:#04x} at offset {offset}, line {line})")
    raise CatalogueError(f"{path}: not {' or '.join(failures)}; try --encoding")


#: The codec each encoding is checked with: plain UTF-8 (a byte-order mark is valid UTF-8),
#: so that the offset of a bad byte is counted from the file's first byte.
_SCAN_CODECS = {"utf-8": "utf-8", "big5": "cp950"}


def _first_bad_byte(path: Path, codec: str) -> tuple[int, int, int] | None:
    """(offset, value, line) of the first byte that is not text in ``codec``; None if all is."""
    decoder = codecs.getincrementaldecoder(codec)()
    offset = lines = 0
    try:
        with path.open("rb") as fh:
            for block in itertools.chain(iter(lambda: fh.read(1 << 20), b""), [None]):
                pending = decoder.getstate()[0]  # the bytes of a character cut by the last block
                try:
                    decoder.decode(block or b"", final=block is None)
                except UnicodeDecodeError as exc:
                    at = offset - len(pending) + exc.start
                    return at, exc.object[exc.start], lines + (block or b"").count(b"\n", 0, max(0, at - offset)) + 1
                if block:
                    offset += len(block)
                    lines += block.count(b"\n")
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return None


def _open(path: Path, encoding: str):
    """The catalogue as text in ``encoding`` (a key of :data:`ENCODINGS`), for :func:`_rows`."""
    try:
        return path.open(encoding=ENCODINGS[encoding], newline="")
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _rows(fh, path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, cells) for each row of the open file; a quoted cell may span lines.

    Read strictly: a quote left open would otherwise swallow the rows after it
    into one cell, silently. A CatalogueError names the row where it opens.
    A cell may be as long as the file (an abstract runs past the csv module's
    default limit of 131,072 characters).
    """
    first = fh.readline(1 << 16)
    fh.seek(0)
    delimiter = max(_DELIMITERS, key=lambda d: sum(_heading(c) in COLUMNS or _heading(c) in FIELDS
                                                   for c in first.split(d)))
    csv.field_size_limit(max(csv.field_size_limit(), os.fstat(fh.fileno()).st_size))
    reader = csv.reader(fh, delimiter=delimiter, strict=True)
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


def _numbered(rows: Iterator[tuple[int, list[str]]]) -> Iterator[_Row]:
    """The rows that are not blank, each with its number among them."""
    number = 0
    for line, cells in rows:
        if any(c.strip() for c in cells):
            number += 1
            yield line, number, cells


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
            raw[target] = _cell_value(target, value, where, vocab)
    trip = {k: raw.pop(f"trip.{k}") for k in ("start", "end") if f"trip.{k}" in raw}
    if trip:
        raw.setdefault("trip", trip)
    if not raw.get("id"):
        raise MetadataError(where, "missing: every row needs an id", key="id")
    raw.setdefault("type", "report")
    if "events" not in raw:
        raw["events"] = vocab.detect_orgs("\n".join(str(raw.get(k, "")) for k in ("title", "keywords", "abstract")))
    return validated({k: v for k, v in raw.items() if v != []}, where, vocab)[0]


def _cell_value(target: str, value: str, where: str, vocab: Vocabulary) -> Any:
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
