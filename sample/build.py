#!/usr/bin/env python3
"""Render the sample knowledge base's PDFs from their text sources.

Usage:  python sample/build.py [--font PATH]

For every ``sample/src/<stem>.txt`` this writes ``corpus/<stem>.pdf`` and then
updates ``sha256:`` and ``pages:`` in the sidecar ``corpus/<stem>.yaml``.

Source format: plain UTF-8 text; pages are separated by a line holding only a
form feed (the file is split on "\\n\\f\\n"); one source page becomes exactly one
PDF page. Each source line is a paragraph and is wrapped to the page width
(CJK text may break between any two characters, Latin words only at spaces);
an empty line is a small vertical gap. On page 1 the lines before the first
empty line (cover heading and title) are centred in a larger size. Documents of
type ``slides`` are laid out on landscape pages with the first line of every
page as the slide title; posters use a smaller body size.

The output is byte-for-byte reproducible: the creation date is fixed and all
other metadata comes from the sidecar.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_FAMILY = "wqy"
# Fixed so that rebuilding gives identical bytes (fpdf2 also derives the /ID from it).
CREATION_DATE = datetime(2024, 1, 1, 0, 0, 0, tzinfo=timezone.utc)
PAGE_SEP = "\n\f\n"

ROOT = Path(__file__).resolve().parent.parent
SRC_DIR = ROOT / "sample" / "src"
CORPUS_DIR = ROOT / "corpus"

# Characters that must not start a line (they stay with the preceding text).
NO_BREAK_BEFORE = set("，。、；：？！）」』〕】》〉,.;:?!)]}%")
# Characters that must not end a line (they stay with the following text).
NO_BREAK_AFTER = set("（「『〔【《〈([{")


class BuildError(Exception):
    """A problem with the sources; the message is one line, shown to the user."""


def fail(message: str) -> None:
    print(f"build.py: error: {message}", file=sys.stderr)
    raise SystemExit(1)


def is_wide(ch: str) -> bool:
    """True for characters that can be broken around (CJK and full-width forms)."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def tokens(text: str) -> list[str]:
    """Split a paragraph into unbreakable pieces.

    A wide character is a piece of its own; a run of narrow non-space characters
    (a Latin word, a number, a URL) is one piece; each space is a piece.
    Opening and closing punctuation is glued to its neighbour.
    """
    pieces: list[str] = []
    word = ""
    for ch in text:
        if ch == " " or is_wide(ch):
            if word:
                pieces.append(word)
                word = ""
            pieces.append(ch)
        else:
            word += ch
    if word:
        pieces.append(word)
    glued: list[str] = []
    for piece in pieces:
        if glued and (piece[0] in NO_BREAK_BEFORE or glued[-1][-1] in NO_BREAK_AFTER):
            glued[-1] += piece
        else:
            glued.append(piece)
    return glued


def wrap(pdf, text: str, width: float) -> list[str]:
    """Greedy line breaking of one paragraph to ``width`` (in user units)."""
    lines: list[str] = []
    line = ""
    for piece in tokens(text):
        candidate = line + piece
        if line and pdf.get_string_width(candidate) > width:
            lines.append(line.rstrip(" "))
            line = piece.lstrip(" ")
        else:
            line = candidate
    lines.append(line.rstrip(" "))
    return lines


def load_font_cmap(font_path: Path) -> set[int]:
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(font_path))
    return set(collection.fonts[0].getBestCmap())


def read_sidecar(stem: str) -> tuple[Path, dict]:
    import yaml

    path = CORPUS_DIR / f"{stem}.yaml"
    if not path.is_file():
        raise BuildError(f"{path.relative_to(ROOT)}: missing sidecar for sample/src/{stem}.txt")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise BuildError(f"{path.relative_to(ROOT)}: expected a YAML mapping")
    for key in ("id", "type", "title"):
        if not data.get(key):
            raise BuildError(f"{path.relative_to(ROOT)}: key '{key}' is missing or empty")
    if data.get("file") != f"{stem}.pdf":
        raise BuildError(
            f"{path.relative_to(ROOT)}: key 'file' is {data.get('file')!r}, expected '{stem}.pdf'"
        )
    return path, data


