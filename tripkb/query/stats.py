"""Counts of documents (or participants) by year, institution, region, org, category, type, country.

Everything is read from the index, never from the sidecars or the stored text:
single-valued fields from Whoosh's sortable columns, ``events`` and
``countries`` by turning their term lists around (term → documents). That is
what keeps a summary of a large knowledge base quick.

The index already holds canonical names (see ``index.schema.document_fields``): an
institution under its current name (國立臺中圖書館 under 國立公共資訊圖書館), an
organisation under its code, a country under its canonical name. Here
``historical`` turns an institution back into the name it bore that year, and
a document counts under its region *and* the region of each of its countries;
the --region filter compares that same set, the other filters run in the index.

A document with several values of a field counts once under each, so cells
may add up to more than the totals; the totals (margins and ``total``) count
each document once. A document lacking a field counts under ``None``
(shown as 未註明).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import product
from typing import Any

from ..errors import UsageError
from ..kb import KnowledgeBase
from .search import Filters

FIELDS = ("year", "institution", "region", "org", "category", "type", "country")
COUNTS = ("documents", "participants")
OTHER = "其他"
UNKNOWN = "未註明"

#: A column read a value at a time costs about what it costs read whole, value for value: when
#: fewer than 1/FEW of the documents are counted, only their values are read.
FEW = 2

Label = str | int | None
Values = list[tuple[Label, ...]]  # per document number: the labels it counts under


@dataclass
class StatsResult:
    """A tally: ``cells`` by label tuple (one label per ``by`` field) and margins per field."""

    by: list[str]
    count: str
    total: int
    cells: dict[tuple[Label, ...], int]
    margins: list[dict[Label, int]]
    order: list[list[Label]]
    uncounted: int = 0  # with --count participants: matching documents that give no number
    problems: list = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[tuple[Label, ...], int]]:
        """Non-zero cells, in display order."""
        return [(key, self.cells[key]) for key in product(*self.order) if self.cells.get(key)]

    @property
    def overlapping(self) -> bool:
        """True when some document counts in more than one cell."""
        return sum(self.cells.values()) != self.total

    def to_json(self) -> dict[str, Any]:
        return {"by": self.by,
                "rows": [{**dict(zip(self.by, key)), "count": n} for key, n in self.rows],
                "total": self.total}

    def to_csv(self) -> str:
        """One line per non-zero cell, like the JSON rows (an empty cell is 未註明)."""
        from ..export.records import spreadsheet_safe

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([*self.by, self.count])
        for key, n in self.rows:
            writer.writerow([*("" if v is None else spreadsheet_safe(str(v)) for v in key), n])
        return buffer.getvalue()


def check_by(by: Sequence[str]) -> list[str]:
    """The --by fields, or a UsageError naming the valid ones."""
    for name in by:
        if name not in FIELDS:
            raise UsageError(f"--by must be one of {', '.join(FIELDS)}; not {name!r}")
    repeated = sorted({n for n in by if by.count(n) > 1})
    if repeated:
        raise UsageError(f"--by {repeated[0]} is given twice")
    return list(by)


def check_chart(by: Sequence[str]) -> None:
    """A chart draws one field, or a trend over years for two."""
    if not (len(by) == 1 or (len(by) == 2 and "year" in by)):
        raise UsageError("--chart draws one --by field, or two when one of them is year "
                         "(a trend over the years)")


def stats(kb: KnowledgeBase, by: Sequence[str], filters: Filters | None = None,
          query: str | None = None, count: str = "documents", top: int | None = None,
          historical: bool = False, progress=None) -> StatsResult:
    """Tally the matching documents by the ``by`` fields, first bringing the index up to date."""
    from ..index.schema import open_index
    from ..index.freshness import refresh
    from .search import parse
    from ..meta.vocab import Vocabulary

    by = check_by(by)
    if count not in COUNTS:
        raise UsageError(f"--count must be one of {', '.join(COUNTS)}; not {count!r}")
    if top is not None and (top < 1 or not [b for b in by if b != "year"]):
        raise UsageError("--top N needs N ≥ 1 and a --by field other than year (years are never folded)")
    filters = filters or Filters()
    index_filter = replace(filters, region=None).query(kb.root)
    vocab = Vocabulary.load(kb.root)
    parsed = parse(query, vocab=vocab) if query is not None else None
    synced = refresh(kb, progress)
    with open_index(kb.index_dir).searcher() as searcher:
        docs = _matching(searcher, parsed.query if parsed else None, index_filter)
        fields = _Fields(searcher.reader(), vocab, docs)
        if filters.region:
            regions = fields.values("region")
            docs = [d for d in docs if filters.region.strip() in regions[d]]
        columns = [fields.values(name, historical) for name in by]
        weights, uncounted = fields.weights(docs) if count == "participants" else (None, 0)
    folds = _folds(by, columns, docs, weights, top) if top else [None] * len(by)
    cells, margins, total = _tally(docs, columns, weights, folds)
    fixed = {"region": vocab.regions, "category": vocab.categories} if len(by) > 1 else {}
    order = [_order(name, margin, fixed.get(name, ())) for name, margin in zip(by, margins)]
    return StatsResult(by=by, count=count, total=total, cells=dict(cells), margins=margins,
                       order=order, uncounted=uncounted, problems=synced.problems if synced else [])


def _matching(searcher, query, index_filter) -> list[int]:
    """Numbers of the live documents that match the query and the index-side filters."""
    from whoosh import query as Q

    if query is None and index_filter is None:
        return list(searcher.reader().all_doc_ids())
    results = searcher.search(query or Q.Every(), filter=index_filter, limit=None, scored=False)
    return sorted(results.docs())


class _Fields:
    """The labels each document counts under, per field, read from one index reader."""

    def __init__(self, reader, vocab, docs: list[int] | None = None):
        self.reader = reader
        self.vocab = vocab
        self.size = reader.doc_count_all()
        #: The documents counted, when so few that their values are read one by one (a sector's
        #: or an institution's share of a national catalogue); else whole columns are read.
        self.few = docs if docs is not None and len(docs) * FEW < self.size else None
        self._cache: dict[tuple[str, bool], Values] = {}

    def values(self, name: str, historical: bool = False) -> Values:
        """Labels by document number; ``historical`` names institutions as in each year."""
        key = (name, historical and name == "institution")
        if key not in self._cache:
            self._cache[key] = self._read(*key)
        return self._cache[key]

    def _read(self, name: str, historical: bool) -> Values:
        vocab = self.vocab
        if name == "year":
            missing = self.reader.schema["year"].default
            return self._column("year", lambda v: None if v == missing else v)
        if name in ("type", "category"):
            return self._column(name, lambda v: v or None)
        if name == "org":
            return self._terms("events", lambda t: vocab.org_code(t) or t.upper())
        if name == "country":
            return self._terms("countries", lambda t: t)
        if name == "region":
            return self._regions()
        if not historical:
            return self._column("institution", lambda v: v or None)
        years = self.values("year")
        memo: dict[tuple[str, Label], tuple[Label, ...]] = {}
        out: Values = []
        for doc, raw in enumerate(self._raw("institution")):
            year = years[doc][0]
            if (raw, year) not in memo:
                memo[raw, year] = (vocab.canonical_institution(raw, year, True) if raw else None,)
            out.append(memo[raw, year])
        return out

    def _raw(self, name: str) -> list[Any]:
        """A sortable column's values by document number (Whoosh cannot read one of an empty index)."""
        if not self.size:
            return []
        column = self.reader.column_reader(name)
        if self.few is None:
            return list(column)
        values: list[Any] = [None] * self.size  # never read: only the documents counted are
        for doc in self.few:
            values[doc] = column[doc]
        return values

    def _column(self, name: str, label: Callable[[Any], Label]) -> Values:
        memo: dict[Any, tuple[Label, ...]] = {}
        out: Values = []
        for raw in self._raw(name):
            if raw not in memo:
                memo[raw] = (label(raw),)
            out.append(memo[raw])
        return out

    def _terms(self, name: str, label: Callable[[str], Label]) -> Values:
        """A multi-valued field, from its term list: each term's documents get its label."""
        found: dict[int, list[Label]] = {}
        for term in self.reader.lexicon(name):
            value = label(term.decode("utf-8"))
            for doc in self.reader.postings(name, term).all_ids():
                labels = found.setdefault(doc, [])
                if value not in labels:
                    labels.append(value)
        return [tuple(found[d]) if d in found else (None,) for d in range(self.size)]

    def _regions(self) -> Values:
        """The indexed region plus the region of every country of the document."""
        given = self._column("region", lambda v: v or None)
        countries = self.values("country")
        out: Values = []
        for regions, names in zip(given, countries):
            extra = [r for r in map(self._country_region, names) if r and r not in regions]
            if extra:
                out.append(tuple(r for r in regions if r) + tuple(dict.fromkeys(extra)))
            else:
                out.append(regions)
        return out

    def _country_region(self, country: Label) -> str | None:
        return self.vocab.region_for_country(country) if isinstance(country, str) else None

    def weights(self, docs: Iterable[int]) -> tuple[list[int], int]:
        """Participants by document number (0 where unknown) and how many matching docs lack it."""
        missing = self.reader.schema["participants"].default
        raw = self._raw("participants")
        uncounted = sum(1 for d in docs if raw[d] == missing)
        return [0 if v == missing else v for v in raw], uncounted


