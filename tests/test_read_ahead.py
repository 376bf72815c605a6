"""The read-ahead: the text layer of the documents named, read on the idle core from the moment the
command is parsed, and taken by the workers (a PDF named alone, range by range) instead of reading
those files again; stopped when they start, whatever it was reading dropped, with nothing different
in the knowledge base."""

from __future__ import annotations

import os
import time
from functools import partial

from tripkb.ingest import documents, page_ranges
from tripkb.ingest.documents import ingest
from tripkb.ingest.read_ahead import already_read, documents_named, reading_ahead
from tripkb.kb import KnowledgeBase
from tripkb.query.search import search
from tripkb.text import extract
from tripkb.workers import default_workers

from hostile import slow_pdf
from reports import ALA_2008, IFLA_2007, MAINLAND_PAPER


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


def test_a_pdf_named_alone_is_read_in_the_ranges_its_workers_take(tmp_path, pdf_maker):
    pdf = pdf_maker(tmp_path / "long.pdf", IFLA_2007 + ALA_2008 + MAINLAND_PAPER)
    cores = default_workers()
    with reading_ahead([pdf], None) as ahead:
        until(lambda: len(read_files(ahead)) == (cores if cores > 1 else 1))
        ahead.stop()
        if cores > 1:
            for k in range(cores):
                assert already_read(ahead.folder, pdf, (k, cores)) == extract.read(pdf, False, (k, cores))
            assert already_read(ahead.folder, pdf) is None
        else:
            assert already_read(ahead.folder, pdf) == extract.read(pdf)


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
    """An ingest of ``paths`` with a reader started first, the route table's load held back until
    the reader has left ``until_read`` files."""
    preload = documents.preload
    with reading_ahead(paths, None, "off") as ahead:
        def slow_preload() -> None:
            until(lambda: len(read_files(ahead)) >= until_read)
            preload()

        monkeypatch.setattr(documents, "preload", slow_preload)
        report = ingest(kb, paths, workers=2, ocr="off", ahead=ahead)
    monkeypatch.setattr(documents, "preload", preload)
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
    assert not ingested_with_reader(monkeypatch, kb, [pdf], until_read=2).problems
    reads = [line.split(maxsplit=2) for line in log.read_text(encoding="utf-8").splitlines()]
    assert sorted(part for _, _, part in reads) == ["(0, 2)", "(1, 2)"]  # by the reader alone, each range once
    assert len({pid for pid, _, _ in reads}) == 1

    here = KnowledgeBase.locate(tmp_path / "here", create=True)
    assert not ingest(here, [pdf], workers=0, ocr="off").problems
    same_kb(kb, here, ["國際圖書館協會聯盟", "美國圖書館學會", "图书馆"])
