"""Is a page's extracted text usable, or is the page a scan or set in a font without a usable Unicode map?

A scanned page has no text layer. A PDF whose fonts lack a correct ToUnicode
map extracts as text that is not empty but is nonsense: replacement and
private-use characters, mojibake in Latin-1, scripts no trip report is
written in, or one ideograph repeated for every glyph. Indexing that
silently would make a report unfindable while looking present, so such
pages are treated like scans: OCRed when possible, otherwise flagged.

Real text is told from such nonsense by the characters it is made of (the
thresholds were set on the sample corpus and on real-world PDFs, pdf.js bug
attachments that the tests use when present; docs/ocr.md has the figures).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from itertools import islice

NO_TEXT = "no text layer"
GARBAGE = "text extracts as garbage"

#: Fewer letters or ideographs than this and a page has no usable text layer
#: (a scan with a stamped page number still needs OCR).
MIN_LETTERS = 10
#: More than this share of implausible characters and the text is garbage.
MAX_IMPLAUSIBLE = 0.3
#: More than this share of ideographs outside both Big5 and GB2312 and the text is garbage:
#: reports use common characters (none of 15,256 in the sample corpus is outside them),
#: a wrong ToUnicode map lands anywhere in the 90,000.
MAX_RARE = 0.1

# What Traditional Chinese and English reports are written in: ASCII, Latin
# with diacritics (names, pinyin), Greek (symbols), general punctuation and the
# symbol blocks used for bullets and numbering (①, ■, ★, Ⅱ), CJK punctuation,
# kana, Bopomofo, enclosed and compatibility CJK, the ideographs, and
# full-width forms. Latin-1 (U+0080–00FF) is left out on purpose: it is what
# GBK or Big5 bytes decoded as Latin-1 turn into; a few accents are tolerated
# by the threshold.
_PLAUSIBLE = (
    (0x0020, 0x007E), (0x0100, 0x024F), (0x0370, 0x03FF), (0x1E00, 0x1EFF),
    (0x2000, 0x206F), (0x2100, 0x27BF), (0x2E80, 0x2FDF), (0x3000, 0x33FF),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFE10, 0xFE1F),
    (0xFE30, 0xFE6F), (0xFF00, 0xFFEF), (0x20000, 0x3134F),
)


def _class(ranges: tuple[tuple[int, int], ...]) -> str:
    """A regex character-class body of these code-point ranges."""
    return "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges)


#: One match per non-space character outside :data:`_PLAUSIBLE` (``\s`` is exactly ``str.isspace``).
_IMPLAUSIBLE = re.compile(f"[^\\s{_class(_PLAUSIBLE)}]")
_SPACE = re.compile(r"\s+")
_IDEOGRAPH = re.compile(f"[{_class(((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x10FFFF)))}]")


#: Big5 (as Windows writes it) and GB2312: an ideograph neither has is rare.
COMMON_SETS = ("cp950", "gb2312")


@lru_cache(maxsize=None)
def _rare(ch: str) -> bool:
    """An ideograph neither Big5 nor GB2312 has."""
    for encoding in COMMON_SETS:
        try:
            ch.encode(encoding)
            return False
        except UnicodeEncodeError:
            pass
    return True


def page_problem(text: str, min_letters: int = MIN_LETTERS) -> str | None:
    """None when the text is usable; else :data:`NO_TEXT` or :data:`GARBAGE`.

    Counted by regular expressions and C-level iteration, not a Python loop over
    the characters: every page of every document is judged as it is read.
    """
    chars = _SPACE.sub("", text)
    if len(_IMPLAUSIBLE.findall(chars)) > MAX_IMPLAUSIBLE * len(chars):
        return GARBAGE
    ideographs = Counter(_IDEOGRAPH.findall(chars))
    total = sum(ideographs.values())
    if sum(n for ch, n in ideographs.items() if _rare(ch)) > MAX_RARE * total:
        return GARBAGE
    if min_letters > 0 and next(islice(filter(str.isalpha, chars), min_letters - 1, None), None) is None:
        return NO_TEXT
    if total >= MIN_LETTERS and ideographs.most_common(1)[0][1] * 2 > total:
        return GARBAGE  # a font whose map sends every glyph to one character
    return None
