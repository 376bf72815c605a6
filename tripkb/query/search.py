"""Queries: parse the user's syntax, match words and literal text, rank, find pages and snippets.

Every word or quoted phrase of a query becomes "its jieba words, all present"
OR "the literal text as a phrase of character bigrams", over title, keywords,
authors, abstract and body with BM25F weights. The bigram half guarantees that
a document containing the query literally is always found; the word half
ranks and widens recall. Pages and snippets come from the stored text by
plain string search in the match form: no re-analysis, no jieba.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..errors import QueryError, UsageError
from ..index.analysis import gram_tokens, runs, word_tokens
from ..index.schema import GRAM_SUFFIX, PAGE_BREAK, TEXT_FIELDS, StoredDoc, holds_word
from ..kb import KnowledgeBase
from ..meta.sidecar import TYPES
from ..meta.vocab_files import SECTORS
from ..text.normalise import _CJK, is_cjk_char, match_form, nfkc, query_form

if TYPE_CHECKING:  # loaded where a name is read, not by every lookup
    from ..meta.vocab import Vocabulary

MAX_QUERY_CHARS = 1000
FIELD_ALIASES = {"author": "authors", "keyword": "keywords", "text": "body", "org": "events",
                 "event": "events", "country": "countries"}
FACET_FIELDS = ("id", "type", "institution", "events", "countries", "region", "category",
                "language", "year")
QUERY_FIELDS = tuple(TEXT_FIELDS) + ("org", "country", "id", "type", "institution", "region",
                                     "category", "language", "year")
_LATIN = rf"[^\W_{_CJK}]"
#: The years a filter may name: those of a calendar date (the index could hold no others).
YEARS = (1, 9999)


def check_year(year: int, asked: str) -> int:
    """``year`` if a date can have it, else a :class:`QueryError` quoting how it was ``asked`` for."""
    if not YEARS[0] <= year <= YEARS[1]:
        raise QueryError(f"{asked}: expected a year from {YEARS[0]} to {YEARS[1]}, such as 2007")
    return year


@dataclass
class Filters:
    """The search options that narrow by metadata (docs/contracts.md §3)."""

    type: str | None = None
    institution: str | None = None
    org: str | None = None
    country: str | None = None
    region: str | None = None
    category: str | None = None
    since: int | None = None
    until: int | None = None
    #: library: institutions in the library sector (meta/vocab.py Vocabulary.sector), other: the rest.
    sector: str | None = None
    #: Only documents whose section of this name (建議, 目的 …) holds the query; see query/outline.py.
    section: str | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                check_year(value, f"--{name} {value}")
        if self.sector is not None and self.sector not in SECTORS:
            raise UsageError(f"--sector must be one of {', '.join(SECTORS)}; not {self.sector!r}")

    def query(self, kb_root=None):
        from whoosh import query as Q

        from ..meta.vocab import Vocabulary

        parts = []
        vocab = Vocabulary.load(kb_root) if (self.institution or self.org or self.country) else None
        if self.type:
            if self.type not in TYPES:
                raise UsageError(f"--type must be one of {', '.join(TYPES)}, not {self.type!r}")
            parts.append(Q.Term("type", self.type))
        if self.institution:
            parts.append(Q.Term("institution", vocab.canonical_institution(self.institution)))
        if self.org:
            parts.append(Q.Term("events", (vocab.org_code(self.org) or self.org).lower()))
        if self.country:
            parts.append(Q.Term("countries", vocab.canonical_country(self.country) or self.country.strip()))
        if self.region:
            parts.append(Q.Term("region", self.region.strip()))
        if self.category:
            parts.append(Q.Term("category", self.category.strip()))
        if self.sector:
            parts.append(Q.Term("sector", self.sector))
        if self.since is not None or self.until is not None:
            if self.since is not None and self.until is not None and self.since > self.until:
                raise UsageError(f"--since {self.since} is after --until {self.until}")
            parts.append(Q.NumericRange("year", self.since, self.until))
        if self.section:
            from .outline import names_meant

            parts.append(Q.Or([Q.Term("sections", name) for name in names_meant(self.section)]))
        return Q.And(parts) if parts else None


@dataclass
class Hit:
    id: str
    title: str
    type: str | None
    institution: str | None
    year: int | None
    file: str | None
    score: float
    pages: list[int]
    snippet: str
    record: dict[str, Any] = field(repr=False)
    snippet_spans: list[tuple[int, int]] = field(default_factory=list)
    title_spans: list[tuple[int, int]] = field(default_factory=list)
    #: The query words this document matched only by their separate words, not as written.
    words_only: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "type": self.type,
                "institution": self.institution, "year": self.year, "file": self.file,
                "score": round(self.score, 3), "pages": self.pages, "snippet": self.snippet,
                "words_only": self.words_only}


@dataclass
class SearchResult:
    query: str
    total: int
    hits: list[Hit]
    problems: list = field(default_factory=list)
    #: How the query was read, when the user should know (a lower-case 'or', a fallback).
    notes: list[str] = field(default_factory=list)
    #: "Did you mean" spellings from the knowledge base, when nothing matched.
    suggestions: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, "hits": [h.to_json() for h in self.hits],
                "notes": self.notes, "suggestions": self.suggestions}


@dataclass
class ParsedQuery:
    """A Whoosh query plus what to highlight: whole literals first, then their words."""

    query: Any
    literals: list[str]
    words: list[str]
    notes: list[str] = field(default_factory=list)

    def patterns(self) -> tuple[re.Pattern | None, re.Pattern | None]:
        return _alternation(self.literals), _alternation([w for w in self.words if w not in self.literals])


@dataclass
class _Context:
    segment: Callable[[str], list[str] | None]
    literal: Callable | None
    known: Callable | None = None
    #: The query word as typed, when building its other spellings (what a listing names).
    label: str | None = None
    #: The KB's vocabulary, which reads the names in field:value terms (None: the shipped one).
    vocab: Vocabulary | None = None


def parse(text: str, segment: Callable[[str], list[str] | None] | None = None,
          literal: Callable | None = None, known: Callable | None = None,
          vocab: Vocabulary | None = None) -> ParsedQuery:
    """Turn user query syntax into a Whoosh query, or raise :class:`QueryError`.

    ``segment`` splits a query word into index words (default: jieba); None
    from it means the word cannot match as words, only as literal text.
    ``literal`` (see :mod:`tripkb.query.literal`) builds the literal part of a word
    against an open index; without it, a plain bigram phrase is used.
    ``known`` gives the extra queries a free-text word also means (an id, a
    vocabulary name as metadata), see :class:`tripkb.query.known.Known`.
    ``vocab`` reads the names of ``org:``, ``country:`` and ``institution:`` (the KB's own
    aliases among them; default: the shipped vocabulary).
    """
    from whoosh import query as Q

    if not text or not text.strip():
        raise QueryError("the query is empty: give a word or phrase to search for, e.g. 年會")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(text)} characters long; the limit is {MAX_QUERY_CHARS}")
    syntax = syntax_form(text)
    if not syntax.strip("*? "):
        raise QueryError(f"the query {text!r} has no words to search for: '*' stands for the rest of a word, "
                         "as in EX096* or 圖書*")
    try:
        raw = _plain(syntax) or _parser().parse(syntax)
    except Exception as exc:  # Whoosh raises assorted errors on odd syntax
        raise QueryError(f"cannot understand the query {text!r}: {_syntax_problem(text, exc)}") from None
    literals: list[str] = []
    words: list[str] = []
    built = _index_query(raw, Q, literals, words, False, _Context(segment or _jieba_words, literal, known,
                                                                  vocab=vocab))
    if isinstance(built, Q.Not) or (built is None and re.match(r"\s*(-|NOT\s)", syntax)):
        raise QueryError("the query only excludes words; add a word to search for")
    if built is None or built is Q.NullQuery:
        raise QueryError(f"the query {text!r} has no words to search for (only punctuation or operators)")
    return ParsedQuery(built, literals, words, _notes(syntax))


#: Full-width letters and digits as ASCII, curly double quotes as straight ones: what the
#: query syntax reads. Other full-width punctuation (？：（）－) stays text, never syntax.
_SYNTAX_TABLE = ({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F) if chr(c - 0xFEE0).isalnum()}
                 | {0x3000: 0x20, 0x201C: 0x22, 0x201D: 0x22})
#: Three or more lone characters in a row, separated by spaces: what :func:`_spaced_out` looks at.
_LONE_CHARACTERS = re.compile(r"(?<!\S)\S(?:[ \t]+\S){2,}(?!\S)")


@lru_cache(maxsize=1)
def _spaced_out() -> re.Pattern:
    """Characters a PDF spaced out one by one (國 家 圖 書 館), pasted as a query: one word.
    Compiled on first use: its CJK classes take longer to compile than most lookups."""
    return re.compile(rf"(?<!\S)[{_CJK}](?:[ \t]+[{_CJK}]){{2,}}(?!\S)")
_LOWER_OPERATOR = re.compile(r"(?<=\s)(or|and|not)(?=\s)")


def syntax_form(text: str) -> str:
    """The query as its syntax is read: structure first, before any CJK spacing is removed
    (each word is normalised on its own later), so 'country:美國 海報展' is two clauses."""
    text = text.translate(_SYNTAX_TABLE)
    if not _LONE_CHARACTERS.search(text):
        return text
    return _spaced_out().sub(lambda m: re.sub(r"\s+", "", m.group()), text)


def _notes(syntax: str) -> list[str]:
    """What the user should know about how the query was read."""
    notes = []
    for op in dict.fromkeys(m.group() for m in _LOWER_OPERATOR.finditer(f" {syntax} ")):
        notes.append(f"'{op}' was searched as a word: operators are upper-case ({op.upper()})")
    return notes


#: A word with nothing the query syntax reads: no quotes, brackets, operators' signs, wildcards,
#: field colons, boosts or slashes. A query of such words alone, none of them an operator,
#: is what Whoosh's parser makes of it without loading the parser.
_PLAIN_WORD = re.compile(r"[^\s\"'()\[\]{}^*?:+\-~\\/<>=!&|]+")
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"}


def _plain(syntax: str):
    """``_parser().parse(syntax)`` for a query of plain words (tests/test_search.py holds them
    equal), without importing whoosh.qparser; None for any other query."""
    from whoosh import query as Q

    words = syntax.split()
    if not words or not all(_PLAIN_WORD.fullmatch(w) and w not in _OPERATORS for w in words):
        return None
    terms = [Q.Term("_q", w) for w in words]
    return terms[0] if len(terms) == 1 else Q.And(terms)


@lru_cache(maxsize=1)
def _parser():
    """Whoosh's parser, reading a '-' or '+' as an operator only where it starts a word
    (OAI-PMH, e-book, C++ are text), '?' as a wildcard only inside a Latin word, and
    only Latin names as field names (出國類別：開會 is text, not a field query)."""
    from whoosh.qparser import FieldsPlugin, PlusMinusPlugin, QueryParser, WildcardPlugin

    class Wildcards(WildcardPlugin):
        expr = r"(?P<text>\*|(?<=[A-Za-z])\?(?=[A-Za-z]))"

    parser = QueryParser("_q", schema=None)
    parser.phraseclass = _quoted_class()
    parser.replace_plugin(Wildcards())
    parser.add_plugin(PlusMinusPlugin(plusexpr=r"(?<![^\s(])\+(?=[^\s+])", minusexpr=r"(?<![^\s(])-(?=[^\s-])"))
    parser.replace_plugin(FieldsPlugin(expr=r"(?P<text>[A-Za-z_]+):"))
    return parser


def _syntax_problem(text: str, exc: Exception) -> str:
    """What is wrong with a query Whoosh could not parse, in words: its own errors say so,
    the rest (an IndexError on ``NOT NOT``) say nothing a user can act on."""
    from whoosh.qparser import QueryParserError

    if re.search(r"\bNOT\s+NOT\b", text):
        return "NOT twice in a row (write NOT once, before the word to leave out)"
    if isinstance(exc, QueryParserError):
        return str(exc)
    return "check its quotes, brackets and the operators AND, OR and NOT"


def _index_query(q, Q, literals: list[str], words: list[str], negated: bool, ctx):
    if isinstance(q, Q.Not):
        inner = _index_query(q.query, Q, literals, words, not negated, ctx)
        return Q.Not(inner) if inner is not None else None
    if isinstance(q, (Q.AndNot, Q.AndMaybe)):
        a = _index_query(q.a, Q, literals, words, negated, ctx)
        b = _index_query(q.b, Q, literals, words, negated ^ isinstance(q, Q.AndNot), ctx)
        if a is None and isinstance(q, Q.AndNot) and b is not None:
            raise QueryError("the query only excludes words; add a word to search for")
        if a is None:
            return None
        return type(q)(a, b) if b is not None else a
    if isinstance(q, Q.compound.CompoundQuery):
        kids = [k for k in (_index_query(c, Q, literals, words, negated, ctx) for c in q.subqueries) if k is not None]
        if not kids:
            return None
        if all(isinstance(k, Q.Not) for k in kids):
            raise QueryError("the query only excludes words; add a word to search for")
        return type(q)(kids, boost=q.boost) if len(kids) > 1 else kids[0]
    if q is Q.NullQuery or isinstance(q, Q.qcore._NullQuery):
        return None
    fieldname = getattr(q, "fieldname", None)
    name = FIELD_ALIASES.get(fieldname.lower(), fieldname.lower()) if fieldname else fieldname
    if name != "_q" and name not in TEXT_FIELDS and name not in FACET_FIELDS:
        raise QueryError(f"unknown field '{fieldname}:' in the query; fields are: {', '.join(QUERY_FIELDS)}")
    if name in FACET_FIELDS:
        return _facet(Q, name, q, ctx)
    fields = tuple(TEXT_FIELDS) if name == "_q" else (name,)
    if isinstance(q, Q.Phrase):
        text = " ".join(q.words)
    elif isinstance(q, (Q.Term, Q.Prefix, Q.Wildcard, Q.FuzzyTerm)):
        text = q.text
    elif isinstance(q, Q.Every):
        raise QueryError("'*' alone matches nothing in particular: '*' stands for the rest of a word, "
                         "as in EX096* or 圖書*")
    else:
        raise QueryError(f"this kind of query is not supported: {q}")
    bare = str(text).rstrip(":").lower()
    if str(text).endswith(":") and (bare in QUERY_FIELDS or bare in FIELD_ALIASES):
        raise QueryError(f"'{text}' needs something to search for after it, e.g. {bare}:年會")
    folded = query_form(str(text))
    if isinstance(q, Q.Wildcard) and not re.search(r"\*|(?<=[A-Za-z])\?(?=[A-Za-z])", str(text)):
        q = Q.Term(q.fieldname, q.text, boost=q.boost)  # Whoosh makes a word with a final '?' a wildcard
    if isinstance(q, (Q.Prefix, Q.Wildcard)):
        cls = type(q)
        leaf = Q.Or([cls(f, folded, boost=TEXT_FIELDS[f]) for f in fields]
                    + [cls(f + GRAM_SUFFIX, folded, boost=TEXT_FIELDS[f]) for f in fields]
                    + (ctx.known.id_query(str(text), prefix=True) if ctx.known and name == "_q" and cls is Q.Prefix else []))
        if not negated and isinstance(q, Q.Prefix):
            words.append(folded)
        return _floor(leaf)
    extra = [] if not ctx.known or name != "_q" else (ctx.known.metadata(str(text)) if negated else ctx.known(str(text)))
    label = None if negated else ctx.label or str(text)
    if extra and label is not None and ctx.literal is not None:
        ctx.literal.carried(label, extra)
    if re.fullmatch(r"[a-z]{3,}s", folded):  # Taiwans for Taiwan's
        extra.append(_floor(Q.Or([Q.Phrase(f + GRAM_SUFFIX, [folded[:-1], "s"], boost=TEXT_FIELDS[f]) for f in fields])))
    if _CAMEL_WORD.fullmatch(str(text)):  # SelfService for Self-Service
        parts = [p.lower() for p in _camel_parts(str(text))]
        extra.append(_floor(Q.Or([Q.Phrase(f + GRAM_SUFFIX, parts, boost=TEXT_FIELDS[f]) for f in fields])))
        if not negated:
            literals.append(" ".join(parts))
    if ctx.known is not None and isinstance(q, (Q.Term, Q.Phrase)):  # 意大利米蘭 for 義大利米蘭
        for variant in ctx.known.variants(folded):
            twin = Q.Term(q.fieldname, variant) if isinstance(q, Q.Term) else q.__class__(q.fieldname, variant.split())
            built = _index_query(twin, Q, literals, words, negated, replace(ctx, known=None, label=label))
            extra += [built] if built is not None else []
    grams = [g for g, *_ in gram_tokens(folded, query=True)]
    if not grams:
        return Q.Or(extra) if extra else None
    tokens = ctx.segment(folded) or []
    if len(grams) == 1 and len(grams[0]) == 1 and is_cjk_char(grams[0]):
        gram_qs = [Q.Prefix(f + GRAM_SUFFIX, grams[0], boost=TEXT_FIELDS[f]) for f in fields]
    elif len(grams) == 1:
        gram_qs = [Q.Term(f + GRAM_SUFFIX, grams[0], boost=TEXT_FIELDS[f]) for f in fields]
    else:
        gram_qs = [Q.Phrase(f + GRAM_SUFFIX, grams, boost=TEXT_FIELDS[f]) for f in fields]
    word_q = Q.And([Q.Or([Q.Term(f, t, boost=TEXT_FIELDS[f]) for f in fields]) for t in tokens]) if tokens else None
    if not negated:
        literals.append(folded)
        words.extend(t for t in tokens if len(t) > 1 or not is_cjk_char(t))
    exact = _punctuated(folded)
    if ctx.literal is not None and (len(grams) > 1 or exact):
        placed = [(g, pos) for g, pos, *_ in gram_tokens(folded, query=True)]
        built = ctx.literal(fields, placed, word_q, isinstance(q, Q.Phrase), TEXT_FIELDS, tokens == [folded],
                            label=label, exact=exact)
        return Q.Or([built] + extra, boost=q.boost)
    if isinstance(q, Q.Phrase):  # a quoted phrase must occur as written; its words only rank
        literal = Q.Or(gram_qs, boost=q.boost)
        return Q.Or([_floor(Q.AndMaybe(literal, word_q) if word_q is not None else literal)] + extra)
    return Q.Or([_floor(Q.Or(([word_q] if word_q is not None else []) + gram_qs, boost=q.boost))] + extra)


#: A Latin word joined from capitalised words (SelfService), and those words.
_CAMEL_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]*[a-z][A-Z][A-Za-z]*")
_CAMEL_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def _camel_parts(word: str) -> list[str]:
    """The words joined in ``SelfService``: Self, Service."""
    return _CAMEL_PART.findall(word)


#: Punctuation that is part of a Latin term (C++, C#, .NET, U.S., R&D, 3.0): such a term is
#: matched against the text as written, as the index drops punctuation.
_PUNCTUATION = "+#&."


@lru_cache(maxsize=1)
def _punctuated_re() -> re.Pattern:
    """Compiled on first use: its character classes take longer to compile than most lookups."""
    return re.compile(rf"{_LATIN}[+#]|[+#&]{_LATIN}|{_LATIN}[&.]{_LATIN}|(?<!\S)\.{_LATIN}")


def _punctuated(folded: str) -> re.Pattern | None:
    """The pattern a punctuated Latin term must match in the match-form text, else None.
    A final full stop may be the end of a sentence: U.S. also matches 'the U.S'."""
    term = folded.strip()
    if not any(mark in term for mark in _PUNCTUATION) or not _punctuated_re().search(term):
        return None
    core = term.rstrip(".") or term
    body = r"\s+".join(re.escape(part) for part in core.split())
    if re.match(_LATIN, core):
        body = rf"(?<!{_LATIN})" + body
    if re.search(rf"{_LATIN}$", core):
        body += rf"(?!{_LATIN})"
    return re.compile(body)


def _floor(query):
    """``query`` scored as a literal match (see :data:`tripkb.query.literal.LITERAL`)."""
    from .literal import Plus, LITERAL

    return Plus(query, LITERAL)


def _quoted_class():
    """Whoosh's Phrase, except that one quoted word stays a phrase: "年會圖書館" has no
    spaces, and Whoosh would turn it into a plain word that matches it anywhere."""
    from whoosh.query import Phrase

    class Quoted(Phrase):
        def normalize(self):
            return self if len(self.words) == 1 else super().normalize()

    return Quoted


def _jieba_words(folded: str) -> list[str]:
    return [w for w, *_ in word_tokens(folded, query=True)]


def lexicon_segmenter(reader, longest: int = 16) -> Callable[[str], list[str] | None]:
    """Split query words by the index's own vocabulary, longest match first.

    Every word jieba produced for a document is in the index, so this finds
    the words a query can match without loading jieba's dictionary (0.5–1 s
    per process). A character no indexed word covers makes the word
    unmatchable as words; its literal text is still searched as bigrams.
    """
    def segment(folded: str) -> list[str] | None:
        tokens: list[str] = []
        for kind, run, _ in runs(folded):
            if kind == "word":
                tokens.append(run)
                continue
            i = 0
            while i < len(run):
                for n in range(min(longest, len(run) - i), 0, -1):
                    if holds_word(reader, run[i:i + n]):
                        tokens.append(run[i:i + n])
                        i += n
                        break
                else:
                    return None
        return tokens

    return segment


def _facet(Q, name: str, q, ctx: _Context):
    from ..meta.vocab import Vocabulary

    if name == "year":
        return _years(Q, q)
    text = str(getattr(q, "text", "")).strip()
    vocab = ctx.vocab or Vocabulary.load()
    if name == "id" and ctx.known is not None:  # ids any case, EX096* their prefix
        found = ctx.known.id_query(text, prefix=isinstance(q, Q.Prefix))
        return found[0] if found else Q.Term("id", text)
    if name == "events":
        return Q.Term("events", (vocab.org_code(text) or text).lower())
    if name == "countries":
        return Q.Term("countries", vocab.canonical_country(text) or text)
    if name == "institution":
        return Q.Term("institution", vocab.canonical_institution(text))
    return Q.Term(name, text)


_YEARS = re.compile(r"(\d{1,4})?\s*(?:\.\.|-|–)\s*(\d{1,4})?")


def _years(Q, q):
    """year:2007, year:2007..2009 (either end may be left open), year:[2007 TO 2009]."""
    if isinstance(q, Q.TermRange):
        ends = [str(e).strip() if e is not None else "" for e in (q.start, q.end)]
    else:
        text = str(getattr(q, "text", "")).strip()
        m = _YEARS.fullmatch(text)
        ends = [m.group(1) or "", m.group(2) or ""] if m and (m.group(1) or m.group(2)) else [text, text]
    if not all(e.isdigit() or e == "" for e in ends) or ends == ["", ""]:
        shown = getattr(q, "text", None) or f"[{q.start} TO {q.end}]"
        raise QueryError(f"year: needs a year such as year:2007 or year:2007..2009, not {shown!r}")
    low, high = (check_year(int(e), f"year:{e}") if e else None for e in ends)
    return Q.NumericRange("year", low, high)


def _alternation(texts: list[str]) -> re.Pattern | None:
    """One regex for all the texts, longest first, tolerant of punctuation between runs."""
    parts = []
    for text in sorted(set(texts), key=len, reverse=True):
        pieces = list(runs(text))
        if not pieces:
            continue
        body = r"[^\w]*".join(r"\n?".join(map(re.escape, r)) if kind == "cjk" else re.escape(r)
                               for kind, r, _ in pieces)
        if pieces[0][0] == "word":
            body = rf"(?<!{_LATIN})" + body
        if pieces[-1][0] == "word":
            body += rf"(?!{_LATIN})"
        parts.append(body)
    return re.compile("|".join(parts)) if parts else None


def find_spans(text_match_form: str, *patterns: re.Pattern | None) -> list[tuple[int, int]]:
    """Spans matched by the first pattern that matches anything, in order."""
    for pattern in patterns:
        if pattern is not None:
            spans = [m.span() for m in pattern.finditer(text_match_form) if m.end() > m.start()]
            if spans:
                return spans
    return []


def _snippet(text: str, spans: list[tuple[int, int]], width: int = 110,
             lo: int = 0, hi: int | None = None) -> tuple[str, list[tuple[int, int]]]:
    """A one-line window of ``text[lo:hi]`` around the first span, with the spans inside it."""
    hi = len(text) if hi is None else hi
    first = spans[0][0] if spans else lo
    start = max(lo, first - width // 4)
    end = min(hi, start + width)
    lead = "…" if start > lo and spans else ""
    window, moved = _one_line(text, start, end)
    tail = "…" if end < hi else ""
    inside = [(moved[max(s, start) - start] + len(lead), moved[min(e, end) - start] + len(lead))
              for s, e in spans if s < end and e > start]
    return lead + window + tail, inside


def _one_line(text: str, start: int, end: int) -> tuple[str, list[int]]:
    """``text[start:end]`` on one line: a break inside a CJK run vanishes, others become spaces.

    Also returns where each original offset (relative to ``start``) lands.
    """
    out: list[str] = []
    moved: list[int] = []
    for i in range(start, end):
        moved.append(len(out))
        ch = text[i]
        if ch in "\n\f\r\t":
            if ch == "\n" and 0 < i < len(text) - 1 and is_cjk_char(text[i - 1]) and is_cjk_char(text[i + 1]):
                continue
            ch = " "
        out.append(ch)
    moved.append(len(out))
    return "".join(out).rstrip(), moved


def _section_clause(text: str, filters: Filters | None) -> tuple[str, Filters | None]:
    """The query without its ``section:NAME`` clause, which becomes the filters' section."""
    if "section:" not in text.lower():  # the usual query: no need to load the section rules
        return text, filters
    from .outline import split_section_clause

    text, section = split_section_clause(text)
    return (text, replace(filters or Filters(), section=section)) if section else (text, filters)


