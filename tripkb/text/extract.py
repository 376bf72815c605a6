"""Per-page text of a document, whatever its format, with a user-fit reason when it cannot be had.

Two steps, because they run in different places:

* :func:`read` is the one place that dispatches by suffix: PDFs by pypdf
  or pypdfium2, Word files by :mod:`word`. It runs in a bounded worker
  (:mod:`workers`) and notes which PDF pages have no usable text
  (:mod:`page_quality`).
* :func:`begin` then starts OCR of those pages in this process's pool
  (:mod:`ocr`: page by page on every core), and :meth:`Pending.finish`
  puts the OCR text in place and says what is still missing.

A document that is readable but yields no usable text (a scan without
Tesseract, a missing reader program) is not an error: it comes back with a
one-line ``flag`` and is kept and indexed from its metadata. Only
unreadable files raise :class:`ExtractError`.

Two PDF engines give the same normalised text: pypdf (always there) and, when
installed (``pip install 'tripkb[fast]'``), pypdfium2, many times faster on
PDFs with embedded CJK fonts. ``auto`` picks pypdfium2 when it is installed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ExtractError, ToolMissing, UsageError
from ..fsutil import sha256_of
from .normalise import display_form
from .ocr import Engine, Ocr, OcrJob, PageProgress
from .page_quality import GARBAGE, MIN_LETTERS, NO_TEXT, page_problem
from .suffixes import WORD_SUFFIXES

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


def load_engine() -> None:
    """Import the engine's library in this process, so that the worker processes forked after it
    share it instead of each importing it on its first document."""
    import importlib

    importlib.import_module(engine_in_use())


def _has_pdfium() -> bool:
    import importlib.util

    return importlib.util.find_spec("pypdfium2") is not None


@dataclass
class Extracted:
    """What a document yields: display-form text per page, its own title and author, and what went wrong.

    ``paged`` is False for formats without fixed pages (Word): the text is
    one undivided page and hits report no page numbers. ``problems`` are the
    PDF pages without usable text as read (page → kind). ``ocr`` is the
    sidecar's record of OCRed pages; ``flag`` says why there is no usable
    text; ``final`` is False until :meth:`Pending.finish` has judged it.
    ``body`` is the text's index fields (:func:`index.schema.body_fields`) when the
    worker that read it also analysed it. ``judged``: ``problems`` is the page-quality
    verdict on every page as read, so :meth:`Pending.finish` judges again only OCRed pages.
    """

    pages: list[str]
    info_title: str | None = None
    info_author: str | None = None
    warnings: list[str] = field(default_factory=list)
    paged: bool = True
    problems: dict[int, str] = field(default_factory=dict)
    ocr: dict[str, Any] | None = None
    flag: str | None = None
    final: bool = True
    body: dict[str, Any] | None = None
    judged: bool = False
    #: The number of the first of ``pages`` less one: 0 unless only a range of the pages was read.
    offset: int = 0

    @property
    def first_line(self) -> str | None:
        for page in self.pages:
            for line in page.splitlines():
                if line.strip():
                    return line.strip()
        return None


#: Reads many documents: ``(path, Extracted | ExtractError)`` as each is done, a bounded number
#: at a time. Locally (:func:`workers.bounded_map` of :func:`read_final`) the text layer, whose OCR
#: :func:`begin` then starts, or the final text when no OCR is to come; on Dask
#: (:func:`ingest.cluster.cluster_map`) final, OCR done on the worker.
ExtractMap = Callable[[list[Path]], Iterator[tuple[Path, "Extracted | ExtractError"]]]


@dataclass
class Pending:
    """A document whose text layer is read and whose OCR may still be running."""

    extracted: Extracted
    job: OcrJob | None = None
    engine: Engine | None = None
    missing: str | None = None

    def finish(self, on_page: PageProgress | None = None) -> Extracted:
        """Wait for OCR, put its text in place, then judge what is still unusable."""
        got = self.extracted
        if got.final:
            return got
        got.final = True
        if self.job is not None and self.engine is not None:
            result = self.job.wait(on_page)
            for n, text in result.texts.items():
                got.pages[n - 1] = display_form(text)
            for n, why in sorted(result.failed.items()):
                got.warnings.append(f"page {n}: OCR failed ({why})")
            got.ocr = {"engine": self.engine.name, "languages": self.engine.languages,
                       "pages": sorted(result.texts)}
        ocred = set(got.ocr["pages"]) if got.ocr else set()
        # OCR text with any letters counts: a short page read by OCR is still read
        still = {n: kind for n, text in enumerate(got.pages, 1)
                 if (kind := got.problems.get(n) if got.judged and n not in ocred
                     else page_problem(text, 1 if n in ocred else MIN_LETTERS))}
        for n, kind in still.items():
            if kind == GARBAGE:
                got.pages[n - 1] = ""  # nonsense must not be indexed as if it were the text
        kind = GARBAGE if GARBAGE in {*got.problems.values(), *still.values()} else NO_TEXT
        what = f"{kind} — fonts without a usable Unicode map?" if kind == GARBAGE else f"{kind} — scanned?"
        if got.ocr is not None:
            if len(still) == len(got.pages):
                got.flag = f"{what} OCR ({self.engine.name}) found no text either"
        elif still and len(still) == len(got.pages):
            got.flag = f"{what} needs OCR; {self.missing}"
        elif still:
            got.warnings.append(f"{_page_list(still)}: {what} needs OCR; {self.missing}")
        return got


def extract(path: Path, ocr: Ocr | None = None, on_page: PageProgress | None = None) -> Extracted:
    """Every page's text, OCR included, in this process (default: automatic OCR, no cache)."""
    if ocr is not None:
        return begin(path, read(path, ocr.mode == "force"), ocr).finish(on_page)
    with Ocr("auto") as own:
        return begin(path, read(path), own).finish(on_page)


