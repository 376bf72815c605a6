"""Shared fixtures: real PDFs made with a real CJK font, real knowledge bases on disk."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tripkb.kb import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SHARED_PDFS = REPO.parent / "shared" / "realworld-pdfs"


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    """No test reads the user's KB or writes caches outside a temp dir."""
    monkeypatch.delenv("TRIPKB_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def make_pdf(path: Path, pages: list[str], title: str | None = None) -> Path:
    """A real PDF of the given pages' text, set in WenQuanYi Micro Hei."""
    if not FONT.exists():
        pytest.skip(f"needs the CJK font {FONT}: apt-get install fonts-wqy-microhei")
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("wqy", fname=str(FONT))
    pdf.set_font("wqy", size=11)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 7, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


@pytest.fixture
def pdf_maker():
    return make_pdf


def make_scan(path: Path, pages: list[list[str]], px: int = 64, dpi: int = 200) -> Path:
    """An image-only PDF, as a scanner makes: each page a picture of its lines, no text layer.

    Set in WenQuanYi Micro Hei at ``px`` pixels, stored at ``dpi`` like a scan.
    """
    if not FONT.exists():
        pytest.skip(f"needs the CJK font {FONT}: apt-get install fonts-wqy-microhei")
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), px)
    images = []
    for lines in pages:
        width = max(int(font.getlength(line)) for line in lines) + 2 * px
        image = Image.new("L", (width, px * (2 * len(lines) + 1)), 255)
        draw = ImageDraw.Draw(image)
        for n, line in enumerate(lines):
            draw.text((px, px + 2 * px * n), line, font=font, fill=0)
        images.append(image)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], resolution=dpi)
    return path


@pytest.fixture
def scan_maker():
    return make_scan


@pytest.fixture
def sample_kb(tmp_path) -> KnowledgeBase:
    """A private copy of the sample knowledge base shipped in the repository."""
    root = tmp_path / "sample"
    shutil.copytree(REPO / "corpus", root / "corpus")
    return KnowledgeBase(root)


@pytest.fixture
def empty_kb(tmp_path) -> KnowledgeBase:
    return KnowledgeBase.locate(tmp_path / "kb", create=True)


def tripkb_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TRIPKB_HOME"}
    env.update(extra)
    return env


def run_cli(*args: str, path: str | None = None) -> subprocess.CompletedProcess:
    """``python -m tripkb ARGS`` in a real subprocess, optionally with another PATH."""
    env = tripkb_env(PYTHONPATH=str(REPO), **({"PATH": path} if path else {}))
    return subprocess.run([sys.executable, "-m", "tripkb", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def empty_path(tmp_path: Path) -> str:
    """A PATH on which no external program (tesseract, antiword) can be found."""
    folder = tmp_path / "bin-without-tools"
    folder.mkdir(exist_ok=True)
    return str(folder)


@contextlib.contextmanager
def small_disk(tmp_path: Path, size: str):
    """A real file system of ``size`` (tmpfs, e.g. ``900k``) mounted in ``tmp_path``, to fill up;
    the test is skipped where it cannot be made (not root, no mount)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("needs root and tmpfs to make a small disk")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)