def _hit(hit, stored: StoredDoc, literal_re, word_re, section: str | None = None) -> Hit | None:
    """The hit with its pages and snippet; with ``section``, from that section only (None: not in it)."""
    if section:
        from .outline import section_hit

        return section_hit(_hit(hit, stored, literal_re, word_re), stored, section, literal_re, word_re)
    record = stored.record
    text = stored.text
    spans = find_spans(match_form(text), literal_re, word_re) if text else []
    pages = sorted({bisect.bisect_right(stored.starts, s) for s, _ in spans})
    if spans:
        page = pages[0] - 1
        bound = stored.starts[page + 1] - len(PAGE_BREAK) if page + 1 < len(stored.starts) else len(text)
        snippet, snippet_spans = _snippet(text, spans, lo=stored.starts[page], hi=bound)
    else:
        source = record.get("abstract") or ""
        snippet, snippet_spans = _snippet(source, find_spans(match_form(source), literal_re, word_re))
    title = record.get("title", "")
    return Hit(id=record.get("id", ""), title=title, type=record.get("type"),
               institution=record.get("institution"), year=record.get("year"), file=stored.file,
               score=float(hit.score or 0.0), pages=pages if stored.file and stored.paged else [],
               snippet=snippet, record=record, snippet_spans=snippet_spans,
               title_spans=find_spans(match_form(title), literal_re, word_re))


