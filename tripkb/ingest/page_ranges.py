"""A document read alone is read on every core: each worker reads and analyses a range of its
pages, and the parts are joined into what one worker would have made of the whole.

An ingest of one large PDF kept one core busy while the others waited (bench/README.md).
Pages never share a word or a run of characters (a page break ends both), so the parts'
word counts add up and their bigram positions follow on, each part's after the last.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ..errors import ExtractError
from ..index.schema import PAGE_BREAK, body_part, joined_body_fields
from ..text.extract import Extracted, Pending, read
from ..text.page_quality import GARBAGE
from ..workers import bounded_map
from .read_ahead import SUBPARTS, already_read


@dataclass
class Part:
    """A range of a document's pages as read, and analysed unless its pages await OCR."""

    extracted: Extracted
    folded: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    positions: dict[str, list[int]] = field(default_factory=dict)
    #: How many bigram positions its text takes (where the next part's begin).
    span: int = 0
    analysed: bool = False


def read_part(path: Path, part: tuple[int, int], force_ocr: bool, missing: str | None,
              ahead: Path | None = None) -> Part:
    """Runs in a worker: read part ``part`` = (k, n) of ``path``'s pages (or take what the
    read-ahead in folder ``ahead`` read of it, see :mod:`.read_ahead`) and, unless its pages
    await OCR (``missing`` None: OCR is to come), blank its garbage pages as
    :meth:`Pending.finish` does and analyse its text."""
    got = _part_read(path, part, force_ocr, ahead) if ahead is not None else read(path, force_ocr, part)
    if got.problems and missing is None:
        return Part(got)
    for n, kind in got.problems.items():
        if kind == GARBAGE:
            got.pages[n - 1 - got.offset] = ""
    return Part(got, *body_part(got.pages), True)


def _part_read(path: Path, part: tuple[int, int], force_ocr: bool, ahead: Path) -> Extracted:
    """The text layer of part ``part`` = (k, n): of its :data:`SUBPARTS` ranges, those the
    read-ahead in folder ``ahead`` read, and the others read here, each run of them at once."""
    k, n = part
    first, of = k * SUBPARTS, n * SUBPARTS
    found = [already_read(ahead, path, (first + j, of)) for j in range(SUBPARTS)]
    layers: list[Extracted] = []
    j = 0
    while j < SUBPARTS:
        got = found[j]
        if got is not None:
            layers.append(got)
            j += 1
            continue
        stop = j + 1
        while stop < SUBPARTS and found[stop] is None:
            stop += 1
        layers.append(read(path, force_ocr, (first + j, first + stop, of)))
        j = stop
    return concatenated(layers)


def concatenated(layers: list[Extracted]) -> Extracted:
    """One text layer of the layers of consecutive ranges of a document's pages, in order."""
    first = layers[0]
    return Extracted(pages=[page for got in layers for page in got.pages],
                     info_title=first.info_title, info_author=first.info_author, final=False,
                     warnings=[w for got in layers for w in got.warnings],
                     problems={n: kind for got in layers for n, kind in got.problems.items()},
                     judged=all(got.judged for got in layers), offset=first.offset)


def joined(parts: list[Part], missing: str | None) -> Extracted:
    """One document of its parts, in order: judged as a whole, and with the body's index fields
    when its text is final (as :func:`ingest.documents._read_analysed` gives them). The parts'
    position lists are taken over, not copied: the parts are used up."""
    got = concatenated([part.extracted for part in parts])
    if got.problems and missing is None:
        return got  # its pages await OCR
    got = Pending(got, missing=missing).finish()
    folded: list[str] = []
    counts: dict[str, int] = {}
    positions: dict[str, list[int]] = {}
    shift = 0
    for part in parts:
        if not part.extracted.pages:
            continue
        folded.append(part.folded)
        for term, n in part.counts.items():
            counts[term] = counts.get(term, 0) + n
        for term, places in part.positions.items():
            moved = [p + shift for p in places] if shift else places
            if term in positions:
                positions[term] += moved
            else:
                positions[term] = moved
        shift += part.span
    got.body = joined_body_fields(PAGE_BREAK.join(folded), counts, positions)
    return got


def read_in_parts(path: Path, workers: int, force_ocr: bool, missing: str | None, ahead: Path | None = None
                  ) -> Iterator[tuple[Path, Extracted | ExtractError]]:
    """``path`` read and analysed in ``workers`` parts, each in a bounded worker (taking what the
    read-ahead in ``ahead`` read); one failed part is the document's failure, as a failed whole
    read would be."""
    parts: list[Part] = []
    for _, got in bounded_map(partial(read_part, path, force_ocr=force_ocr, missing=missing, ahead=ahead),
                              [(k, workers) for k in range(workers)], workers=workers, nice=0):
        if isinstance(got, ExtractError):
            yield path, got
            return
        parts.append(got)
    yield path, joined(parts, missing)
