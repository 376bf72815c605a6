"""Script-, width- and case-blind forms of names, so that 臺北 finds 台北 and ＩＦＬＡ finds IFLA.

OpenCC's ``t2s`` maps Traditional to Simplified character for character, so
a folded text keeps its length and order; NFKC turns full-width Latin, digits
and punctuation into ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_SPACES = re.compile(r"\s+")
_CJK_GAP = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def simplify(text: str) -> str:
    """NFKC, then Simplified characters; case and spacing kept."""
    return _t2s().convert(unicodedata.normalize("NFKC", text))


def fold_key(name: str) -> str:
    """The key two spellings of one name share: simplified, casefolded, without spaces."""
    return _SPACES.sub("", simplify(name)).casefold()


def fold_text(text: str) -> str:
    """Running text simplified, with the line breaks PDFs leave between CJK characters removed."""
    return _CJK_GAP.sub("", simplify(text))
