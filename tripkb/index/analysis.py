"""Chinese-aware analysis: jieba words for ranking, character bigrams for recall.

Both analysers read text already in the match form (see :mod:`text.normalise`).

* Words: jieba (dictionary mode, no HMM, so a query segments the way its words
  were segmented in documents) with a small domain dictionary. Token positions
  are ordinals, so phrase queries work (jieba's own ChineseAnalyzer puts
  character offsets there and breaks every phrase query).
* Grams: overlapping CJK bigrams plus whole Latin/digit words. A query that
  is a literal substring of a text always matches it as a phrase of grams,
  whatever jieba makes of it.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from importlib import resources
from math import log
from operator import add

from whoosh.analysis import Token, Tokenizer

from ..fsutil import user_cache_dir
from ..text.normalise import _CJK

_IDEO = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
_RUNS = re.compile(
    rf"(?P<cjk>[{_IDEO}]+(?:\n[{_IDEO}]+)*)"
    rf"|(?P<word>(?:(?![{_CJK}])[^\W_])+)"
)


def runs(text: str) -> Iterator[tuple[str, str, Sequence[int]]]:
    """(kind, text, offsets) for each CJK run and each Latin/digit word.

    A CJK run continues across a single line break (PDF lines wrap
    mid-word); its text has the break removed and ``offsets[i]`` is where
    its i-th character stands in ``text``.
    """
    for m in _RUNS.finditer(text):
        run, start = m.group(), m.start()
        if "\n" not in run:
            yield ("cjk" if m.group("cjk") else "word"), run, range(start, m.end())
        else:
            offsets = [start + i for i, ch in enumerate(run) if ch != "\n"]
            yield "cjk", run.replace("\n", ""), offsets


def gram_tokens(text: str, query: bool = False) -> Iterator[tuple[str, int, int, int]]:
    """(gram, position, start, end) for match-form ``text``.

    Every CJK run gives its bigrams. In documents the run's first and last
    characters are also emitted as unigrams, at the first and last bigram's
    positions, so that a query whose CJK part is one character at an edge
    (館 in 圖書館 IFLA, 於 in IFLA 於南非) is still a phrase match. Queries emit
    a unigram only for a one-character run.
    """
    pos = 0
    for kind, run, at in runs(text):
        if kind == "word" or len(run) == 1:
            yield run, pos, at[0], at[-1] + 1
            pos += 1
            continue
        if not query:
            yield run[0], pos, at[0], at[0] + 1
        for i in range(len(run) - 1):
            yield run[i : i + 2], pos, at[i], at[i + 1] + 1
            pos += 1
        if not query:
            yield run[-1], pos - 1, at[-1], at[-1] + 1


@lru_cache(maxsize=1)
def segmenter():
    """jieba's tokenizer with the domain dictionary: what :func:`route_table` is made from."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.tmp_dir = str(user_cache_dir())  # jieba's default shared temp dir leaks files
    with resources.as_file(resources.files("tripkb") / "data" / "userdict.txt") as path:
        tk.load_userdict(str(path))
    return tk


def preload() -> None:
    """Load the route table in this process, so that worker processes forked after it share it
    instead of each loading its own."""
    route_table()


#: A block jieba's dictionary mode cuts by its word graph alone (its ``re_han_default`` minus Latin).
_HAN_BLOCK = re.compile("[\u4e00-\u9fd5]+")
_HAN_PIECES = re.compile("([\u4e00-\u9fd5]+)")


#: Marks a string that no dictionary word starts with, in a route table.
_NOT_A_PREFIX = object()

#: log(frequency / total) of each dictionary word, None for a string that only begins words;
#: and the log probability of an unknown character.
RouteTable = tuple[dict[str, "float | None"], float]


def table_of(seg) -> RouteTable:
    """The route table of jieba tokenizer ``seg``: jieba's FREQ holds a string that only begins
    words with frequency 0; an unknown character counts as frequency 1. A route then takes one
    lookup per candidate word instead of three and a ``log``."""
    seg.check_initialized()
    logtotal = log(seg.total)
    return {word: log(f) - logtotal if f else None for word, f in seg.FREQ.items()}, -logtotal