def _tally(docs: Iterable[int], columns: list[Values], weights: list[int] | None,
           folds: list[dict[Label, Label] | None]):
    """Cells, margins (each document once per value) and the total."""
    cells: Counter = Counter()
    margins: list[Counter] = [Counter() for _ in columns]
    total = 0
    for doc in docs:
        weight = 1 if weights is None else weights[doc]
        labels = []
        for column, fold in zip(columns, folds):
            values = column[doc]
            if fold is not None:
                values = tuple(dict.fromkeys(fold.get(v, v) for v in values))
            labels.append(values)
        for key in product(*labels):
            cells[key] += weight
        for margin, values in zip(margins, labels):
            for value in values:
                margin[value] += weight
        total += weight
    return cells, [dict(m) for m in margins], total


def _folds(by: list[str], columns: list[Values], docs: list[int], weights: list[int] | None,
           top: int) -> list[dict[Label, Label] | None]:
    """For each field but year: its values beyond the ``top`` largest → 其他 (未註明 stays)."""
    _, margins, _ = _tally(docs, columns, weights, [None] * len(columns))
    folds: list[dict[Label, Label] | None] = []
    for name, margin in zip(by, margins):
        ranked = [v for v in _ranked(margin) if v is not None]
        folds.append(None if name == "year" else {v: OTHER for v in ranked[top:]})
    return folds


def _ranked(margin: dict[Label, int]) -> list[Label]:
    """Largest first, ties by name; 其他 and 未註明 last."""
    return sorted(margin, key=lambda v: (v is None, v == OTHER, -margin[v], str(v)))


def _order(name: str, margin: dict[Label, int], fixed: Sequence[str]) -> list[Label]:
    """Display order: years in sequence with the gaps filled (zero rows); values of a
    ``fixed`` vocabulary (regions, categories in a cross-tab) in its order; others ranked."""
    if name == "year":
        years = [y for y in margin if isinstance(y, int)]
        filled: list[Label] = list(range(min(years), max(years) + 1)) if years else []
        return filled + ([None] if None in margin else [])
    ranked = _ranked(margin)
    if not fixed:
        return ranked
    return sorted(ranked, key=lambda v: (v is None, v == OTHER, fixed.index(v) if v in fixed else len(fixed)))