def search(kb: KnowledgeBase, text: str, filters: Filters | None = None, limit: int = 10,
           progress=None, fresh: bool = True) -> SearchResult:
    """Run a query, first bringing the index up to date with ``corpus/`` (built on first use).

    ``fresh=False`` searches the index as it stands (it is still built if there is
    none), without the look for changes (docs/index-format.md, "Freshness"), which
    a script running many lookups after one ingest can skip.
    """
    from ..index.freshness import refresh
    from ..index.schema import lengths_in_memory, open_index, status

    text, filters, filter_q = prepare_query(kb, text, filters, limit)
    synced = refresh(kb, progress) if fresh or status(kb.index_dir) else None
    ix = open_index(kb.index_dir, checked=True)  # refresh or status has just checked it
    with ix.searcher() as searcher:
        lengths_in_memory(searcher)
        result = search_in(searcher, kb, text, filters, filter_q, limit)
    result.problems = synced.problems if synced else []
    return result


def prepare_query(kb: KnowledgeBase, text: str, filters: Filters | None, limit: int):
    """The query without its ``section:`` clause, the filters with it, and the filters' query:
    every mistake in them reported before any index work."""
    if limit < 1:
        raise UsageError("--limit must be at least 1")
    text, filters = _section_clause(text, filters)
    parse(text, segment=lambda folded: [])
    return text, filters, (filters or Filters()).query(kb.root)


