"""The Whoosh index: schema, version check, and the fields one document becomes.

The index is derived from ``corpus/`` and can always be rebuilt. It records
the schema version it was built with; :func:`status` says when it must be
rebuilt instead of letting an old index fail in some obscure way.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import KBIndexError
from ..fsutil import read_regular
from ..text.normalise import match_form
from .whoosh_internals import accept_old_pickles, aligned_columns

SCHEMA_VERSION = 8  # 8: the institution's sector indexed
VERSION_FILE = "tripkb.json"
INDEX_NAME = "tripkb"

#: Searchable text fields and their BM25F weights. Each has a jieba-word
#: field of this name and a bigram field with the ``_g`` suffix.
TEXT_FIELDS = {"title": 4.0, "keywords": 3.0, "authors": 2.0, "abstract": 2.0, "body": 1.0}
GRAM_SUFFIX = "_g"
#: Exact-match fields filled from the record: one value, several values, numbers.
KEYWORD_FIELDS = ("id", "type", "institution", "category", "region", "language")
#: Fields derived from the vocabularies (canonical names, the sector): the index records
#: which KB vocabulary it was built with, and is rebuilt when that changes.
VOCAB_STAMP = "vocab"
LIST_FIELDS = ("events", "countries")
NUMBER_FIELDS = ("year", "participants")


def holds_word(reader, term: str) -> bool:
    """Whether a text field of the index holds ``term`` (match form) as a word."""
    return any((name, term) in reader for name in TEXT_FIELDS)


def schema():
    from whoosh import fields

    from .analysis import grams_analyzer, words_analyzer
    from .postings import CompactPositions, Frequencies

    spec: dict[str, Any] = {
        "key": fields.ID(stored=True, unique=True, sortable=True),
        "id": fields.ID(stored=True, sortable=True),
        "sha256": fields.ID(sortable=True),
        "stamp": fields.ID(sortable=True),
        "type": fields.ID(sortable=True),
        "institution": fields.ID(sortable=True),
        "category": fields.ID(sortable=True),
        "region": fields.ID(sortable=True),
        "sector": fields.ID,
        "language": fields.ID,
        "events": fields.KEYWORD(commas=True, lowercase=True),
        "countries": fields.KEYWORD(commas=True),
        "sections": fields.KEYWORD(commas=True),
        "year": fields.NUMERIC(int, bits=16, signed=False, sortable=True),
        "participants": fields.NUMERIC(int, bits=32, signed=False, sortable=True),
        "data": fields.STORED,
    }
    # Field weights are applied at query time (see query/search.py): postings then
    # carry bare frequencies, which Whoosh stores in nothing when they are all 1.
    # Word fields need no positions: literal phrases are matched on the bigrams.
    for name in TEXT_FIELDS:
        words = fields.TEXT(analyzer=words_analyzer(), phrase=False)
        words.format = Frequencies()
        spec[name] = words
        grams = fields.TEXT(analyzer=grams_analyzer(), phrase=True)
        grams.format = CompactPositions()
        spec[name + GRAM_SUFFIX] = grams
    return fields.Schema(**spec)


@lru_cache(maxsize=1)
def _text_fields() -> dict[str, Any]:
    """The schema's text fields, built once per process, to analyse documents with."""
    spec = schema()
    return {name: spec[name] for name in TEXT_FIELDS} | {
        name + GRAM_SUFFIX: spec[name + GRAM_SUFFIX] for name in TEXT_FIELDS}


def status(index_dir: Path) -> str | None:
    """None when the index can be used as it is, else why it must be (re)built."""
    from whoosh import index as windex

    accept_old_pickles()  # exists_in reads the schema
    marker = index_dir / VERSION_FILE
    if not index_dir.is_dir() or not windex.exists_in(str(index_dir), indexname=INDEX_NAME):
        return "there is no index yet"
    with os.scandir(index_dir) as entries:
        if any(entry.is_symlink() for entry in entries):  # Whoosh would read (and clean) through it
            return "the index folder holds a symbolic link"
    try:
        built = json.loads(read_regular(marker))
    except (OSError, ValueError):
        built = {}
    if not isinstance(built, dict):
        built = {}
    if built.get("schema_version") != SCHEMA_VERSION:
        return (f"the index was built with schema version {built.get('schema_version')}, "
                f"this tripkb uses {SCHEMA_VERSION}")
    if built.get(VOCAB_STAMP) != vocab_stamp(index_dir.parent):
        return "the knowledge base's vocabulary (vocab/) changed since the index was built"
    return None


def vocab_stamp(kb_root: Path) -> str | None:
    """A checksum of the KB's own vocabulary files (None without any): the canonical names and
    sectors in the index follow them, so a renaming added there joins rows already indexed."""
    from ..meta.vocab import KB_VOCAB_DIR, KB_VOCAB_FILES

    crc, found = 0, False
    for name in KB_VOCAB_FILES:
        try:
            content = read_regular(kb_root / KB_VOCAB_DIR / name)
        except FileNotFoundError:
            continue
        except OSError:  # unreadable: loading the vocabulary says so
            content = b"?"
        found = True
        crc = zlib.crc32(name.encode() + b"\0" + content + b"\0", crc)
    return f"{crc:08x}" if found else None


