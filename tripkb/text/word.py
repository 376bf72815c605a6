"""Text of Word documents: ``.docx`` with python-docx, legacy ``.doc`` with antiword.

Word files have no fixed pages (pagination depends on the printer), so
their text is one undivided page and hits in them report no page numbers.
antiword is a separate program: it is run without a shell, on an absolute
path (a name starting with '-' cannot pass for an option), with a time limit.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..errors import ExtractError, ToolMissing

ANTIWORD_TIMEOUT = 120  # seconds
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_head(suffix: str, head: bytes) -> None:
    """Refuse a file whose first bytes are not those of its format: a ZIP package for .docx, OLE2 for .doc."""
    if suffix == ".docx" and not head.startswith(b"PK"):
        raise ExtractError("not a .docx file (not a ZIP package)")
    if suffix == ".doc" and not head.startswith(OLE2_MAGIC):
        raise ExtractError("not a Word 97–2003 .doc file (no OLE2 header; an RTF or HTML file renamed .doc?)")


def docx_text(path: Path, head: bytes) -> tuple[str, str | None, str | None]:
    """(text, title, author) of a .docx: paragraphs and table cells in document order, core properties."""
    check_head(".docx", head)
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
        from docx.table import Table
        from lxml.etree import ErrorTypes, XMLSyntaxError
    except ImportError:
        raise ToolMissing("cannot read .docx files: pip install python-docx (or 'tripkb[word]')") from None
    import zipfile

    try:
        document = docx.Document(str(path))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines.extend(_table_lines(block))
            else:
                lines.append(block.text)
        title = document.core_properties.title or None
        author = document.core_properties.author or None
    except XMLSyntaxError as exc:
        if exc.code == ErrorTypes.ERR_NO_MEMORY:  # libxml2 ran out of the worker's memory: a bomb, not damage
            raise MemoryError from None
        raise ExtractError(f"damaged or unreadable .docx ({type(exc).__name__}: {exc})") from None
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise ExtractError(f"damaged or unreadable .docx ({type(exc).__name__}: {exc})") from None
    return "\n".join(lines), title, author


def _table_lines(table) -> list[str]:
    """One line per cell, row by row, a merged cell once (a cover page is often a table)."""
    lines: list[str] = []
    for row in table.rows:
        previous = None
        for cell in row.cells:
            text = cell.text.strip()
            if text and text != previous:
                lines.append(text)
            previous = text
    return lines


def doc_text(path: Path, head: bytes) -> str:
    """Text of a Word 97–2003 .doc, by antiword (UTF-8 output, no line wrapping)."""
    check_head(".doc", head)
    program = shutil.which("antiword")
    if program is None:
        raise ToolMissing("cannot read .doc files: apt-get install antiword")
    try:
        done = subprocess.run([program, "-m", "UTF-8.txt", "-w", "0", str(path.absolute())],
                              shell=False, capture_output=True, timeout=ANTIWORD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise ExtractError(f"antiword took longer than {ANTIWORD_TIMEOUT} s on this file (stopped)") from None
    except OSError as exc:
        raise ExtractError(f"cannot run antiword: {exc.strerror or exc}") from None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ExtractError(f"antiword cannot read this .doc: {why[-1] if why else f'exit {done.returncode}'}")
    return done.stdout.decode("utf-8", "replace")
