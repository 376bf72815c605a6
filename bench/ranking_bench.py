"""Measure ranking on real text (issue 19, point 3): R-precision of unquoted Chinese substrings
and the mean reciprocal rank of known items (ids and titles).

    python bench/ranking_bench.py [--kb PATH | --pdfs DIR] [--queries N] [--seed S] [--verbose]

Without ``--kb`` it builds a KB in a temporary folder from the shipped sample (``corpus/``)
plus, when ``../shared/realworld-pdfs`` exists beside the repository, those PDFs ingested.

R-precision: for a query held literally by R documents, the share of the top R hits that hold
it. A document holds the query when a searchable field holds it in match form (as search
compares), or the query with a country's name in its other spelling (意大利/義大利), or when
its metadata carries the value the query names (an id, an organisation, country or institution
of the vocabulary, or an institution whose name begins with the query; docs/searching.md).
Queries are 3- and 4-character substrings of the indexed text, drawn with a fixed seed, most of
them crossing a jieba word boundary.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

REALWORLD = ROOT.parent / "shared" / "realworld-pdfs"
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{3,}")


def build(tmp: Path, pdfs: Path):
    """The sample KB under ``tmp``, with the PDFs of ``pdfs`` when that folder is there."""
    from tripkb.index.sync import sync
    from tripkb.ingest.documents import ingest
    from tripkb.kb import KnowledgeBase

    shutil.copytree(ROOT / "corpus", tmp / "corpus")
    kb = KnowledgeBase(tmp)
    sync(kb)
    if pdfs.is_dir():
        ingest(kb, sorted(pdfs.glob("*.pdf")), workers=1, ocr="off")
    return kb


def documents(kb) -> dict[str, dict[str, str]]:
    """id → the match-form text of each searchable field, read from the index's stored data."""
    from tripkb.index.schema import StoredDoc, open_index, text_values

    with open_index(kb.index_dir).searcher() as searcher:
        docs = {}
        for fields in searcher.all_stored_fields():
            stored = StoredDoc.from_stored(fields["data"])
            docs[stored.record["id"]] = {"record": stored.record, **text_values(stored.record, stored.text)}
    return docs


def draw(docs: dict[str, dict], count: int, seed: int) -> list[tuple[str, bool]]:
    """(query, crosses a word boundary): distinct CJK substrings of the body texts, about
    four in five crossing a jieba boundary and the rest whole jieba words."""
    from tripkb.index.analysis import segment

    crossing, whole = set(), set()
    for doc_id in sorted(docs):
        for run in CJK_RUN.findall(docs[doc_id].get("body", "")):
            words = segment(run)
            bounds = {start for _, start, _ in words} | {end for *_, end in words}
            whole.update(w for w, s, e in words if 3 <= e - s <= 4)
            for size in (3, 4):
                for i in range(len(run) - size + 1):
                    if any(i < b < i + size for b in bounds):
                        crossing.add(run[i:i + size])
    rng = random.Random(seed)
    n_whole = min(len(whole), count // 5)
    picked = rng.sample(sorted(crossing), min(len(crossing), count - n_whole))
    return [(q, True) for q in picked] + [(q, False) for q in rng.sample(sorted(whole), n_whole)]


def holders(docs: dict[str, dict], query: str) -> set[str]:
    """The ids of the documents holding ``query`` literally in a searchable field, as search's
    highlighting finds it (a line break between Chinese characters is a PDF's line wrap)."""
    from tripkb.query.search import ParsedQuery
    from tripkb.text.normalise import match_form

    literal = ParsedQuery(None, [match_form(query)], []).patterns()[0]
    return {i for i, d in docs.items() if any(literal.search(v) for k, v in d.items() if k != "record")}


def carriers(kb):
    """A function: query → the ids of the documents search counts as holding it without its
    text, by their metadata, and the query's other spellings of country names."""
    from tripkb.index.schema import open_index
    from tripkb.meta.vocab import Vocabulary
    from tripkb.query.known import Known
    from tripkb.text.normalise import match_form

    searcher = open_index(kb.index_dir).searcher()
    known = Known(searcher, Vocabulary.load(kb.root))

    def carried(query: str) -> tuple[set[str], list[str]]:
        docnums = {d for q in known(query) for d in searcher.docs_for_query(q)}
        return ({searcher.stored_fields(d)["data"]["record"]["id"] for d in docnums},
                known.variants(match_form(query)))

    return carried


def ids(kb, query: str, limit: int) -> list[str]:
    from tripkb.query.search import search

    return [h.id for h in search(kb, query, limit=limit, fresh=False).hits]


def r_precision(kb, docs, queries, verbose: bool) -> list[float]:
    """The R-precision of each query (queries no document holds are skipped)."""
    scores = []
    carried = carriers(kb)
    for query, _ in queries:
        by_metadata, variants = carried(query)
        held = holders(docs, query).union(by_metadata, *(holders(docs, v) for v in variants))
        if not held:
            continue
        top = ids(kb, query, max(len(docs), 10))[:len(held)]
        score = len(held.intersection(top)) / len(held)
        scores.append(score)
        if verbose and score < 1:
            print(f"  {query}: R={len(held)} R-precision {score:.2f}")
    return scores


def known_items(kb, docs, verbose: bool) -> list[float]:
    """The reciprocal rank of each document for its id (both cases) and its title (as is and
    without punctuation)."""
    from tripkb.errors import TripkbError

    ranks = []
    for doc_id, doc in sorted(docs.items()):
        title = doc["record"].get("title", "")
        asks = [doc_id.upper(), doc_id.lower()]
        asks += [title, re.sub(r"[^\w\s]+", "", title).strip()] if title else []
        for ask in dict.fromkeys(a for a in asks if a):
            try:
                found = ids(kb, ask, 20)
            except TripkbError as exc:
                found = []
                print(f"  {ask!r}: {exc}")
            rr = 1 / (found.index(doc_id) + 1) if doc_id in found else 0.0
            ranks.append(rr)
            if verbose and rr < 1:
                print(f"  {ask!r} → {doc_id} reciprocal rank {rr:.2f}")
    return ranks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, help="measure this KB instead of building one")
    ap.add_argument("--pdfs", type=Path, default=REALWORLD, help="PDFs to ingest beside the sample")
    ap.add_argument("--queries", type=int, default=300, help="how many Chinese queries to draw")
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--verbose", action="store_true", help="print each query that misses")
    args = ap.parse_args()
    from tripkb.kb import KnowledgeBase

    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(args.kb) if args.kb else build(Path(tmp), args.pdfs)
        docs = documents(kb)
        queries = draw(docs, args.queries, args.seed)
        print(f"KB: {len(docs)} documents" + ("" if args.kb or not args.pdfs.is_dir() else
                                               f" (sample + {args.pdfs})"))
        for label, crossing in (("crossing a word boundary", True), ("whole words", False)):
            scores = r_precision(kb, docs, [q for q in queries if q[1] == crossing], args.verbose)
            if scores:
                print(f"R-precision, unquoted, {label}: mean {statistics.mean(scores):.3f}, "
                      f"min {min(scores):.2f}, {len(scores)} queries")
        ranks = known_items(kb, docs, args.verbose)
        print(f"known-item MRR (ids both cases, titles as is and without punctuation): "
              f"{statistics.mean(ranks):.3f} over {len(ranks)} queries")


if __name__ == "__main__":
    main()