def _storage(index_dir: Path):
    """Index files read with plain reads, not mmap: Whoosh touches whole mapped segments
    on open, so a reader's memory would grow with the whole index. Every index is opened
    here, so this is where its columns are made to line up."""
    from whoosh.filedb.filestore import FileStorage

    accept_old_pickles()
    aligned_columns()
    return FileStorage(str(index_dir), supports_mmap=False)


def open_index(index_dir: Path, checked: bool = False):
    """The index; ``checked`` when the caller has just had :func:`status` say it is usable."""
    reason = None if checked else status(index_dir)
    if reason:
        raise KBIndexError(f"cannot open the index in {index_dir}: {reason}; run 'tripkb reindex'")
    return _storage(index_dir).open_index(INDEX_NAME)


def latest_generation(index_dir: Path) -> int:
    """The index's current generation (-1: none), from the names of its files alone:
    cheaper than opening it, which reads its table of contents and schema."""
    from whoosh.index import TOC

    return TOC._latest_generation(_storage(index_dir), INDEX_NAME)


def segment_count(index_dir: Path) -> int:
    """The segments the index is in: each repeats the terms it shares with the others, so
    fewer make a smaller index and a faster search."""
    from whoosh.index import TOC

    return len(TOC.read(_storage(index_dir), INDEX_NAME).segments)


