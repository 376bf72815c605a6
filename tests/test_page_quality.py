"""The page-quality check counted by regular expressions decides exactly as the plain per-character rules.

``reference`` below is those rules written out one character at a time (as the
check was first written); the module's fast version must give the same
decision on every page: real PDFs' pages, as both engines read them, and
constructed pages at each threshold.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from tripkb.text import page_quality
from tripkb.text.extract import choose, read
from tripkb.text.page_quality import GARBAGE, MAX_IMPLAUSIBLE, MAX_RARE, MIN_LETTERS, NO_TEXT, page_problem

from conftest import REPO, SHARED_PDFS


def _plausible(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in page_quality._PLAUSIBLE)


def _ideograph(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or o >= 0x20000


_rare = page_quality._rare  # one character's rarity is a rule, not the counting under test


def reference(text: str, min_letters: int = MIN_LETTERS) -> str | None:
    chars = [c for c in text if not c.isspace()]
    if sum(not _plausible(c) for c in chars) > MAX_IMPLAUSIBLE * len(chars):
        return GARBAGE
    ideographs = Counter(c for c in chars if _ideograph(c))
    total = sum(ideographs.values())
    if sum(n for ch, n in ideographs.items() if _rare(ch)) > MAX_RARE * total:
        return GARBAGE
    if sum(c.isalpha() for c in chars) < min_letters:
        return NO_TEXT
    if total >= MIN_LETTERS and ideographs.most_common(1)[0][1] * 2 > total:
        return GARBAGE
    return None


def test_each_character_is_classed_as_by_the_rules():
    """Over every code point: space, implausible and ideograph by the regexes as by the predicates."""
    for o in range(0x110000):
        if 0xD800 <= o <= 0xDFFF:
            continue
        ch = chr(o)
        assert bool(page_quality._SPACE.fullmatch(ch)) == ch.isspace(), hex(o)
        assert bool(page_quality._IMPLAUSIBLE.fullmatch(ch)) == (not ch.isspace() and not _plausible(ch)), hex(o)
        assert bool(page_quality._IDEOGRAPH.fullmatch(ch)) == _ideograph(ch), hex(o)


def _real_pages() -> list[str]:
    pdfs = sorted((REPO / "corpus").glob("*.pdf")) + (sorted(SHARED_PDFS.glob("*.pdf")) if SHARED_PDFS.is_dir() else [])
    pages = []
    try:
        for engine in ("pypdf", "pypdfium2"):
            choose(engine)
            for pdf in pdfs:
                pages += read(pdf).pages
    finally:
        choose("auto")
    return pages


def test_the_same_decisions_on_real_pages():
    pages = _real_pages()
    if not pages:
        pytest.skip("no PDFs to read")
    decisions = [(page_problem(p), page_problem(p, 1)) for p in pages]
    assert decisions == [(reference(p), reference(p, 1)) for p in pages]
    assert {d for d, _ in decisions} >= {None}


def _mixes(rng: random.Random) -> list[str]:
    """Pages near every threshold: real sentences with implausible, rare, repeated and space characters."""
    base = "本館同仁出席於南非德班舉行之年會，參與書目控制組會議。IFLA WLIC 2007 Durban ① Ⅱ ２０２６"
    extra = ["Ä", "¿", "\ufffd", "\ue000", "𠀀", "鿿", "龘", "针", "轉", "\u3000", "\xa0", "\u2028", "²", "〇",
             "ㄅ", "あ", "Ж", "\x00", "\u200b", "😀", "\U000e0001", "7", "a", "。"]
    pages = ["", " ", "- 3 -", "a" * 9, "a" * 10, "年" * 9, "年" * 10, "年" * 10 + "月" * 10, "年" * 11 + "月" * 10]
    for _ in range(3000):
        chars = list(rng.choice([base, base[:12], base[:5], ""]))
        chars += rng.choices(extra, k=rng.randint(0, 30))
        rng.shuffle(chars)
        pages.append("".join(chars))
    return pages


def test_the_same_decisions_near_every_threshold():
    pages = _mixes(random.Random(20))
    got = [(page_problem(p), page_problem(p, 1), page_problem(p, 0)) for p in pages]
    assert got == [(reference(p), reference(p, 1), reference(p, 0)) for p in pages]
    assert {d for d, _, _ in got} == {None, NO_TEXT, GARBAGE}  # each decision is reached
