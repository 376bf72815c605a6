"""Whoosh's segment writer, with postings grouped by term instead of sorted one by one.

Whoosh puts every posting through an external sort: a tuple per posting,
pickled to a run on disk past the memory bound and merged back one at a
time, then written with a read of its document's length from the file just
written. A catalogue import spent most of its index work there. Postings
arrive in document order, so a term's postings are already sorted when they
are kept together: only the terms need sorting, and each term's postings are
written a block at a time. Segments being merged are already in term order,
so they are read side by side with the new postings, a term at a time,
instead of going through the pool. The blocks go through Whoosh's own
postings writer, so the segment files are exactly Whoosh's. The writer can
also adopt segments written by other processes (see index/sync.py).

This reaches into the writer, postings writer and matcher of the pinned
Whoosh-Reloaded 2.7.5 (see pyproject.toml); tests/test_segwriter.py checks
that an index written here reads back the same as one written by Whoosh.
"""

from __future__ import annotations

import heapq
import io
import itertools
import marshal
import os
import pickle
import struct
import zlib
from array import array
from functools import partial
from operator import itemgetter, sub
from collections.abc import Iterable, Iterator
from typing import Any

from whoosh.analysis import IDTokenizer
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3LeafMatcher
from whoosh.fields import ID
from whoosh.formats import Existence
from whoosh.filedb.filetables import md5_hash
from whoosh.filedb.structfile import StructFile
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.writing import SegmentWriter

from .postings import SHARED, Analysed, Posting, Preanalysed
from .schema import length_bytes, segment_lengths_in_memory

#: A term's postings as one flat list: docnum, weight, value, docnum, weight, value...
Flat = list
Term = tuple[str, bytes, Flat]
#: Postings (three list items each) per marshalled chunk of a run: a run being merged
#: keeps one chunk in memory, however many runs an index of whole PDFs spills.
CHUNK_ITEMS = 3 * 50_000


class GroupedPool:
    """Postings kept per field and term in arrival (document) order; sorted runs on disk past ``limitmb``.

    Pre-analysed postings are filed under their term as text, whose hash the
    analysis already computed; Whoosh's own come as bytes. A field's terms are
    of one kind (its text terms are encoded if Whoosh's arrive too), and text
    sorts as its UTF-8 bytes do, so either is written in the order of the bytes.
    """

    def __init__(self, tempdir: str, limitmb: float):
        self.tempdir = tempdir
        self.limit = limitmb * 1024 * 1024
        self.terms: dict[str, dict[str | bytes, Flat]] = {}
        self.textual: set[str] = set()  # the fields whose terms are kept as text
        self.size = 0
        self.runs: list[str] = []

    def _field(self, fieldname: str, text: bool) -> dict:
        terms = self.terms.get(fieldname)
        if terms is None:
            terms = self.terms[fieldname] = {}
            if text:
                self.textual.add(fieldname)
        elif not text and fieldname in self.textual:
            terms = self.terms[fieldname] = {term.encode("utf-8"): flat for term, flat in terms.items()}
            self.textual.discard(fieldname)
        return terms

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        """One posting, as Whoosh's writer hands it over: (field, term, docnum, weight, value)."""
        terms = self._field(item[0], False)
        postings = terms.get(item[1])
        if postings is None:
            postings = terms[item[1]] = []
            self.size += 200 + len(item[1])
        postings.extend(item[2:])
        self.size += 70 + len(item[4] or b"")  # measured: 71 bytes a posting of a catalogue record
        if self.size > self.limit:
            self._spill()

    def add_analysed(self, fieldname: str, docnum: int, postings: list[Posting]) -> int:
        """A pre-analysed value's postings (see index/postings.py); returns their total frequency."""
        terms, size, length = self._field(fieldname, True), self.size, 0
        as_bytes = fieldname not in self.textual
        for term, freq, weight, value in postings:
            key = term.encode("utf-8") if as_bytes else term
            flat = terms.get(key)
            if flat is None:
                flat = terms[key] = []
                size += 200 + 3 * len(term)
            flat += (docnum, weight, value)
            size += 28 if id(value) in SHARED else 61 + len(value)  # measured: list slots, the value's object
            length += freq
        self.size = size
        if size > self.limit:
            self._spill()
        return length

    def _spill(self) -> None:
        path = os.path.join(self.tempdir, f"run-{len(self.runs)}.marshal")
        with open(path, "wb") as fh:
            for chunk in _chunks(self._sorted(), CHUNK_ITEMS):
                marshal.dump(chunk, fh)
        self.runs.append(path)
        self.terms, self.textual, self.size = {}, set(), 0

    def _sorted(self) -> Iterator[Term]:
        """The terms in order, each taken out of the pool as it is handed on (so memory is freed
        as the segment is written, and no list the pool still holds is ever extended)."""
        for fieldname in sorted(self.terms):
            terms = self.terms.pop(fieldname)
            text = fieldname in self.textual
            for term in sorted(terms):
                yield fieldname, term.encode("utf-8") if text else term, terms.pop(term)

    def iter_terms(self) -> Iterator[Term]:
        """Every term in (field, term) order with all its postings, runs and memory merged.

        Runs are in the order they were written and memory comes last, so a term's
        postings are concatenated in document order (``heapq.merge`` is stable).
        """
        if not self.runs:
            return self._sorted()
        return merged([*map(_read_run, self.runs), self._sorted()])

    def cleanup(self) -> None:
        for path in self.runs:
            try:
                os.remove(path)
            except OSError:
                pass
        self.runs, self.terms = [], {}


