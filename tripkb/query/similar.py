"""Reports like a given one: by their text (Whoosh's more-like-this) and their metadata.

A librarian who found one useful report wants the others like it: the same conference,
the same destination, the same subject. Text similarity is Whoosh's own: the source's key
terms (Bo1 model over the index) searched as one weighted query. Metadata adds what text
misses (a catalogue record has no text) and says why each report was chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import NotFoundError, UsageError
from ..kb import KnowledgeBase

#: Key terms taken from the source report, and candidates read per result wanted.
KEY_TERMS = 25
CANDIDATES_PER_RESULT = 5
#: What each kind of shared metadata adds to a text score normalised to at most 1.
WEIGHTS = {"events": 0.4, "countries": 0.25, "keywords": 0.15, "institution": 0.1}
MAX_SHARED_TERMS = 5


@dataclass
class Similar:
    id: str
    title: str
    year: int | None
    institution: str | None
    score: float
    reasons: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "year": self.year, "institution": self.institution,
                "score": round(self.score, 3), "reason": "; ".join(self.reasons)}


@dataclass
class SimilarResult:
    id: str
    title: str
    similar: list[Similar] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "similar": [s.to_json() for s in self.similar]}


@dataclass
class _Facts:
    """What is compared: canonical organisations, countries, keywords and institution."""

    events: set[str]
    countries: set[str]
    keywords: set[str]
    institution: str | None


def similar(kb: KnowledgeBase, doc_id: str, limit: int = 10, progress=None) -> SimilarResult:
    """The reports most like ``doc_id``, best first, each with the reasons it was chosen."""
    from ..index.schema import StoredDoc, lengths_in_memory, open_index
    from ..index.freshness import refresh
    from ..meta.vocab import Vocabulary
    from .search import stored_by_id

    if limit < 1:
        raise UsageError("--limit must be at least 1")
    refresh(kb, progress)
    vocab = Vocabulary.load(kb.root)
    with open_index(kb.index_dir).searcher() as searcher:
        lengths_in_memory(searcher)
        fields = stored_by_id(searcher, doc_id)
        if fields is None:
            raise NotFoundError(f"no document with id {doc_id!r} in {kb.root}")
        source = StoredDoc.from_stored(fields["data"])
        docnum = searcher.document_number(key=fields["key"])
        facts = _facts(source.record, vocab)
        terms, by_text = _by_text(searcher, docnum, source, limit * CANDIDATES_PER_RESULT)
        candidates = set(by_text) | _by_metadata(searcher, docnum, facts, limit * CANDIDATES_PER_RESULT)
        found = [_judge(StoredDoc.from_stored(searcher.stored_fields(n)["data"]), by_text.get(n, 0.0), terms,
                        facts, vocab) for n in candidates]
    found = sorted((s for s in found if s.reasons), key=lambda s: (-s.score, s.id))[:limit]
    return SimilarResult(source.record.get("id", doc_id), source.record.get("title", ""), found)


def _facts(record: dict[str, Any], vocab) -> _Facts:
    return _Facts(events={vocab.org_code(e) or e for e in record.get("events", [])},
                  countries={vocab.canonical_country(c) or c for c in record.get("countries", [])},
                  keywords={k.strip() for k in record.get("keywords", []) if k.strip()},
                  institution=vocab.canonical_institution(record["institution"], record.get("year"))
                  if record.get("institution") else None)


def _source_text(stored) -> str:
    """The match-form text of everything the report says: title, keywords, abstract and body."""
    from ..index.schema import text_values

    return "\n".join(v for k, v in text_values(stored.record, stored.text).items() if k != "authors")


def _by_text(searcher, docnum: int, source, top: int) -> tuple[list[str], dict[int, float]]:
    """The source's key terms, and the documents Whoosh's more-like-this finds with them (score ≤ 1)."""
    text = _source_text(source)
    if not text.strip():
        return [], {}
    terms = [t for t, _ in searcher.key_terms_from_text("body", text, numterms=KEY_TERMS)
             if len(t) > 1 and not t.isdigit()]
    terms = [t for t in terms if not any(t != longer and t in longer for longer in terms)]  # 青少 in 青少年
    results = searcher.more_like(docnum, "body", text=text, top=top, numterms=KEY_TERMS)
    best = max((hit.score for hit in results), default=0.0) or 1.0
    return terms, {hit.docnum: hit.score / best for hit in results}


def _by_metadata(searcher, docnum: int, facts: _Facts, top: int) -> set[int]:
    """Documents sharing an organisation or a destination with the source."""
    from whoosh import query as Q

    terms = [Q.Term("events", e.lower()) for e in facts.events] + [Q.Term("countries", c) for c in facts.countries]
    if not terms:
        return set()
    return {hit.docnum for hit in searcher.search(Q.Or(terms), limit=top, mask={docnum})}


def _judge(stored, text_score: float, terms: list[str], facts: _Facts, vocab) -> Similar:
    """A candidate's score and the reasons for it, from what it shares with the source."""
    from ..text.normalise import match_form

    record = stored.record
    other = _facts(record, vocab)
    reasons, score = [], text_score
    for name, label, shared in (
            ("events", "same organisation", sorted(facts.events & other.events)),
            ("countries", "same country", sorted(facts.countries & other.countries)),
            ("keywords", "shared keywords", sorted(facts.keywords & other.keywords)),
            ("institution", "same institution",
             [other.institution] if other.institution and other.institution == facts.institution else [])):
        if shared:
            reasons.append(f"{label}: {', '.join(shared)}")
            score += WEIGHTS[name] * min(len(shared), 3) / (3 if name == "keywords" else 1)
    if text_score:
        text = stored.text
        folded = match_form(text)
        shown = [_as_written(text, folded, t) for t in terms if t in folded][:MAX_SHARED_TERMS]
        if shown:
            reasons.append(f"shared terms: {', '.join(shown)}")
    return Similar(record.get("id", ""), record.get("title", ""), record.get("year"), record.get("institution"),
                   score, reasons)


def _as_written(text: str, folded: str, term: str) -> str:
    """A match-form term as the document writes it (数字 → 數位's characters), offsets being shared."""
    at = folded.find(term)
    return text[at:at + len(term)] if at >= 0 else term
