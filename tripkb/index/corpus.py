"""The corpus as the index sees it: one entry per document, and the stamps that tell what changed.

A stamp is a document's key with the mtime and size of its sidecar and file, so
comparing the corpus with the index is a directory scan plus one column of the index.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..fsutil import read_regular, write_text_atomic
from ..kb import DOCUMENT_SUFFIXES, KnowledgeBase
from .schema import live_values


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
            stats.append(os.lstat(path) if path else None)  # a link's own stamp: never followed
        except OSError:
            stats.append(None)
    return stamp_of(key, *stats)


def stamp_of(key: str, *stats: os.stat_result | None) -> str:
    """:func:`stamp` from the files' ``os.stat`` results, taken by whoever just wrote them."""
    return ":".join([key] + [f"{st.st_mtime_ns}.{st.st_size}" if st else "-" for st in stats])


Layout = list[tuple[str, str | None, str | None]]


def corpus_layout(kb: KnowledgeBase, files: list[str] | None = None) -> Layout:
    """(key, sidecar, document) as '/'-paths relative to ``corpus/``: each sidecar with its
    same-stem document if there is one, then each document without a sidecar. Plain strings,
    so that a corpus of many thousand records is compared with the index cheaply.
    ``files``: :meth:`KnowledgeBase.corpus_files`, if the caller has listed them."""
    files = kb.corpus_files() if files is None else files
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


def changed(kb: KnowledgeBase, layout: Layout, indexed: dict[str, str]) -> Layout:
    """The part of ``layout`` whose files are not as the index last saw them."""
    base = os.path.join(kb.corpus, "")
    return [(key, sidecar, document) for key, sidecar, document in layout
            if indexed.get(key) != stamp(key, sidecar and base + sidecar, document and base + document)]


def layout_entries(kb: KnowledgeBase, layout: Layout) -> list[Entry]:
    corpus = kb.corpus
    return [Entry(key, corpus / sidecar if sidecar else None, corpus / document if document else None)
            for key, sidecar, document in layout]


def corpus_entries(kb: KnowledgeBase) -> list[Entry]:
    return layout_entries(kb, corpus_layout(kb))


def indexed_stamps(ix) -> dict[str, str]:
    """key → stamp for every indexed document, read from one column alone."""
    with ix.reader() as reader:
        return {stamp.rsplit(":", 2)[0]: stamp for stamp in live_values(reader, "stamp")}


STAMPS_COPY = "stamps.json"


def known_stamps(ix, index_dir: Path) -> dict[str, str]:
    """:func:`indexed_stamps`, kept in a file beside the index for the generation it was read from.

    Every search first compares the corpus with the index; the copy is read much
    faster than the column of a large index. A copy from any
    other generation of the index is ignored and replaced.
    """
    saved = saved_stamps(index_dir, ix.latest_generation())
    if saved is not None:
        return saved
    stamps = indexed_stamps(ix)
    write_generation_copy(index_dir / STAMPS_COPY, ix.latest_generation(), "stamps", stamps)
    return stamps


def saved_stamps(index_dir: Path, generation: int) -> dict[str, str] | None:
    """The copy :func:`known_stamps` keeps, if it was made from ``generation`` of the index."""
    return read_generation_copy(index_dir / STAMPS_COPY, generation, "stamps")


def read_generation_copy(path: Path, generation: int, key: str) -> dict | None:
    """The mapping under ``key`` of a JSON copy kept beside the index, if made from ``generation``.

    Copies of what the index holds are only good for the generation they were read from;
    any other, or an unreadable one, counts as none.
    """
    try:
        saved = json.loads(read_regular(path))
        if saved.get("generation") == generation and isinstance(saved.get(key), dict):
            return saved[key]
    except (OSError, ValueError, AttributeError):
        pass
    return None


def write_generation_copy(path: Path, generation: int, key: str, values: dict) -> None:
    """Keep ``values`` for :func:`read_generation_copy`; a read-only KB simply keeps none."""
    try:
        write_text_atomic(path, json.dumps({"generation": generation, key: values}, ensure_ascii=False),
                          durable=False)
    except OSError:
        pass