def read(path: Path, force_ocr: bool = False, part: tuple[int, ...] = (0, 1)) -> Extracted:
    """The document's own text (no OCR), noting the PDF pages that need it; safe in a worker.

    ``part`` (k, n): only the k-th of n equal ranges of a PDF's pages (see
    :mod:`tripkb.ingest.page_ranges`); (k, j, n): the k-th to the (j-1)-th of them; a Word
    file is one part. Raises :class:`ExtractError` when the file cannot be read at all.
    """
    head = check_head(path)
    suffix = path.suffix.lower()
    if suffix in WORD_SUFFIXES:
        return _word(path, suffix, head)
    got = _with_pdfium(path, part) if engine_in_use() == "pypdfium2" else _with_pypdf(path, part)
    if got.info_title and got.info_title.strip() == path.stem:  # scanners title a PDF by its file name
        got.info_title = None
    got.final = False
    numbers = range(got.offset + 1, got.offset + len(got.pages) + 1)
    if force_ocr:
        got.problems = dict.fromkeys(numbers, NO_TEXT)
    else:
        got.problems = {n: kind for n, text in zip(numbers, got.pages) if (kind := page_problem(text))}
        got.judged = True
    return got


def _page_range(count: int, part: tuple[int, ...]) -> range:
    """The pages (from 0) of part ``part`` = (k, n), or of parts ``part`` = (k, j, n), of a
    document of ``count`` pages: ranges k..j-1 of n are the pages of ranges k*m..j*m-1 of n*m."""
    first, stop, n = part if len(part) == 3 else (part[0], part[0] + 1, part[1])
    return range(count * first // n, count * stop // n)


def read_final(path: Path, force_ocr: bool = False, missing: str | None = None,
               layer: Extracted | None = None) -> Extracted:
    """:func:`read` (or ``layer``, what it gave already), and finished (judged, flagged) here
    when no OCR is to come (``missing`` says why not), so that the process writing the index
    does not judge its pages again."""
    got = layer or read(path, force_ocr)
    if got.problems and missing is None:
        return got  # its pages await OCR
    return Pending(got, missing=missing).finish()


def check_head(path: Path, suffix: str | None = None) -> bytes:
    """The file's first KB, once it shows the file can be the document its suffix (or ``suffix``)
    says: not empty, its format's signature. Cheap, so a bundle checks a file before keeping it."""
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from None
    if not head:
        raise ExtractError("empty file (0 bytes)")
    suffix = (suffix or path.suffix).lower()
    if suffix in WORD_SUFFIXES:
        from .word import check_head as word_head

        word_head(suffix, head)
    elif b"%PDF-" not in head:
        raise ExtractError("not a PDF (no %PDF- header)")
    return head


def begin(path: Path, got: Extracted, ocr: Ocr, sha: str | None = None) -> Pending:
    """Start OCR of the pages :func:`read` found without usable text, if OCR can run; don't wait."""
    if got.final or not got.problems:
        return Pending(got)
    engine = ocr.engine
    if engine is None:
        return Pending(got, missing=ocr.missing)
    job = ocr.submit(path, sha or sha256_of(path), sorted(got.problems))
    return Pending(got, job, engine)


def _word(path: Path, suffix: str, head: bytes) -> Extracted:
    from .word import doc_text, docx_text

    try:
        if suffix == ".docx":
            text, title, author = docx_text(path, head)
        else:
            text, title, author = doc_text(path, head), None, None
    except ToolMissing as exc:
        return Extracted(pages=[], paged=False, flag=f"{exc} (then run 'tripkb reindex')")
    got = Extracted(pages=[display_form(text)], info_title=_usable_title(title),
                    info_author=_usable_title(author), paged=False)
    if not got.first_line:
        got.flag = "no text in this Word document (only pictures?)"
    return got


def _check_pages(count: int) -> None:
    if count > MAX_PAGES:
        raise ExtractError(f"has {count} pages, more than the limit of {MAX_PAGES} "
                           "(set TRIPKB_MAX_PAGES to allow more)")


def _usable_title(title) -> str | None:
    """An /Info value, unless it is empty or a word processor's placeholder."""
    if isinstance(title, str) and title.strip() and not title.lower().startswith(("microsoft word", "untitled")):
        return display_form(title)
    return None


def _with_pdfium(path: Path, part: tuple[int, ...] = (0, 1)) -> Extracted:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ExtractError("password-protected PDF: cannot read its text without the password") from None
        raise ExtractError(f"damaged or unreadable PDF ({exc})") from None
    try:
        _check_pages(len(doc))
        pages, numbers = [], _page_range(len(doc), part)
        for i in numbers:
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
    return Extracted(pages=pages, info_title=title, info_author=author, offset=numbers.start)


def _with_pypdf(path: Path, part: tuple[int, ...] = (0, 1)) -> Extracted:

    import pypdf
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    # pypdf logs font trouble as errors ("Advanced encoding … not implemented"); what it
    # means for the user is said once, by the garbage check, so its log stays quiet.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractError("password-protected PDF: cannot read its text without the password")
        _check_pages(len(reader.pages))
        numbers = _page_range(len(reader.pages), part)
        pages = [display_form(reader.pages[i].extract_text() or "") for i in numbers]
        title, author = _info(reader, "title"), _info(reader, "author")
    except ExtractError:
        raise
    except FileNotDecryptedError:
        raise ExtractError("password-protected PDF: cannot read its text without the password") from None
    # PyPdfError includes pypdf's own limits (page tree depth, array size, inflated stream size)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            AssertionError, RecursionError, OSError, NotImplementedError, ZeroDivisionError) as exc:
        raise ExtractError(f"damaged or unreadable PDF ({type(exc).__name__}: {exc})".rstrip()) from None
    return Extracted(pages=pages, info_title=title, info_author=author, offset=numbers.start)


def _info(reader, name: str) -> str | None:
    """The /Info title or author, unless it is a word processor's placeholder."""
    try:
        value = getattr(reader.metadata, name) if reader.metadata else None
    except Exception:  # a broken /Info dictionary should not lose the text
        return None
    return _usable_title(value)


def _page_list(pages: dict[int, str]) -> str:
    """'page 3' or 'pages 2, 5–7'."""
    numbers = sorted(pages)
    spans: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(f"{start}–{prev}" if prev > start else str(start))
        if n is not None:
            start = prev = n
    return ("page " if len(numbers) == 1 else "pages ") + ", ".join(spans)