def search_in(searcher, kb: KnowledgeBase, text: str, filters: Filters | None, filter_q,
              limit: int) -> SearchResult:
    """:func:`search` with an open searcher, on what :func:`prepare_query` gave."""
    from .known import Known
    from .literal import Literal
    from ..meta.vocab import Vocabulary

    section = filters.section if filters else None
    vocab = Vocabulary.load(kb.root)
    literal = Literal(searcher)
    known = Known(searcher, vocab)
    parsed = parse(text, segment=lexicon_segmenter(searcher.reader()), literal=literal, known=known,
                   vocab=vocab)
    items = _known_items(searcher, [text, *known.variants(query_form(text))])
    query = _with_known_items(searcher, parsed.query, items)
    notes, suggestions = list(parsed.notes), []
    total = _count(searcher, query, filter_q)
    if total == 0:
        from .suggest import by_words, suggest

        suggestions = suggest(searcher, text, vocab)
        fallback = None if suggestions else by_words(searcher, text, parsed)  # a misspelling, or a question
        if fallback is not None:
            query, note = fallback
            total = _count(searcher, query, filter_q)
            notes += [note] if total else []
    literal_re, word_re = parsed.patterns()
    results = searcher.search(query, limit=None if section else limit, filter=filter_q) if total else []
    hits = []
    for h in results:
        hit = _hit(h, StoredDoc.from_stored(h["data"]), literal_re, word_re, section)
        if hit is None:
            continue
        hit.words_only = [] if h.docnum in items else literal.words_only(h.docnum)
        hits.append(hit)
    hits.sort(key=lambda hit: (-hit.score, hit.id))  # a tie by id, not by the order documents were indexed in
    if section:  # only documents whose section holds the query count
        total, hits = len(hits), hits[:limit]
    return SearchResult(query=text, total=total, hits=hits, notes=notes, suggestions=suggestions)


