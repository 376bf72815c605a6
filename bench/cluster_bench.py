#!/usr/bin/env python3
"""Ingest throughput on a local Dask cluster against plain local ingest, and the single writer's cap.

Usage:  python bench/cluster_bench.py --n 60 [--pages-min 20 --pages-max 50] [--extractor pypdf]
        python bench/cluster_bench.py --scans 6 --scan-pages 4      # OCR-heavy: image-only PDFs

On the same generated reports (born-digital, see ``gen.py``, cached in ``bench/out/``; or
scanned, see ``ocr_bench.py``) it times, each into a fresh knowledge base, in this process:

* ``local``: plain ``ingest()`` (pebble pool, one process per core);
* ``dask-1`` / ``dask-2``: ``ingest(cluster_workers=N)``, a ``LocalCluster`` of N worker
  processes (its start-up is included, and also printed alone);
* ``writer cap``: ``ingest()`` with every document extracted beforehand, so what is left is
  the one client's share (hashing, copying, sidecars, covers, analysis, Whoosh): the pages/s
  no number of workers can exceed.

It prints figures, not pass/fail. Needs ``distributed`` (``tripkb[cluster]``) and fpdf2; for
``--scans``, Tesseract with chi_tra and Pillow.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

import gen  # noqa: E402
import ocr_bench  # noqa: E402

from tripkb.ingest import documents as ingest_module  # noqa: E402
from tripkb.ingest.cluster import extract_mapper  # noqa: E402
from tripkb.kb import KnowledgeBase  # noqa: E402
from tripkb.text.extract import Extracted, choose, extract  # noqa: E402


def timed_ingest(source: Path, scratch: Path, name: str, **options) -> float:
    kb = KnowledgeBase.locate(scratch / name, create=True)
    start = time.perf_counter()
    report = ingest_module.ingest(kb, [source], **options)
    elapsed = time.perf_counter() - start
    assert not report.problems, report.problems
    return elapsed


@contextmanager
def pre_extracted(results: dict[Path, Extracted]):
    """Replace the extraction step with a lookup: only the writer's work remains."""
    original = ingest_module._extract_map

    @contextmanager
    def lookup(*_args):
        yield lambda paths: ((p, results[p.resolve()]) for p in paths)

    ingest_module._extract_map = lookup
    try:
        yield
    finally:
        ingest_module._extract_map = original


def born_digital(args: argparse.Namespace, source: Path) -> list[Path]:
    cache, _ = gen.generate(args.n, args.seed, args.pages_min, args.pages_max, args.workdir)
    pdfs = gen.source_folder(cache, args.n, source)
    for sidecar in source.glob("*.yaml"):  # the PDFs alone: the generator's vocabulary is not the KB's
        sidecar.unlink()
    return pdfs


def make_scans(source: Path, n: int, pages: int) -> list[Path]:
    """Image-only PDFs, each of different text (same bytes would be one document)."""
    source.mkdir(parents=True)
    text = ocr_bench.sample_text()
    pdfs = []
    for i in range(n):
        shift = i * 997 % len(text)
        pdfs.append(source / f"scan{i:03d}.pdf")
        ocr_bench.make_scan(pdfs[-1], pages, text[shift:] + text[:shift])
    return pdfs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pages-min", type=int, default=20)
    parser.add_argument("--pages-max", type=int, default=50)
    parser.add_argument("--extractor", default="auto", help="auto, pypdf or pypdfium2")
    parser.add_argument("--scans", type=int, default=0, help="use N scanned reports instead (OCR-heavy)")
    parser.add_argument("--scan-pages", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=BENCH / "out")
    args = parser.parse_args()

    engine = choose(args.extractor)
    args.workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="cluster-bench-", dir=args.workdir))
    try:
        source = scratch / "src"
        pdfs = make_scans(source, args.scans, args.scan_pages) if args.scans else born_digital(args, source)

        start = time.perf_counter()
        results = {p.resolve(): extract(p) for p in pdfs}
        one_core = time.perf_counter() - start
        pages = sum(len(r.pages) for r in results.values())
        print(f"{len(pdfs)} {'scanned' if args.scans else 'born-digital'} reports, {pages} pages, "
              f"extractor {engine}", flush=True)
        print(f"  extraction alone, in process (OCR: 2 cores){pages / one_core:8.2f} pages/s", flush=True)

        start = time.perf_counter()
        with extract_mapper(None, 2):
            up = time.perf_counter() - start
        print(f"  LocalCluster(2) start + stop               {up:8.1f} s", flush=True)

        runs = [("local ingest (pebble, 2 processes)", {}),
                ("dask ingest, 1 local worker", {"cluster_workers": 1}),
                ("dask ingest, 2 local workers", {"cluster_workers": 2})]
        for i, (label, options) in enumerate(runs):
            elapsed = timed_ingest(source, scratch, f"kb{i}", **options)
            print(f"  {label:<42} {pages / elapsed:8.2f} pages/s  ({elapsed:.1f} s)", flush=True)
        with pre_extracted(results):
            elapsed = timed_ingest(source, scratch, "kb-writer")
        print(f"  {'writer cap (extraction free)':<42} {pages / elapsed:8.2f} pages/s  ({elapsed:.1f} s)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
