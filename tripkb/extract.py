"""Per-page text from PDFs, with a user-fit reason when it cannot be had."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ExtractError
from .textnorm import display_form

#: Documents with more pages are refused: almost surely broken or not a report.
MAX_PAGES = int(os.environ.get("TRIPKB_MAX_PAGES", "5000"))


@dataclass
class Extracted:
    """What a document yields: display-form text per page and the PDF's own title."""

    pages: list[str]
    info_title: str | None = None
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
        if len(reader.pages) > MAX_PAGES:
            raise ExtractError(f"has {len(reader.pages)} pages, more than the limit of {MAX_PAGES} "
                               "(set TRIPKB_MAX_PAGES to allow more)")
        pages = [display_form(page.extract_text() or "") for page in reader.pages]
        title = _info_title(reader)
    except ExtractError:
        raise
    except FileNotDecryptedError:
        raise ExtractError("password-protected PDF: cannot read its text without the password") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            AssertionError, RecursionError, OSError, NotImplementedError, ZeroDivisionError) as exc:
        raise ExtractError(f"damaged or unreadable PDF ({type(exc).__name__}: {exc})".rstrip()) from None
    return Extracted(pages=pages, info_title=title)


def _info_title(reader) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # a broken /Info dictionary should not lose the text
        return None
    if isinstance(title, str) and title.strip() and not title.lower().startswith(("microsoft word", "untitled")):
        return display_form(title)
    return None