def _chunks(terms: Iterable[Term], items: int) -> Iterator[list[Term]]:
    """Consecutive terms in lists of about ``items`` posting items (a term is never split)."""
    chunk: list[Term] = []
    size = 0
    for term in terms:
        chunk.append(term)
        size += len(term[2])
        if size >= items:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _read_run(path: str) -> Iterator[Term]:
    with open(path, "rb") as fh:
        while True:
            try:
                chunk = marshal.load(fh)
            except EOFError:
                return
            yield from (tuple(term) for term in chunk)


#: The longest pickled block stored uncompressed: zlib saves a few bytes on a block this short,
#: or adds some, for 4-5 µs each, a seventh of a segment's flush.
RAW_UP_TO = 64


def write_terms(fieldwriter, schema, perdoc, terms: Iterable[Term]) -> None:
    """Write grouped postings in Whoosh's postings and term formats, a block at a time.

    Writes the bytes that ``FieldWriter.start_term``, ``add`` and ``finish_term``
    write posting by posting (Whoosh's postings writer, ``W3PostingsWriter``, and
    its ``W3TermInfo``): blocks of ``blocklimit`` postings, empty values left out,
    each with its highest weight and its documents' shortest and longest field
    lengths, and the term's statistics in the terms table. Those calls took
    most of the time of writing a segment, a few dozen for each term;
    ``tests/test_segwriter.py`` holds the bytes to theirs.
    """
    tindex, postfile = fieldwriter._tindex, fieldwriter._postfile
    pos = postfile.tell()
    dumps, compress, pack_sizes = pickle.dumps, zlib.compress, _SIZES.pack
    hashfn = _md5_hash if tindex.hashfn is md5_hash else tindex.hashfn
    termfile, buckets, term_starts = tindex.dbfile, tindex.buckets, tindex.index
    tindex._write_hashes = partial(_write_hashes, tindex)  # called as the field writer closes
    # Both files written a buffer at a time, each row's place in the terms file counted here.
    at = termfile.tell()
    posts: list[bytes] = []
    rows: list[bytes] = []
    buffered = 0
    lone: dict[tuple, tuple[bytes, bytes]] = {}  # a field's (doc, weight, value) -> its block, its stats
    lastfield = None
    lengths: bytes | None = None
    for fieldname, btext, flat in terms:
        if fieldname != lastfield:
            if lastfield is not None:
                fieldwriter.finish_field()
            fieldwriter.start_field(fieldname, schema[fieldname])
            lengths = length_bytes(perdoc, fieldname) if perdoc is not None else None
            lastfield = fieldname
            prefix = pack_ushort(fieldwriter._fieldid)
            limit, compression = fieldwriter._postwriter._blocklimit, fieldwriter._postwriter._compression
            fixed = schema[fieldname].format.fixed_value_size()
            lone.clear()
        # Lengths are kept as bytes, each standing for a length and in the same order
        # (``length_to_byte(byte_to_length(b)) == b``): their least and greatest are taken as bytes.
        if len(flat) == 3:  # over half the terms: one posting, whose block and stats many terms share
            made = lone.get(one := tuple(flat))
            if made is None:
                made = lone[one] = _lone_block(flat, lengths, fixed, compression)
            postings, stats = made
        else:
            docnums, weights, values = flat[0::3], flat[1::3], flat[2::3]
            out = [WHOOSH3_HEADER_MAGIC]
            total, minlength, maxlength, maxweight, count = 0, None, 0, 0, len(docnums)
            for first in range(0, count, limit):
                ids = docnums[first:first + limit]
                block = array("f", weights[first:first + limit])  # as Whoosh keeps them: 32-bit floats
                top = max(0, max(block))
                low, high = None, 0
                if lengths is not None:
                    known = [lengths[d] for d in ids if lengths[d]]
                    if known:
                        low, high = min(known), max(known)
                kept = [v for v in values[first:first + limit] if v]
                data = (tuple(map(sub, ids, [0, *ids[:-1]])), _mini_weights(block),  # Whoosh's delta_encode
                        tuple(kept) if fixed is None or fixed < 0 else None if fixed == 0 else b"".join(kept))
                databytes = dumps(data, 4)
                comp = compression if len(databytes) > RAW_UP_TO else 0
                if comp:
                    databytes = compress(databytes, comp)
                info = dumps((len(ids), ids[-1], top, comp, low or 0, high), 4)
                size = len(info) + len(databytes)
                out += (pack_int(-size if first + limit >= count else size), info, databytes)
                total += sum(block)
                minlength = low if minlength is None else min(minlength, low)
                maxlength, maxweight = max(maxlength, high), max(maxweight, top)
            postings = b"".join(out)
            stats = _TERM_INFO.pack(0, total, count, minlength or 0, maxlength, maxweight, docnums[0], docnums[-1])
        posts.append(postings)
        # The term's row, as the terms table's ``add`` writes it: sizes, key, value, and its hash.
        key = prefix + btext
        value = stats + pack_long(pos) + pack_int(len(postings))
        pos += len(postings)
        if key <= tindex.lastkey:
            raise ValueError(f"terms out of order: {tindex.lastkey!r}..{key!r}")
        row = pack_sizes(len(key), len(value)) + key + value
        rows.append(row)
        term_starts.append(at)
        h = hashfn(key)
        buckets[h & 255].append((h, at))
        at += len(row)
        tindex.lastkey = key
        buffered += len(postings)
        if buffered > WRITE_BUFFER:
            postfile.write(b"".join(posts))
            termfile.write(b"".join(rows))
            posts, rows, buffered = [], [], 0
    postfile.write(b"".join(posts))
    termfile.write(b"".join(rows))
    if lastfield is not None:
        fieldwriter.finish_field()


