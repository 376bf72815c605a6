"""Text normalisation shared by indexing, querying and highlighting.

Two forms of every text exist:

* the *display* form: NFKC, spaces between CJK characters removed (some PDFs
  space every character) and the line breaks between them reduced to one
  "\n". It is what is stored and shown; analysis reads a CJK run across
  such a line break as one run (PDF extraction breaks lines mid-word).
* the *match* form: the display form converted Traditional→Simplified with
  OpenCC's ``t2s`` table and lower-cased, **character for character**, so an offset in
  one is the same offset in the other. Everything is indexed and queried in
  this form, which makes matching blind to script (圖書館 = 图书馆, 臺北 = 台北)
  while highlights land on the original characters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Han, CJK punctuation, kana, Hangul, full-width forms: characters between
# which whitespace carries no meaning.
_CJK = (
    "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f"
    "\uff00-\uffef\U00020000-\U0003134f"
)
_SPACES = re.compile(r"[ \t\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


# The patterns below are compiled on first use: a class of tens of thousands of CJK
# characters takes milliseconds to compile, more than a lookup that never needs it.
@lru_cache(maxsize=1)
def _cjk_space() -> re.Pattern:
    return re.compile(f"(?<=[{_CJK}])[ \\t\u3000]+(?=[{_CJK}])")


@lru_cache(maxsize=1)
def _cjk_newline() -> re.Pattern:
    return re.compile(f"(?<=[{_CJK}])[ \\t\u3000]*\\n[ \\t\u3000\\n]*(?=[{_CJK}])")


@lru_cache(maxsize=1)
def _han() -> re.Pattern:
    return re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def is_cjk_char(ch: str) -> bool:
    """True for ideographs, kana and Hangul: characters indexed as bigrams."""
    o = ord(ch)
    return (
        0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0x3040 <= o <= 0x30FF
        or 0xAC00 <= o <= 0xD7AF
        or 0x20000 <= o <= 0x3134F
    )


def has_han(text: str) -> bool:
    return _han().search(text) is not None


#: Full-width ASCII and the ideographic space, as NFKC maps them: most of what it changes in CJK text.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, twice as fast on Chinese text.

    Chinese text is rarely NFKC only because of its full-width punctuation (，：；（）),
    which makes the normaliser decompose and recompose every character. Those are
    mapped by a table first; the normaliser runs only if anything else is left to change.
    The result is the same: each mapped character is its own compatibility decomposition,
    and none of them is the second of a composed pair.
    """
    mapped = text.translate(_full_width_list() if len(text) > LONG_TEXT else _FULL_WIDTH)
    return mapped if unicodedata.is_normalized("NFKC", mapped) else unicodedata.normalize("NFKC", mapped)


def display_form(text: str) -> str:
    """NFKC, CJK-internal whitespace removed, runs of spaces folded."""
    text = nfkc(text).replace("\r\n", "\n").replace("\r", "\n")
    if " " in text or "\t" in text:  # NFKC made every ideographic space a space
        text = _cjk_space().sub("", text)
    if "\n" in text:
        text = _cjk_newline().sub("\n", text)
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def _lower_char(ch: str) -> str:
    low = ch.lower()
    return low if len(low) == 1 else ch


@lru_cache(maxsize=1)
def t2s_table() -> dict[int, str]:
    """OpenCC's t2s for each character (see scripts/make_t2s_table.py), as a translate table."""
    from importlib import resources

    text = (resources.files("tripkb") / "data" / "t2s.tsv").read_text(encoding="utf-8")
    return {ord(line[0]): line[2] for line in text.splitlines() if line}


#: Past this length a text is translated through a list (see :func:`_as_list`).
LONG_TEXT = 2000


def _as_list(table: dict[int, int] | dict[int, str]) -> list[int | str]:
    """A translate table as a list of every code point up to its last key: ``str.translate``
    then looks each character up without the exception a dict raises for each character it
    lacks, which made translating a page of Chinese text twice as slow. Used for long texts
    only: the list of the t2s table takes a few milliseconds, more than a query needs."""
    out: list[int | str] = list(range(max(table) + 1))
    for code, to in table.items():
        out[code] = to
    return out


@lru_cache(maxsize=1)
def _full_width_list() -> list[int | str]:
    return _as_list(_FULL_WIDTH)


@lru_cache(maxsize=1)
def _t2s_list() -> list[int | str]:
    return _as_list(t2s_table())


def match_form(text: str) -> str:
    """Simplified, lower-cased copy of ``text`` with identical length and offsets.

    Character by character (a translate table), so offsets never move and no
    phrase rule can change a length; C speed, no converter to load.
    """
    converted = text.translate(_t2s_list() if len(text) > LONG_TEXT else t2s_table())
    lowered = converted.lower()
    if len(lowered) == len(converted):  # every character lowered to one character
        return lowered
    return "".join(_lower_char(ch) for ch in converted)


def query_form(text: str) -> str:
    """What a query string is matched as: display form, then match form."""
    return match_form(display_form(text))
