"""Bring documents into the knowledge base: copy, describe, index.

Originals are never modified or moved: each new document is copied into
``corpus/`` and gets a sidecar there. Identity is the SHA-256 of the file's
bytes, so ingesting the same files again adds nothing. One bad file is
reported and skipped; the rest of the batch goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .autofill import fill
from .check import read_valid_sidecar
from .cover import read_cover
from .errors import ExtractError, MetadataError
from .extract import Extracted, extract
from .fsutil import copy_atomic, free_name, sha256_of
from .indexer import Entry, Problem, Progress, SyncReport, _writer, prepare, sync
from .index import live_values, open_index
from .kb import DOCUMENT_SUFFIXES, KnowledgeBase
from .metadata import KEYS, read_sidecar, write_sidecar
from .vocab import Vocabulary


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


def ingest(kb: KnowledgeBase, paths: list[Path], progress: Progress | None = None) -> IngestReport:
    """Copy new documents into the corpus, complete their sidecars and index them."""
    report = IngestReport()
    report.synced = sync(kb, progress)
    corpus = kb.corpus.resolve()
    sources = [p for p in collect(paths, report) if not p.resolve().is_relative_to(corpus)]
    if not sources:
        return report
    ix = open_index(kb.index_dir)
    vocab = Vocabulary.load(kb.root)
    with ix.searcher() as searcher, _writer(ix) as writer:
        known_sha: set[str] = set(live_values(searcher.reader(), "sha256"))
        known_ids: set[str] = set(live_values(searcher.reader(), "id"))
        for done, source in enumerate(sources, 1):
            try:
                fields = _bring_in(kb, source, known_sha, known_ids, vocab, report)
            except MetadataError as exc:  # named by the sidecar at fault, as 'meta check' names it
                report.problems.append(Problem(exc.path + (f":{exc.line}" if exc.line else ""), _reason(exc)))
                fields = None
            except (ExtractError, OSError) as exc:
                report.problems.append(Problem(str(source), _reason(exc)))
                fields = None
            if fields is not None:
                writer.update_document(**fields)
            if progress:
                progress(done, len(sources), source.name)
    return report


def _reason(exc: Exception) -> str:
    if isinstance(exc, MetadataError):
        return f"{exc.key}: {exc.problem}" if exc.key else exc.problem
    if isinstance(exc, OSError):
        return f"cannot read or copy: {exc.strerror or exc}"
    return str(exc)


def _bring_in(kb: KnowledgeBase, source: Path, known_sha: set[str], known_ids: set[str],
              vocab: Vocabulary, report: IngestReport) -> dict[str, Any] | None:
    if source.suffix.lower() == ".yaml":
        return _bring_in_record(kb, source, known_ids, vocab, report)
    sha = sha256_of(source)
    if sha in known_sha:
        report.unchanged += 1
        return None
    sidecar_in = source.with_suffix(".yaml")
    record: dict[str, Any] = {}
    if sidecar_in.exists():
        record, warnings = read_valid_sidecar(sidecar_in, vocab, derived=False)
        report.warnings.extend(warnings)
    extracted = extract(source)
    target = free_name(kb.corpus, source.stem, source.suffix.lower(), sha)
    record = complete(record, extracted, target, sha, known_ids, vocab)
    copy_atomic(source, target)
    sidecar = target.with_suffix(".yaml")
    write_sidecar(sidecar, record)
    known_sha.add(sha)
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
    if record.get("id") in known_ids:
        report.unchanged += 1
        return None
    record.pop("file", None)
    record.setdefault("id", source.stem)
    target = free_name(kb.corpus, source.stem, ".yaml", record["id"])
    write_sidecar(target, record)
    known_ids.add(record["id"])
    prepared = prepare(kb, Entry(target.relative_to(kb.corpus).as_posix(), target, None))
    report.added.append(kb.relative(target))
    return prepared.fields


def complete(record: dict[str, Any], extracted: Extracted, target: Path, sha: str,
             known_ids: set[str], vocab: Vocabulary) -> dict[str, Any]:
    """Fill what the sidecar does not say yet from the cover and 摘要; what it says is kept.

    The values filled in are marked in ``extracted:`` (see :mod:`tripkb.autofill`).
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
    out["pages"] = len(extracted.pages)
    return {k: out[k] for k in KEYS if k in out} | {k: v for k, v in out.items() if k not in KEYS}


@dataclass
class ExtractReport:
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    synced: SyncReport | None = None


def reextract(kb: KnowledgeBase, ids: list[str] | None = None,
              progress: Progress | None = None) -> ExtractReport:
    """Read the covers of corpus documents again (all, or those with ``ids``) and refresh
    the fields that are still tripkb's; a person's values are never touched (see :mod:`autofill`)."""
    vocab = Vocabulary.load(kb.root)
    report = ExtractReport()
    wanted = set(ids or ())
    seen: set[str] = set()
    sidecars = list(kb.sidecars())
    for done, sidecar in enumerate(sidecars, 1):
        if progress:
            progress(done, len(sidecars), sidecar.name)
        try:
            record, _ = read_sidecar(sidecar, derived=False)
            doc_id = record.get("id") or sidecar.stem
            document = kb.document_path(sidecar, record.get("file"))
            if (wanted and doc_id not in wanted) or document is None or not document.exists():
                continue
            seen.add(doc_id)
            extracted = extract(document)
        except (MetadataError, ExtractError, OSError) as exc:
            report.problems.append(Problem(kb.relative(sidecar), _reason(exc)))
            continue
        found = read_cover(extracted.pages, vocab, extracted.info_title, extracted.info_author).record()
        found.pop("id", None)  # an id, once given, is never changed
        new = fill(record, found)
        if new != record:
            write_sidecar(sidecar, new)
            report.changed.append(kb.relative(sidecar))
        else:
            report.unchanged += 1
    report.problems += [Problem(i, "no document with this id in corpus/") for i in sorted(wanted - seen)]
    report.synced = sync(kb, progress)
    return report
