"""Benchmark: `tripkb ingest` pages/s on all cores, beside recollindex and bare extraction loops, in one run.

    python bench/ingest_cores_bench.py [--real DIR] [--n 43] [--big-pages 250] [--rounds 2]

Two folders: a mixed one (the PDFs in ``--real DIR``, if given, plus ``--n``
generated reports of 6–12 pages, ~400 pages in all with the defaults) and one
large generated report (``--big-pages``). On each, turn by turn so that a
busy machine slows every contender alike, it times:

* ``tripkb ingest --no-ocr --extractor pypdfium2`` and ``--extractor pypdf`` into a fresh
  knowledge base (``--no-ocr``: recollindex does not OCR either, so a page without
  a text layer costs neither a Tesseract run);
* ``recollindex`` (Recoll with Xapian; PDFs through ``pdftotext``) into a fresh
  configuration folder, when it is installed;
* a bare pypdfium2 loop and a bare pypdf loop over the same files, in one
  process (one core): text of every page, nothing else.

For each command it prints pages/s (the median over ``--rounds``), the ratio
to its yardstick, and the CPU use of both cores: user+sys time of the command
and every process it waited for, ÷ wall time ÷ cores. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen  # noqa: E402
from bench import child_env  # noqa: E402

CORES = len(os.sched_getaffinity(0))


def measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, user+sys seconds of the command and the processes it waited for)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env or child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.stderr.write(err.decode("utf-8", "replace")[-2000:])
        raise SystemExit(f"{cmd[0]} failed with exit code {code}")
    return wall, usage.ru_utime + usage.ru_stime


def tripkb(folder: Path, scratch: Path, extractor: str) -> tuple[float, float]:
    kb = Path(tempfile.mkdtemp(prefix="kb-", dir=scratch))
    try:
        return measured([sys.executable, "-m", "tripkb", "--kb", str(kb), "ingest", "--no-ocr",
                         "--extractor", extractor, str(folder)])
    finally:
        shutil.rmtree(kb, ignore_errors=True)


def recoll(folder: Path, scratch: Path) -> tuple[float, float]:
    conf = Path(tempfile.mkdtemp(prefix="recoll-", dir=scratch))
    try:
        (conf / "recoll.conf").write_text(f"topdirs = {folder}\n", encoding="utf-8")
        return measured(["recollindex", "-c", str(conf)], env=dict(os.environ))
    finally:
        shutil.rmtree(conf, ignore_errors=True)


def bare(pdfs: list[Path], engine: str) -> tuple[float, float]:
    """A bare loop in a fresh process (its imports not counted): every page's text, one core.
    Its CPU use shows what one busy core gets on this machine now."""
    code = f"""
import sys, time, logging
paths = sys.argv[1:]
if {engine!r} == "pypdf":
    import pypdf
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    start, cpu = time.perf_counter(), time.process_time()
    for p in paths:
        [page.extract_text() or "" for page in pypdf.PdfReader(p).pages]
else:
    import pypdfium2 as pdfium
    start, cpu = time.perf_counter(), time.process_time()
    for p in paths:
        doc = pdfium.PdfDocument(p)
        for i in range(len(doc)):
            page = doc[i]
            tp = page.get_textpage()
            tp.get_text_bounded()
            tp.close()
            page.close()
        doc.close()
print(time.perf_counter() - start, time.process_time() - cpu)
"""
    out = subprocess.run([sys.executable, "-c", code, *map(str, pdfs)], capture_output=True, text=True, check=True)
    wall, cpu = map(float, out.stdout.split())
    return wall, cpu


def page_count(pdfs: list[Path]) -> int:
    import pypdfium2 as pdfium

    total = 0
    for p in pdfs:
        doc = pdfium.PdfDocument(str(p))
        total += len(doc)
        doc.close()
    return total


def folders(args: argparse.Namespace, work: Path) -> dict[str, Path]:
    cache, _ = gen.generate(args.n, args.seed, 6, 12, work)
    big_cache, _ = gen.generate(1, args.seed, args.big_pages, args.big_pages, work)
    mixed, big = work / "cores-mixed", work / "cores-big"
    for folder in (mixed, big):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for i in range(args.n):  # documents only: like real-world reports, none has a sidecar
        os.link(cache / f"rep{i:06d}.pdf", mixed / f"rep{i:06d}.pdf")
    if args.real:
        for pdf in sorted(args.real.glob("*.pdf")):
            shutil.copy(pdf, mixed / f"real-{pdf.name}")
    os.link(big_cache / "rep000000.pdf", big / "large.pdf")
    return {"mixed": mixed, "large": big}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=None, help="a folder of real-world PDFs to add")
    parser.add_argument("--n", type=int, default=43, help="generated reports of 6-12 pages in the mixed folder")
    parser.add_argument("--big-pages", type=int, default=250)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument("--only", choices=("mixed", "large"), default=None)
    args = parser.parse_args()
    has_recoll = shutil.which("recollindex") is not None
    if has_recoll and shutil.which("pdftotext") is None:  # Recoll would skip every PDF, in no time
        print("recollindex left out: it reads PDFs with pdftotext (apt-get install poppler-utils)", file=sys.stderr)
        has_recoll = False
    scratch = Path(tempfile.mkdtemp(prefix="cores-", dir=args.workdir))
    try:
        for name, folder in folders(args, args.workdir).items():
            if args.only and name != args.only:
                continue
            pdfs = sorted(folder.glob("*.pdf"))
            pages = page_count(pdfs)
            contenders = {
                "tripkb ingest --extractor pypdfium2": lambda: tripkb(folder, scratch, "pypdfium2"),
                "tripkb ingest --extractor pypdf": lambda: tripkb(folder, scratch, "pypdf"),
                "bare pypdfium2 loop (1 core)": lambda: bare(pdfs, "pypdfium2"),
                "bare pypdf loop (1 core)": lambda: bare(pdfs, "pypdf"),
            }
            if has_recoll:
                contenders["recollindex"] = lambda: recoll(folder, scratch)
            runs: dict[str, list[tuple[float, float]]] = {k: [] for k in contenders}
            for r in range(args.rounds):
                for label, run in contenders.items():
                    print(f"[{name}] round {r + 1}: {label}", file=sys.stderr, flush=True)
                    runs[label].append(run())
            rate = {k: pages / statistics.median(w for w, _ in v) for k, v in runs.items()}
            use = {k: statistics.median(c / w for w, c in v) / CORES for k, v in runs.items()}
            yard = {"tripkb ingest --extractor pypdfium2": "recollindex" if has_recoll else "bare pypdfium2 loop (1 core)",
                    "tripkb ingest --extractor pypdf": "bare pypdf loop (1 core)"}
            print(f"\n{name}: {len(pdfs)} PDFs, {pages} pages; {CORES} cores; load average "
                  f"{os.getloadavg()[0]:.1f}; median of {args.rounds} rounds")
            print(f"{'command':<38} {'pages/s':>8} {'CPU use':>8}  ratio")
            for label in contenders:
                ratio = f"{rate[label] / rate[yard[label]]:.2f}× {yard[label]}" if label in yard else ""
                print(f"{label:<38} {rate[label]:8.1f} {use[label]:8.0%}  {ratio}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