def _write_hashes(tindex) -> None:
    """Whoosh's ``HashWriter._write_hashes``: the terms table's 256 hash tables of (hash, row
    position), open addressing, written in one go instead of a write a slot."""
    pos = tindex.dbfile.tell()
    out = []
    for entries in tindex.buckets:
        slots = 2 * len(entries)
        tindex.directory.append((pos, slots))
        table = [0] * (2 * slots)  # hash, position, hash, position...
        used = bytearray(slots)
        for h, at in entries:
            slot = (h >> 8) % slots
            while used[slot]:
                slot = (slot + 1) % slots
            used[slot] = 1
            table[2 * slot], table[2 * slot + 1] = h, at
        out.append(struct.pack(f"!{'Iq' * slots}", *table))
        pos += slots * _POINTER_SIZE
    tindex.dbfile.write(b"".join(out))


#: The size of a hash table's slot (``filetables._pointer``: a hash and a position).
_POINTER_SIZE = struct.calcsize("!Iq")


def _lone_block(flat: Flat, lengths: bytes | None, fixed: int | None, compression: int) -> tuple[bytes, bytes]:
    """The postings block of a term with one posting, and the term's stats for its row."""
    doc, weight, value = flat
    weight = array("f", (weight,))[0]  # as Whoosh keeps it: a 32-bit float
    length = lengths[doc] or None if lengths is not None else None
    kept = (value,) if value else ()
    databytes = pickle.dumps(((doc,), None if weight == 1.0 else weight,
                              kept if fixed is None or fixed < 0 else None if fixed == 0 else b"".join(kept)), 4)
    comp = compression if len(databytes) > RAW_UP_TO else 0
    if comp:
        databytes = zlib.compress(databytes, comp)
    info = pickle.dumps((1, doc, max(0, weight), comp, length or 0, length or 0), 4)
    block = b"".join((WHOOSH3_HEADER_MAGIC, pack_int(-len(info) - len(databytes)), info, databytes))
    return block, _TERM_INFO.pack(0, weight, 1, length or 0, length or 0, max(0, weight), doc, doc)