def render(stem: str, text: str, meta: dict, font_path: Path, cmap: set[int]) -> tuple[bytes, int]:
    from fpdf import FPDF
    from fpdf.enums import WrapMode, XPos, YPos

    missing = sorted({ch for ch in text if ch not in "\n\f" and ord(ch) not in cmap})
    if missing:
        raise BuildError(
            f"sample/src/{stem}.txt: characters not in the font: "
            + " ".join(f"{ch!r}(U+{ord(ch):04X})" for ch in missing)
        )
    if "\t" in text or "\r" in text:
        raise BuildError(f"sample/src/{stem}.txt: tabs and carriage returns are not allowed")

    slides = meta.get("type") == "slides"
    pdf = FPDF(orientation="L" if slides else "P", unit="mm", format="A4")
    pdf.set_creation_date(CREATION_DATE)
    pdf.set_title(str(meta["title"]))
    authors = meta.get("authors") or []
    if authors:
        pdf.set_author("、".join(str(a) for a in authors))
    pdf.set_lang("en" if meta.get("language") == "en" else "zh-TW")
    pdf.set_creator("tripkb sample/build.py")
    pdf.add_font(FONT_FAMILY, fname=str(font_path))
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(False)  # one source page = one PDF page, checked below

    pages = text.rstrip("\n").split(PAGE_SEP)
    if slides:
        body_size, line_h = 16, 9.0
    elif meta.get("type") == "poster":  # a poster packs more onto its page
        body_size, line_h = 10, 5.6
    else:
        body_size, line_h = 12, 7.2
    for number, page in enumerate(pages, start=1):
        pdf.add_page()
        # slides: the first line is the slide title; page 1: the opening block
        lines = page.split("\n")
        if slides:
            heading_lines = 1
        elif number == 1:
            heading_lines = lines.index("") if "" in lines else 0
        else:
            heading_lines = 0
        if number == 1 and not slides:
            pdf.set_y(45)
        for index, raw in enumerate(lines):
            line = raw.rstrip(" ")
            if not line.strip():
                pdf.ln(line_h / 2)
                continue
            if index < heading_lines:
                size, align, h = (22, "C", 12.0) if slides else (16, "C", 10.0)
            else:
                size, align, h = body_size, "L", line_h
            pdf.set_font(FONT_FAMILY, size=size)
            # multi_cell keeps a small inner margin on both sides of the text
            for part in wrap(pdf, line, pdf.epw - 2 * pdf.c_margin - 0.01):
                pdf.multi_cell(
                    0, h, part, align=align, wrapmode=WrapMode.CHAR,
                    new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                )
            if align == "C":
                pdf.ln(4)
        if pdf.page != number or pdf.get_y() > pdf.h - pdf.b_margin:
            raise BuildError(f"sample/src/{stem}.txt: page {number} does not fit on one PDF page")
    return bytes(pdf.output()), len(pages)


def update_sidecar(path: Path, data: dict, digest: str, pages: int) -> bool:
    import yaml

    data["sha256"] = digest
    data["pages"] = pages
    new = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    if path.read_text(encoding="utf-8") == new:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the sample corpus PDFs from sample/src/*.txt")
    parser.add_argument("--font", type=Path, default=FONT_PATH, help=f"CJK TrueType font (default {FONT_PATH})")
    args = parser.parse_args(argv)

    if not args.font.is_file():
        fail(f"CJK font not found at {args.font}; install it with: apt-get install fonts-wqy-microhei")
    try:
        import fpdf  # noqa: F401
        import yaml  # noqa: F401
    except ImportError as exc:
        fail(f"{exc.name} is not installed; install it with: pip install fpdf2 pyyaml")

    sources = sorted(SRC_DIR.glob("*.txt"))
    if not sources:
        fail(f"no sources found in {SRC_DIR}")
    cmap = load_font_cmap(args.font)
    try:
        for src in sources:
            stem = src.stem
            sidecar, meta = read_sidecar(stem)
            text = src.read_text(encoding="utf-8")
            pdf_bytes, pages = render(stem, text, meta, args.font, cmap)
            out = CORPUS_DIR / f"{stem}.pdf"
            out.write_bytes(pdf_bytes)
            digest = hashlib.sha256(pdf_bytes).hexdigest()
            changed = update_sidecar(sidecar, meta, digest, pages)
            print(f"{out.relative_to(ROOT)}  {pages} pages  {len(pdf_bytes) // 1024} KB"
                  + ("  (sidecar updated)" if changed else ""))
    except BuildError as exc:
        fail(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
