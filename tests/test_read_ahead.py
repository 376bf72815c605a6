"""The read-ahead: the text layer of the first documents read on the idle core while the route table
loads, and taken by the workers instead of reading those files again; stopped at once, whatever it
was reading dropped, with nothing different in the knowledge base."""

from __future__ import annotations

import os
import time
from functools import partial

from tripkb.ingest import documents
from tripkb.ingest.documents import ingest
from tripkb.ingest.read_ahead import already_read, read_ahead
from tripkb.kb import KnowledgeBase
from tripkb.query.search import search
from tripkb.text.extract import read_final

from hostile import slow_pdf
from reports import ALA_2008, IFLA_2007, MAINLAND_PAPER

MISSING = "OCR skipped (--no-ocr)"


def until(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the reader did not get there in time"
        time.sleep(0.02)


def test_the_reader_leaves_what_the_workers_would_read(tmp_path, pdf_maker):
    kb = KnowledgeBase.locate(tmp_path / "kb", create=True)
    pdfs = [pdf_maker(tmp_path / f"r{n}.pdf", text) for n, text in enumerate([IFLA_2007, ALA_2008, MAINLAND_PAPER])]
    read = partial(read_final, force_ocr=False, missing=MISSING)
    with read_ahead(kb, pdfs, read) as reader:
        until(lambda: len(list(reader.folder.glob("*.read"))) == 3)
        reader.stop()
        for pdf in pdfs:
            got = already_read(reader.folder, pdf)
            assert got == read(pdf) and got.final and got.pages[0]
        assert already_read(reader.folder, tmp_path / "never.pdf") is None
        folder = reader.folder
    assert not folder.exists()  # removed with the block
    assert already_read(None, pdfs[0]) is None


def test_a_document_being_read_when_the_reader_stops_is_left_to_the_worker(tmp_path, pdf_maker):
    kb = KnowledgeBase.locate(tmp_path / "kb", create=True)
    first = pdf_maker(tmp_path / "first.pdf", IFLA_2007)
    slow = slow_pdf(tmp_path / "slow.pdf", pages=4, megabytes=20)
    with read_ahead(kb, [first, slow], partial(read_final, force_ocr=False, missing=MISSING)) as reader:
        until(lambda: already_read(reader.folder, first) is not None)
        time.sleep(0.3)  # well into the slow one
        reader.stop()
        assert already_read(reader.folder, slow) is None
        assert [p.suffix for p in reader.folder.iterdir() if p.suffix in (".read", ".part")] in ([".read"], [".read", ".part"])


def reads_logged(log, path, *args, **kwargs):
    """read_final, each call noted (in whichever process makes it)."""
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()} {path.name}\n")
    return read_final(path, *args, **kwargs)


def test_an_ingest_takes_what_the_reader_read_and_the_kb_is_as_one_by_one(tmp_path, pdf_maker, monkeypatch):
    texts = [IFLA_2007, ALA_2008, MAINLAND_PAPER, IFLA_2007 + ALA_2008, ALA_2008 * 3, MAINLAND_PAPER + IFLA_2007]
    pdfs = [pdf_maker(tmp_path / "in" / f"r{n}.pdf", text) for n, text in enumerate(texts)]
    (tmp_path / "in" / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%%EOF\n")
    log = tmp_path / "reads.log"
    monkeypatch.setattr(documents, "read_final", partial(reads_logged, log))
    kb = KnowledgeBase.locate(tmp_path / "ahead", create=True)
    preload = documents.preload

    def slow_preload() -> None:  # the table takes its time: the reader gets through the first four
        until(lambda: len(list(kb.root.glob("index.ahead-*/*.read"))) >= 4)
        preload()

    monkeypatch.setattr(documents, "preload", slow_preload)
    report = ingest(kb, [tmp_path / "in"], workers=2, ocr="off")
    reads = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    assert sorted(name for _, name in reads) == sorted(["broken.pdf"] * 2 + [p.name for p in pdfs])  # each once
    assert len({pid for pid, name in reads if name in ("r0.pdf", "r1.pdf", "r2.pdf", "r3.pdf")}) == 1  # the reader
    assert [str(p) for p in report.problems] == [f"{tmp_path / 'in' / 'broken.pdf'}: damaged or unreadable PDF "
                                                 "(Failed to load document (PDFium: Data format error).)"]
    assert not list(kb.root.glob("index.ahead-*"))

    monkeypatch.setattr(documents, "preload", preload)
    here = KnowledgeBase.locate(tmp_path / "here", create=True)
    assert [str(p) for p in ingest(here, [tmp_path / "in"], workers=0, ocr="off").problems] == \
        [str(p) for p in report.problems]
    assert {p.name: p.read_bytes() for p in kb.corpus.iterdir()} == {p.name: p.read_bytes() for p in here.corpus.iterdir()}
    for query in ["國際圖書館協會聯盟", "美國圖書館學會", "图书馆", "annual conference"]:
        assert search(kb, query, limit=50).to_json() == search(here, query, limit=50).to_json(), query
