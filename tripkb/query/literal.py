"""Literal matching that reads positions only where it must.

"Every document containing the query literally is found" is a phrase of
character bigrams. As a plain Whoosh phrase it decodes the positions of every
document holding those bigrams, which on a large KB is most of a query's
time. But nearly every such document also contains the query's words, which
the word query finds from term lists alone. So positions are read only for
documents that hold all of the query's bigrams and not its words. Documents
with the words rank by them; the others by their bigrams, whose postings are
then read for those documents only. The set of matched documents is exactly
that of ``words OR bigram-phrase``, and it is known once the query is built:
counting the matches reads that set and no postings (see :class:`Ranked`).
"""

from __future__ import annotations

import re
from typing import Any

from ..index.schema import GRAM_SUFFIX, TEXT_FIELDS, StoredDoc, text_values

#: What a literal match adds to a document's score, above anything its words can score, so
#: that documents holding a query word as written rank above those holding only its parts.
LITERAL = 1000.0


def _queries():
    """The query classes, built on first use so that importing this module loads no Whoosh."""
    from whoosh.matching import ListMatcher, NullMatcher
    from whoosh.query import AndMaybe, Query

    class DocSet(Query):
        """Matches a fixed set of documents (global numbers), each scoring ``weight``."""

        def __init__(self, top, docnums, weight: float = 0.0):
            self.top = top
            self.docs = sorted(docnums)
            self.weight = weight

        def __repr__(self):
            return f"DocSet({len(self.docs)} documents)"

        def __eq__(self, other):
            return self is other

        def __hash__(self):
            return id(self)

        def estimate_size(self, ixreader):
            return len(self.docs)

        def matcher(self, searcher, context=None):
            offset = 0
            if searcher is not self.top:
                offset = next(off for s, off in self.top.subsearchers if s is searcher)
            end = offset + searcher.doc_count_all()
            ids = [d - offset for d in self.docs if offset <= d < end]
            return ListMatcher(ids, all_weights=self.weight) if ids else NullMatcher()

    class Ranked(AndMaybe):
        """The documents of a :class:`DocSet`, scored by another query.

        Unscored (counting, filtering), it is the set alone: the scoring
        query's postings are read only to rank. ``exact`` says the scoring
        query matches exactly the set, so scoring needs nothing else.
        """

        def __init__(self, a, b, exact: bool = False):
            super().__init__(a, b)
            self.exact = exact

        def normalize(self):
            return type(self)(self.a, self.b.normalize(), self.exact)

        def matcher(self, searcher, context=None):
            if context is None or context.weighting is None:
                return self.a.matcher(searcher, context)
            if self.exact:
                return self.b.matcher(searcher, context)
            return super().matcher(searcher, context)

    return DocSet, Ranked


def _plus():
    from whoosh.matching import WrappingMatcher
    from whoosh.query import WrappingQuery

    class PlusMatcher(WrappingMatcher):
        def __init__(self, child, add: float):
            super().__init__(child)
            self.add = add

        def _replacement(self, newchild):
            return PlusMatcher(newchild, self.add)

        def copy(self):
            return PlusMatcher(self.child.copy(), self.add)

        def supports_block_quality(self):
            return False  # the added constant is outside Whoosh's quality bounds

        def score(self):
            return self.child.score() + self.add

    class Plus(WrappingQuery):
        """Matches what ``child`` matches; scored, adds ``add`` to its score."""

        def __init__(self, child, add: float):
            super().__init__(child)
            self.add = add

        def apply(self, fn):
            return type(self)(fn(self.child), self.add)

        def matcher(self, searcher, context=None):
            m = self.child.matcher(searcher, context)
            if context is None or context.weighting is None or not m.is_active():
                return m
            return PlusMatcher(m, self.add)

    return Plus


def Plus(child, add: float):
    """``child``, each match's score raised by ``add`` (see :data:`LITERAL`)."""
    return _plus()(child, add)


