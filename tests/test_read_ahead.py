"""The read-ahead: the text layer of the documents named, read on the idle core from the moment the
command is parsed, and taken by the workers (a PDF named alone, range by range) instead of reading
those files again; stopped when they start, whatever it was reading dropped, with nothing different
in the knowledge base."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from functools import partial

from tripkb.ingest import documents, page_ranges
from tripkb.ingest.documents import ingest
from tripkb.ingest.read_ahead import SUBPARTS, already_read, documents_named, jobs_for, keep, reading_ahead
from tripkb.kb import KnowledgeBase
from tripkb.query.search import search
from tripkb.text import extract
from tripkb.workers import default_workers

from conftest import REPO, small_disk, tripkb_env
from hostile import slow_pdf
from reports import ALA_2008, IFLA_2007, MAINLAND_PAPER


MISSING = "OCR skipped (--no-ocr)"


def until(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the reader did not get there in time"
        time.sleep(0.02)


def read_files(ahead) -> list:
    return list(ahead.folder.glob("*.read"))


def test_the_reader_reads_what_ingest_would_in_its_order(tmp_path, pdf_maker):
    folder = tmp_path / "in"
    pdfs = [pdf_maker(folder / f"r{n}.pdf", text) for n, text in enumerate([IFLA_2007, ALA_2008, MAINLAND_PAPER])]
    (folder / "r0.yaml").write_text("title: 參加IFLA年會\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not a document", encoding="utf-8")
    assert documents_named([folder, pdfs[1], tmp_path / "missing.pdf"]) == pdfs
    with reading_ahead([folder], None, "off") as ahead:
        until(lambda: len(read_files(ahead)) == 3)
        ahead.stop()
        for pdf in pdfs:
            got = already_read(ahead.folder, pdf)
            assert got == extract.read(pdf) and not got.final and got.pages[0]
        assert already_read(ahead.folder, tmp_path / "never.pdf") is None
        kept = ahead.folder
    assert not kept.exists()  # removed with the block
    assert already_read(None, pdfs[0]) is None


def test_no_reader_when_its_text_would_not_be_used(tmp_path, pdf_maker):
    pdf = pdf_maker(tmp_path / "r.pdf", IFLA_2007)
    for ocr, on_cluster in [("force", False), ("auto", True)]:
        with reading_ahead([pdf], None, ocr, on_cluster) as ahead:
            assert ahead is None
    with reading_ahead([tmp_path / "nothing-here"], None) as ahead:
        assert ahead is None


def test_a_pdf_named_alone_is_read_in_small_ranges_of_its_workers_parts(tmp_path, pdf_maker):
    pdf = pdf_maker(tmp_path / "long.pdf", IFLA_2007 + ALA_2008 + MAINLAND_PAPER)
    cores = default_workers()
    n = cores * SUBPARTS
    # A range of each worker's part in turn: stopped early, both find about as much read.
    assert jobs_for([pdf], 2)[:4] == [(pdf, (0, 16)), (pdf, (8, 16)), (pdf, (1, 16)), (pdf, (9, 16))] \
        and SUBPARTS == 8 and len(jobs_for([pdf], 2)) == 16
    assert jobs_for([pdf, pdf], 2) == [(pdf, (0, 1))] * 2 and jobs_for([pdf], 1) == [(pdf, (0, 1))]
    with reading_ahead([pdf], None) as ahead:
        until(lambda: len(read_files(ahead)) == (n if cores > 1 else 1))
        ahead.stop()
        if cores > 1:
            for j in range(n):
                assert already_read(ahead.folder, pdf, (j, n)) == extract.read(pdf, False, (j, n))
            assert already_read(ahead.folder, pdf) is None
        else:
            assert already_read(ahead.folder, pdf) == extract.read(pdf)


def test_a_worker_reads_the_ranges_of_its_part_the_reader_did_not_in_runs(tmp_path, pdf_maker, monkeypatch):
    garbage = "轉轉︰針針針針針針針針針針針針"  # a page the garbage check blanks
    pdf = pdf_maker(tmp_path / "long.pdf", IFLA_2007 + ["", garbage] + ALA_2008 * 3 + MAINLAND_PAPER)
    asked = []
    monkeypatch.setattr(page_ranges, "read", lambda path, force, part: asked.append(part) or extract.read(path, force, part))
    for left in [(), (8, 9, 10, 11, 12, 13, 14, 15), (8, 10, 11, 15), (9, 14)]:
        folder = tmp_path / f"ahead-{len(left)}-{left[:1]}"
        folder.mkdir()
        for j in left:
            keep(folder, pdf, (j, 16), extract.read(pdf, False, (j, 16)))
        asked.clear()
        got = page_ranges.read_part(pdf, (1, 2), False, MISSING, ahead=folder)
        assert asked == {(): [(8, 16, 16)], (8, 9, 10, 11, 12, 13, 14, 15): [], (8, 10, 11, 15): [(9, 10, 16), (12, 15, 16)],
                         (9, 14): [(8, 9, 16), (10, 14, 16), (15, 16, 16)]}[left]
        assert got == page_ranges.read_part(pdf, (1, 2), False, MISSING), left


def test_a_document_being_read_when_the_reader_stops_is_left_to_the_worker(tmp_path, pdf_maker):
    first = pdf_maker(tmp_path / "in" / "a.pdf", IFLA_2007)
    slow = slow_pdf(tmp_path / "in" / "b.pdf", pages=4, megabytes=20)
    with reading_ahead([tmp_path / "in"], None) as ahead:
        until(lambda: already_read(ahead.folder, first) is not None)
        time.sleep(0.3)  # well into the slow one
        ahead.stop()
        assert already_read(ahead.folder, slow) is None
        assert [p.suffix for p in ahead.folder.iterdir()] in ([".read"], [".read", ".part"])


def reads_logged(log, real, path, *args, **kwargs):
    """extract.read, each call noted (in whichever process makes it) with the pages it was asked for."""
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()} {path.name} {args[1] if len(args) > 1 else (0, 1)}\n")
    return real(path, *args, **kwargs)


def ingested_with_reader(monkeypatch, kb, paths, until_read: int):
    """An ingest of ``paths`` with a reader started first, what is loaded before the workers are
    forked (the route table above all) held back until the reader has left ``until_read`` files."""
    before_fork = documents.before_fork
    with reading_ahead(paths, None, "off") as ahead:
        def slow_before_fork(vocab) -> None:
            until(lambda: len(read_files(ahead)) >= until_read)
            before_fork(vocab)

        monkeypatch.setattr(documents, "before_fork", slow_before_fork)
        report = ingest(kb, paths, workers=2, ocr="off", ahead=ahead)
    monkeypatch.setattr(documents, "before_fork", before_fork)
    return report


def same_kb(kb, here, queries) -> None:
    assert {p.name: p.read_bytes() for p in kb.corpus.iterdir()} == {p.name: p.read_bytes() for p in here.corpus.iterdir()}
    for query in queries:
        assert search(kb, query, limit=50).to_json() == search(here, query, limit=50).to_json(), query


def test_an_ingest_takes_what_the_reader_read_and_the_kb_is_as_one_by_one(tmp_path, pdf_maker, monkeypatch):
    texts = [IFLA_2007, ALA_2008, MAINLAND_PAPER, IFLA_2007 + ALA_2008, ALA_2008 * 3, MAINLAND_PAPER + IFLA_2007]
    pdfs = [pdf_maker(tmp_path / "in" / f"r{n}.pdf", text) for n, text in enumerate(texts)]
    (tmp_path / "in" / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%%EOF\n")
    log = tmp_path / "reads.log"
    monkeypatch.setattr(extract, "read", partial(reads_logged, log, extract.read))
    kb = KnowledgeBase.locate(tmp_path / "ahead", create=True)
    report = ingested_with_reader(monkeypatch, kb, [tmp_path / "in"], until_read=4)  # broken.pdf is never left
    reads = [line.split(maxsplit=2) for line in log.read_text(encoding="utf-8").splitlines()]
    # Each read once; the broken one by the reader and by its worker, which says why.
    assert sorted(name for _, name, _ in reads) == sorted(["broken.pdf"] * 2 + [p.name for p in pdfs])
    assert len({pid for pid, name, _ in reads if name in ("r0.pdf", "r1.pdf", "r2.pdf", "r3.pdf")}) == 1  # the reader
    assert [str(p) for p in report.problems] == [f"{tmp_path / 'in' / 'broken.pdf'}: damaged or unreadable PDF "
                                                 "(Failed to load document (PDFium: Data format error).)"]

    here = KnowledgeBase.locate(tmp_path / "here", create=True)
    assert [str(p) for p in ingest(here, [tmp_path / "in"], workers=0, ocr="off").problems] == \
        [str(p) for p in report.problems]
    same_kb(kb, here, ["國際圖書館協會聯盟", "美國圖書館學會", "图书馆", "annual conference"])


def test_a_pdf_named_alone_is_taken_range_by_range_and_the_kb_is_as_one_by_one(tmp_path, pdf_maker, monkeypatch):
    pdf = pdf_maker(tmp_path / "in" / "long.pdf", IFLA_2007 + ALA_2008 * 2 + MAINLAND_PAPER)
    log = tmp_path / "reads.log"
    monkeypatch.setattr(extract, "read", partial(reads_logged, log, extract.read))
    monkeypatch.setattr(page_ranges, "read", extract.read)
    monkeypatch.setattr("tripkb.ingest.read_ahead.default_workers", lambda: 2)
    kb = KnowledgeBase.locate(tmp_path / "ahead", create=True)
    assert not ingested_with_reader(monkeypatch, kb, [pdf], until_read=16).problems
    reads = [line.split(maxsplit=2) for line in log.read_text(encoding="utf-8").splitlines()]
    assert sorted(part for _, _, part in reads) == sorted(f"({j}, 16)" for j in range(16))  # by the reader alone, once each
    assert len({pid for pid, _, _ in reads}) == 1

    here = KnowledgeBase.locate(tmp_path / "here", create=True)
    assert not ingest(here, [pdf], workers=0, ocr="off").problems
    same_kb(kb, here, ["國際圖書館協會聯盟", "美國圖書館學會", "图书馆"])


def test_the_command_reads_ahead_in_a_private_folder_it_removes(tmp_path, pdf_maker):
    """Through the command line: the reader's folder is in the system's temporary folder while
    the command runs (a PDF slow to read with pypdf keeps it running), and gone when it ends; with no room for
    it, the command ingests all the same."""
    folder = tmp_path / "in"
    for n, text in enumerate([IFLA_2007, ALA_2008, MAINLAND_PAPER]):
        pdf_maker(folder / f"r{n}.pdf", text)
    slow_pdf(folder / "z.pdf")
    temp = tmp_path / "temp"
    temp.mkdir()
    env = tripkb_env(PYTHONPATH=str(REPO), TMPDIR=str(temp), TRIPKB_EXTRACT_TIMEOUT="3")
    command = [sys.executable, "-m", "tripkb", "--kb", str(tmp_path / "kb"), "ingest", "--no-ocr", "--extractor", "pypdf",
               str(folder)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    until(lambda: list(temp.glob("tripkb-ahead-*")) or proc.poll() is not None)
    seen = [p.name.startswith("tripkb-ahead-") and oct(p.stat().st_mode & 0o777) for p in temp.glob("tripkb-ahead-*")]
    _, err = proc.communicate(timeout=300)
    assert seen == ["0o700"]  # private to the user
    assert proc.returncode == 1 and err.splitlines() == [
        f"Error: {folder / 'z.pdf'}: took longer than 3 s to read (stopped; set TRIPKB_EXTRACT_TIMEOUT to allow more)"]
    assert not list(temp.glob("tripkb-ahead-*"))

    temp.chmod(0o500)  # nowhere to put what it reads: no reader
    try:
        (folder / "z.pdf").unlink()
        done = subprocess.run([*command[:4], str(tmp_path / "kb2"), *command[5:]], env=env, capture_output=True,
                              text=True, encoding="utf-8", timeout=300)
    finally:
        temp.chmod(0o700)
    assert done.returncode == 0, done.stderr
    assert [hit.id for hit in search(KnowledgeBase(tmp_path / "kb2"), "國際圖書館協會聯盟").hits] == \
        [hit.id for hit in search(KnowledgeBase(tmp_path / "kb"), "國際圖書館協會聯盟").hits] != []


def test_a_reader_out_of_room_or_interrupted_says_nothing(tmp_path, pdf_maker):
    """The temporary folder fills up: the reader stops, without a traceback, and the workers read
    the rest; the reader leaves Ctrl-C to the command."""
    folder = tmp_path / "in"
    for n, text in enumerate([IFLA_2007 * 3, ALA_2008 * 3, MAINLAND_PAPER * 3, IFLA_2007 + ALA_2008]):
        pdf_maker(folder / f"r{n}.pdf", text)
    with small_disk(tmp_path, "12k") as temp:
        env = tripkb_env(PYTHONPATH=str(REPO), TMPDIR=str(temp))
        done = subprocess.run([sys.executable, "-m", "tripkb", "--kb", str(tmp_path / "kb"), "ingest", "--no-ocr",
                               str(folder)], env=env, capture_output=True, text=True, encoding="utf-8", timeout=300)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        assert not list(temp.iterdir())
    here = KnowledgeBase.locate(tmp_path / "here", create=True)
    assert not ingest(here, [folder], workers=0, ocr="off").problems
    same_kb(KnowledgeBase(tmp_path / "kb"), here, ["國際圖書館協會聯盟", "图书馆"])

    slow_pdf(folder / "z.pdf", pages=4, megabytes=20)
    with reading_ahead([folder], "pypdf") as ahead:  # SIGINT, as Ctrl-C sends the whole group
        until(lambda: len(read_files(ahead)) == 4)  # now well into the slow one
        os.kill(ahead.process.pid, signal.SIGINT)
        time.sleep(0.5)
        assert ahead.process.is_alive()


def test_what_the_reader_of_a_command_killed_outright_left_is_cleared_by_the_next(tmp_path, pdf_maker, monkeypatch):
    pdf = pdf_maker(tmp_path / "r.pdf", IFLA_2007)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = temp / f"tripkb-ahead-{int(gone.stdout)}-x1"  # its command's process is gone
    live = temp / f"tripkb-ahead-{os.getpid()}-x2"  # another command, still running
    for folder in (stale, live):
        folder.mkdir()
        (folder / "a.read").write_bytes(b"text")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("a user's file", encoding="utf-8")
    (temp / f"tripkb-ahead-{int(gone.stdout)}-x3").symlink_to(elsewhere)  # never followed
    with reading_ahead([pdf], None) as ahead:
        assert ahead.folder.parent == temp and ahead.folder.name.startswith(f"tripkb-ahead-{os.getpid()}-")
    assert not stale.exists() and (live / "a.read").exists() and (elsewhere / "keep.txt").exists()
    assert sorted(p.name for p in temp.iterdir()) == [live.name, f"tripkb-ahead-{int(gone.stdout)}-x3"]
