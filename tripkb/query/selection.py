"""Pick documents for export, citation and bundles: the index finds them, the sidecars describe them.

Selection runs the same query and filters as ``search`` over the index, so an
export of "年會 --org IFLA" holds exactly the documents that search finds. The
records handed on are read from the sidecars (the source of truth) and only
completed with what the indexer derives for documents that lack it (an id
from the file name, a title from the PDF, the page count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MetadataError
from ..index.schema import StoredDoc, open_index
from ..index.freshness import refresh
from ..kb import KnowledgeBase
from ..meta.sidecar import KEYS, read_sidecar, to_json
from ..meta.vocab import Vocabulary
from ..reporting import Problem, Progress
from .search import Filters, parse, stored_fields


@dataclass
class Selected:
    """One document: its record (JSON-ready), the index's stored copy, its files."""

    key: str
    record: dict[str, Any]
    stored: StoredDoc
    sidecar: Path | None
    document: Path | None

    @property
    def id(self) -> str:
        return self.record["id"]

    def changed(self) -> float:
        """When the record last changed: its sidecar's mtime, else its file's."""
        path = self.sidecar or self.document
        return path.stat().st_mtime if path is not None else 0.0


@dataclass
class Selection:
    items: list[Selected] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: The KB's vocabulary (shipped names plus its own vocab/ files), for writers that name things.
    vocab: Vocabulary = field(default_factory=Vocabulary.load)


def select(kb: KnowledgeBase, query: str | None = None, filters: Filters | None = None,
           progress: Progress | None = None) -> Selection:
    """Every document matching ``query`` and ``filters`` (all documents when both are empty), in corpus order."""
    from whoosh import query as Q

    vocab = Vocabulary.load(kb.root)
    wanted = parse(query, vocab=vocab).query if query is not None else Q.Every()
    filter_q = (filters or Filters()).query(kb.root)
    synced = refresh(kb, progress)
    ix = open_index(kb.index_dir)
    with ix.searcher() as searcher:
        found = {hit["key"]: hit["data"] for hit in searcher.search(wanted, limit=None, filter=filter_q)}
    selection = Selection(problems=list(synced.problems) if synced else [], vocab=vocab)
    owners: dict[str, str] = {}
    for key in sorted(found):
        try:
            item = _selected(kb, key, StoredDoc.from_stored(found[key]))
        except MetadataError as exc:
            reason = f"{exc.key}: {exc.problem}" if exc.key else exc.problem
            selection.problems.append(Problem(kb.relative(Path(exc.path)), f"{reason} (left out)"))
            continue
        if item.id in owners:
            selection.problems.append(Problem(f"corpus/{key}", f"id {item.id!r} is also the id of "
                                                               f"corpus/{owners[item.id]} (skipped)"))
            continue
        owners[item.id] = key
        selection.items.append(item)
    return selection


def by_id(kb: KnowledgeBase, doc_id: str, progress: Progress | None = None) -> Selected:
    """The document with this id (exact, else case-insensitive), or :class:`NotFoundError`."""
    fields = stored_fields(kb, doc_id, progress)
    return _selected(kb, fields["key"], StoredDoc.from_stored(fields["data"]))


def _selected(kb: KnowledgeBase, key: str, stored: StoredDoc) -> Selected:
    """Read the sidecar of an indexed document; documents without one keep the index's record."""
    sidecar = kb.corpus / key if key.endswith(".yaml") else None
    record = dict(stored.record)
    if sidecar is not None:
        truth, _warnings = read_sidecar(sidecar)
        record = to_json(truth)
        for name, value in stored.record.items():  # what the indexer derived, e.g. id from the file name
            record.setdefault(name, value)
        record = {k: record[k] for k in KEYS if k in record} | {k: v for k, v in record.items() if k not in KEYS}
    document = kb.root / stored.file if stored.file else None
    return Selected(key=key, record=record, stored=stored, sidecar=sidecar, document=document)
