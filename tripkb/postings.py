"""A smaller on-disk form for positions: varint deltas instead of pickled lists.

Whoosh pickles each posting's position list (about 14 bytes for a single
position); as varints it takes 2. Bigram postings are most of the index.
The class is pickled by name into the index's table of contents, so it lives
in a module of its own that Whoosh can import when it opens the index.
"""

from __future__ import annotations

from whoosh.formats import Positions


def varints(numbers: list[int]) -> bytes:
    out = bytearray()
    for n in numbers:
        while n > 0x7F:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)
    return bytes(out)


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


class CompactPositions(Positions):
    """Frequency, then the gaps between positions, all as varints."""

    def encode(self, poslist):
        return varints([len(poslist)] + [b - a for a, b in zip([0] + poslist, poslist)])

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
