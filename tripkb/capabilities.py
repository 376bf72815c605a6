"""What optional pieces are installed, and what each missing one disables.

Formats beyond born-digital PDFs depend on programs and packages tripkb
cannot install itself; a librarian needs to see at a glance which formats
work on this machine and the exact command that enables the rest.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
from dataclasses import asdict, dataclass

from .text.ocr import INSTALL, LANGUAGES


@dataclass
class Component:
    name: str
    installed: bool
    version: str | None
    enables: str
    without: str
    install: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def _package(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _tesseract() -> tuple[str | None, list[str]]:
    """Version and languages of the ``tesseract`` on PATH, asked directly (no Python package needed)."""
    program = shutil.which("tesseract")
    if program is None:
        return None, []
    try:
        version = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30)
        langs = subprocess.run([program, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None, []
    first = (version.stdout or version.stderr).split("\n", 1)[0].split()
    return (first[1] if len(first) > 1 else "unknown"), langs.stdout.split("\n")[1:]


def formats(components: list[Component]) -> dict[str, bool]:
    """Which kinds of document are read in full on this machine."""
    ok = {c.name: c.installed for c in components}
    return {"PDF with a text layer": True,
            "scanned PDF (OCR)": all(ok[n] for n in ("tesseract", "tesseract chi_tra", "pytesseract", "pypdfium2")),
            ".docx": ok["python-docx"], ".doc": ok["antiword"]}


def check() -> list[Component]:
    """Each optional piece: installed or not, its version, what it enables, how to install it."""
    tesseract, langs = _tesseract()
    antiword = shutil.which("antiword")
    no_ocr = "no OCR: scanned PDFs are kept and flagged, not searchable"
    pieces = [
        ("tesseract", tesseract is not None, tesseract, "OCR of scanned PDF pages", no_ocr, INSTALL),
        ("tesseract chi_tra", LANGUAGES[0] in langs, None, "OCR of Traditional Chinese", no_ocr,
         "apt-get install tesseract-ocr-chi-tra"),
        ("tesseract eng", LANGUAGES[1] in langs, None, "OCR of English words in scans",
         "English in scans is read by the Chinese model alone", "apt-get install tesseract-ocr-eng"),
        ("pytesseract", _package("pytesseract") is not None, _package("pytesseract"),
         "running Tesseract from tripkb", no_ocr, "pip install 'tripkb[ocr]'"),
        ("pypdfium2", _package("pypdfium2") is not None, _package("pypdfium2"),
         "rendering PDF pages for OCR; the faster PDF extractor",
         f"{no_ocr}; PDFs are read by pypdf (slower)", "pip install 'tripkb[ocr]'"),
        ("python-docx", _package("python-docx") is not None, _package("python-docx"),
         ".docx documents", ".docx files are kept and flagged, not searchable", "pip install 'tripkb[word]'"),
        ("antiword", antiword is not None, None, ".doc (Word 97–2003) documents",
         ".doc files are kept and flagged, not searchable", "apt-get install antiword"),
    ]
    return [Component(*piece) for piece in pieces]
