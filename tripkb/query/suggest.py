"""When a query finds nothing: "did you mean", and a long question ranked by its words.

Spellings come from the knowledge base itself: the vocabulary's names (organisations,
countries, institutions) and the words indexed from its documents. The fuzzy matching
is rapidfuzz's.
"""

from __future__ import annotations

import re

from ..index.schema import TEXT_FIELDS, StoredDoc, text_values
from ..text.normalise import display_form, is_cjk_char, match_form, query_form

#: How alike (0–100, rapidfuzz) a spelling must be to be offered.
CUTOFF = 75
#: At most this many suggestions.
MAX_SUGGESTIONS = 3
#: A query of this many Chinese characters (or three words) is a question, not a name.
LONG_QUESTION = 6
_LATIN_WORD = re.compile(r"[a-z][a-z0-9]+")


def suggest(searcher, text: str, vocab) -> list[str]:
    """Spellings close to the query: the whole query, else each Latin word of it."""
    from rapidfuzz import fuzz, process

    display = display_form(text)
    query = query_form(text).replace(" ", "")
    names: dict[str, str] = {}
    for name in vocab.all_names():  # the first spelling of a name wins: Traditional before Simplified
        names.setdefault(match_form(display_form(name)).replace(" ", ""), display_form(name))
    words = _indexed_words(searcher)
    out: list[str] = []
    for choices in (names, words):
        for found, score, _ in process.extract(query, list(choices), scorer=fuzz.ratio, limit=MAX_SUGGESTIONS,
                                               score_cutoff=CUTOFF):
            if found != query:
                out.append(names.get(found) or _spelled(searcher, found))
    if not out:  # a name inside a longer one (醫學圖書館 in 美國醫學圖書館學會)
        for key, name in names.items():
            if len(key) > len(query) >= 4 and not query.isascii():
                at = fuzz.partial_ratio_alignment(query, key, score_cutoff=CUTOFF)
                if at and key[at.dest_start:at.dest_end] != query:
                    out.append(name[at.dest_start:at.dest_end])
    if not out and not query.isascii() and len(query) >= 4:
        out = _near_text(searcher, query)
    if not out and " " in display:  # Latin words one by one: Intelligant Library
        out = _word_by_word(display, words)
    return list(dict.fromkeys(o for o in out if o))[:MAX_SUGGESTIONS]


#: Documents read to find a spelling near a mistyped Chinese query.
MAX_NEAR_DOCS = 10


def _near_text(searcher, query: str) -> list[str]:
    """Where the text nearly says ``query``: documents holding it less its last or first
    character (警察人 for 警察人圓), the text around that, fuzzily aligned with the query."""
    from rapidfuzz import fuzz, process
    from whoosh import query as Q

    from ..index.analysis import gram_tokens

    out = []
    for part in (query[:-1], query[1:]):
        grams = [g for g, *_ in gram_tokens(part, query=True)]
        phrase = Q.Or([Q.Phrase(f + "_g", grams) for f in TEXT_FIELDS])
        for docnum in list(searcher.docs_for_query(phrase))[:MAX_NEAR_DOCS]:
            stored = StoredDoc.from_stored(searcher.stored_fields(docnum)["data"])
            text = "\n".join(_field_text(stored.record, f) for f in ("title", "abstract")) + "\n" + stored.text
            folded = match_form(text)
            at = folded.find(part)
            if at < 0:
                continue
            starts = range(max(0, at - len(query) + len(part)), at + 1)  # windows as long as the query
            best = process.extractOne(query, [folded[i:i + len(query)] for i in starts], scorer=fuzz.ratio,
                                      score_cutoff=CUTOFF)
            if best and best[0] != query:
                start = starts[best[2]]
                out.append(text[start:start + len(query)])
        if out:
            break
    return list(dict.fromkeys(out))


def _word_by_word(display: str, words: dict[str, None]) -> list[str]:
    from rapidfuzz import fuzz, process

    fixed, changed = [], False
    for word in display.split():
        folded = word.lower()
        if folded in words or not _LATIN_WORD.fullmatch(folded):
            fixed.append(word)
            continue
        best = process.extractOne(folded, list(words), scorer=fuzz.ratio, score_cutoff=CUTOFF)
        if best is None:
            return []
        fixed.append(_case_like(best[0], word))
        changed = True
    return [" ".join(fixed)] if changed else []


def _case_like(word: str, model: str) -> str:
    if model.isupper():
        return word.upper()
    return word.capitalize() if model[:1].isupper() else word


def _indexed_words(searcher) -> dict[str, None]:
    """The words the index holds (match form), two characters or more, in every text field."""
    reader = searcher.reader()
    words: dict[str, None] = {}
    for name in TEXT_FIELDS:
        for term in reader.field_terms(name):
            if len(term) > 1 and not term.isdigit():
                words[term] = None
    return words


def _spelled(searcher, term: str) -> str:
    """``term`` (match form) as a document writes it (醫學圖書館, not 医学图书馆)."""
    if term.isascii():
        return term
    reader = searcher.reader()
    for name in TEXT_FIELDS:
        if (name, term) not in reader:
            continue
        docnum = next(iter(reader.postings(name, term).all_ids()))
        stored = StoredDoc.from_stored(searcher.stored_fields(docnum)["data"])
        value = text_values(stored.record, stored.text).get(name, "")
        source = stored.text if name == "body" else _field_text(stored.record, name)
        at = value.find(term)
        if at >= 0 and len(source) == len(value):  # the match form keeps every offset
            return source[at:at + len(term)]
    return term


def _field_text(record: dict, name: str) -> str:
    value = record.get(name, "")
    return "\n".join(value) if isinstance(value, list) else value


def by_words(searcher, text: str, parsed):
    """For a long question no document holds as written: (a query ranking documents by how
    many of its words they hold, a note saying so), or None."""
    from whoosh import query as Q

    from ..index.schema import TEXT_FIELDS as W

    words = [w for w in dict.fromkeys(_known_words(searcher.reader(), query_form(text)))
             if len(w) > 1 or not is_cjk_char(w)]
    display = display_form(text)
    long = len(display.split()) >= 3 or sum(map(is_cjk_char, display)) >= LONG_QUESTION
    if len(words) < 2 or not long or '"' in text or re.search(r"\bOR\b|\bNOT\b|(?<!\S)-|:", display):
        return None
    query = Q.Or([Q.Term(f, w, boost=W[f]) for w in words for f in W])
    shown = "、".join(_shown(text, w) for w in words)
    return query, (f"no document holds {display_form(text)!r} as written or all its words; "
                   f"ranked by the words it contains: {shown}")


def _known_words(reader, folded: str, longest: int = 8) -> list[str]:
    """The indexed words of ``folded``, longest first from the left; characters no indexed
    word covers are skipped (the question's words, whatever else it says)."""
    from ..index.analysis import runs

    found = []
    for kind, run, _ in runs(folded):
        if kind == "word":
            found += [run] if any((f, run) in reader for f in TEXT_FIELDS) else []
            continue
        i = 0
        while i < len(run):
            n = next((n for n in range(min(longest, len(run) - i), 1, -1)
                      if any((f, run[i:i + n]) in reader for f in TEXT_FIELDS)), 1)
            if n > 1:
                found.append(run[i:i + n])
            i += n
    return found


def _shown(text: str, word: str) -> str:
    """``word`` (match form) as the query wrote it."""
    display = display_form(text)
    at = match_form(display).find(word)
    return display[at:at + len(word)] if at >= 0 else word
