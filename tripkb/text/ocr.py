"""OCR of PDF pages that have no usable text: Tesseract (chi_tra+eng) through pytesseract, pages rendered by pypdfium2.

Why this plumbing (docs/ocr.md has the measurements): tripkb needs each
page's text, not a new PDF, so OCRmyPDF's rewrite of the whole file (and its
Ghostscript/qpdf stack) is more than the job; pytesseract is a thin,
dependency-light wrapper of the ``tesseract`` command, and pypdfium2 (already
the optional fast extractor) renders any page, scanned or vector, to an image.

Pages are OCRed in worker processes, one Tesseract per core with OpenMP
limited to one thread: on this project's 2-core machines Tesseract's own
threads made a page *slower*. The workers have the same memory bound
as the text readers (:mod:`workers`) and each page a time bound. Results are
cached per file SHA-256 in the knowledge base (``cache/ocr/``) so a reindex
or an edited sidecar does not redo minutes of OCR; the cache is derived data
and may be deleted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..fsutil import read_regular, write_text_atomic
from ..workers import MEMORY_MB, default_workers

Mode = Literal["auto", "off", "force"]

INSTALL = "apt-get install tesseract-ocr tesseract-ocr-chi-tra"
LANGUAGES = ("chi_tra", "eng")
#: Render resolution. 200 dpi reads 10-pt body text (28 px per character) as
#: well as 300 dpi at half the pixels, and 300 dpi misread large headings.
DPI = 200
MAX_PIXELS = 40_000_000  # an absurd page size must not exhaust memory
PAGE_TIMEOUT = 300  # seconds for one page before Tesseract is stopped
RENDER_TIMEOUT = 120  # more seconds for opening and rendering it

#: on_page(done, total): OCR progress within one document.
PageProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class Engine:
    """An installed, usable Tesseract: what the sidecar records as having read the pages."""

    version: str
    languages: str

    @property
    def name(self) -> str:
        return f"tesseract {self.version}"


def probe() -> Engine | str:
    """The installed engine, or one line saying exactly what to install."""
    from importlib.util import find_spec

    if find_spec("pytesseract") is None or find_spec("pypdfium2") is None:
        return "OCR needs the Python packages pytesseract and pypdfium2: pip install 'tripkb[ocr]'"
    import pytesseract

    try:
        version = pytesseract.get_tesseract_version()
        installed = pytesseract.get_languages()
    except (pytesseract.TesseractNotFoundError, OSError):
        return f"Tesseract is not installed: {INSTALL}"
    if LANGUAGES[0] not in installed:
        return "Tesseract has no Traditional Chinese model: apt-get install tesseract-ocr-chi-tra"
    return Engine(str(version), "+".join(lang for lang in LANGUAGES if lang in installed))


@dataclass
class OcrResult:
    """Raw Tesseract text by 1-based page number, and the pages that failed with why."""

    texts: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)


class OcrJob:
    """The pages of one document being OCRed; cached pages are already done."""

    def __init__(self, ocr: "Ocr", sha: str, cached: dict[int, str], futures: dict[int, Future]):
        self._ocr, self._sha, self._cached, self._futures = ocr, sha, cached, futures

    def wait(self, on_page: PageProgress | None = None) -> OcrResult:
        from concurrent.futures import as_completed

        result = OcrResult(texts=dict(self._cached))
        total = len(self._cached) + len(self._futures)
        if on_page and self._futures:
            on_page(len(self._cached), total)
        by_future = {f: n for n, f in self._futures.items()}
        for future in as_completed(by_future):
            page = by_future[future]
            try:
                result.texts[page] = future.result()
            except TimeoutError:
                result.failed[page] = f"stopped after {PAGE_TIMEOUT + RENDER_TIMEOUT} s"
            except MemoryError:
                result.failed[page] = f"needs more than {MEMORY_MB} MB of memory"
            except Exception as exc:  # Tesseract, the renderer or a crashed worker: that page only
                result.failed[page] = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
            if on_page:
                on_page(len(result.texts) + len(result.failed), total)
        if self._futures:
            self._ocr.store(self._sha, {n: result.texts[n] for n in self._futures if n in result.texts})
        return result


class Ocr:
    """How one run treats pages without usable text, and the workers that OCR them.

    ``mode``: ``auto`` OCRs pages with no usable text when Tesseract is
    installed, ``off`` never runs it, ``force`` OCRs every page. Use as a
    context manager: the worker processes start on first use and stop on exit.
    """

    def __init__(self, mode: Mode = "auto", cache_dir: Path | None = None, workers: int | None = None):
        self.mode = mode
        self.cache_dir = cache_dir
        self.workers = workers or default_workers()
        self._probed: Engine | str | None = None
        self._pool = None

    def __enter__(self) -> "Ocr":
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.stop()
            self._pool.join()
            self._pool = None

    @property
    def engine(self) -> Engine | None:
        """The engine, unless the mode is ``off`` or Tesseract cannot be used."""
        if self.mode == "off":
            return None
        if self._probed is None:
            self._probed = probe()
        return self._probed if isinstance(self._probed, Engine) else None

    @property
    def missing(self) -> str | None:
        """Why OCR cannot run, as one actionable line; None when it can."""
        if self.mode == "off":
            return "OCR skipped (--no-ocr)"
        return None if self.engine else str(self._probed)

    def submit(self, path: Path, sha: str, pages: list[int]) -> OcrJob:
        """Start OCR of the given 1-based pages of a PDF (the engine must be available)."""
        engine = self.engine
        assert engine is not None, "submit() needs an installed engine"
        cached = self._cached(sha, engine)
        todo = [n for n in pages if n not in cached]
        futures: dict[int, Future] = {}
        if todo:
            pool = self._start()
            # The program the probe found on this process's PATH (the forkserver's environment is older).
            command = _tesseract()
            futures = {n: pool.schedule(_ocr_page, args=(str(path), n - 1, engine.languages, command),
                                        timeout=PAGE_TIMEOUT + RENDER_TIMEOUT) for n in todo}
        return OcrJob(self, sha, {n: cached[n] for n in pages if n in cached}, futures)

    def _start(self):
        if self._pool is None:
            import multiprocessing

            from pebble import ProcessPool

            # Not fork: started while other threads run, a forked worker could inherit a held lock.
            # forkserver: one clean process imports the OCR modules once, every worker is forked from it.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__, "pypdfium2", "pytesseract", "PIL.Image"])
            self._pool = ProcessPool(self.workers, initializer=_worker_setup, initargs=(MEMORY_MB,),
                                     context=context)
        return self._pool

    def cache_file(self, sha: str) -> Path | None:
        """Where the OCR text of the file with this SHA-256 is kept (a Dask worker hands it back whole)."""
        return self.cache_dir / f"{sha}.json" if self.cache_dir else None

    def _cached(self, sha: str, engine: Engine) -> dict[int, str]:
        path = self.cache_file(sha)
        try:
            data = json.loads(read_regular(path)) if path else {}  # a link there is no cache
        except (OSError, ValueError):
            return {}
        if data.get("engine") != engine.name or data.get("languages") != engine.languages \
                or data.get("dpi") != DPI:
            return {}
        return {int(n): text for n, text in data.get("pages", {}).items()}

    def store(self, sha: str, texts: dict[int, str]) -> None:
        """Add pages to the cache; a cache that cannot be written only costs time later."""
        path = self.cache_file(sha)
        engine = self.engine
        if path is None or engine is None or not texts:
            return
        pages = self._cached(sha, engine) | texts
        data = {"engine": engine.name, "languages": engine.languages, "dpi": DPI,
                "pages": {str(n): pages[n] for n in sorted(pages)}}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, json.dumps(data, ensure_ascii=False))
        except OSError:
            pass


def _worker_setup(memory_mb: int) -> None:
    """One OpenMP thread per Tesseract (the parallelism is across pages), a memory bound, and
    death with the process that started the worker (see :func:`workers._worker_setup`)."""
    from .. import workers

    os.environ["OMP_THREAD_LIMIT"] = "1"
    workers._worker_setup(memory_mb)


def _tesseract() -> str:
    import shutil

    import pytesseract

    command = pytesseract.pytesseract.tesseract_cmd
    return shutil.which(command) or command


def _ocr_page(path: str, index: int, languages: str, command: str) -> str:
    """Render one page and OCR it with the Tesseract at ``command`` (runs in a worker process)."""
    import pypdfium2
    import pytesseract

    pytesseract.pytesseract.tesseract_cmd = command
    pdf = pypdfium2.PdfDocument(path)
    try:
        page = pdf[index]
        width, height = page.get_size()
        scale = min(DPI / 72, (MAX_PIXELS / max(width * height, 1.0)) ** 0.5)
        image = page.render(scale=scale, grayscale=True).to_pil()
    finally:
        pdf.close()
    low, high = image.getextrema()
    if high - low < 32:  # a blank page (the back of a scanned sheet): nothing to read
        return ""
    return pytesseract.image_to_string(image, lang=languages, timeout=PAGE_TIMEOUT)
