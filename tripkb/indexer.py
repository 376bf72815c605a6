"""Keep the index in step with ``corpus/``: add what is new, redo what changed, drop what left.

A document is re-read only when its sidecar or file changed (size or mtime):
the index keeps one ``stamp`` term per document and the whole comparison is
a directory scan plus one pass over that term list.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ExtractError, KBIndexError, MetadataError
from .extract import Extracted, extract
from .index import create_index, document_fields, live_values, open_index, status
from .kb import DOCUMENT_SUFFIXES, KnowledgeBase
from .metadata import read_sidecar, to_json
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
        return stamp(self.key, self.sidecar, self.document)


def stamp(key: str, *paths: str | os.PathLike | None) -> str:
    """What tells that a document changed: its key, then mtime and size of each file ('-': none)."""
    parts = [key]
    for path in paths:
        try:
            st = os.stat(path) if path else None
        except OSError:
            st = None
        parts.append(f"{st.st_mtime_ns}.{st.st_size}" if st else "-")
    return ":".join(parts)


Layout = list[tuple[str, str | None, str | None]]


def corpus_layout(kb: KnowledgeBase) -> Layout:
    """(key, sidecar, document) as '/'-paths relative to ``corpus/``: each sidecar with its
    same-stem PDF if there is one, then each PDF without a sidecar. Plain strings, so that
    a corpus of 60,000 records is compared with the index in well under a second."""
    files = kb.corpus_files()
    present = set(files)
    layout: Layout = []
    for rel in files:
        if rel.endswith(".yaml"):
            document = rel[:-len(".yaml")] + ".pdf"
            layout.append((rel, rel, document if document in present else None))
    for rel in files:
        stem, _, suffix = rel.rpartition(".")
        if f".{suffix.lower()}" in DOCUMENT_SUFFIXES and f"{stem}.yaml" not in present:
            layout.append((rel, None, rel))
    return layout


def _entries(kb: KnowledgeBase, layout: Layout) -> list[Entry]:
    corpus = kb.corpus
    return [Entry(key, corpus / sidecar if sidecar else None, corpus / document if document else None)
            for key, sidecar, document in layout]


def corpus_entries(kb: KnowledgeBase) -> list[Entry]:
    return _entries(kb, corpus_layout(kb))


@dataclass
class Prepared:
    """An entry turned into index fields, or the reason it could not be."""

    entry: Entry
    fields: dict[str, Any] | None
    problems: list[Problem]
    warnings: list[str]


def prepare(kb: KnowledgeBase, entry: Entry, extracted: Extracted | None = None) -> Prepared:
    """Read the sidecar, extract the text and build the index fields of one entry.

    A document whose text cannot be extracted is still indexed from its
    metadata (nothing known is ever dropped) and reported as a problem. A
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
    if document is not None:
        if not document.exists():
            problems.append(Problem(kb.relative(entry.sidecar or document),
                                    f"file: {kb.relative(document)} does not exist (indexed as metadata only)"))
            document = None
        else:
            try:
                got = extracted or extract(document)
                pages, info_title, first_line = got.pages, got.info_title, got.first_line
            except ExtractError as exc:
                problems.append(Problem(kb.relative(document), f"{exc} (indexed from its metadata only)"))
    stem = Path(entry.key).stem
    record.setdefault("id", stem)
    record.setdefault("title", info_title or first_line or stem)
    record.setdefault("type", "other")
    rel_file = document.relative_to(kb.corpus).as_posix() if document else None
    if rel_file:
        record["file"] = rel_file
    if document is not None and "pages" not in record:
        record["pages"] = len(pages)
    fields = document_fields(entry.key, entry.stamp(), to_json(record),
                             f"corpus/{rel_file}" if rel_file else None, pages, Vocabulary.load(kb.root))
    return Prepared(entry, fields, problems, warnings)


def indexed_stamps(ix) -> dict[str, str]:
    """key → stamp for every indexed document, read from one column alone."""
    with ix.reader() as reader:
        return {stamp.rsplit(":", 2)[0]: stamp for stamp in live_values(reader, "stamp")}


def sync(kb: KnowledgeBase, progress: Progress | None = None, rebuild: bool = False,
         mapper: Callable[[Callable, Iterable], Iterable] = map) -> SyncReport:
    """Bring the index up to date with ``corpus/``; rebuild it whole when asked or when it is outdated."""
    if rebuild or status(kb.index_dir):
        return _rebuild(kb, progress, mapper)
    ix = open_index(kb.index_dir)
    indexed = indexed_stamps(ix)
    layout = corpus_layout(kb)
    base = os.path.join(kb.corpus, "")
    todo = _entries(kb, [(key, sidecar, document) for key, sidecar, document in layout
                         if indexed.get(key) != stamp(key, sidecar and base + sidecar,
                                                      document and base + document)])
    current = {key for key, _, _ in layout}
    gone = [k for k in indexed if k not in current]
    report = SyncReport(unchanged=len(layout) - len(todo))
    if not todo and not gone:
        return report
    with _writer(ix) as writer:
        for key in gone:
            writer.delete_by_term("key", key)
            report.removed += 1
        _write(kb, writer, todo, indexed, report, progress, mapper)
    return report


def _rebuild(kb: KnowledgeBase, progress: Progress | None, mapper) -> SyncReport:
    """Build a complete new index beside the old one, then swap it in."""
    entries = list(corpus_entries(kb))
    fresh = kb.root / f"index.new-{os.getpid()}"
    shutil.rmtree(fresh, ignore_errors=True)
    report = SyncReport()
    try:
        ix = create_index(fresh)
        with _writer(ix) as writer:
            _write(kb, writer, entries, {}, report, progress, mapper)
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
           progress: Progress | None, mapper) -> None:
    total = len(entries)
    for done, prepared in enumerate(mapper(lambda e: prepare(kb, e), entries), 1):
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
