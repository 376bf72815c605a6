"""Bring documents into the knowledge base: copy, describe, index.

Originals are never modified or moved: each new document is copied into
``corpus/`` and gets a sidecar there. Identity is the SHA-256 of the file's
bytes, so ingesting the same files again adds nothing. One bad file is
reported and skipped; the rest of the batch goes on.

Documents are read a few ahead of the one being finished, so that OCR of
the next scan's pages keeps every core busy while the last pages of this
one are still running.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ExtractError, MetadataError
from .extract import Extracted, Pending, begin
from .fsutil import copy_atomic, sha256_of
from .indexer import Entry, Problem, Progress, SyncReport, _writer, prepare, sync
from .index import live_values, open_index
from .kb import DOCUMENT_SUFFIXES, KnowledgeBase
from .metadata import KEYS, derive, read_sidecar, write_sidecar
from .ocr import Mode, Ocr

#: Documents whose text is read (and OCR started) ahead of the one being finished.
LOOKAHEAD = 2


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    synced: SyncReport | None = None


def collect(paths: list[Path], report: IngestReport) -> Iterator[Path]:
    """Documents and stand-alone sidecars under the given files and folders."""
    seen: set[Path] = set()
    for path in paths:
        if not path.exists():
            report.problems.append(Problem(str(path), "no such file or folder"))
            continue
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for p in candidates:
            real = p.resolve()
            if real in seen:
                continue
            suffix = p.suffix.lower()
            if suffix in DOCUMENT_SUFFIXES:
                seen.add(real)
                yield p
            elif suffix == ".yaml" and not any(p.with_suffix(s).exists() for s in DOCUMENT_SUFFIXES):
                seen.add(real)
                yield p
            elif p is path:
                report.problems.append(Problem(str(p), f"not a document tripkb can read "
                                                      f"(expected {', '.join(DOCUMENT_SUFFIXES)} or .yaml)"))


@dataclass
class _Started:
    """A document whose text is being read: what it will need when it is finished."""

    source: Path
    sha: str
    record: dict[str, Any]
    pending: Pending


def ingest(kb: KnowledgeBase, paths: list[Path], progress: Progress | None = None,
           ocr: Mode = "auto") -> IngestReport:
    """Copy new documents into the corpus, complete their sidecars and index them.

    ``ocr``: ``auto`` OCRs pages without usable text when Tesseract is
    installed, ``off`` never does, ``force`` OCRs every page of every PDF.
    """
    report = IngestReport()
    with Ocr(ocr, kb.ocr_cache) as engine:
        report.synced = sync(kb, progress, ocr=engine)
        corpus = kb.corpus.resolve()
        sources = [p for p in collect(paths, report) if not p.resolve().is_relative_to(corpus)]
        if sources:
            _ingest(kb, sources, report, progress, engine)
    return report


def _ingest(kb: KnowledgeBase, sources: list[Path], report: IngestReport,
            progress: Progress | None, ocr: Ocr) -> None:
    ix = open_index(kb.index_dir)
    with ix.searcher() as searcher, _writer(ix) as writer:
        known_sha: set[str] = set(live_values(searcher.reader(), "sha256"))
        known_ids: set[str] = set(live_values(searcher.reader(), "id"))
        ahead: deque[tuple[Path, _Started | dict[str, Any] | None]] = deque()
        done = 0

        def finish() -> None:
            nonlocal done
            source, item = ahead.popleft()

            def on_page(page: int, pages: int) -> None:
                if progress:
                    progress(done, len(sources), f"{source.name}: OCR page {page}/{pages}")

            try:
                fields = _finish(kb, item, known_ids, report, on_page) if isinstance(item, _Started) else item
            except (MetadataError, OSError) as exc:
                report.problems.append(Problem(str(source), _reason(exc)))
                known_sha.discard(item.sha)
                fields = None
            if fields is not None:
                writer.update_document(**fields)
            done += 1
            if progress:
                progress(done, len(sources), source.name)

        for source in sources:
            try:
                item = _start(kb, source, known_sha, known_ids, report, ocr)
            except (ExtractError, MetadataError, OSError) as exc:
                report.problems.append(Problem(str(source), _reason(exc)))
                item = None
            ahead.append((source, item))
            while len(ahead) > LOOKAHEAD:
                finish()
        while ahead:
            finish()


def _reason(exc: Exception) -> str:
    if isinstance(exc, MetadataError):
        return f"{exc.key}: {exc.problem}" if exc.key else exc.problem
    if isinstance(exc, OSError):
        return f"cannot read or copy: {exc.strerror or exc}"
    return str(exc)


def _start(kb: KnowledgeBase, source: Path, known_sha: set[str], known_ids: set[str],
           report: IngestReport, ocr: Ocr) -> _Started | dict[str, Any] | None:
    """Index fields at once for a metadata-only record; else read the text and start OCR.

    The SHA-256 is claimed here, so a copy later in the same batch is seen as known.
    """
    if source.suffix.lower() == ".yaml":
        return _bring_in_record(kb, source, known_ids, report)
    sha = sha256_of(source)
    if sha in known_sha:
        report.unchanged += 1
        return None
    sidecar_in = source.with_suffix(".yaml")
    record: dict[str, Any] = {}
    if sidecar_in.exists():
        record, warnings = read_sidecar(sidecar_in)
        report.warnings.extend(warnings)
    started = _Started(source, sha, record, begin(source, ocr, sha))
    known_sha.add(sha)
    return started


def _finish(kb: KnowledgeBase, started: _Started, known_ids: set[str], report: IngestReport,
            on_page) -> dict[str, Any] | None:
    """Wait for the text, then copy the document in, write its sidecar and build its index fields."""
    extracted = started.pending.finish(on_page)
    source, sha = started.source, started.sha
    target = _free_name(kb.corpus, source.stem, source.suffix.lower(), sha)
    record = complete(started.record, extracted, target, sha, known_ids)
    copy_atomic(source, target)
    sidecar = target.with_suffix(".yaml")
    write_sidecar(sidecar, record)
    known_ids.add(record["id"])
    prepared = prepare(kb, Entry(sidecar.relative_to(kb.corpus).as_posix(), sidecar, target), extracted)
    report.problems.extend(prepared.problems)
    report.warnings.extend(prepared.warnings)
    report.added.append(kb.relative(target))
    return prepared.fields


def _bring_in_record(kb: KnowledgeBase, source: Path, known_ids: set[str],
                     report: IngestReport) -> dict[str, Any] | None:
    """A sidecar with no document: a metadata-only record, identified by its id."""
    record, warnings = read_sidecar(source)
    report.warnings.extend(warnings)
    if record.get("id") in known_ids:
        report.unchanged += 1
        return None
    record.pop("file", None)
    record.setdefault("id", source.stem)
    target = _free_name(kb.corpus, source.stem, ".yaml", record["id"])
    write_sidecar(target, record)
    known_ids.add(record["id"])
    prepared = prepare(kb, Entry(target.relative_to(kb.corpus).as_posix(), target, None))
    report.added.append(kb.relative(target))
    return prepared.fields


def complete(record: dict[str, Any], extracted: Extracted, target: Path, sha: str,
             known_ids: set[str]) -> dict[str, Any]:
    """Fill what the sidecar does not say yet; what it says is kept."""
    out = dict(record)
    if not out.get("id"):
        base = target.stem
        out["id"] = base if base not in known_ids else f"{base}-{sha[:8]}"
    out.setdefault("type", "other")
    out.setdefault("title", extracted.info_title or extracted.first_line or target.stem)
    out["file"] = target.name
    out["sha256"] = sha
    out.pop("pages", None)
    out.pop("ocr", None)  # facts about these bytes only ingest can state
    if extracted.paged:
        out["pages"] = len(extracted.pages)
    if extracted.ocr:
        out["ocr"] = extracted.ocr
    derive(out)
    return {k: out[k] for k in KEYS if k in out} | {k: v for k, v in out.items() if k not in KEYS}


def _free_name(folder: Path, stem: str, suffix: str, distinguisher: str) -> Path:
    """``stem+suffix`` in ``folder``, or a name made unique with the distinguisher."""
    safe = "".join(c if c.isalnum() or c in "-_.()" else "_" for c in stem).strip("._") or "document"
    for name in (f"{safe}{suffix}", f"{safe}-{distinguisher[:8]}{suffix}"):
        candidate = folder / name
        if not candidate.exists() and not candidate.with_suffix(".yaml").exists():
            return candidate
    n = 2
    while (folder / f"{safe}-{distinguisher[:8]}-{n}{suffix}").exists():
        n += 1
    return folder / f"{safe}-{distinguisher[:8]}-{n}{suffix}"