def _with_known_items(searcher, query, items: set[int]):
    """``query``, with the known ``items`` first."""
    from whoosh import query as Q

    from .known import KNOWN
    from .literal import Plus, _queries

    if not items:
        return query
    DocSet, _ = _queries()
    return Q.Or([query, Plus(DocSet(searcher, items), KNOWN)])


def _known_items(searcher, texts: list[str]) -> set[int]:
    """The documents whose whole title or one of whose authors is one of ``texts`` (the query
    and its other spellings of country names): a pasted title, with or without its
    punctuation and spaces, or a name is a known item."""
    keys = {key for key in map(_name_key, texts) if len(key) > 1}
    found = set()
    for text in texts if keys else []:
        for name in ("title", "authors"):
            candidates = _name_candidates(searcher, name + GRAM_SUFFIX, text)
            for docnum in candidates:
                record = searcher.stored_fields(docnum)["data"]["record"]
                values = [record.get("title", "")] if name == "title" else record.get("authors", [])
                if any(_name_key(v) in keys for v in values):
                    found.add(docnum)
    return found


#: Known-item checks read the stored record of at most this many candidates, found by at most
#: this many of the query's grams (the rarest: a title typed with its words joined, SelfService,
#: or spaced otherwise holds grams the title has not; the stored record is compared whole).
MAX_KNOWN_CANDIDATES = 50
KNOWN_GRAMS = 4


