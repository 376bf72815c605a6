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
core (:mod:`ocr`), a few documents ahead of the one being indexed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .analysis import preload
from .errors import ExtractError, KBIndexError, MetadataError
from .fsutil import sha256_of
from .extract import Extracted, Pending, begin, choose, read
from .index import create_index, document_fields, live_values, open_index, status
from .kb import DOCUMENT_SUFFIXES, KnowledgeBase
from .lock import writer_lock
from .metadata import read_sidecar, to_json
from .ocr import Mode, Ocr
from .vocab import Vocabulary
from .workers import bounded_map, default_workers

#: progress(done, total, label): how long work reports itself; the CLI draws it.
Progress = Callable[[int, int, str], None]
#: Documents whose OCR is started ahead of the one being finished, so no core waits.
LOOKAHEAD = 2


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
    stats = []
    for path in paths:
        try:
            stats.append(os.stat(path) if path else None)
        except OSError:
            stats.append(None)
    return stamp_of(key, *stats)


def stamp_of(key: str, *stats: os.stat_result | None) -> str:
    """:func:`stamp` from the files' ``os.stat`` results, taken by whoever just wrote them."""
    return ":".join([key] + [f"{st.st_mtime_ns}.{st.st_size}" if st else "-" for st in stats])


Layout = list[tuple[str, str | None, str | None]]


def corpus_layout(kb: KnowledgeBase) -> Layout:
    """(key, sidecar, document) as '/'-paths relative to ``corpus/``: each sidecar with its
    same-stem document if there is one, then each document without a sidecar. Plain strings,
    so that a corpus of 60,000 records is compared with the index in well under a second."""
    files = kb.corpus_files()
    present = set(files)
    layout: Layout = []
    for rel in files:
        if rel.endswith(".yaml"):
            stem = rel[:-len(".yaml")]
            document = next((stem + s for s in DOCUMENT_SUFFIXES if stem + s in present), None)
            layout.append((rel, rel, document))
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
    fields = document_fields(entry.key, current, to_json(record),
                             f"corpus/{rel_file}" if rel_file else None, pages, vocab or Vocabulary.load(kb.root), paged,
                             body)
    return Prepared(entry, fields, problems, warnings)


def indexed_stamps(ix) -> dict[str, str]:
    """key → stamp for every indexed document, read from one column alone."""
    with ix.reader() as reader:
        return {stamp.rsplit(":", 2)[0]: stamp for stamp in live_values(reader, "stamp")}


STAMPS_COPY = "stamps.json"


def known_stamps(ix, index_dir: Path) -> dict[str, str]:
    """:func:`indexed_stamps`, kept in a file beside the index for the generation it was read from.

    Every search first compares the corpus with the index; reading 10,000 stamps
    from the column costs tens of milliseconds, the copy a few. A copy from any
    other generation of the index is ignored and replaced.
    """
    generation = ix.latest_generation()
    copy = index_dir / STAMPS_COPY
    try:
        saved = json.loads(copy.read_text(encoding="utf-8"))
        if saved.get("generation") == generation and isinstance(saved.get("stamps"), dict):
            return saved["stamps"]
    except (OSError, ValueError):
        pass
    stamps = indexed_stamps(ix)
    fresh = copy.with_name(f"{STAMPS_COPY}.{os.getpid()}")
    try:
        fresh.write_text(json.dumps({"generation": generation, "stamps": stamps}, ensure_ascii=False),
                         encoding="utf-8")
        os.replace(fresh, copy)
    except OSError:  # a read-only KB: the column is read each time
        fresh.unlink(missing_ok=True)
    return stamps


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
    ix = open_index(kb.index_dir)
    indexed = known_stamps(ix, kb.index_dir)
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
    with BatchWriter(ix) as writer:
        for key in gone:
            writer.delete(key)
            report.removed += 1
        _write(kb, writer, todo, indexed, report, progress, workers, ocr)
    return report


