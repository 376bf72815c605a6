"""Keep the index in step with ``corpus/``: add what is new, redo what changed, drop what left.

A document is re-read only when its sidecar or file changed (size or mtime):
the index keeps one ``stamp`` term per document and the whole comparison is
a directory scan plus one pass over that term list.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ExtractError, KBIndexError, MetadataError
from .extract import Extracted, extract
from .index import create_index, document_fields, live_values, open_index, status
from .kb import DOCUMENT_SUFFIXES, KnowledgeBase
from .metadata import read_sidecar, to_json
from .ocr import Mode, Ocr, PageProgress
from .vocab import Vocabulary

#: progress(done, total, label): how long work reports itself; the CLI draws it.
Progress = Callable[[int, int, str], None]


@dataclass
class Problem:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Entry:
    """One document of the corpus: its sidecar and/or its file."""

    key: str
    sidecar: Path | None
    document: Path | None

    def stamp(self) -> str:
        parts = [self.key]
        for path in (self.sidecar, self.document):
            try:
                st = path.stat() if path else None
            except OSError:
                st = None
            parts.append(f"{st.st_mtime_ns}.{st.st_size}" if st else "-")
        return ":".join(parts)


def corpus_entries(kb: KnowledgeBase) -> Iterator[Entry]:
    for sidecar in kb.sidecars():
        stem_doc = next((p for p in map(sidecar.with_suffix, DOCUMENT_SUFFIXES) if p.exists()), None)
        yield Entry(sidecar.relative_to(kb.corpus).as_posix(), sidecar, stem_doc)
    for doc in kb.orphan_documents():
        yield Entry(doc.relative_to(kb.corpus).as_posix(), None, doc)


@dataclass
class Prepared:
    """An entry turned into index fields, or the reason it could not be."""

    entry: Entry
    fields: dict[str, Any] | None
    problems: list[Problem]
    warnings: list[str]


def prepare(kb: KnowledgeBase, entry: Entry, extracted: Extracted | None = None,
            ocr: Ocr | None = None, on_page: PageProgress | None = None) -> Prepared:
    """Read the sidecar, extract the text (OCR as ``ocr`` says) and build the index fields of one entry.

    A document whose text cannot be extracted, or that has no usable text
    (a scan without Tesseract), is still indexed from its metadata (nothing
    known is ever dropped) and reported as a problem. A
    sidecar that cannot be read yields no fields: its last indexed version,
    if any, stays searchable until the sidecar is mended.
    """
    problems: list[Problem] = []
    record: dict[str, Any] = {}
    warnings: list[str] = []
    document = entry.document
    try:
        if entry.sidecar:
            record, warnings = read_sidecar(entry.sidecar)
            document = kb.document_path(entry.sidecar, record.get("file"))
        elif document is not None:
            kb.inside(document, document, document.name)
    except MetadataError as exc:
        where = kb.relative(Path(exc.path)) + (f":{exc.line}" if exc.line else "")
        reason = f"{exc.key}: {exc.problem}" if exc.key else exc.problem
        return Prepared(entry, None, [Problem(where, reason)], [])
    pages: list[str] = []
    info_title = first_line = None
    paged = True
    if document is not None:
        if not document.exists():
            problems.append(Problem(kb.relative(entry.sidecar or document),
                                    f"file: {kb.relative(document)} does not exist (indexed as metadata only)"))
            document = None
        else:
            try:
                got = extracted or extract(document, ocr, on_page)
                pages, info_title, first_line, paged = got.pages, got.info_title, got.first_line, got.paged
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
    fields = document_fields(entry.key, entry.stamp(), to_json(record),
                             f"corpus/{rel_file}" if rel_file else None, pages, Vocabulary.load(kb.root), paged)
    return Prepared(entry, fields, problems, warnings)


def indexed_stamps(ix) -> dict[str, str]:
    """key → stamp for every indexed document, read from one column alone."""
    with ix.reader() as reader:
        return {stamp.rsplit(":", 2)[0]: stamp for stamp in live_values(reader, "stamp")}


def sync(kb: KnowledgeBase, progress: Progress | None = None, rebuild: bool = False,
         mapper: Callable[[Callable, Iterable], Iterable] = map, ocr: Ocr | Mode = "auto") -> SyncReport:
    """Bring the index up to date with ``corpus/``; rebuild it whole when asked or when it is outdated.

    ``ocr`` is a running :class:`Ocr` to share, or the mode for one of its own.
    """
    if not isinstance(ocr, Ocr):
        with Ocr(ocr, kb.ocr_cache) as own:
            return sync(kb, progress, rebuild, mapper, own)
    if rebuild or status(kb.index_dir):
        return _rebuild(kb, progress, mapper, ocr)
    ix = open_index(kb.index_dir)
    indexed = indexed_stamps(ix)
    entries = list(corpus_entries(kb))
    current = {e.key for e in entries}
    todo = [e for e in entries if indexed.get(e.key) != e.stamp()]
    gone = [k for k in indexed if k not in current]
    report = SyncReport(unchanged=len(entries) - len(todo))
    if not todo and not gone:
        return report
    with _writer(ix) as writer:
        for key in gone:
            writer.delete_by_term("key", key)
            report.removed += 1
        _write(kb, writer, todo, indexed, report, progress, mapper, ocr)
    return report


def _rebuild(kb: KnowledgeBase, progress: Progress | None, mapper, ocr: Ocr) -> SyncReport:
    """Build a complete new index beside the old one, then swap it in."""
    entries = list(corpus_entries(kb))
    fresh = kb.root / f"index.new-{os.getpid()}"
    shutil.rmtree(fresh, ignore_errors=True)
    report = SyncReport()
    try:
        ix = create_index(fresh)
        with _writer(ix) as writer:
            _write(kb, writer, entries, {}, report, progress, mapper, ocr)
        ix.close()
        old = kb.root / f"index.old-{os.getpid()}"
        if kb.index_dir.exists():
            os.replace(kb.index_dir, old)
        os.replace(fresh, kb.index_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return report


def _write(kb, writer, entries: list[Entry], indexed: dict[str, str], report: SyncReport,
           progress: Progress | None, mapper, ocr: Ocr) -> None:
    total = len(entries)
    finished = 0

    def work(entry: Entry) -> Prepared:
        def on_page(done: int, pages: int) -> None:
            if progress:
                progress(finished, total, f"{entry.key}: OCR page {done}/{pages}")

        return prepare(kb, entry, ocr=ocr, on_page=on_page)

    for done, prepared in enumerate(mapper(work, entries), 1):
        finished = done
        report.problems.extend(prepared.problems)
        report.warnings.extend(prepared.warnings)
        if prepared.fields is not None:
            writer.update_document(**prepared.fields)
            if prepared.entry.key in indexed:
                report.updated += 1
            else:
                report.added += 1
        if progress:
            progress(done, total, prepared.entry.key)


class _writer:
    """A Whoosh writer that commits on success and cancels on any error."""

    def __init__(self, ix, timeout: float = 10.0):
        from whoosh.index import LockError

        try:
            self.w = ix.writer(timeout=timeout, limitmb=128)
        except LockError:
            raise KBIndexError("another tripkb process is writing to this index; "
                               "try again when it has finished") from None

    def __enter__(self):
        return self.w

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.w.commit()
        else:
            self.w.cancel()
        return False


def refresh(kb: KnowledgeBase, progress: Progress | None = None) -> SyncReport | None:
    """Sync before reading; when another process holds the writer, read what is there.

    Returns None when the index was left as it was because it is busy.
    """
    try:
        return sync(kb, progress)
    except KBIndexError:
        if status(kb.index_dir):
            raise
        return None