def _name_candidates(searcher, fieldname: str, text: str) -> list[int]:
    """The documents whose ``fieldname`` holds the rarest grams of ``text`` (as typed, its
    punctuation as spaces) that the field knows; none if they are too many to read."""
    from whoosh import query as Q

    spaced = re.sub(r"[\W_]+", " ", query_form(_CAMEL_WORD.sub(lambda m: " ".join(_camel_parts(m.group())), text)))
    grams = {g for g, *_ in gram_tokens(spaced, query=True)}
    if len(grams) > 64:
        return []
    reader = searcher.reader()
    rare = sorted((reader.doc_frequency(fieldname, g), g) for g in grams if (fieldname, g) in reader)
    if not rare:
        return []
    candidates = list(searcher.docs_for_query(Q.And([Q.Term(fieldname, g) for _, g in rare[:KNOWN_GRAMS]])))
    return candidates if len(candidates) <= MAX_KNOWN_CANDIDATES else []


def _name_key(text: str) -> str:
    """A title or name as compared whole: match form without spaces or punctuation
    (Taiwan's Digital Archives = taiwansdigitalarchives). The query form without its
    handling of whitespace, which goes here anyway."""
    return re.sub(r"[\W_]+", "", match_form(nfkc(text)))


def _count(searcher, query, filter_q) -> int:
    """How many documents match: an unscored pass, as the top-N pass may skip
    documents that cannot reach the top. Literal words count their known set."""
    matched = set(searcher.docs_for_query(query))
    if filter_q is not None and matched:
        matched &= set(searcher.docs_for_query(filter_q))
    return len(matched)


def get(kb: KnowledgeBase, doc_id: str, progress=None) -> StoredDoc:
    """The indexed document with this id (exact, else case-insensitive)."""
    return StoredDoc.from_stored(stored_fields(kb, doc_id, progress)["data"])


def stored_fields(kb: KnowledgeBase, doc_id: str, progress=None) -> dict[str, Any]:
    """The stored fields of the document with this id, the index brought up to date first."""
    from ..errors import NotFoundError
    from ..index.schema import open_index
    from ..index.freshness import refresh

    refresh(kb, progress)
    ix = open_index(kb.index_dir)
    with ix.searcher() as searcher:
        fields = stored_by_id(searcher, doc_id)
    if fields is None:
        raise NotFoundError(f"no document with id {doc_id!r} in {kb.root}")
    return fields


def stored_by_id(searcher, doc_id: str) -> dict[str, Any] | None:
    """The stored fields of the document with this id: exact, else case-insensitive."""
    from ..index.schema import live_values

    wanted = doc_id.strip()
    if searcher.document_number(id=wanted) is None:
        folded = wanted.casefold()
        wanted = next((v for v in live_values(searcher.reader(), "id") if v.casefold() == folded), wanted)
    return searcher.document(id=wanted)