def _rebuild(kb: KnowledgeBase, progress: Progress | None, workers: int | None, ocr: Ocr) -> SyncReport:
    """Build a complete new index beside the old one, then swap it in."""
    for stale in list(kb.root.glob("index.new-*")) + list(kb.root.glob("index.old-*")):
        shutil.rmtree(stale, ignore_errors=True)  # left by a crash; we hold the lock
    entries = list(corpus_entries(kb))
    fresh = kb.root / f"index.new-{os.getpid()}"
    report = SyncReport()
    try:
        ix = create_index(fresh)
        # One segment: nothing reads the new index before the swap, so commits on the
        # way would save nothing from a crash, and one segment is the smallest index
        # (N=2000: 2.45 x the text against 3.5 x in seven segments) and the fastest to search.
        with BatchWriter(ix, batch=math.inf, seconds=math.inf) as writer:
            _write(kb, writer, entries, {}, report, progress, workers, ocr)
            if progress and entries:
                progress(len(entries), len(entries), "writing the index")
        ix.close()
        old = kb.root / f"index.old-{os.getpid()}"
        if kb.index_dir.exists():
            os.replace(kb.index_dir, old)
        os.replace(fresh, kb.index_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return report


def _write(kb: KnowledgeBase, writer: "BatchWriter", entries: list[Entry], indexed: dict[str, str],
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

    if total > 1:
        preload()  # jieba's dictionary loaded once, here: the workers forked below share it
    records = [entry for entry in entries if entry.document is None]
    if len(records) >= BULK_MIN:
        handed_back = _write_records(kb, writer, records, indexed, tally, advance, workers)
        entries = [entry for entry in entries if entry.document is not None] + handed_back
    jobs = bounded_map(partial(prepare, kb, ocr=ocr.mode), entries, workers=workers if total > 1 else 0)
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


#: Records without a document are indexed in chunks of this many, each chunk a
#: segment written by a worker, once there are at least BULK_MIN of them.
BULK_CHUNK = 10000
BULK_MIN = 1000
#: Memory for each worker's postings before it spills them to disk.
BULK_POOL_MB = 128
#: A worker tells how far it is every so many records (for the progress bar).
COUNT_EVERY = 500


def _write_records(kb: KnowledgeBase, writer: "BatchWriter", records: list[Entry], indexed: dict[str, str],
                   tally: Callable[[Prepared], None], advance: Callable[..., None],
                   workers: int | None) -> list[Entry]:
    """Index records without a document a chunk at a time, each chunk written as a segment by a worker.

    Filing postings is most of the work of indexing a catalogue record, and one
    process writing the index made a 60,000-row import take minutes while the
    other core waited. Each worker writes a whole segment; this process only
    moves it into the index and commits. A chunk whose worker failed, and any
    record that turns out to name a document, are handed back to be read one by one.
    """
    workers = default_workers() if workers is None else workers
    handed_back: list[Entry] = []
    with Staging(kb) as staging:
        if staging is None:  # no room for the workers' segments: the records go the one-by-one way
            return records
        jobs = bounded_map(partial(records_segment, kb, staging.folder), list(enumerate(chunked(records, workers))),
                           workers=workers, waiting=lambda: advance(staging.running(), "indexing records", settled=False))
        for (number, chunk), result in jobs:
            staging.settled(number)
            if isinstance(result, ExtractError):
                handed_back.extend(chunk)
                continue
            folder, prepared, left = result
            handed_back.extend(left)
            for one in prepared:
                tally(one)
                if one.fields is not None and one.entry.key in indexed:
                    writer.delete(one.entry.key)
            writer.adopt(folder)
            advance(len(chunk) - len(left), chunk[-1].key, ahead=staging.running())  # the bar never steps back
    return handed_back


def chunk_size(count: int, workers: int) -> int:
    """Items a chunk for the workers: at most about BULK_CHUNK, in as many chunks as a multiple
    of ``workers`` (so that all finish together)."""
    if not count:
        return 1
    chunks = -(-count // BULK_CHUNK)
    chunks = -(-chunks // max(1, workers)) * max(1, workers)
    return -(-count // chunks)


def chunked(items: list, workers: int) -> list[list]:
    """``items`` in order, in chunks of :func:`chunk_size`."""
    size = chunk_size(len(items), workers)
    return [items[i:i + size] for i in range(0, len(items), size)]


class Staging:
    """``index.bulk-<pid>/`` beside the index: the segments workers write, and how far each is.

    A worker counts its items in ``<chunk>.count``, replaced whole so that a
    count is never read half-written; :meth:`running` adds them up for the
    progress bar. Left over by a crash, it is cleared by the next one (we hold the lock).
    """

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.folder = kb.root / f"index.bulk-{os.getpid()}"

    def __enter__(self) -> "Staging | None":
        for stale in self.kb.root.glob("index.bulk-*"):
            shutil.rmtree(stale, ignore_errors=True)
        try:
            self.folder.mkdir()
        except OSError:
            return None
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def running(self) -> int:
        count = 0
        for tally_file in self.folder.glob("*.count"):
            try:
                count += int(tally_file.read_text() or 0)
            except (OSError, ValueError):  # just removed: its chunk is being settled
                pass
        return count

    def settled(self, number: int) -> None:
        (self.folder / f"{number}.count").unlink(missing_ok=True)


class ChunkSegment:
    """Runs in a worker: a one-segment index of its own in the staging folder, for
    :meth:`BatchWriter.adopt`, with the count of items done kept for the progress bar."""

    def __init__(self, staging: Path, number: int):
        from .segwriter import GroupedWriter

        self.counter, self.fresh_count = staging / f"{number}.count", staging / f"{number}.new"
        self.folder = Path(tempfile.mkdtemp(dir=staging))
        self.writer = GroupedWriter(create_index(self.folder), limitmb=BULK_POOL_MB)

    def count(self, done: int) -> None:
        if done % COUNT_EVERY == 0:
            self.fresh_count.write_text(str(done))
            os.replace(self.fresh_count, self.counter)

    def add(self, fields: dict[str, Any]) -> None:
        self.writer.add_document(**fields)

    def __enter__(self) -> "ChunkSegment":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and not self.writer.is_closed:
            self.writer.cancel()

    def finish(self) -> Path | None:
        """The segment's folder, None if nothing was added."""
        indexed = self.writer.doc_count() > 0
        self.writer.commit(merge=False)
        return self.folder if indexed else None


def records_segment(kb: KnowledgeBase, staging: Path, chunk: tuple[int, list[Entry]]
                    ) -> tuple[Path | None, list[Prepared], list[Entry]]:
    """Runs in a worker: index chunk ``(number, entries)`` of records without a document
    into a :class:`ChunkSegment`.

    Returns its folder (None if no record could be indexed), each record's
    outcome with its fields left out (they are in the segment), and the
    entries whose sidecar names a document after all.
    """
    number, entries = chunk
    prepared: list[Prepared] = []
    left: list[Entry] = []
    vocab = Vocabulary.load(kb.root)
    with ChunkSegment(staging, number) as segment:
        for done, entry in enumerate(entries):
            segment.count(done)
            one = prepare(kb, entry, records_only=True, vocab=vocab)
            if one is None:
                left.append(entry)
                continue
            if one.fields is not None:
                segment.add(one.fields)
                one.fields = {}
            prepared.append(one)
        return segment.finish(), prepared, left


#: A commit every so many documents or seconds of index work, whichever comes first.
COMMIT_EVERY = 5000
COMMIT_SECONDS = 60.0


class BatchWriter:
    """Adds documents to the index and commits every ``batch`` of them or every ``seconds``.

    Committing in batches bounds what a crash can lose (the next sync redoes it
    from ``corpus/``) and the memory Whoosh holds; any error cancels the
    uncommitted batch and is reported in words. Each commit makes a segment,
    and every segment repeats the terms it shares with the others, so batches
    are large and segments are merged by :func:`tiered_merge`.
    """

    def __init__(self, ix, batch: float | None = None, seconds: float | None = None, limitmb: int = 64):
        self.ix, self.limitmb = ix, limitmb
        self.batch = COMMIT_EVERY if batch is None else batch
        self.seconds = COMMIT_SECONDS if seconds is None else seconds
        self.count = 0
        self.w = None
        self.opened = 0.0

    @property
    def one_segment(self) -> bool:
        """A writer that never commits on the way (a rebuild) makes one segment of everything."""
        return self.batch == math.inf

    def _writer(self):
        if self.w is None:
            from whoosh.index import LockError

            from .segwriter import GroupedWriter

            try:
                self.w = GroupedWriter(self.ix, timeout=10.0, limitmb=self.limitmb)
            except LockError:
                raise KBIndexError("another process is writing to this index; "
                                   "try again when it has finished") from None
            self.opened = time.monotonic()
        return self.w

    def add(self, fields: dict[str, Any]) -> None:
        self._writer().update_document(**fields)
        self.count += 1
        if self.count % self.batch == 0 or time.monotonic() - self.opened >= self.seconds:
            self.commit()

    def delete(self, key: str) -> None:
        self._writer().delete_by_term("key", key)

    def adopt(self, folder: Path | None) -> None:
        """Take in the one segment of the index in ``folder`` (built by a worker; None: nothing
        was), with the next commit, and remove the folder.

        It counts as a batch: it is committed now unless this writer makes one segment.
        """
        from whoosh.index import TOC

        from .index import INDEX_NAME, _storage

        if folder is None:
            return
        segment = TOC.read(_storage(folder), INDEX_NAME).segments[0]
        writer = self._writer()
        prefix = segment.segment_id() + "."
        for name in os.listdir(folder):
            if name.startswith(prefix):
                os.replace(folder / name, Path(self.ix.storage.folder) / name)
        writer.adopted.append(segment)
        shutil.rmtree(folder, ignore_errors=True)
        if not self.one_segment:
            self.commit()

    def commit(self) -> None:
        if self.w is not None:
            w, self.w = self.w, None
            try:
                w.commit(mergetype=_one_segment if self.one_segment else tiered_merge)
            except OSError as exc:
                try:
                    w.cancel()
                except OSError:
                    pass  # cancelling writes too; the committed index is untouched either way
                raise KBIndexError(f"cannot write the index: {exc.strerror or exc} "
                                   f"(corpus/ is intact; fix this and run 'tripkb ingest' again)") from None

    def __enter__(self) -> "BatchWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.commit()
        elif self.w is not None:
            w, self.w = self.w, None
            try:
                w.cancel()
            except OSError:
                pass
        return False


def _one_segment(writer, segments: list) -> list:
    """Merge policy of a writer that makes one segment (a rebuild): merge in the adopted segments."""
    from whoosh.writing import OPTIMIZE

    return OPTIMIZE(writer, segments) if writer.adopted else segments


def tiered_merge(writer, segments: list, fan: int = 8) -> list:
    """Whoosh merge policy: merge segments of one size tier once ``fan`` of them exist.

    Tiers are powers of ``fan`` in live documents, so N documents make at most
    ``fan`` segments a tier and about log N tiers, and each document is
    rewritten about log N times. (Whoosh's default policy leaves segments of a
    few hundred documents alone until there are sixteen, then merges all.)
    Segments whose documents were all deleted are dropped.
    """
    from whoosh.reading import SegmentReader

    tiers: dict[int, list] = {}
    for seg in segments:
        live = seg.doc_count()
        tiers.setdefault(int(math.log(live, fan)) if live else -1, []).append(seg)
    kept = []
    for tier, segs in tiers.items():
        if tier >= 0 and len(segs) < fan:
            kept.extend(segs)
            continue
        for seg in segs:
            reader = SegmentReader(writer.storage, writer.schema, seg)
            writer.add_reader(reader)
            reader.close()
    return kept


def refresh(kb: KnowledgeBase, progress: Progress | None = None) -> SyncReport | None:
    """Sync before reading; when another process is writing, read what is there.

    Returns None when the index was left as it was because it is busy. A
    missing or outdated index is always built (waiting for the writer if needed).
    """
    if status(kb.index_dir):
        return sync(kb, progress)
    with ExitStack() as held:
        try:
            held.enter_context(writer_lock(kb, wait=0))
        except KBIndexError:  # busy: only this; a sync that fails (a full disk) is an error, not stale results
            return None
        return sync_locked(kb, progress)
