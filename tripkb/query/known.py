"""What a free-text query word means beyond its text: a report id, or a name the vocabulary
knows (an organisation, country or institution), which also finds the documents carrying it.

People type ids (c09601649, xiaobiaosong, EX096*) in any case and names (USA, 國圖, Quebec,
漢城) as plain words, and a record that only carries the value in its metadata (ALA in events,
臺北市立圖書館 as its institution) holds no such text: it counts as holding the query, and
ranks with the literal matches. A country's Taiwan and mainland names (義大利, 意大利) are
one text: a query word holding one also looks for the other (see :meth:`Known.variants`).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

from ..index.schema import holds_word
from ..meta.fold_names import fold_key
from ..text.normalise import is_cjk_char, match_form
from .literal import LITERAL, Plus

#: A document whose id is the query outranks everything else.
KNOWN = 100 * LITERAL
#: A document carrying the named value ranks above one that only holds its text
#: (國圖 as the institution 國家圖書館, not inside 美國圖書館).
METADATA = 50.0
#: A short name that begins more institutions' names than this is too general (國立, 圖書).
MAX_PREFIXED = 3
#: An id typed in another case is looked for under the case variants of its first this many
#: characters that begin some id, never in the whole id list.
CASE_PREFIX = 4
#: A query word gives at most this many other spellings of the country names it holds.
MAX_VARIANTS = 4


def deaccent(text: str) -> str:
    """Latin letters without diacritics (Québec → Quebec); other scripts as they are."""
    if text.isascii():
        return text
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and out and out[-1].isascii():
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


@lru_cache(maxsize=4)
def _names(vocab) -> dict[str, tuple[str, str]]:
    """The vocabulary's names by fold key, each also under its key without diacritics."""
    names = vocab.folded_names()
    return names | {deaccent(key): value for key, value in names.items() if deaccent(key) != key}


@lru_cache(maxsize=4)
def _other_names(vocab) -> dict[str, tuple[str, ...]]:
    """A country's Taiwan name in match form → its mainland name, and the other way round."""
    out: dict[str, tuple[str, ...]] = {}
    for pair in vocab.country_name_pairs():
        forms = list(dict.fromkeys(match_form(n) for n in pair if len(n) > 1 and all(map(is_cjk_char, n))))
        for form in forms if len(forms) > 1 else []:
            out[form] = tuple(f for f in forms if f != form)
    return out


class Known:
    """The extra queries a free-text word stands for, against one open searcher."""

    def __init__(self, searcher, vocab):
        self.searcher = searcher
        self.vocab = vocab
        self._institutions: list[str] | None = None

    def ids(self, text: str, prefix: bool = False) -> list[str]:
        """The ids that are ``text`` (with ``prefix``, that begin with it) in any case: any id
        shape, XiaoBiaoSong for xiaobiaosong as well as C09601649 for c09601649. A word the
        text holds (annual) is only looked up in its own, upper and lower case."""
        wanted = text.strip()
        folded = wanted.casefold()
        reader = self.searcher.reader()
        found = [i for i in dict.fromkeys((wanted, wanted.upper(), wanted.lower())) if ("id", i) in reader]
        if not prefix and (found or wanted.upper() == wanted.lower() or holds_word(reader, folded)):
            return found  # a word of the text typed in another case means that word
        if not folded:
            return found
        # Each seek in the term list costs a fraction of a millisecond: walk the case variants
        # of the first characters that begin some id, then read the ids under those left.
        heads = [""]
        for ch in wanted[:CASE_PREFIX]:
            heads = [head + c for head in heads for c in dict.fromkeys((ch.lower(), ch.upper()))
                     if next(reader.expand_prefix("id", head + c), None) is not None]
        to_text = reader.schema["id"].from_bytes
        values = (to_text(term) for head in heads for term in reader.expand_prefix("id", head))
        return sorted({value for value in values
                       if (value.casefold().startswith(folded) if prefix else value.casefold() == folded)})

    def __call__(self, text: str) -> list[Any]:
        """Queries for the id ``text`` names and the metadata values it names."""
        return self.id_query(text) + self.metadata(text)

    def id_query(self, text: str, prefix: bool = False) -> list[Any]:
        """The documents whose id begins with ``text`` (EX096 for EX096*; without ``prefix``,
        whose id it is), any case, first."""
        from whoosh import query as Q

        found = self.ids(text, prefix)
        return [Plus(Q.Or([Q.Term("id", i) for i in found]), KNOWN)] if found else []

    def variants(self, folded: str) -> list[str]:
        """The match-form query word ``folded`` with a country name it holds spelled as the
        other side of the strait does (意大利米蘭 → 義大利米蘭), one name at a time."""
        names = _other_names(self.vocab)
        if not names or not any(map(is_cjk_char, folded)):
            return []
        longest = max(map(len, names))
        out, i = [], 0
        while i < len(folded) and len(out) < MAX_VARIANTS:
            n = next((n for n in range(min(longest, len(folded) - i), 1, -1) if folded[i:i + n] in names), 0)
            out += [folded[:i] + other + folded[i + n:] for other in names.get(folded[i:i + n], ())]
            i += n or 1
        return out[:MAX_VARIANTS]

    def metadata(self, text: str) -> list[Any]:
        """Documents whose organisation, country or institution ``text`` names, or whose
        institution's name it begins (臺北 for 臺北市立圖書館)."""
        from whoosh import query as Q

        key = fold_key(text)
        if not key:
            return []
        named = _names(self.vocab).get(key) or _names(self.vocab).get(deaccent(key))
        if named:
            kind, value = named
            field, term = {"org": ("events", value.lower()), "country": ("countries", value),
                           "institution": ("institution", value)}[kind]
            return [Plus(Q.Term(field, term), LITERAL + METADATA)]
        if len(key) < 2 or key.isascii():
            return []
        begun = [name for name in self.institutions() if fold_key(name).startswith(key)]
        if not begun or len(begun) > MAX_PREFIXED:
            return []
        return [Plus(Q.Or([Q.Term("institution", name) for name in begun]), LITERAL)]

    def institutions(self) -> list[str]:
        """The institutions the index holds (their current names)."""
        if self._institutions is None:
            self._institutions = list(self.searcher.reader().field_terms("institution"))
        return self._institutions
