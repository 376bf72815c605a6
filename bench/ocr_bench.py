"""Benchmark: OCR pages per second, and how to spend two cores on Tesseract.

Makes a scanned report (an image-only PDF, A4 at 200 dpi, 12-pt WenQuanYi
Micro Hei, about 900 characters a page of the sample corpus's Traditional
Chinese), then OCRs every page three ways:

* ``threads``: one page at a time, Tesseract with its own OpenMP threads;
* ``serial``: one page at a time, one thread;
* ``tripkb``: tripkb's pool (:class:`tripkb.text.ocr.Ocr`), one single-threaded
  Tesseract per core, pages in parallel: what ``tripkb ingest`` does.

and prints pages/s, CPU seconds a page (Tesseract's and the workers', which
tells wasted work from a busy machine: when other work holds a core, two
workers cannot be faster than one) and the share of characters read right
for each. Run
from the repository root (needs Tesseract with chi_tra, pytesseract,
pypdfium2, Pillow and pypdf):

    python bench/ocr_bench.py [--pages 6] [--modes threads,serial,tripkb]
"""

from __future__ import annotations

import argparse
import difflib
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tripkb.fsutil import sha256_of  # noqa: E402
from tripkb.text.extract import extract  # noqa: E402
from tripkb.text.ocr import Engine, Ocr, _ocr_page, probe  # noqa: E402

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
DPI = 200


def sample_text() -> str:
    """The born-digital sample corpus's text, CJK and all, as one string."""
    with Ocr("off") as off:
        pages = [p for pdf in sorted((ROOT / "corpus").glob("*.pdf")) for p in extract(pdf, off).pages]
    return "".join("".join(pages).split())


def make_scan(path: Path, pages: int, text: str) -> list[str]:
    """An image-only PDF of ``pages`` A4 pages; returns each page's true text."""
    from PIL import Image, ImageDraw, ImageFont

    px = round(12 / 72 * DPI)  # 12 pt
    font = ImageFont.truetype(FONT, px)
    width, height, margin = round(8.27 * DPI), round(11.69 * DPI), DPI
    per_line = (width - 2 * margin) // px
    lines_per_page = (height - 2 * margin) // round(px * 1.6)
    images, truths, pos = [], [], 0
    for _ in range(pages):
        image = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(image)
        truth = []
        for n in range(lines_per_page):
            line = (text * 3)[pos:pos + per_line]
            pos = (pos + per_line) % len(text)
            draw.text((margin, margin + n * round(px * 1.6)), line, font=font, fill=0)
            truth.append(line)
        images.append(image)
        truths.append("".join(truth))
    images[0].save(path, save_all=True, append_images=images[1:], resolution=DPI)
    return truths


def accuracy(truths: list[str], texts: list[str]) -> float:
    matched = total = 0
    for truth, text in zip(truths, texts):
        got = "".join(text.split())
        blocks = difflib.SequenceMatcher(None, truth, got, autojunk=False).get_matching_blocks()
        matched += sum(b.size for b in blocks)
        total += len(truth)
    return matched / total


def one_by_one(path: Path, pages: int, engine: Engine, threads: bool) -> list[str]:
    if threads:
        os.environ.pop("OMP_THREAD_LIMIT", None)
    else:
        os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        return [_ocr_page(str(path), n, engine.languages) for n in range(pages)]
    finally:
        os.environ.pop("OMP_THREAD_LIMIT", None)


def pooled(path: Path, pages: int) -> list[str]:
    with Ocr("force") as ocr:
        result = ocr.submit(path, sha256_of(path), list(range(1, pages + 1))).wait()
    return [result.texts.get(n, "") for n in range(1, pages + 1)]


def _child_cpu() -> float:
    """User and system seconds of every finished child process (Tesseract, pool workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--modes", default="threads,serial,tripkb")
    args = parser.parse_args()
    engine = probe()
    if not isinstance(engine, Engine):
        sys.exit(f"cannot benchmark OCR: {engine}")
    cores = len(os.sched_getaffinity(0))
    print(f"{engine.name} ({engine.languages}), {cores} cores, load average before: "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scan.pdf"
        truths = make_scan(path, args.pages, sample_text())
        print(f"{args.pages} pages, {sum(map(len, truths)) // args.pages} characters a page, {DPI} dpi")
        runs = {"threads": lambda: one_by_one(path, args.pages, engine, threads=True),
                "serial": lambda: one_by_one(path, args.pages, engine, threads=False),
                "tripkb": lambda: pooled(path, args.pages)}
        for mode in args.modes.split(","):
            cpu = _child_cpu()
            started = time.perf_counter()
            texts = runs[mode]()
            seconds = time.perf_counter() - started
            print(f"{mode:8} {seconds:7.1f} s  {args.pages / seconds:6.3f} pages/s  "
                  f"{(_child_cpu() - cpu) / args.pages:5.1f} CPU s a page  "
                  f"{accuracy(truths, texts):6.1%} of characters read")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
