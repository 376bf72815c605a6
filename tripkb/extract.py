"""Per-page text from PDFs, with a user-fit reason when it cannot be had."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ExtractError
from .textnorm import display_form


@dataclass
class Extracted:
    """What a document yields: display-form text per page and the PDF's own title and author."""

    pages: list[str]
    info_title: str | None = None
    info_author: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def first_line(self) -> str | None:
        for page in self.pages:
            for line in page.splitlines():
                if line.strip():
                    return line.strip()
        return None


def extract(path: Path) -> Extracted:
    """Extract every page's text with pypdf; raise :class:`ExtractError` with the reason."""
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from None
    if not head:
        raise ExtractError("empty file (0 bytes)")
    if b"%PDF-" not in head:
        raise ExtractError("not a PDF (no %PDF- header)")

    import pypdf
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractError("password-protected PDF: cannot read its text without the password")
        pages = [display_form(page.extract_text() or "") for page in reader.pages]
        title, author = _info(reader, "title"), _info(reader, "author")
    except ExtractError:
        raise
    except FileNotDecryptedError:
        raise ExtractError("password-protected PDF: cannot read its text without the password") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            AssertionError, RecursionError, OSError, NotImplementedError, ZeroDivisionError) as exc:
        raise ExtractError(f"damaged or unreadable PDF ({type(exc).__name__}: {exc})".rstrip()) from None
    return Extracted(pages=pages, info_title=title, info_author=author)


def _info(reader, name: str) -> str | None:
    """The /Info title or author, unless it is a word processor's placeholder."""
    try:
        value = getattr(reader.metadata, name) if reader.metadata else None
    except Exception:  # a broken /Info dictionary should not lose the text
        return None
    if isinstance(value, str) and value.strip() and not value.lower().startswith(("microsoft word", "untitled")):
        return display_form(value)
    return None
