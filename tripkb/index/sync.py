"""Keep the index in step with ``corpus/``: add what is new, redo what changed, drop what left.

A document is re-read only when its sidecar or file changed (size or mtime):
the index keeps one ``stamp`` term per document and the whole comparison is
a directory scan plus one pass over that column.

Only one process writes at a time (:mod:`lock`); documents are read on all
cores with a time and memory bound each (:mod:`workers`); the index is
committed in batches (thousands of documents or a minute of work), so a
crash loses at most the last batch of index work, which the next sync
redoes from ``corpus/``. Pages that need OCR come
back from the workers unfinished and are OCRed here, page by page on every
core (:mod:`text.ocr`), a few documents ahead of the one being indexed.
"""

from __future__ import annotations

import math
import os
import shutil
from collections import deque
from functools import partial

from ..errors import ExtractError
from ..fsutil import TEMPORARY_MARK, clear_temporary, temporary_folder
from ..kb import KnowledgeBase
from ..lock import writer_lock
from ..reporting import Problem, Progress, SyncReport
from ..text.extract import Extracted, Pending, begin, choose
from ..text.ocr import Mode, Ocr
from ..workers import bounded_map, workers_for
from .analysis import preload
from .batch_writer import BatchWriter
from .bulk import index_in_bulk
from .corpus import Entry, changed, corpus_entries, corpus_layout, known_stamps, layout_entries
from .prepare import Prepared, prepare
from .schema import create_index, open_index, status


#: Prefixes of tripkb's temporary folders beside ``index/``: a rebuild's new and old index, bulk segments.
NEW_INDEX = "index.new-"
OLD_INDEX = "index.old-"
#: Documents whose OCR is started ahead of the one being finished, so no core waits.
LOOKAHEAD = 2


def sync(kb: KnowledgeBase, progress: Progress | None = None, rebuild: bool = False,
         workers: int | None = None, ocr: Ocr | Mode = "auto", extractor: str | None = None) -> SyncReport:
    """Bring the index up to date with ``corpus/``; rebuild it whole when asked or when it is outdated.

    ``ocr`` is a running :class:`Ocr` to share, or the mode for one of its own.
    """
    choose(extractor)
    with writer_lock(kb):
        return sync_locked(kb, progress, rebuild, workers, ocr)


def sync_locked(kb: KnowledgeBase, progress: Progress | None = None, rebuild: bool = False,
                workers: int | None = None, ocr: Ocr | Mode = "auto") -> SyncReport:
    """:func:`sync` for a caller that already holds the writer lock."""
    if not isinstance(ocr, Ocr):
        with Ocr(ocr, kb.ocr_cache) as own:
            return sync_locked(kb, progress, rebuild, workers, own)
    if rebuild or status(kb.index_dir):
        return _rebuild(kb, progress, workers, ocr)
    ix = open_index(kb.index_dir, checked=True)
    indexed = known_stamps(ix, kb.index_dir)
    layout = corpus_layout(kb)
    todo = layout_entries(kb, changed(kb, layout, indexed))
    current = {key for key, _, _ in layout}
    gone = [k for k in indexed if k not in current]
    report = SyncReport(unchanged=len(layout) - len(todo))
    if not todo and not gone:
        return report
    with BatchWriter(ix) as writer:
        for key in gone:
            writer.delete(key)
            report.removed += 1
        _index_entries(kb, writer, todo, indexed, report, progress, workers, ocr)
    return report


def _rebuild(kb: KnowledgeBase, progress: Progress | None, workers: int | None, ocr: Ocr) -> SyncReport:
    """Build a complete new index beside the old one, then swap it in.

    Both are in folders marked as tripkb's (:func:`temporary_folder`), so a crash
    leaves nothing the next rebuild would not know to be its own; the old index
    (or a link put in its place) is moved into one and removed there, never followed.
    """
    for prefix in (NEW_INDEX, OLD_INDEX):
        clear_temporary(kb.root, prefix)  # left by a crash; we hold the lock
    entries = list(corpus_entries(kb))
    fresh = temporary_folder(kb.root, NEW_INDEX)
    report = SyncReport()
    try:
        ix = create_index(fresh)
        # One segment: nothing reads the new index before the swap, so commits on the
        # way would save nothing from a crash, and one segment is the smallest index
        # and the fastest to search.
        with BatchWriter(ix, batch=math.inf, seconds=math.inf) as writer:
            _index_entries(kb, writer, entries, {}, report, progress, workers, ocr)
            if progress and entries:
                progress(len(entries), len(entries), "writing the index")
        ix.close()
        old = temporary_folder(kb.root, OLD_INDEX)
        if os.path.lexists(kb.index_dir):
            os.replace(kb.index_dir, old / "index")
        (fresh / TEMPORARY_MARK).unlink()
        os.replace(fresh, kb.index_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        if fresh.exists():
            shutil.rmtree(fresh, ignore_errors=True)
    return report


def _index_entries(kb: KnowledgeBase, writer: "BatchWriter", entries: list[Entry], indexed: dict[str, str],
                   report: SyncReport, progress: Progress | None, workers: int | None, ocr: Ocr) -> None:
    """Index ``entries`` through ``writer``: records without a document in bulk, the rest one
    by one on every core, OCR as pages need it."""
    total, done = len(entries), 0
    ahead: deque[tuple[Entry, Pending]] = deque()

    def tally(prepared: Prepared) -> None:
        report.problems.extend(prepared.problems)
        report.warnings.extend(prepared.warnings)
        if prepared.fields is not None:
            if prepared.entry.key in indexed:
                report.updated += 1
            else:
                report.added += 1

    def advance(count: int, label: str, settled: bool = True, ahead: int = 0) -> None:
        """Count ``count`` more done and show them with ``ahead`` still running;
        unsettled, ``count`` is shown but not counted (it is work still running)."""
        nonlocal done
        shown = done + count + ahead
        if settled:
            done += count
        if progress:
            progress(shown, total, label)

    def index(entry: Entry, prepared: Prepared) -> None:
        tally(prepared)
        if prepared.fields is not None:
            writer.add(prepared.fields)
        advance(1, entry.key)

    def finish_oldest() -> None:
        entry, pending = ahead.popleft()

        def on_page(page: int, pages: int) -> None:
            if progress:
                progress(done, total, f"{entry.key}: OCR page {page}/{pages}")

        index(entry, prepare(kb, entry, pending.finish(on_page), ocr.mode))

    if total:
        preload()  # the route table loaded once, here: the workers forked below share it
    records = [entry for entry in entries if entry.document is None]
    if len(records) >= BULK_MIN:
        handed_back = index_in_bulk(kb, writer, records, indexed, tally, advance, workers)
        entries = [entry for entry in entries if entry.document is not None] + handed_back
    jobs = bounded_map(partial(prepare, kb, ocr=ocr.mode), entries, workers=workers_for(len(entries), workers))
    for entry, prepared in jobs:
        if isinstance(prepared, ExtractError):  # the worker itself failed: index the metadata alone
            fallback = prepare(kb, entry, Extracted(pages=[]))
            assert fallback is not None
            fallback.problems.insert(0, Problem(kb.relative(entry.document or entry.sidecar),
                                                f"{prepared} (indexed from its metadata only)"))
            prepared = fallback
        if prepared.awaiting is None:
            index(entry, prepared)
            continue
        document, layer = prepared.awaiting
        ahead.append((entry, begin(document, layer, ocr)))
        while len(ahead) > LOOKAHEAD:
            finish_oldest()
    while ahead:
        finish_oldest()
#: Records without a document go the bulk way (:mod:`bulk`) once there are this many.
BULK_MIN = 1000