def create_index(index_dir: Path):
    """A new empty index in ``index_dir`` (which must be empty or absent)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = _storage(index_dir).create_index(schema(), indexname=INDEX_NAME)
    (index_dir / VERSION_FILE).write_text(json.dumps(
        {"schema_version": SCHEMA_VERSION, "tripkb": __version__, VOCAB_STAMP: vocab_stamp(index_dir.parent)}) + "\n",
        encoding="utf-8")
    return ix


def length_bytes(perdoc, fieldname: str) -> bytes | None:
    """A segment's length byte for each document in ``fieldname``, read in one go (None: no lengths).

    Reaches into the per-document reader of the pinned Whoosh-Reloaded 2.7.5,
    whose columns leave out the zero bytes at their end.
    """
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return None
    if isinstance(column, bytes):
        return column
    data = column._dbfile.get(column._basepos, column._count)
    return data + bytes(max(0, column._doccount - column._count))


def segment_lengths_in_memory(perdoc, names) -> None:
    """Read a segment's field lengths (a byte per document and field) for ``names`` in one go.

    Whoosh reads a document's length a byte at a time from the index file (no
    mmap, see :func:`_storage`) for every posting BM25 scores (a fifth of a
    query's time) and for every document a merge copies. A field without lengths
    is remembered as such, which spares a ``stat`` a look. ``perdoc`` is the
    per-document reader of the pinned Whoosh-Reloaded 2.7.5; any other is left as it is.
    """
    from whoosh.codec.whoosh3 import _lenfield

    if perdoc is None or not hasattr(perdoc, "_readers"):
        return
    for name in names:
        perdoc._readers[_lenfield(name)] = length_bytes(perdoc, name)


def lengths_in_memory(searcher) -> None:
    """:func:`segment_lengths_in_memory` of every segment a searcher reads, for the fields BM25 scores."""
    for leaf, _ in searcher.leaf_searchers():
        segment_lengths_in_memory(getattr(leaf.reader(), "_perdoc", None), searcher.schema.scorable_names())


def live_values(reader, fieldname: str) -> list[str]:
    """The values of a column over documents not deleted.

    Term lists keep the terms of deleted documents until segments merge, so
    they cannot say what is in the index now; columns per live document can.
    """
    if reader.doc_count_all() == 0:  # an empty index has no columns at all
        return []
    column = list(reader.column_reader(fieldname))  # read whole: much faster than by docnum
    return [column[docnum] for docnum in reader.all_doc_ids() if column[docnum]]


PAGE_BREAK = "\n\f\n"


@dataclass
class StoredDoc:
    """What a search hit carries: the record as JSON, its file and its text by page.

    ``paged`` is False for formats without page numbers (Word): their text
    is stored as one page, and hits in it report none.
    """

    record: dict[str, Any]
    file: str | None
    starts: list[int]
    _text: bytes
    paged: bool = True
    #: The sections (text/sections.py), as JSON: the sidecar's when it lists them, else those
    #: recognised; none when the outline was not recognised.
    sections: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return zlib.decompress(self._text).decode("utf-8") if self._text else ""

    def pages(self) -> list[str]:
        text = self.text
        bounds = self.starts + [len(text) + len(PAGE_BREAK)]
        return [text[bounds[i]:bounds[i + 1] - len(PAGE_BREAK)] for i in range(len(self.starts))]

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> "StoredDoc":
        return cls(record=data["record"], file=data["file"], starts=data["starts"], _text=data["text"],
                   paged=data.get("paged", True), sections=data.get("sections", []))


def text_values(record: dict[str, Any], text: str) -> dict[str, str]:
    """The match-form text of each searchable field that has any (what the analysers read)."""
    values = {
        "title": record.get("title", ""),
        "keywords": "\n".join(record.get("keywords", [])),
        "authors": "\n".join(record.get("authors", [])),
        "abstract": record.get("abstract", ""),
        "body": text,
    }
    return {name: match_form(value) for name, value in values.items() if value}


def _analysed(name: str, folded: str) -> dict[str, Any]:
    """The word and bigram fields of the text field ``name``, postings included."""
    from .postings import analysed

    fields = _text_fields()
    return {name: analysed(fields[name], folded),
            name + GRAM_SUFFIX: analysed(fields[name + GRAM_SUFFIX], folded)}


def body_fields(pages: list[str]) -> dict[str, Any]:
    """The body's text fields, made where the pages are read and handed to :func:`document_fields`."""
    return _analysed("body", match_form(PAGE_BREAK.join(pages)))


def body_part(pages: list[str]) -> tuple[str, dict[str, int], dict[str, list[int]], int]:
    """A range of the body's pages analysed on its own by the body's analysers: its match-form
    text, word counts and bigram positions, and how many positions it takes (where the next
    range's begin); :func:`joined_body_fields` joins the ranges."""
    from .analysis import gram_span

    fields = _text_fields()
    folded = match_form(PAGE_BREAK.join(pages))
    return (folded, fields["body"].analyzer.counts(folded), fields["body" + GRAM_SUFFIX].analyzer.positions(folded),
            gram_span(folded))


def joined_body_fields(text: str, counts: dict[str, int], positions: dict[str, list[int]]) -> dict[str, Any]:
    """:func:`body_fields` of the match-form ``text`` whose word counts and bigram positions were
    made a range of pages at a time (see :mod:`tripkb.ingest.page_ranges`)."""
    from .postings import Analysed

    fields = _text_fields()
    return {"body": Analysed(text, fields["body"].format.counted(counts)),
            "body" + GRAM_SUFFIX: Analysed(text, fields["body" + GRAM_SUFFIX].format.placed(positions))}


def _sections(pages: list[str], paged: bool, given: list[dict[str, Any]] | None) -> list:
    """The document's sections: those the sidecar lists when it lists any (even none), else those
    recognised in the text; a text without pages (Word) has no page spans to give."""
    if not paged or not pages:
        return []
    from ..text.sections import find_sections, given_sections

    return find_sections(pages) if given is None else given_sections(pages, given)


def document_fields(key: str, stamp: str, record: dict[str, Any], file: str | None,
                    pages: list[str], vocab=None, paged: bool = True,
                    body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Whoosh fields of one document; ``record`` is JSON-ready (see metadata.to_json).

    Text fields come analysed (see :mod:`postings`): this runs in the processes
    that read documents, so the one writing the index does not analyse. ``body``
    is :func:`body_fields` of ``pages`` made earlier elsewhere; it is used only
    if its text is still that of the pages. Facets are indexed under canonical
    names (國圖 → 國家圖書館, USA → 美國, WLIC → IFLA), so filters and counts see
    one value per thing; the stored record keeps what the sidecar says.
    """
    if vocab is None:
        from ..meta.vocab import Vocabulary

        vocab = Vocabulary.load()
    text = PAGE_BREAK.join(pages)
    starts, pos = [], 0
    for page in pages:
        starts.append(pos)
        pos += len(page) + len(PAGE_BREAK)
    sections = _sections(pages, paged, record.get("sections"))
    doc: dict[str, Any] = {
        "key": key,
        "stamp": stamp,
        "data": {"record": record, "file": file, "starts": starts, "paged": paged,
                 "text": zlib.compress(text.encode("utf-8"), 6) if text else b"",
                 "sections": [section.to_json() for section in sections]},
    }
    if sections:
        doc["sections"] = ",".join(dict.fromkeys(section.name for section in sections))
    for name, folded in text_values(record, text).items():
        if name == "body" and body and body["body"] == folded:
            doc.update(body)
        else:
            doc.update(_analysed(name, folded))
    for name in ("sha256",) + KEYWORD_FIELDS:
        if record.get(name):
            doc[name] = str(record[name])
    if record.get("institution"):
        doc["institution"] = vocab.canonical_institution(record["institution"], record.get("year"))
        doc["sector"] = vocab.sector(record["institution"])
    if record.get("events"):
        doc["events"] = ",".join(vocab.org_code(e) or e for e in record["events"])
    if record.get("countries"):
        doc["countries"] = ",".join(vocab.canonical_country(c) or c for c in record["countries"])
    for name in NUMBER_FIELDS:
        if isinstance(record.get(name), int):
            doc[name] = record[name]
    return doc
