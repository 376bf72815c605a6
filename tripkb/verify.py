"""Integrity: corpus files against their sidecars, sidecars against the index, and back.

Read-only: it reports, it never repairs. ``tripkb ingest`` or ``tripkb reindex``
mend the index; a file whose bytes no longer match its sidecar needs a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import MetadataError
from .fsutil import sha256_of
from .index import open_index, status
from .indexer import Problem, Progress, corpus_entries, indexed_stamps
from .kb import KnowledgeBase
from .metadata import read_sidecar


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)


def verify(kb: KnowledgeBase, progress: Progress | None = None) -> VerifyReport:
    report = VerifyReport()
    entries = list(corpus_entries(kb))
    reason = status(kb.index_dir)
    indexed = {} if reason else indexed_stamps(open_index(kb.index_dir))
    if reason:
        report.problems.append(Problem("index/", f"{reason}; run 'tripkb reindex'"))
    for done, entry in enumerate(entries, 1):
        report.checked += 1
        shown = f"corpus/{entry.key}"
        try:
            record, _ = read_sidecar(entry.sidecar) if entry.sidecar else ({}, [])
            document = kb.document_path(entry.sidecar, record.get("file")) if entry.sidecar else entry.document
        except MetadataError as exc:
            report.problems.append(Problem(shown, exc.problem if not exc.key else f"{exc.key}: {exc.problem}"))
            continue
        if entry.sidecar is None:
            report.problems.append(Problem(shown, "document without a sidecar (run 'tripkb ingest corpus/')"))
        elif document is not None and not document.exists():
            report.problems.append(Problem(shown, f"file: {kb.relative(document)} is missing"))
        elif document is not None and record.get("sha256") and sha256_of(document) != record["sha256"]:
            report.problems.append(Problem(kb.relative(document),
                                           "SHA-256 differs from the sidecar's: the file changed since ingest"))
        if not reason and entry.key not in indexed:
            report.problems.append(Problem(shown, "not in the index (run 'tripkb ingest corpus/')"))
        elif not reason and indexed[entry.key] != entry.stamp():
            report.problems.append(Problem(shown, "changed since it was indexed (run 'tripkb ingest corpus/')"))
        if progress:
            progress(done, len(entries), entry.key)
    keys = {e.key for e in entries}
    for key in sorted(set(indexed) - keys):
        report.problems.append(Problem(f"index/{key}", "indexed, but no longer in corpus/ (run 'tripkb reindex')"))
    return report
