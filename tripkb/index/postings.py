"""Posting formats: analysis done ahead of the index writer, and positions as varints.

Analysis (jieba above all) costs more than Whoosh's own indexing, and only
one process writes the index. So the processes that read documents also
analyse them: :func:`analysed` gives the text with its postings, exactly as
the field's format would make them, and the formats here file those postings
as they are instead of analysing the text again.

Whoosh pickles each posting's position list (about 14 bytes for a single
position); as varints it takes 2. Bigram postings are most of the index.

The classes are pickled by name into the index's table of contents, so they
live in a module of their own that Whoosh can import when it opens the index.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint

#: (term, frequency, weight, encoded value) of each distinct term: what Format.word_values yields.
Posting = tuple[str, int, float, bytes]


class Analysed(str):
    """Match-form text carrying the postings its field's format makes of it.

    It is still the text, so a format that knows nothing of it analyses it as usual.
    """

    postings: list[Posting]

    def __new__(cls, text: str, postings: list[Posting]) -> "Analysed":
        value = super().__new__(cls, text)
        value.postings = postings
        return value

    def __reduce__(self):
        return Analysed, (str(self), self.postings)


def analysed(field: Any, text: str) -> Analysed:
    """``text`` with the postings of the Whoosh ``field`` (a TEXT field with a format below)."""
    return Analysed(text, field.format.postings(text, field.analyzer))


class Preanalysed:
    """Takes an :class:`Analysed` value's postings as they are.

    ``postings`` makes what Whoosh's ``word_values`` would, straight from the
    analyser's token tuples: cheaper than through Token objects.
    """

    def word_values(self, value, analyzer, **kwargs):
        if isinstance(value, Analysed):
            return value.postings
        return super().word_values(value, analyzer, **kwargs)


class Frequencies(Preanalysed, Frequency):
    """Whoosh's term frequencies (the jieba word fields)."""

    def postings(self, text: str, analyzer) -> list[Posting]:
        return self.counted(analyzer.counts(text))

    def counted(self, counts: dict[str, int]) -> list[Posting]:
        """The postings of a text whose terms occur ``counts`` times."""
        boost = self.field_boost
        return [(term, n, n * boost if boost != 1 else _FLOATS[n] if n < SMALL else float(n),
                 _UINTS[n] if n < SMALL else pack_uint(n)) for term, n in counts.items()]


def varints(numbers: list[int]) -> bytes:
    out = bytearray()
    for n in numbers:
        while n > 0x7F:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)
    return bytes(out)


#: Shared objects for the commonest weights and values: a posting is then
#: three references in the writer's pool, not three new objects.
SMALL = 128
_FLOATS = [float(n) for n in range(SMALL)]
_UINTS = [pack_uint(n) for n in range(SMALL)]
#: The value of a posting at one position below ONE_MAX (most bigrams of a title or an abstract).
ONE_MAX = 1 << 12
_ONE_POSITION = [varints([1, p]) for p in range(ONE_MAX)]
#: ids of those shared objects: a pool holding one pays for a reference only.
SHARED = frozenset(map(id, _FLOATS + _UINTS + _ONE_POSITION))


@lru_cache(maxsize=1)
def _varint_table() -> list[bytes]:
    """The varint of each number below 2**14 (one or two bytes), made once: looked up, a
    position list is encoded faster than byte by byte."""
    return [varints([n]) for n in range(1 << 14)]


def read_varints(data: bytes) -> list[int]:
    numbers, n, shift = [], 0, 0
    for byte in data:
        n |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            numbers.append(n)
            n, shift = 0, 0
    return numbers


class CompactPositions(Preanalysed, Positions):
    """Frequency, then the gaps between positions, all as varints (the bigram fields)."""

    def postings(self, text: str, analyzer) -> list[Posting]:
        return self.placed(analyzer.positions(text))

    def placed(self, positions: dict[str, list[int]]) -> list[Posting]:
        """The postings of a text whose terms stand at ``positions``."""
        boost, encode, one = self.field_boost, self.encode, _ONE_POSITION
        if boost != 1:
            return [(term, len(p), len(p) * boost, encode(p)) for term, p in positions.items()]
        # Most bigrams of a record occur once: their posting is made without a call.
        return [(term, 1, 1.0, one[p[0]]) if len(p) == 1 and p[0] < ONE_MAX else
                (term, len(p), _FLOATS[len(p)] if len(p) < SMALL else float(len(p)), encode(p))
                for term, p in positions.items()]

    def encode(self, poslist):
        count = len(poslist)
        if count == 1 and poslist[0] < ONE_MAX:  # most bigrams of a record: one position
            return _ONE_POSITION[poslist[0]]
        table = _varint_table()
        if count == 2 and poslist[1] < len(table):  # the next commonest: two positions, without a list
            first = poslist[0]
            return table[2] + table[first] + table[poslist[1] - first]
        parts, last = [table[count] if count < len(table) else varints([count])], 0
        for position in poslist:
            gap = position - last
            parts.append(table[gap] if gap < len(table) else varints([gap]))
            last = position
        return b"".join(parts)

    def decode_positions(self, valuestring):
        position, positions = 0, []
        for gap in read_varints(valuestring)[1:]:
            position += gap
            positions.append(position)
        return positions

    def decode_frequency(self, valuestring):
        return read_varints(valuestring[:5])[0]

    def combine(self, vs):
        merged: set[int] = set()
        for v in vs:
            merged.update(self.decode_positions(v))
        return self.encode(sorted(merged))
