#!/usr/bin/env python3
"""tripkb benchmark: ingest throughput, memory, index size and search latency, beside baselines.

Usage:  python bench/bench.py --n 200 [--seed 1] [--pages-min 20 --pages-max 50]
                              [--workdir DIR] [--keep] [--jobs 2] [--profile-docs 200]

It generates N synthetic trip reports (see ``gen.py``; cached in the workdir),
then in one run measures

* baselines: bare pypdf text extraction (pages/s, of every file or of the
  first ``--baseline-sample`` reports) and ``rg -l QUERY`` over the text
  tripkb extracted, written one file per report;
* tripkb: ``python -m tripkb ingest`` into a fresh knowledge base (pages/s,
  peak RSS), the same ingest again on the unchanged corpus, index size against
  the extracted text, in-process ``search()`` latency (median, p95), whole-process
  ``python -m tripkb search --json`` against ``rg -l``, and ``--help``;
* a profile of where single-process ingest time goes (hashing, sidecar,
  extraction, field building with its jieba and bigram analysis, Whoosh, commit).

It prints figures, not pass/fail: the targets of issue 5 are shown beside them.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

import gen  # noqa: E402


@dataclass
class Query:
    """A benchmark query: tripkb syntax, its filters, and the ``rg`` pattern it compares with."""

    text: str
    filters: dict[str, object] = field(default_factory=dict)
    rg: str | None = None  # None: no meaningful rg equivalent (exclusion)

    def cli_args(self) -> list[str]:
        args = [self.text, "--json"]
        for name, value in self.filters.items():
            args += [f"--{name}", str(value)]
        return args

    def label(self) -> str:
        extra = " ".join(f"--{k} {v}" for k, v in self.filters.items())
        return f"{self.text} {extra}".strip()


@dataclass
class Row:
    """One line of the results table."""

    section: str
    metric: str
    value: str
    compare: str = ""
    target: str = ""


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def percentile(xs: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not xs:
        return float("nan")
    ordered = sorted(xs)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (CJK characters take two)."""
    cols = sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)
    return text + " " * max(0, width - cols)


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.1f} MiB"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def child_env() -> dict[str, str]:
    """The environment for ``python -m tripkb``: this checkout first on the path, no user KB, its
    modules compiled (as pip compiles an installed package's: with PYTHONDONTWRITEBYTECODE set, as
    on some machines, every process compiled each module changed since the last compile again)."""
    _compiled()
    env = {k: v for k, v in os.environ.items() if k != "TRIPKB_HOME"}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


@functools.lru_cache(maxsize=1)
def _compiled() -> None:
    import compileall

    compileall.compile_dir(str(REPO / "tripkb"), quiet=1)


def run_measured(cmd: list[str], cwd: Path | None = None) -> tuple[float, int, int]:
    """Run a command; return (wall seconds, peak RSS in bytes, exit code).

    The peak RSS is ``ru_maxrss`` of this child alone (``os.wait4``), which
    covers the child and the descendants it waited for (the largest single
    process among them, not their sum).
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=child_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    stderr = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.stderr.write(stderr.decode("utf-8", "replace")[-2000:])
    return wall, usage.ru_maxrss * 1024, proc.returncode


def wall_time(cmd: list[str], repeat: int = 1) -> list[float]:
    """Wall time of each of ``repeat`` runs of a command (output discarded)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


# --------------------------------------------------------------------------- baselines

def pypdf_baseline(pdfs: list[Path]) -> tuple[int, float]:
    """Extract every page of these reports with bare pypdf; (pages, seconds spent extracting)."""
    import logging

    import pypdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    pages = 0
    spent = 0.0
    for pdf in pdfs:
        start = time.perf_counter()
        reader = pypdf.PdfReader(str(pdf))
        texts = [page.extract_text() or "" for page in reader.pages]
        spent += time.perf_counter() - start
        pages += len(texts)
    return pages, spent


def dump_text(kb: Path, text_dir: Path) -> tuple[int, int]:
    """Write the text tripkb extracted and indexed, one file per report, for ``rg``.

    rg then searches exactly the text the index holds. Returns (pages, UTF-8 bytes).
    """
    from tripkb.index.schema import StoredDoc, open_index

    shutil.rmtree(text_dir, ignore_errors=True)
    text_dir.mkdir(parents=True)
    pages = size = 0
    with open_index(kb / "index").reader() as reader:
        for fields in reader.all_stored_fields():
            doc = StoredDoc.from_stored(fields["data"])
            data = doc.text.encode("utf-8")
            (text_dir / f"{Path(fields['key']).stem}.txt").write_bytes(data)
            pages += len(doc.starts)
            size += len(data)
    return pages, size