def phrase_docs(reader, fieldname: str, grams: list[tuple[str, int]], candidates: set[int]) -> set[int]:
    """The candidates in which the grams stand at their relative positions."""
    matchers = []
    for gram, pos in grams:
        if (fieldname, gram) not in reader:
            return set()
        matchers.append((reader.postings(fieldname, gram), pos))
    found: set[int] = set()
    for doc in sorted(candidates):
        positions = []
        for m, _ in matchers:
            if m.is_active() and m.id() < doc:
                m.skip_to(doc)
            if not m.is_active() or m.id() != doc:
                break
            positions.append(set(m.value_as("positions")))
        else:
            first, first_at = positions[0], matchers[0][1]
            if any(all(p - first_at + at in have for (_, at), have in zip(matchers[1:], positions[1:]))
                   for p in first):
                found.add(doc)
    return found


class Literal:
    """Builds each query word's literal part against one open searcher.

    ``word_only`` gathers, for each query word, the documents it matched only by its
    separate words; ``held``, those that hold it as written, in another spelling of a
    country's name or as a metadata value (see :meth:`words_only`).
    """

    def __init__(self, searcher):
        self.searcher = searcher
        self.DocSet, self.Ranked = _queries()
        self.word_only: dict[str, set[int]] = {}
        self.held: dict[str, set[int]] = {}

    def carried(self, label: str, queries: list[Any]) -> None:
        """Record the documents that ``queries`` (an id, a metadata value) find as holding ``label``."""
        for q in queries:
            self.held.setdefault(label, set()).update(self.searcher.docs_for_query(q))

    def words_only(self, docnum: int) -> list[str]:
        """The query words that document matched only by their separate words."""
        return [label for label, docs in self.word_only.items()
                if docnum in docs and docnum not in self.held.get(label, ())]

    def __call__(self, fields: tuple[str, ...], grams: list[tuple[str, int]], word_q: Any,
                 quoted: bool, weights: dict[str, float], one_word: bool = False,
                 label: str | None = None, exact: re.Pattern | None = None):
        """The query for one word or phrase; ``one_word`` when the word query is the
        whole text as a single indexed word, which can only occur where the text does.
        ``exact``: a pattern the text must match as written (C++), checked in the stored text."""
        from whoosh import query as Q

        s = self.searcher
        texts = sorted({g for g, _ in grams})
        all_grams = {f: Q.And([Q.Term(f + GRAM_SUFFIX, g) for g in texts], boost=weights[f]) for f in fields}
        holding = {f: set(s.docs_for_query(q)) for f, q in all_grams.items()}
        words = set(s.docs_for_query(word_q)) if word_q is not None else set()
        literal = set()
        for f, docs in holding.items():
            # A word's documents hold it as written; any other may hold only its parts.
            literal |= phrase_docs(s.reader(), f + GRAM_SUFFIX, grams, docs - words if one_word else docs)
        if one_word:
            literal |= words
        if exact is not None:
            literal = {d for d in literal if written(s, d, fields, exact)}
        bonus = Q.Or(list(all_grams.values()))
        found = self.DocSet(s, literal, LITERAL)
        if word_q is None or exact is not None:
            return self.Ranked(found, bonus)
        if quoted:  # a phrase must occur as written; its words only rank
            return self.Ranked(found, word_q)
        if label is not None:
            self.word_only.setdefault(label, set()).update(words - literal)
            self.held.setdefault(label, set()).update(literal)
        # Documents with the words rank by them; the bigrams rank only those without.
        others = literal - words
        scoring = [word_q, found] + ([self.Ranked(self.DocSet(s, others), bonus)] if others else [])
        return self.Ranked(self.DocSet(s, words | literal), Q.Or(scoring), exact=True)


def written(searcher, docnum: int, fields: tuple[str, ...], pattern: re.Pattern) -> bool:
    """Whether the document's text in ``fields`` matches ``pattern`` as written (match form)."""
    stored = StoredDoc.from_stored(searcher.stored_fields(docnum)["data"])
    values = text_values(stored.record, stored.text if "body" in fields else "")
    return any(pattern.search(values[f]) for f in fields if f in values and f in TEXT_FIELDS)
