"""Regenerate tripkb/data/t2s.tsv: OpenCC's t2s conversion of every single character.

tripkb folds Traditional to Simplified one character at a time with this table
(str.translate: fast, and offsets never move). Run after upgrading OpenCC:
    pip install opencc && python scripts/make_t2s_table.py
"""

from pathlib import Path

import opencc

#: Han ideographs (BMP and supplementary planes), radicals, CJK punctuation, full-width forms.
RANGES = [(0x2E80, 0x2FDF), (0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
          (0xF900, 0xFAFF), (0xFF00, 0xFFEF), (0x20000, 0x2FA1F)]


def table() -> dict[str, str]:
    chars = [chr(c) for start, end in RANGES for c in range(start, end + 1)]
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    return {c: s for c, s in zip(chars, converted) if s != c and len(s) == 1}


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "tripkb" / "data" / "t2s.tsv"
    rows = sorted(table().items())
    out.write_text("".join(f"{t}\t{s}\n" for t, s in rows), encoding="utf-8")
    print(f"{len(rows)} characters written to {out}")