def rg_times(queries: list[Query], text_dir: Path, repeat: int = 3) -> dict[str, float]:
    """Median wall time of ``rg -l PATTERN`` over the text folder, per query."""
    out: dict[str, float] = {}
    for q in queries:
        if q.rg is None:
            continue
        cmd = ["rg", "-l", q.rg, str(text_dir)]
        wall_time(cmd)  # warm the page cache
        out[q.label()] = median(wall_time(cmd, repeat))
    return out


# --------------------------------------------------------------------------- queries

def make_queries(source: Path, n: int) -> list[Query]:
    """~30 queries: common words, phrases, English, Simplified, rare words, filters, syntax."""
    rare_people = []
    for meta in gen.iter_titles(source, [f"rep{i:06d}" for i in range(0, n, max(1, n // 4))][:4]):
        rare_people.append(meta["authors"][0])
    qs = [
        Query("圖書館", rg="圖書館"), Query("年會", rg="年會"), Query("數位典藏", rg="數位典藏"),
        Query("資訊素養", rg="資訊素養"), Query("開放取用", rg="開放取用"), Query("館藏發展", rg="館藏發展"),
        Query("國家圖書館", rg="國家圖書館"), Query("閱讀推廣", rg="閱讀推廣"),
        Query('"美國圖書館學會"', rg="美國圖書館學會"), Query('"國際圖書館協會聯盟"', rg="國際圖書館協會聯盟"),
        Query('"海報展"', rg="海報展"),
        Query('"annual conference"', rg="annual conference"), Query("IFLA", rg="IFLA"),
        Query('"open access"', rg="open access"), Query("metadata", rg="metadata"),
        Query("图书馆", rg="图书馆"), Query("资讯素养", rg="资讯素养"), Query("国家图书馆", rg="国家图书馆"),
        Query("台北", rg="台北"),
        Query("圖書館", {"org": "IFLA"}, rg="圖書館"),
        Query("年會", {"since": 2005, "until": 2010}, rg="年會"),
        Query("數位典藏", {"institution": "國家圖書館"}, rg="數位典藏"),
        Query("開放取用", {"country": "美國"}, rg="開放取用"),
        Query("資訊素養", {"type": "report", "category": "開會"}, rg="資訊素養"),
        Query("年會 OR 研討會", rg="年會|研討會"),
        Query("圖書館 -公共"),
    ]
    qs += [Query(name, rg=name) for name in rare_people]
    return qs


#: Organisations the generated reports attend beyond tripkb's shipped list: a KB adds
#: them in vocab/orgs.yaml (else ingest refuses those sidecars as naming unknown codes).
EXTRA_ORGS = """orgs:
  - {code: ICA, kind: organisation, name: International Council on Archives, zh: [國際檔案理事會]}
  - {code: PNC, kind: organisation, name: Pacific Neighborhood Consortium, zh: [太平洋鄰里協會]}
  - {code: ICOM, kind: organisation, name: International Council of Museums, zh: [國際博物館協會]}
  - {code: ISBN, kind: organisation, name: International ISBN Agency, zh: [國際標準書號總部]}
"""


def search_latencies(kb_root: Path, queries: list[Query], rounds: int = 3, fresh: bool = True
                     ) -> tuple[float, list[float], dict[str, int]]:
    """(first query's time, all later query times, total hits per query) of in-process search();
    ``fresh=False`` skips the look for changes in corpus/ (``--no-refresh``)."""
    from tripkb.kb import KnowledgeBase
    from tripkb.query.search import Filters, search

    kb = KnowledgeBase(kb_root)
    start = time.perf_counter()
    search(kb, queries[0].text, Filters(**queries[0].filters), 10)
    first = time.perf_counter() - start
    times: dict[str, list[float]] = {q.label(): [] for q in queries}
    totals: dict[str, int] = {}
    for _ in range(rounds):
        for q in queries:
            start = time.perf_counter()
            result = search(kb, q.text, Filters(**q.filters), 10, fresh=fresh)
            times[q.label()].append(time.perf_counter() - start)
            totals[q.label()] = result.total
    return first, times, totals


# --------------------------------------------------------------------------- profile

@dataclass
class Profile:
    docs: int = 0
    pages: int = 0
    stages: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds


def timed(profile: Profile, stage: str, fn: Callable, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    profile.add(stage, time.perf_counter() - start)
    return result


def route_table_seconds() -> float:
    """How long loading the route table of jieba's dictionary (with tripkb's user dictionary, from the
    user's cache) takes in a fresh process."""
    code = ("import time; from tripkb.index.analysis import route_table; t = time.perf_counter(); route_table(); "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True, text=True)
    return float(out.stdout.strip() or "nan")


def profile_ingest(pdfs: list[Path], workdir: Path) -> Profile:
    """Single-process ingest split into its stages, the way tripkb does each step.

    ``document_fields`` analyses the text (in tripkb it runs in the worker processes);
    the jieba and bigram shares of it are timed again on their own, field by field.
    Whoosh's ``add_document`` then only files the postings, in tripkb's writer
    (postings grouped by term, see tripkb/index/segment_writer.py).
    """
    from tripkb.index.analysis import route_table
    from tripkb.text.extract import extract
    from tripkb.fsutil import copy_atomic
    from tripkb.index.schema import GRAM_SUFFIX, TEXT_FIELDS, create_index, document_fields, schema
    from tripkb.ingest.documents import sha256_of
    from tripkb.meta.sidecar import read_sidecar, to_json, write_sidecar
    from tripkb.index.postings import analysed
    from tripkb.index.segment_writer import GroupedWriter

    prof = Profile()
    prof.add("route table load (once, fresh process)", route_table_seconds())
    route_table()
    spec = schema()
    root = workdir / "profile"
    shutil.rmtree(root, ignore_errors=True)
    (root / "corpus").mkdir(parents=True)
    ix = create_index(root / "index")
    writer = GroupedWriter(ix, limitmb=64)  # as BatchWriter opens it
    for pdf in pdfs:
        sha = timed(prof, "sha256", sha256_of, pdf)
        record, _ = timed(prof, "sidecar read+check", read_sidecar, pdf.with_suffix(".yaml"))
        extracted = timed(prof, "extract (pypdf + normalise)", extract, pdf)
        record.update(sha256=sha, pages=len(extracted.pages), file=pdf.name)
        target = root / "corpus" / pdf.name
        timed(prof, "copy + sidecar write", lambda: (copy_atomic(pdf, target),
                                                     write_sidecar(target.with_suffix(".yaml"), record)))
        fields = timed(prof, "fields (match form, zlib, analysis)", document_fields, pdf.name, "stamp",
                       to_json(record), f"corpus/{pdf.name}", extracted.pages)
        for name in TEXT_FIELDS:
            if name in fields:
                timed(prof, "  of which jieba words", analysed, spec[name], str(fields[name]))
                timed(prof, "  of which CJK bigrams", analysed, spec[name + GRAM_SUFFIX],
                      str(fields[name + GRAM_SUFFIX]))
        timed(prof, "add_document (files postings)", writer.update_document, **fields)
        prof.docs += 1
        prof.pages += len(extracted.pages)
    timed(prof, "commit (writes the segment)", writer.commit)
    ix.close()
    shutil.rmtree(root, ignore_errors=True)
    return prof


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="number of reports (default 200)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pages-min", type=int, default=20)
    ap.add_argument("--pages-max", type=int, default=50)
    ap.add_argument("--workdir", type=Path, default=BENCH / "out",
                    help="cache and scratch folder (default bench/out, git-ignored)")
    ap.add_argument("--keep", action="store_true", help="keep the run's KB, text and source folders")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="processes generating PDFs")
    ap.add_argument("--profile-docs", type=int, default=200, help="reports in the ingest profile (0: none)")
    ap.add_argument("--search-rounds", type=int, default=3, help="passes over the queries in-process")
    ap.add_argument("--search-only", action="store_true",
                    help="only the search figures, on the KB and text a run with --keep left")
    ap.add_argument("--baseline-sample", type=int, default=0,
                    help="reports the pypdf baseline extracts (default 0: all; its pages/s is the baseline)")
    args = ap.parse_args(argv)
    if args.pages_min < 2 or args.pages_max < args.pages_min:
        ap.error("need 2 <= --pages-min <= --pages-max")
    if not shutil.which("rg"):
        ap.error("ripgrep (rg) is needed for the baseline")

    py = sys.executable
    work = args.workdir.resolve()
    run_dir = work / f"run-n{args.n}-s{args.seed}-p{args.pages_min}-{args.pages_max}"
    rows: list[Row] = []
    say = lambda msg: print(f"[bench] {msg}", file=sys.stderr, flush=True)  # noqa: E731

    kb = run_dir / "kb"
    source = run_dir / "src"
    first_s, pages = 0.0, 0
    if args.search_only:
        if not (kb / "index").is_dir() or not (run_dir / "text").is_dir():
            ap.error(f"--search-only needs the KB and text a run with --keep left in {run_dir}")
    else:
        start = time.perf_counter()
        cache, made = gen.generate(args.n, args.seed, args.pages_min, args.pages_max, work, jobs=args.jobs)
        say(f"generated {made} new reports in {time.perf_counter() - start:.1f} s (cache {cache})")
        pdfs = gen.source_folder(cache, args.n, source)
        pdf_bytes = sum(p.stat().st_size for p in pdfs)

        sample = pdfs[: args.baseline_sample] if args.baseline_sample else pdfs
        say(f"baseline: bare pypdf extraction of {len(sample)} reports")
        sample_pages, pypdf_s = pypdf_baseline(sample)
        pypdf_rate = sample_pages / pypdf_s

        shutil.rmtree(kb, ignore_errors=True)
        (kb / "vocab").mkdir(parents=True)
        (kb / "vocab" / "orgs.yaml").write_text(EXTRA_ORGS, encoding="utf-8")
        say("tripkb ingest (fresh KB)")
        ingest_cmd = [py, "-m", "tripkb", "--kb", str(kb), "ingest", str(source)]
        first_s, rss, code = run_measured(ingest_cmd)
        say("tripkb ingest again (unchanged corpus)")
        again_s, rss2, code2 = run_measured(ingest_cmd)
        index_bytes = folder_bytes(kb / "index")
        pages, text_bytes = dump_text(kb, run_dir / "text")
        ingest_rate = pages / first_s
        rows += [Row("corpus", "reports / pages", f"{args.n:,} / {pages:,}",
                     f"{pages / args.n:.1f} pages/report"),
                 Row("corpus", "PDF bytes / extracted text (UTF-8)", f"{mib(pdf_bytes)} / {mib(text_bytes)}",
                     f"{text_bytes / pages:,.0f} B/page"),
                 Row("baseline", f"pypdf extract_text (1 process, {len(sample):,} reports)",
                     f"{pypdf_rate:,.1f} pages/s", f"{pypdf_s:.1f} s")]
        rows += [Row("ingest", "tripkb ingest (fresh KB, whole process)", f"{ingest_rate:,.1f} pages/s",
                     f"{first_s:.1f} s; {ingest_rate / pypdf_rate:.2f} x pypdf", ">= 0.5 x pypdf"),
                 Row("ingest", "  exit code", str(code), "" if code == 0 else "problems reported"),
                 Row("ingest", "peak RSS of ingest", mib(rss), f"re-ingest {mib(rss2)}", "<= 500 MiB"),
                 Row("ingest", "re-ingest, unchanged corpus", f"{again_s:.2f} s",
                     f"{again_s / first_s:.1%} of first run (exit {code2})", "<= 5 %"),
                 Row("size", "index size", mib(index_bytes),
                     f"{index_bytes / text_bytes:.2f} x extracted text", "<= 2 x")]

    queries = make_queries(source, args.n)
    say(f"rg -l over {args.n} text files, {sum(q.rg is not None for q in queries)} queries")
    rg = rg_times(queries, run_dir / "text")
    say(f"in-process search, {len(queries)} queries x {args.search_rounds}")
    first_q, per_query, totals = search_latencies(kb, queries, args.search_rounds)
    lat = [t for ts in per_query.values() for t in ts]
    rows += [Row("search", "in-process search(), first call", ms(first_q),
                 "imports, jieba, index open"),
             Row("search", f"in-process search() median ({len(lat)} runs)", ms(median(lat)), "",
                 "<= 50 ms"),
             Row("search", "in-process search() p95", ms(percentile(lat, 95)), "", "<= 200 ms")]
    say("in-process search without the look for changes (--no-refresh)")
    _, stale_times, _ = search_latencies(kb, queries, args.search_rounds, fresh=False)
    stale = [t for ts in stale_times.values() for t in ts]
    rows += [Row("search", "  the same with --no-refresh: median / p95",
                 f"{ms(median(stale))} / {ms(percentile(stale, 95))}", "skips the stat of every file")]

    say("whole-process tripkb search --json vs rg -l")
    cli_q = [q for q in queries if q.rg is not None][::3]
    cli = {q.label(): median(wall_time([py, "-m", "tripkb", "--kb", str(kb), "search", *q.cli_args()], 3))
           for q in cli_q}
    cli_med = median(list(cli.values()))
    cli_stale = median([median(wall_time([py, "-m", "tripkb", "--kb", str(kb), "search", *q.cli_args(),
                                          "--no-refresh"], 3)) for q in cli_q])
    rg_med = median([rg[q.label()] for q in cli_q])
    help_t = median(wall_time([py, "-m", "tripkb", "--help"], 5))
    rows += [Row("search", f"python -m tripkb search --json, median ({len(cli_q)} queries)", ms(cli_med),
                 f"rg -l {ms(rg_med)}; {cli_med / rg_med:.1f} x rg", "<= rg -l"),
             Row("search", "  the same with --no-refresh", ms(cli_stale), f"{cli_stale / rg_med:.1f} x rg"),
             Row("search", "rg -l median (all rg-able queries)", ms(median(list(rg.values())))),
             Row("cli", "python -m tripkb --help", ms(help_t), "", "<= 300 ms")]

    prof = None
    if args.profile_docs and not args.search_only:
        subset = sorted(source.glob("*.pdf"))[: args.profile_docs]
        say(f"profile of ingest over {len(subset)} reports (single process)")
        prof = profile_ingest(subset, run_dir)

    print_report(args, rows, prof, first_s, pages, queries, totals, per_query, cli, rg)
    if not args.keep and not args.search_only:
        shutil.rmtree(run_dir, ignore_errors=True)
    return 0


def print_report(args, rows: list[Row], prof: Profile | None, ingest_s: float, pages: int,
                 queries: list[Query], totals: dict[str, int], per_query: dict[str, list[float]],
                 cli: dict[str, float], rg: dict[str, float]) -> None:
    """The results: the main table, per-query figures and the ingest profile."""
    print(f"tripkb bench: N={args.n} reports, seed {args.seed}, {args.pages_min}-{args.pages_max} pages, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    widths = [max(len(r.metric) for r in rows), max(len(r.value) for r in rows),
              max(len(r.compare) for r in rows)]
    header = f"{'':9}{'metric':{widths[0]}}  {'value':>{widths[1]}}  {'comparison':{widths[2]}}  target"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r.section:9}{r.metric:{widths[0]}}  {r.value:>{widths[1]}}  {r.compare:{widths[2]}}  {r.target}")
    print()
    print("per query: hits | in-process median | whole process | rg -l")
    for q in queries:
        label = q.label()
        inproc = ms(median(per_query[label])) if per_query.get(label) else "-"
        whole = ms(cli[label]) if label in cli else "-"
        base = ms(rg[label]) if label in rg else "-"
        print(f"  {pad(label, 40)} {totals.get(label, 0):>6}  {inproc:>10}  {whole:>10}  {base:>10}")
    if prof is None:
        return
    total = sum(v for k, v in prof.stages.items() if not k.startswith("  "))
    print()
    print(f"ingest profile: {prof.docs} reports, {prof.pages:,} pages, one process, "
          f"{total:.1f} s = {prof.pages / total:,.1f} pages/s "
          f"(the whole-process ingest ran at {pages / ingest_s:,.1f} pages/s)")
    for stage, seconds in prof.stages.items():
        share = "" if stage.startswith("  ") else f"{seconds / total:6.1%}"
        print(f"  {stage:42} {seconds:8.2f} s  {seconds / prof.pages * 1000:7.2f} ms/page  {share}")


if __name__ == "__main__":
    raise SystemExit(main())
