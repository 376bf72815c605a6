"""Bring documents into the knowledge base: copy, describe, index.

Originals are never modified or moved: each new document is copied into
``corpus/`` and gets a sidecar there. Identity is the SHA-256 of the file's
bytes, so ingesting the same files again adds nothing. One bad file is
reported and skipped; the rest of the batch goes on.

Crash safety: a document and its sidecar are first written complete into
``corpus/.staging/``, then renamed into ``corpus/`` (document first). A run
killed at any moment leaves either nothing, or both files, or a staged
sidecar whose document is already in place, which the next run finishes.

New documents are read, placed and indexed by bounded workers, each writing
an index segment of its own (:mod:`.worker_segments`); a PDF read alone is
read a range of pages a worker (:mod:`.page_ranges`). Pages that need OCR are
OCRed in this process's pool, a few documents ahead of the one being placed,
so the next scan's pages keep every core busy while this one's last pages
finish.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import BundleError, ExtractError, MetadataError
from ..export.bundle import import_bundle, is_bundle
from ..fsutil import copy_atomic, files_under, free_name, is_regular, sha256_of
from ..index.batch_writer import BatchWriter
from ..index.corpus import Entry
from ..index.prepare import prepare
from ..index.schema import body_fields, live_values, open_index, segment_count
from ..index.sync import LOOKAHEAD, SyncReport, sync_locked
from ..kb import DOCUMENT_SUFFIXES, STAGING, KnowledgeBase
from ..lock import writer_lock
from ..meta.autofill import fill
from ..meta.cover import read_cover
from ..meta.sidecar import KEYS, read_sidecar, write_sidecar
from ..meta.validate import read_valid_sidecar
from ..meta.vocab import Vocabulary
from ..reporting import Problem, Progress
from ..text.extract import ExtractMap, Extracted, Pending, begin, choose, read, read_final
from ..text.ocr import Mode, Ocr
from ..workers import bounded_map, workers_for
from .page_ranges import read_in_parts
from .read_ahead import ReadAhead, already_read
from .worker_segments import before_fork, bring_in_by_workers


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    synced: SyncReport | None = None
    #: The segments the index is left in (see :class:`tripkb.index.batch_writer.BatchWriter`).
    segments: int = 0


def collect(paths: list[Path], report: IngestReport) -> Iterator[Path]:
    """Documents and stand-alone sidecars under the given files and folders."""
    seen: set[Path] = set()
    for path in paths:
        if not path.exists():
            report.problems.append(Problem(str(path), "no such file or folder"))
            continue
        for p in files_under(path):
            suffix = p.suffix.lower()
            wanted = suffix in DOCUMENT_SUFFIXES or is_bundle(p) or (
                suffix == ".yaml" and not any(p.with_suffix(s).exists() for s in DOCUMENT_SUFFIXES))
            if not wanted:
                if p is path:
                    report.problems.append(Problem(str(p), "not a document tripkb can read (expected "
                                                          f"{', '.join(DOCUMENT_SUFFIXES)}, .yaml or a .tar.gz bundle)"))
                continue
            if not p.is_file():  # FIFOs, sockets, dangling links: never open them
                report.problems.append(Problem(str(p), "not a regular file"))
                continue
            real = p.resolve()
            if real not in seen:
                seen.add(real)
                yield p


def ingest(kb: KnowledgeBase, paths: list[Path], progress: Progress | None = None,
           workers: int | None = None, extractor: str | None = None, ocr: Mode = "auto",
           cluster: str | None = None, cluster_workers: int | None = None,
           ahead: ReadAhead | None = None) -> IngestReport:
    """Copy new documents into the corpus, complete their sidecars and index them.

    ``ocr``: ``auto`` OCRs PDF pages without usable text when Tesseract is
    installed, ``off`` never does, ``force`` OCRs every page of every PDF.
    New documents are read (and OCRed) on ``workers`` local processes, or on
    the Dask scheduler at ``cluster``, or on ``cluster_workers`` local Dask
    workers; everything else is the same in all three. ``ahead``: a reader of
    ``paths`` started earlier (:func:`.read_ahead.reading_ahead`), whose text
    the local workers take; it is stopped when they start.
    """
    choose(extractor)
    report = IngestReport()
    if ahead is not None and (ocr == "force" or cluster is not None or cluster_workers is not None):
        ahead.stop()  # what it reads is of no use here
        ahead = None
    with Ocr(ocr, kb.ocr_cache) as engine, \
            _extract_map(kb, engine, workers, cluster, cluster_workers, ahead) as extract_map, writer_lock(kb):
        recover(kb)
        report.synced = sync_locked(kb, progress, workers=workers, ocr=engine)
        corpus = kb.corpus.resolve()
        collected = [p for p in collect(paths, report) if not p.resolve().is_relative_to(corpus)]
        sources = [p for p in collected if not is_bundle(p)]
        if sources:
            # The local workers (0: none, the documents are read on Dask or in this process).
            local = workers_for(2, workers) if cluster is None and cluster_workers is None else 0
            try:
                _import(kb, sources, report, progress, extract_map, engine, local, early=ahead)
            finally:
                if (kb.corpus / STAGING).is_dir() and not any((kb.corpus / STAGING).iterdir()):
                    (kb.corpus / STAGING).rmdir()
        bundles = [p for p in collected if is_bundle(p)]
        for bundle in bundles:
            _ingest_bundle(kb, bundle, report)
        if bundles:
            placed = sync_locked(kb, progress, workers=workers, ocr=engine)
            report.problems.extend(placed.problems)
            report.warnings.extend(placed.warnings)
        report.segments = segment_count(kb.index_dir)
    return report


@contextmanager
def _extract_map(kb: KnowledgeBase, ocr: Ocr, workers: int | None, cluster: str | None,
                 cluster_workers: int | None, ahead: ReadAhead | None = None) -> Iterator[ExtractMap]:
    """Where new documents are read: their text layer in a local pebble pool (OCR follows in
    ``ocr``'s pool, see :func:`_import`; the pool takes what ``ahead`` read), or everything, OCR
    included, on a Dask cluster."""
    if cluster is None and cluster_workers is None:
        def extract_map(paths: list[Path]) -> Iterator[tuple[Path, Extracted | ExtractError]]:
            missing = ocr.missing if ocr.engine is None else None  # no OCR to come: workers finish the text
            if paths:
                before_fork(Vocabulary.load(kb.root))
            folder = _stopped(ahead)
            cores = workers_for(2, workers)
            if len(paths) == 1 and paths[0].suffix.lower() == ".pdf" and cores > 1:  # alone: on every core
                return read_in_parts(paths[0], cores, ocr.mode == "force", missing, folder)
            return bounded_map(partial(_read_analysed, force_ocr=ocr.mode == "force", missing=missing, ahead=folder),
                               paths, workers=workers_for(len(paths), workers), ordered=False, nice=0)

        yield extract_map
        return
    from .cluster import extract_mapper

    with extract_mapper(cluster, cluster_workers, ocr.mode, kb.ocr_cache) as extract_map:
        yield extract_map


def _stopped(ahead: ReadAhead | None) -> Path | None:
    """Stop the read-ahead (the workers start now: the cores are theirs); the folder of what it read."""
    if ahead is None:
        return None
    ahead.stop()
    return ahead.folder


def _read_analysed(path: Path, force_ocr: bool, missing: str | None, ahead: Path | None = None) -> Extracted:
    """:func:`read_final` (finishing what the read-ahead in folder ``ahead`` read of it, see
    :mod:`.read_ahead`), and when the text is final the body's index fields, so that the process
    writing the index does not run jieba over it."""
    got = read_final(path, force_ocr, missing, already_read(ahead, path))
    if got.final:
        got.body = body_fields(got.pages)
    return got


def _ingest_bundle(kb: KnowledgeBase, bundle: Path, report: IngestReport) -> None:
    """Place a bundle's new documents in ``corpus/``; the caller indexes them."""
    try:
        result = import_bundle(kb, bundle)
    except BundleError as exc:
        report.problems.append(Problem(exc.path, exc.problem))
        return
    except OSError as exc:
        report.problems.append(Problem(str(bundle), f"cannot read the bundle: {exc.strerror or exc}"))
        return
    report.added.extend(result.added)
    report.unchanged += result.unchanged
    report.problems.extend(result.problems)


def _import(kb: KnowledgeBase, sources: list[Path], report: IngestReport,
            progress: Progress | None, extract_map: ExtractMap, ocr: Ocr, local: int = 0,
            early: ReadAhead | None = None) -> None:
    """Bring ``sources`` in: records here, documents by ``local`` local workers that each write
    a segment (:mod:`.worker_segments`; they take what ``early`` read), or else one by one, read
    by ``extract_map`` and placed and indexed here."""
    ix = open_index(kb.index_dir)
    vocab = Vocabulary.load(kb.root)
    with ix.reader() as reader:
        known_sha = set(live_values(reader, "sha256"))
        known_ids = set(live_values(reader, "id"))
    records = [p for p in sources if p.suffix.lower() == ".yaml"]
    documents: list[tuple[Path, str]] = []
    for source in sources:
        if source in records:
            continue
        try:
            sha = sha256_of(source)
        except OSError as exc:
            report.problems.append(Problem(str(source), f"cannot read the file: {exc.strerror or exc}"))
            continue
        if sha in known_sha:
            report.unchanged += 1
            continue
        known_sha.add(sha)  # a second copy in this batch is the same document
        documents.append((source, sha))
    total, done = len(records) + len(documents), 0
    (kb.corpus / STAGING).mkdir(exist_ok=True)
    with BatchWriter(ix) as writer:
        for source in records:
            _guarded(report, source, lambda: _bring_in_record(kb, source, known_ids, vocab, report), writer.add)
            done += 1
            if progress:
                progress(done, total, source.name)
        shas = dict(documents)
        # Names promised in input order: results come back as they finish, the names do not depend on it.
        taken: set[str] = set()
        targets: dict[Path, Path] = {}
        for source, sha in documents:
            targets[source] = free_name(kb.corpus, source.stem, source.suffix.lower(), sha, taken)
            taken.add(targets[source].stem)
        ahead: deque[tuple[Path, Pending]] = deque()

        shown = 0

        def step(source: Path | None, running: int = 0) -> None:
            """One more document done (``source``), ``running`` more done in workers' segments not
            yet adopted; the bar never steps back as those are adopted."""
            nonlocal done, shown
            done += source is not None
            shown = max(shown, min(total, done + running))
            if progress:
                progress(shown, total, source.name if source else "reading")

        def finish_oldest() -> None:
            source, pending = ahead.popleft()

            def on_page(page: int, pages: int) -> None:
                if progress:
                    progress(shown, total, f"{source.name}: OCR page {page}/{pages}")

            extracted = pending.finish(on_page)
            _bring_in_guarded(kb, source, shas[source], targets[source], extracted, known_ids, vocab, report,
                              writer.add)
            step(source)

        def take(source: Path, layer: Extracted | ExtractError) -> None:
            if isinstance(layer, ExtractError):
                report.problems.append(Problem(str(source), str(layer)))
                step(source)
                return
            ahead.append((source, begin(source, layer, ocr, shas[source])))
            while len(ahead) > LOOKAHEAD:
                finish_oldest()

        one_by_one = [s for s, _ in documents]
        if local and len(documents) > 1 and ocr.mode != "force":
            missing = ocr.missing if ocr.engine is None else None
            before_fork(vocab)
            read_here = partial(_read_analysed, force_ocr=False, missing=missing, ahead=_stopped(early))
            to_finish, one_by_one = bring_in_by_workers(kb, writer, [(s, sha, targets[s]) for s, sha in documents],
                                                        known_ids, vocab, local, read_here, _bring_in_guarded,
                                                        report, step)
            for source, layer in to_finish:
                take(source, layer)
        for source, layer in extract_map(one_by_one):
            take(source, layer)
        while ahead:
            finish_oldest()
    rank = {kb.relative(target): n for n, target in enumerate(targets.values())}
    report.added.sort(key=lambda added: rank.get(added, -1))  # records first, then documents in input order


def _bring_in_guarded(kb: KnowledgeBase, source: Path, sha: str, target: Path, extracted: Extracted,
                      known_ids: set[str], vocab: Vocabulary, report: IngestReport,
                      add: Callable[[dict[str, Any]], None]) -> None:
    """:func:`_bring_in` one document and ``add`` its index fields; its failure becomes one line."""
    _guarded(report, source, lambda: _bring_in(kb, source, sha, target, extracted, known_ids, vocab, report), add)


def _guarded(report: IngestReport, source: Path, work, add: Callable[[dict[str, Any]], None]) -> None:
    """Run one document's import; its failure becomes one line, the batch goes on."""
    try:
        fields = work()
    except MetadataError as exc:  # names the sidecar at fault, not the document
        report.problems.append(Problem(exc.path + (f":{exc.line}" if exc.line else ""),
                                       f"{exc.key}: {exc.problem}" if exc.key else exc.problem))
        return
    except OSError as exc:
        report.problems.append(Problem(str(source), f"cannot copy into the corpus: {exc.strerror or exc}"))
        return
    if fields is not None:
        add(fields)


def _bring_in(kb: KnowledgeBase, source: Path, sha: str, target: Path, extracted: Extracted,
              known_ids: set[str], vocab: Vocabulary, report: IngestReport) -> dict[str, Any] | None:
    sidecar_in = source.with_suffix(".yaml")
    record: dict[str, Any] = {}
    if sidecar_in.exists():
        record, warnings = read_valid_sidecar(sidecar_in, vocab, derived=False)
        report.warnings.extend(warnings)
        if record.get("id") in known_ids:
            raise MetadataError(str(sidecar_in), f"id {record['id']} is already used by another document "
                                                 "in the knowledge base (not ingested)", key="id")
    record = complete(record, extracted, target, sha, known_ids, vocab)
    sidecar = target.with_suffix(".yaml")
    _place(kb, sidecar, record, source, target)
    known_ids.add(record["id"])
    prepared = prepare(kb, Entry(sidecar.relative_to(kb.corpus).as_posix(), sidecar, target), extracted)
    report.problems.extend(prepared.problems)
    report.warnings.extend(prepared.warnings)
    report.added.append(kb.relative(target))
    return prepared.fields


def _bring_in_record(kb: KnowledgeBase, source: Path, known_ids: set[str], vocab: Vocabulary,
                     report: IngestReport) -> dict[str, Any] | None:
    """A sidecar with no document: a metadata-only record, identified by its id."""
    record, warnings = read_valid_sidecar(source, vocab)
    report.warnings.extend(warnings)
    record.setdefault("id", source.stem)
    if record["id"] in known_ids:
        report.unchanged += 1
        return None
    record.pop("file", None)
    target = free_name(kb.corpus, source.stem, ".yaml", record["id"])
    _place(kb, target, record)
    known_ids.add(record["id"])
    beside = kb.document_path(target, None)  # as a scan of corpus/ would pair them
    prepared = prepare(kb, Entry(target.relative_to(kb.corpus).as_posix(), target, beside))
    report.added.append(kb.relative(target))
    return prepared.fields


def _place(kb: KnowledgeBase, sidecar: Path, record: dict[str, Any],
           source: Path | None = None, target: Path | None = None) -> None:
    """Stage the document and its sidecar complete, then rename them in: document first."""
    staging = kb.corpus / STAGING
    staged_sidecar = staging / sidecar.name
    write_sidecar(staged_sidecar, record)
    if source is not None and target is not None:
        staged_doc = staging / target.name
        copy_atomic(source, staged_doc)
        os.replace(staged_doc, target)
    os.replace(staged_sidecar, sidecar)


def recover(kb: KnowledgeBase) -> None:
    """Finish or undo what a killed ingest left in ``corpus/.staging/``.

    Only what ingest stages there is touched: regular files, never through a link
    (the caller holds the writer lock, which refuses a linked ``.staging``).
    """
    staging = kb.corpus / STAGING
    if not staging.is_dir() or staging.is_symlink():
        return
    for staged in sorted(staging.iterdir()):
        if not is_regular(staged):
            continue
        if staged.suffix == ".yaml" and _finished(kb, staged):
            continue
        staged.unlink()  # not yet in place: the next run copies it again


def _finished(kb: KnowledgeBase, staged: Path) -> bool:
    """Move a staged sidecar into ``corpus/`` if its document made it there; False if it did not."""
    target = kb.corpus / staged.name
    try:
        record, _ = read_sidecar(staged)
        placed = kb.document_path(target, record["file"]) if record.get("file") else None
    except MetadataError:
        return False
    if placed is None or not placed.exists() or os.path.lexists(target):
        return False
    os.replace(staged, target)  # the document made it: finish
    return True


def complete(record: dict[str, Any], extracted: Extracted, target: Path, sha: str,
             known_ids: set[str], vocab: Vocabulary) -> dict[str, Any]:
    """Fill what the sidecar does not say yet from the cover and 摘要; what it says is kept.

    The values filled in are marked in ``extracted:`` (see :mod:`tripkb.meta.autofill`).
    """
    found = read_cover(extracted.pages, vocab, extracted.info_title, extracted.info_author).record()
    if found.get("id") in known_ids:  # the cover's 系統識別號 is another record's already
        del found["id"]
    found.setdefault("type", "other")
    found.setdefault("title", target.stem)
    out = fill(record, found)
    if not out.get("id"):
        base = target.stem
        out["id"] = base if base not in known_ids else f"{base}-{sha[:8]}"
    out["file"] = target.name
    out["sha256"] = sha
    out.pop("pages", None)
    out.pop("ocr", None)  # facts about these bytes only ingest can state
    if extracted.paged:
        out["pages"] = len(extracted.pages)
    if extracted.ocr:
        out["ocr"] = extracted.ocr
    return _in_key_order(out)


def _in_key_order(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in KEYS if k in record} | {k: v for k, v in record.items() if k not in KEYS}


@dataclass
class ExtractReport:
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    synced: SyncReport | None = None


def reextract(kb: KnowledgeBase, ids: list[str] | None = None,
              progress: Progress | None = None) -> ExtractReport:
    """Read the covers of corpus documents again (all, or those with ``ids``) and refresh
    the fields that are still tripkb's; a person's values are never touched (see :mod:`meta.autofill`)."""
    vocab = Vocabulary.load(kb.root)
    report = ExtractReport()
    wanted = set(ids or ())
    seen: set[str] = set()
    with writer_lock(kb), Ocr("auto", kb.ocr_cache) as ocr:
        todo: list[tuple[Path, dict[str, Any]]] = []
        documents: list[Path] = []
        for sidecar in kb.sidecars():
            try:
                record, _ = read_sidecar(sidecar, derived=False)
                doc_id = record.get("id") or sidecar.stem
                document = kb.document_path(sidecar, record.get("file"))
            except MetadataError as exc:
                report.problems.append(Problem(kb.relative(sidecar), f"{exc.key}: {exc.problem}" if exc.key
                                               else exc.problem))
                continue
            if (wanted and doc_id not in wanted) or document is None or not document.exists():
                continue
            seen.add(doc_id)
            todo.append((sidecar, record))
            documents.append(document)
        read_all = bounded_map(read, documents, workers=workers_for(len(documents)))
        for done, ((sidecar, record), (document, layer)) in enumerate(zip(todo, read_all), 1):
            if progress:
                progress(done, len(todo), sidecar.name)
            if isinstance(layer, ExtractError):
                report.problems.append(Problem(kb.relative(sidecar), str(layer)))
                continue
            extracted = begin(document, layer, ocr).finish()  # a scan's covers are read from its (cached) OCR
            found = read_cover(extracted.pages, vocab, extracted.info_title, extracted.info_author).record()
            found.pop("id", None)  # an id, once given, is never changed
            new = fill(record, found)
            if extracted.ocr:  # OCR ran now (say, Tesseract was installed since ingest): record it
                new = _in_key_order(new | {"ocr": extracted.ocr})
            if new != record:
                write_sidecar(sidecar, new)
                report.changed.append(kb.relative(sidecar))
            else:
                report.unchanged += 1
        report.problems += [Problem(i, "no document with this id in corpus/") for i in sorted(wanted - seen)]
        report.synced = sync_locked(kb, progress, ocr=ocr)
    return report