@lru_cache(maxsize=1)
def route_table() -> RouteTable:
    """The route table of jieba's dictionary with the domain dictionary, read from the user's
    cache while both files are unchanged (jieba's own load and the table were most of a short
    ingest; bench/README.md), else made from jieba and kept there for the next process."""
    from .route_cache import load_table, save_table, table_key

    key = table_key()
    table = load_table(key)
    if table is None:
        table = table_of(segmenter())
        save_table(key, table)
    return table


def segment(run: str, table: RouteTable | None = None) -> list[tuple[str, int, int]]:
    """(word, start, end) of a CJK run, as jieba's ``tokenize(run, HMM=False)`` cuts it with the
    dictionary of ``table`` (default :func:`route_table`)."""
    words, start = [], 0
    for word in cut(run, table=table):
        words.append((word, start, start + len(word)))
        start += len(word)
    return words


def cut(run: str, pairs: Sequence[str] | None = None, table: RouteTable | None = None) -> list[str]:
    """The words of a CJK run as jieba's ``tokenize(run, HMM=False)`` cuts them.

    An all-Han run (nearly every one) takes jieba's own route — the most
    probable path through the dictionary's word graph, a tie going to the
    longer word — computed in one pass without jieba's DAG dict and generator
    of tuples: twice as fast, and jieba is most of the analysis. In any other
    run, jieba cuts each Han block so and leaves every other character (kana,
    hangul, rare ideographs) alone, as here. ``tests/test_analysis.py`` holds
    the two together. ``pairs`` are the run's two-character strings, if made
    already (see :func:`_pieces`).
    """
    if not _HAN_BLOCK.fullmatch(run):
        words: list[str] = []
        for piece in _HAN_PIECES.split(run):
            words.extend(cut(piece, table=table) if _HAN_BLOCK.fullmatch(piece) else piece)
        return words
    route, unknown = table or route_table()
    get, n, missing, lowest = route.get, len(run), _NOT_A_PREFIX, -math.inf
    best = [0.0] * (n + 1)  # log probability of the best cut of run[k:]
    ends = [0] * n  # where the first word of that cut ends
    for k in range(n - 1, -1, -1):
        logp = get(run[k], missing)
        end, score = k, lowest if logp is None or logp is missing else logp + best[k + 1]
        if logp is not missing and k + 1 < n:
            i, logp = k + 1, get(pairs[k] if pairs else run[k:k + 2], missing)
            while logp is not missing:  # every longer dictionary word starting at k
                if logp is not None:
                    p = logp + best[i + 1]
                    if p >= score:
                        end, score = i, p
                i += 1
                if i == n:
                    break
                logp = get(run[k:i + 1], missing)
        best[k] = unknown + best[k + 1] if score == lowest else score  # no word: the character alone
        ends[k] = end
    words, k = [], 0
    while k < n:
        end = ends[k] + 1
        words.append(run[k:end])
        k = end
    return words


@lru_cache(maxsize=1 << 16)
def inner_words(word: str) -> tuple[tuple[str, int], ...]:
    """(word, offset) of each two- or three-character dictionary word inside ``word`` but not
    all of it (jieba's search mode). Words recur throughout a corpus: each is looked up once."""
    get = route_table()[0].get
    return tuple((word[i:i + n], i) for n in (2, 3) for i in range(len(word) - n + 1)
                 if n < len(word) and get(word[i:i + n]) is not None)


def word_tokens(text: str, query: bool = False) -> Iterator[tuple[str, int, int, int]]:
    """(word, position, start, end) for jieba words of match-form ``text``.

    In documents a long word also yields the dictionary words inside it at
    its own position (jieba's search mode), so 圖書館 ranks a text that says
    美國圖書館學會; queries keep whole words.
    """
    pos = 0
    for kind, run, at in runs(text):
        if kind == "word":
            yield run, pos, at[0], at[-1] + 1
            pos += 1
            continue
        for word, s, e in segment(run):
            if not query and len(word) > 2:
                for sub, i in inner_words(word):
                    yield sub, pos, at[s + i], at[s + i + len(sub) - 1] + 1
            yield word, pos, at[s], at[e - 1] + 1
            pos += 1


