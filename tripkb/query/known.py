"""What a free-text query word means beyond its text: a report id, or a name the vocabulary
knows (an organisation, country or institution), which also finds the documents carrying it.

People type ids (c09601649, EX096*) and names (USA, 國圖, Quebec, 漢城) as plain words, and a
record that only carries the value in its metadata (ALA in events, 臺北市立圖書館 as its
institution) holds no such text. Matches through metadata rank with the literal ones.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

from ..meta.fold_names import fold_key
from .literal import LITERAL, Plus

#: A document whose id is the query outranks everything else.
KNOWN = 100 * LITERAL
#: A document carrying the named value ranks above one that only holds its text
#: (國圖 as the institution 國家圖書館, not inside 美國圖書館).
METADATA = 50.0
#: A short name that begins more institutions' names than this is too general (國立, 圖書).
MAX_PREFIXED = 3


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


class Known:
    """The extra queries a free-text word stands for, against one open searcher."""

    def __init__(self, searcher, vocab):
        self.searcher = searcher
        self.vocab = vocab
        self._ids: dict[str, list[str]] | None = None
        self._institutions: list[str] | None = None

    def ids(self) -> dict[str, list[str]]:
        """Every id in the index by its case-folded form (read for id prefixes only)."""
        if self._ids is None:
            self._ids = {}
            for value in self.searcher.reader().field_terms("id"):
                self._ids.setdefault(value.casefold(), []).append(value)
        return self._ids

    def __call__(self, text: str) -> list[Any]:
        """Queries for the id ``text`` names and the metadata values it names."""
        from whoosh import query as Q

        out = []
        reader, wanted = self.searcher.reader(), text.strip()
        ids = [i for i in dict.fromkeys((wanted, wanted.upper(), wanted.lower())) if ("id", i) in reader]
        if ids:
            out.append(Plus(Q.Or([Q.Term("id", i) for i in ids]), KNOWN))
        return out + self.metadata(text)

    def id_prefix(self, text: str) -> list[Any]:
        """The ids that begin with ``text`` (EX096 for EX096*), any case."""
        from whoosh import query as Q

        prefix = text.strip().casefold()
        found = [i for key, ids in self.ids().items() if key.startswith(prefix) for i in ids]
        return [Plus(Q.Or([Q.Term("id", i) for i in found]), KNOWN)] if found else []

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
