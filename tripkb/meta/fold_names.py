"""Script-, width- and case-blind forms of names, so that 臺北 finds 台北 and ＩＦＬＡ finds IFLA.

Traditional becomes Simplified character for character (the same table as
:func:`tripkb.text.normalise.match_form`), so a folded text keeps its length and
order; NFKC turns full-width Latin, digits and punctuation into ASCII.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..text.normalise import nfkc, t2s_table

_SPACES = re.compile(r"\s+")
_CJK_GAP = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")


def simplify(text: str) -> str:
    """NFKC, then Simplified characters; case and spacing kept."""
    return nfkc(text).translate(t2s_table())


@lru_cache(maxsize=1 << 16)
def fold_key(name: str) -> str:
    """The key two spellings of one name share: simplified, casefolded, without spaces.
    Names recur (an import looks up each row's institution, category and countries): each is folded once."""
    return _SPACES.sub("", simplify(name)).casefold()


def fold_text(text: str) -> str:
    """Running text simplified, with the line breaks PDFs leave between CJK characters removed."""
    return _CJK_GAP.sub("", simplify(text))
