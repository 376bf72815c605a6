"""Integrity: corpus files against their sidecars, sidecars against the index, and back.

Read-only: it reports, it never repairs. ``tripkb ingest`` or ``tripkb reindex``
mend the index; a file whose bytes no longer match its sidecar needs a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MetadataError
from ..fsutil import NO_LINKS, sha256_of
from ..kb import KnowledgeBase
from ..meta.sidecar import read_sidecar
from ..reporting import Problem, Progress
from .corpus import corpus_entries, indexed_stamps
from .schema import open_index, status


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
    links = kb.corpus_links()
    report.problems += [Problem(f"corpus/{link}", f"is a symbolic link ({NO_LINKS}; refused)") for link in links]
    linked = {kb.corpus / link for link in links}
    claims: dict[Path, str] = {}  # document → the record that names it first
    for done, entry in enumerate(entries, 1):
        report.checked += 1
        shown = f"corpus/{entry.key}"
        if entry.sidecar in linked or entry.document in linked:
            continue  # reported above, and never read
        try:
            record, _ = read_sidecar(entry.sidecar) if entry.sidecar else ({}, [])
            document = kb.document_path(entry.sidecar, record.get("file")) if entry.sidecar \
                else kb.inside(entry.document, entry.document, entry.key)
        except MetadataError as exc:
            report.problems.append(Problem(shown, exc.problem if not exc.key else f"{exc.key}: {exc.problem}"))
            continue
        if document is not None and claims.setdefault(document, shown) != shown:
            report.problems.append(Problem(shown, f"file: {kb.relative(document)} is also the file of "
                                                  f"{claims[document]} (two records claim one file)"))
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
