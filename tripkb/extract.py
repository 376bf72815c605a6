"""Per-page text from PDFs, with a user-fit reason when it cannot be had.

Two engines give the same normalised text: pypdf (always there) and, when
installed (``pip install 'tripkb[fast]'``), pypdfium2, many times faster on
PDFs with embedded CJK fonts. ``auto`` picks pypdfium2 when it is installed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ExtractError, UsageError
from .textnorm import display_form

#: Documents with more pages are refused: almost surely broken or not a report.
MAX_PAGES = int(os.environ.get("TRIPKB_MAX_PAGES", "5000"))
ENGINES = ("auto", "pypdf", "pypdfium2")
_engine = os.environ.get("TRIPKB_EXTRACTOR", "auto")


def choose(engine: str | None) -> str:
    """Set the engine for this process and the workers it starts; return the one in use."""
    global _engine
    if engine is not None:
        if engine not in ENGINES:
            raise UsageError(f"--extractor must be one of {', '.join(ENGINES)}, not {engine!r}")
        if engine == "pypdfium2" and not _has_pdfium():
            raise UsageError("--extractor pypdfium2 needs pypdfium2: pip install 'tripkb[fast]'")
        _engine = engine
    return engine_in_use()


def engine_in_use() -> str:
    if _engine == "auto":
        return "pypdfium2" if _has_pdfium() else "pypdf"
    return _engine


def _has_pdfium() -> bool:
    import importlib.util

    return importlib.util.find_spec("pypdfium2") is not None


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


#: Reads many documents: ``(path, Extracted | ExtractError)`` in input order, a bounded
#: number at a time (:func:`workers.bounded_map` locally, :func:`cluster.cluster_map` on Dask).
ExtractMap = Callable[[list[Path]], Iterator[tuple[Path, "Extracted | ExtractError"]]]


def extract(path: Path) -> Extracted:
    """Extract every page's text; raise :class:`ExtractError` with the reason."""
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from None
    if not head:
        raise ExtractError("empty file (0 bytes)")
    if b"%PDF-" not in head:
        raise ExtractError("not a PDF (no %PDF- header)")
    return _with_pdfium(path) if engine_in_use() == "pypdfium2" else _with_pypdf(path)


def _check_pages(count: int) -> None:
    if count > MAX_PAGES:
        raise ExtractError(f"has {count} pages, more than the limit of {MAX_PAGES} "
                           "(set TRIPKB_MAX_PAGES to allow more)")


def _usable_title(title) -> str | None:
    """An /Info value, unless it is empty or a word processor's placeholder."""
    if isinstance(title, str) and title.strip() and not title.lower().startswith(("microsoft word", "untitled")):
        return display_form(title)
    return None


def _with_pdfium(path: Path) -> Extracted:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ExtractError("password-protected PDF: cannot read its text without the password") from None
        raise ExtractError(f"damaged or unreadable PDF ({exc})") from None
    try:
        _check_pages(len(doc))
        pages = []
        for i in range(len(doc)):
            page = doc[i]
            textpage = page.get_textpage()
            pages.append(display_form(textpage.get_text_bounded()))
            textpage.close()
            page.close()
        info = doc.get_metadata_dict()
        title, author = _usable_title(info.get("Title")), _usable_title(info.get("Author"))
    except pdfium.PdfiumError as exc:
        raise ExtractError(f"damaged or unreadable PDF ({exc})") from None
    finally:
        doc.close()
    return Extracted(pages=pages, info_title=title, info_author=author)


def _with_pypdf(path: Path) -> Extracted:

    import pypdf
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractError("password-protected PDF: cannot read its text without the password")
        _check_pages(len(reader.pages))
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
    return _usable_title(value)