#: Postings bytes kept before they are written (with their term rows).
WRITE_BUFFER = 1 << 20


def _md5_hash(key: bytes) -> int:
    """Whoosh's ``md5_hash`` (the terms table's hash), without its hex round trip."""
    return int.from_bytes(_md5(key).digest()[12:], "big")


try:  # CPython's own MD5: half the time of OpenSSL's for a key of a few bytes
    from _md5 import md5 as _md5
except ImportError:  # a Python built without it
    from hashlib import md5 as _md5


#: How the terms table writes a row's key and value sizes (``filetables._lengths``).
_SIZES = struct.Struct("!ii")


#: Whoosh's ``W3TermInfo`` layout: flags, total weight, documents, shortest and longest length
#: (as bytes), highest weight, first and last document.
_TERM_INFO = struct.Struct("!BfIBBfII")


def _mini_weights(weights: array) -> float | tuple[float, ...] | None:
    """Whoosh's ``_mini_weights``: None when every weight is 1, the weight when all are one, else all."""
    if weights.count(1.0) == len(weights):
        return None
    if weights.count(weights[0]) == len(weights):
        return weights[0]
    return tuple(weights)


def merged(streams: list[Iterable[Term]]) -> Iterator[Term]:
    """Term streams, each in (field, term) order, merged into one; a term found in several
    streams gets their postings concatenated in stream order (``heapq.merge`` is stable)."""
    key = itemgetter(0, 1)
    for (field, btext), group in itertools.groupby(heapq.merge(*streams, key=key), key=key):
        lists = [flat for _, _, flat in group]
        yield field, btext, lists[0] if len(lists) == 1 else list(itertools.chain.from_iterable(lists))