@lru_cache(maxsize=2)
def _pieces(text: str) -> tuple[tuple[str, list[str] | None], ...]:
    """Each CJK run of a document's match-form ``text`` (line breaks removed) with its
    two-character strings, and each Latin/digit word with None. Both analysers of a text
    field read the same text one after the other: its runs are found, and their pairs
    made and hashed, once."""
    pieces: list[tuple[str, list[str] | None]] = []
    for m in _RUNS.finditer(text):
        run = m.group()
        if m.lastgroup == "word":
            pieces.append((run, None))
        else:
            run = run.replace("\n", "")
            pieces.append((run, list(map(add, run, run[1:]))))
    return tuple(pieces)


def word_counts(text: str) -> dict[str, int]:
    """How often each word of :func:`word_tokens` occurs in a document's ``text``, counted in
    one pass without a tuple per token (what the word postings are made from)."""
    counts: dict[str, int] = {}
    get = counts.get
    for run, pairs in _pieces(text):
        if pairs is None:
            counts[run] = get(run, 0) + 1
            continue
        for word in cut(run, pairs):
            if len(word) > 2:
                for sub, _ in inner_words(word):
                    counts[sub] = get(sub, 0) + 1
            counts[word] = get(word, 0) + 1
    return counts


def gram_span(text: str) -> int:
    """How many positions :func:`gram_positions` gives a document's ``text``: where the grams of a
    text that follows it (after a page break) begin."""
    return sum(len(pairs) if pairs else 1 for _, pairs in _pieces(text))


def gram_positions(text: str) -> dict[str, list[int]]:
    """The positions of each gram of :func:`gram_tokens` in a document's ``text``, gathered in
    one pass without a tuple per token (what the bigram postings are made from)."""
    out: dict[str, list[int]] = {}
    get = out.get
    pos = 0
    for run, pairs in _pieces(text):
        if not pairs:  # a Latin/digit word, or a CJK character alone
            grams: Iterable[tuple[int, str]] = ((pos, run),)
            pos += 1
        else:
            last = pos + len(pairs) - 1
            grams = itertools.chain(((pos, run[0]),), enumerate(pairs, pos), ((last, run[-1]),))
            pos = last + 1
        for p, gram in grams:
            found = get(gram)
            if found is None:
                out[gram] = [p]
            else:
                found.append(p)
    return out


class _Tokenizer(Tokenizer):
    """Adapts a ``(text, pos, start, end)`` generator to Whoosh's token stream."""

    def __init__(self, kind: str):
        self.kind = kind

    def __eq__(self, other):
        return type(self) is type(other) and self.kind == other.kind

    def tokens(self, value: str, query: bool = False) -> Iterator[tuple[str, int, int, int]]:
        """The (text, pos, start, end) tuples themselves, without Token objects: what
        postings are made from in documents (see :mod:`postings`)."""
        return word_tokens(value, query) if self.kind == "words" else gram_tokens(value, query)

    def counts(self, value: str) -> dict[str, int]:
        """Each term of a document's ``value`` with how often it occurs (see :mod:`postings`)."""
        if self.kind == "words":
            return word_counts(value)
        return {term: len(found) for term, found in gram_positions(value).items()}

    def positions(self, value: str) -> dict[str, list[int]]:
        """Each term of a document's ``value`` with its positions (see :mod:`postings`)."""
        if self.kind == "grams":
            return gram_positions(value)
        out: dict[str, list[int]] = {}
        for term, pos, _, _ in word_tokens(value):
            out.setdefault(term, []).append(pos)
        return out

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        for text, pos, start, end in self.tokens(value, mode == "query"):
            t.text = text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = text
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar, t.endchar = start_char + start, start_char + end
            yield t


def words_analyzer() -> _Tokenizer:
    return _Tokenizer("words")


def grams_analyzer() -> _Tokenizer:
    return _Tokenizer("grams")
