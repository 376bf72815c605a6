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

from typing import Any

from .index import GRAM_SUFFIX


def _queries():
    """The query classes, built on first use so that importing this module loads no Whoosh."""
    from whoosh.matching import ListMatcher, NullMatcher
    from whoosh.query import AndMaybe, Query

    class DocSet(Query):
        """Matches a fixed set of documents (global numbers), scoring nothing."""

        def __init__(self, top, docnums):
            self.top = top
            self.docs = sorted(docnums)

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
            return ListMatcher(ids, all_weights=0.0) if ids else NullMatcher()

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
    """Builds each query word's literal part against one open searcher."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.DocSet, self.Ranked = _queries()

    def __call__(self, fields: tuple[str, ...], grams: list[tuple[str, int]], word_q: Any,
                 quoted: bool, weights: dict[str, float], one_word: bool = False):
        """The query for one word or phrase; ``one_word`` when the word query is the
        whole text as a single indexed word, which can only occur where the text does."""
        from whoosh import query as Q

        s = self.searcher
        texts = sorted({g for g, _ in grams})
        all_grams = {f: Q.And([Q.Term(f + GRAM_SUFFIX, g) for g in texts], boost=weights[f]) for f in fields}
        holding = {f: set(s.docs_for_query(q)) for f, q in all_grams.items()}
        words = set(s.docs_for_query(word_q)) if word_q is not None else set()
        literal = set()
        check_all = quoted and not one_word  # a phrase may be missing where its words are
        for f, docs in holding.items():
            literal |= phrase_docs(s.reader(), f + GRAM_SUFFIX, grams, docs if check_all else docs - words)
        bonus = Q.Or(list(all_grams.values()))
        if word_q is None:
            return self.Ranked(self.DocSet(s, literal), bonus)
        # Documents with the words rank by them; the bigrams rank only those without.
        others = literal - words
        scoring = Q.Or([word_q, self.Ranked(self.DocSet(s, others), bonus)]) if others else word_q
        if check_all:
            return self.Ranked(self.DocSet(s, literal), scoring)
        return self.Ranked(self.DocSet(s, words | literal), scoring, exact=True)