def segment_terms(reader, schema, startdoc: int, docmap: dict[int, int] | None) -> Iterator[Term]:
    """The live postings of a segment being merged, a term at a time, renumbered for the new segment.

    Each term's blocks are read from the file in one go: Whoosh's matcher reads
    every block header a few bytes at a time.
    """
    terms = reader._terms
    for (fieldname, btext), info in terms.items():
        if fieldname not in schema:
            continue
        fmt = schema[fieldname].format
        if info.is_inlined():
            matcher = terms.matcher(fieldname, btext, fmt)
        else:
            offset, length = info.extent()
            length = length[0] if isinstance(length, tuple) else length  # decoded as a 1-tuple
            matcher = W3LeafMatcher(StructFile(io.BytesIO(terms._postfile.get(offset, length))), 0, length, fmt)
        flat: Flat = []
        if isinstance(matcher, W3LeafMatcher):
            while matcher.is_active():
                matcher._read_ids()
                matcher._read_weights()
                matcher._read_values()
                flat.extend(itertools.chain.from_iterable(zip(matcher._ids, matcher._weights, matcher._values)))
                matcher._next_block()
        else:  # postings inlined into the term info
            while matcher.is_active():
                flat.extend((matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
        if docmap is None:
            flat[0::3] = [startdoc + d for d in flat[0::3]]
        else:
            live = [i for i in range(0, len(flat), 3) if flat[i] in docmap]
            flat = list(itertools.chain.from_iterable(
                (docmap[flat[i]], flat[i + 1], flat[i + 2]) for i in live))
        if flat:
            yield fieldname, btext, flat


def _pickled(obj: Any, protocol: int | None = None) -> bytes:
    """Whoosh's ``dumps`` for postings blocks, inlined postings and stored fields, with protocol 4.

    Whoosh asks for protocol 2 (for Python 2), which pickles each bytes value
    through a function call: protocol 4 makes blocks smaller, quicker to pickle and
    to compress, and quicker to read back (bench/README.md). Whoosh's
    readers take any protocol, so indexes written either way read alike.
    """
    return pickle.dumps(obj, 4)


def _modern_pickles() -> None:
    from whoosh import columns
    from whoosh.codec import whoosh3

    whoosh3.dumps = columns.dumps = _pickled


def _whole_value(field) -> bool:
    """A field Whoosh indexes as its value whole, as one term with no frequency or position:
    an ``ID`` field with its own tokenizer (the key, the id, the institution...)."""
    return type(field) is ID and type(field.analyzer) is IDTokenizer and type(field.format) is Existence


#: Distinct values of number and keyword fields a writer keeps the terms of (see ``_terms_of``).
INDEXED_VALUES = 4096


class GroupedWriter(SegmentWriter):
    """A SegmentWriter that pools with :class:`GroupedPool` and writes with :func:`write_terms`.

    Segments being merged in are not pooled: their terms are already in order,
    so they are read side by side with the pool's as the new segment is written.
    """

    def __init__(self, ix, limitmb: float = 128, **kwargs):
        _modern_pickles()
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self.pool = GroupedPool(self._tempstorage.folder, limitmb)
        #: Segments written elsewhere and moved into this index, committed with this writer's.
        self.adopted: list = []
        self._whooshs_way = any(f.separate_spelling() or f.vector for _, f in self.schema.items())
        self._whole_values = {name for name, f in self.schema.items() if _whole_value(f)}
        self._indexed: dict[tuple[str, Any], list[tuple[bytes, int, float, bytes]]] = {}
        #: (reader, first docnum, docmap) of each segment merged in, read when the segment is written.
        self._merging: list[tuple[Any, int, dict[int, int] | None]] = []

    def add_document(self, **fields):
        """Whoosh's ``add_document``, with a pre-analysed value's postings filed straight into the pool.

        Whoosh sorts each value's postings and encodes them again one by one; the
        pool needs neither. Boosts and custom stored values (``_``-keys), spelling
        and vectors go Whoosh's way.
        """
        if self._whooshs_way or any(name.startswith("_") for name in fields):
            return super().add_document(**fields)
        self._check_state()
        schema, perdoc, pool, docnum = self.schema, self.perdocwriter, self.pool, self.docnum
        names = sorted(fields)
        self._check_fields(schema, names)
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field = schema[name]
                length = 0
                if field.indexed:
                    if isinstance(value, Analysed) and isinstance(field.format, Preanalysed):
                        length = pool.add_analysed(name, docnum, value.postings)
                    elif isinstance(value, str) and name in self._whole_values:  # what Whoosh makes of it, directly
                        pool.add((name, value.encode("utf-8"), docnum, field.format.field_boost, b""))
                        length = 1
                    else:
                        for tbytes, freq, weight, vbytes in self._terms_of(name, field, value):
                            length += freq
                            pool.add((name, tbytes, docnum, weight, vbytes))
                    if not field.scorable:
                        length = 0
                perdoc.add_field(name, field, value if field.stored else None, length)
                if field.column_type:
                    perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _terms_of(self, name: str, field, value) -> list[tuple[bytes, int, float, bytes]]:
        """``field.index(value)``, made once per value of a number or keyword field: years,
        counts, countries and organisations recur in every catalogue (and a number is
        indexed as eight terms, one per precision)."""
        if not isinstance(value, (str, int)):
            return list(field.index(value))
        terms = self._indexed.get((name, value))
        if terms is None:
            terms = list(field.index(value))
            if len(self._indexed) < INDEXED_VALUES:
                self._indexed[name, value] = terms
        return terms

    def _merge_segments(self, mergetype, optimize, merge):
        self.segments = self.segments + self.adopted  # only at commit: deletions use the offsets
        return super()._merge_segments(mergetype, optimize, merge)

    def write_per_doc(self, fieldnames, reader):
        segment_lengths_in_memory(getattr(reader, "_perdoc", None), fieldnames)
        return super().write_per_doc(fieldnames, reader)

    def add_postings_to_pool(self, reader, startdoc, docmap):
        # The merge policy closes ``reader`` as soon as this returns: read through a reader of our own.
        from whoosh.reading import SegmentReader

        self._merging.append((SegmentReader(self.storage, self.schema, reader.segment()), startdoc, docmap))

    def _flush_segment(self):
        self.perdocwriter.close()
        perdoc = self.per_document_reader() if self.codec.length_stats else None
        streams = [self.pool.iter_terms()] + [segment_terms(reader, self.schema, startdoc, docmap)
                                              for reader, startdoc, docmap in self._merging]
        try:
            write_terms(self.fieldwriter, self.schema, perdoc, merged(streams) if self._merging else streams[0])
        finally:
            if perdoc is not None:
                perdoc.close()
            self._close_merged()
        self.fieldwriter.close()

    def _close_merged(self) -> None:
        for reader, _, _ in self._merging:
            reader.close()
        self._merging = []

    def _close_segment(self):
        self._close_merged()
        super()._close_segment()
