"""Every private part of Whoosh-Reloaded and jieba that tripkb touches, and why the versions are pinned.

tripkb pins ``Whoosh-Reloaded==2.7.5`` and ``jieba==0.42.1`` (pyproject.toml)
because the code below reaches past their public APIs, for speed or to keep
indexes readable; another version may rename or change any of it. Each reach
is kept where its work is done, and listed here with the test that checks it.
Upgrading either package means going down this list and running those tests.

Whoosh-Reloaded 2.7.5
  * :func:`index.schema.length_bytes`, :func:`index.schema.segment_lengths_in_memory`:
    ``whoosh.codec.whoosh3._lenfield`` and ``LENGTHS_COLUMN``, the per-document
    reader's ``_cached_reader`` and ``_readers``, a column reader's ``_dbfile``,
    ``_basepos``, ``_count`` and ``_doccount``; :func:`index.schema.lengths_in_memory`
    reads a segment reader's ``_perdoc``. Field lengths read in one go instead of
    a byte per posting (tests/test_segments.py).
  * :mod:`index.segment_writer` (:class:`GroupedWriter`, a ``SegmentWriter``):
    overrides ``_merge_segments``, ``_flush_segment`` and ``_close_segment``;
    :func:`write_terms` writes the bytes of ``W3PostingsWriter`` blocks (``WHOOSH3_HEADER_MAGIC``,
    the pickled block info and data) and of ``W3TermInfo`` itself, reading the postings
    writer's ``_blocklimit`` and ``_compression``, the field writer's ``_fieldid``, ``_tindex``
    and ``_postfile``, and the terms table's ``dbfile``, ``buckets``, ``index``, ``hashfn`` and
    ``lastkey`` (its bytes are held to Whoosh's own writers'); reads segments with ``W3LeafMatcher``'s ``_read_ids``,
    ``_read_weights``, ``_read_values``, ``_next_block``, ``_ids``, ``_weights``,
    ``_values`` and a terms reader's ``_terms`` and ``_postfile``; and replaces
    ``whoosh.codec.whoosh3.dumps`` and ``whoosh.columns.dumps`` process-wide
    (``_modern_pickles``) to pickle with protocol 4 (tests/test_segwriter.py).
  * :class:`index.batch_writer.BatchWriter`: ``adopt`` reads another index's
    ``TOC`` and appends its segment to the writer's ``adopted`` list, which
    :class:`GroupedWriter` merges in at commit; ``tiered_merge`` and
    ``_one_segment`` are merge policies over ``SegmentReader`` and
    ``writer.add_reader`` (tests/test_bulk.py, tests/test_segments.py).
  * :mod:`index.postings`: ``Frequencies`` and ``CompactPositions`` subclass
    ``whoosh.formats`` and are pickled, by module path, into every index's
    schema, as is ``index.analysis._Tokenizer`` (see :data:`PICKLED_MOVES`).
  * :func:`index.schema.latest_generation` calls ``TOC._latest_generation`` (the
    generation from the file names, without reading the TOC) (tests/test_speed.py).
  * :func:`aligned_columns` replaces ``MultiReader.column_reader``, which leaves out
    a segment that has no file for a column, so that a column read across
    segments has one value per document number (tests/test_stats_consistency.py).
  * :mod:`query.literal`: ``DocSet`` and ``Ranked`` are ``Query`` subclasses that
    build matchers themselves (``ListMatcher``) and read a searcher's
    ``subsearchers`` (tests/test_search.py).
  * :func:`lighter_imports`: while ``whoosh.compat`` and ``whoosh.reading`` are first
    imported, stands in for ``urllib.request`` (whose ``urlretrieve`` Whoosh only
    re-exports) and for the ``cached_property`` package (which imports asyncio;
    Whoosh uses its decorator once, on ``SegmentReader.deleted_docs_set``); while
    ``whoosh.query.terms`` is, for ``whoosh.lang.morph_en`` (``variations`` imported when
    called: only Whoosh's ``Variations`` query calls it) (tests/test_speed.py).

jieba 0.42.1
  * :func:`index.analysis.table_of` reads a tokenizer's ``FREQ`` and ``total`` to make the
    route table that :mod:`index.route_cache` keeps; :func:`index.route_cache.table_key`
    names it after the ``dict.txt`` in jieba's package folder; :func:`index.analysis.cut`
    computes jieba's dictionary-mode route itself (tests/test_analysis.py holds it to
    ``tokenize(HMM=False)``, tests/test_route_cache.py the kept table to jieba's).
"""

from __future__ import annotations

import functools
import importlib
import sys

from ..stand_ins import module, stand_in_while_importing

#: Where classes pickled in an index's schema lived when the index was written, and where they
#: are now. Indexes written before the modules moved into subpackages name
#: ``tripkb.analysis._Tokenizer``, ``tripkb.postings.Frequencies`` and
#: ``tripkb.postings.CompactPositions``; an index's next commit pickles the schema under the new
#: paths. The class names themselves must never change.
PICKLED_MOVES = {"tripkb.analysis": "tripkb.index.analysis", "tripkb.postings": "tripkb.index.postings"}


def accept_old_pickles() -> None:
    """Make the old module paths of :data:`PICKLED_MOVES` importable, so that such indexes open.

    Done here rather than with modules left at the old paths, so that the package
    holds no module that only exists for this.
    """
    for old, new in PICKLED_MOVES.items():
        if old not in sys.modules:
            sys.modules[old] = importlib.import_module(new)


def _column_reader(self, fieldname, column=None, reverse=False, translate=True):
    """A column of a multi-segment index, one value per document number (see :func:`aligned_columns`)."""
    from whoosh.columns import MultiColumnReader

    return MultiColumnReader([reader.column_reader(fieldname, column=column, reverse=reverse,
                                                   translate=translate) for reader in self.readers])


def aligned_columns() -> None:
    """Make a column read across segments give every document its value, at its number.

    A segment in which no document has a value for a field (one metadata-only
    record without a year, say) has no file for its column. Whoosh-Reloaded
    2.7.5's ``MultiReader.column_reader`` leaves such a segment out, so the
    values of later segments move up and stand for other documents (wrong
    counts in ``stats``, an IndexError reading the column by number). Each
    segment's own reader gives the field's default for a column it lacks, as
    Whoosh's ``MultiPerDocumentReader`` does when merging: the column is built
    from those, every segment in its place.
    """
    from whoosh.reading import MultiReader

    MultiReader.column_reader = _column_reader


def _urlretrieve(*args, **kwargs):
    """``urllib.request.urlretrieve``, imported when called (Whoosh never calls it)."""
    from urllib.request import urlretrieve

    return urlretrieve(*args, **kwargs)


def _variations(word: str):
    """``whoosh.lang.morph_en.variations``, imported when called (only Whoosh's ``Variations``
    query calls it, which tripkb never builds; the module compiles hundreds of regexes)."""
    from whoosh.lang.morph_en import variations

    return variations(word)


def lighter_imports() -> None:
    """Import Whoosh without what it imports and never uses for an index: urllib.request
    (ssl, http, email), asyncio and the English morphology rules, a fifth of a lookup's
    imports (:mod:`tripkb.stand_ins`)."""
    stand_in_while_importing("whoosh.compat", module("urllib.request", urlretrieve=_urlretrieve))
    stand_in_while_importing("whoosh.query.terms", module("whoosh.lang.morph_en", variations=_variations))
    stand_in_while_importing("whoosh.reading", module("cached_property", cached_property=functools.cached_property))
