"""A document read alone is read a range of pages a worker: the parts joined are what one reader
makes of the whole, text, page verdicts and postings alike."""

from __future__ import annotations

import pytest

from tripkb.ingest.documents import _read_analysed, ingest
from tripkb.ingest.page_ranges import joined, read_in_parts, read_part
from tripkb.kb import KnowledgeBase
from tripkb.query.search import search
from tripkb.text.extract import choose
from tripkb.text.normalise import match_form

from conftest import SHARED_PDFS
from reports import ALA_2008, IFLA_2007, MAINLAND_PAPER

MISSING = "OCR skipped (--no-ocr)"


def summary(got):
    body = {name: (str(value), sorted(value.postings)) for name, value in (got.body or {}).items()}
    return (got.pages, got.problems, got.flag, got.warnings, got.info_title, got.info_author, got.final, body)


def in_parts(path, parts):
    return joined([read_part(path, (k, parts), False, MISSING) for k in range(parts)], MISSING)


@pytest.mark.parametrize("engine", ["pypdf", "pypdfium2"])
def test_parts_joined_are_the_whole(tmp_path, pdf_maker, monkeypatch, engine):
    monkeypatch.setattr("tripkb.text.extract._engine", engine)
    # Mixed scripts, a blank page and a garbage one (one glyph mapped for all), pages of unequal length.
    garbage = "轉轉︰針針針針針針針針針針針針"
    pdf = pdf_maker(tmp_path / "r.pdf", IFLA_2007 + ["", garbage] + ALA_2008 * 2 + MAINLAND_PAPER,
                    title="參加IFLA年會報告")
    whole = _read_analysed(pdf, False, MISSING)
    assert whole.body and whole.warnings and match_form(garbage) not in whole.body["body"]  # garbage left out
    for parts in (2, 3, len(whole.pages) + 2):  # more parts than pages: some are empty
        assert summary(in_parts(pdf, parts)) == summary(whole), parts


@pytest.mark.skipif(not SHARED_PDFS.is_dir(), reason="needs the real-world PDFs beside the repository")
def test_real_world_pdfs_in_parts_are_the_whole():
    choose("pypdfium2")
    for pdf in sorted(SHARED_PDFS.glob("*.pdf")):
        assert summary(in_parts(pdf, 2)) == summary(_read_analysed(pdf, False, MISSING)), pdf.name


def test_pages_awaiting_ocr_come_back_unanalysed(tmp_path, pdf_maker):
    pdf = pdf_maker(tmp_path / "r.pdf", IFLA_2007 + ["", ""])
    [(_, got)] = read_in_parts(pdf, 2, False, None)  # None: OCR is to come
    assert not got.final and got.body is None and sorted(got.problems) == [len(IFLA_2007) + 1, len(IFLA_2007) + 2]


def test_a_pdf_ingested_alone_is_as_one_reader_makes_it(tmp_path, pdf_maker):
    pdf = pdf_maker(tmp_path / "in" / "report.pdf", IFLA_2007 * 3 + ALA_2008)
    parts = KnowledgeBase.locate(tmp_path / "parts", create=True)
    assert ingest(parts, [pdf], ocr="off").added == ["corpus/report.pdf"]
    whole = KnowledgeBase.locate(tmp_path / "whole", create=True)
    ingest(whole, [pdf], ocr="off", workers=0)  # in this process, the whole at once
    assert {p.name: p.read_bytes() for p in parts.corpus.iterdir()} == \
        {p.name: p.read_bytes() for p in whole.corpus.iterdir()}
    for query in ("國際圖書館協會聯盟", "美國圖書館學會", "annual conference"):
        assert search(parts, query).to_json() == search(whole, query).to_json()
