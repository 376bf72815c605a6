"""Word originals: .docx by python-docx, legacy .doc by antiword; ingested like PDFs, hits without page numbers."""

import shutil
from pathlib import Path

import pytest
import yaml

from tripkb.ingest.documents import ingest
from tripkb.query.search import get, search

from conftest import empty_path, run_cli

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DOC = FIXTURES / "ifla-2010.doc"
needs_antiword = pytest.mark.skipif(shutil.which("antiword") is None,
                                    reason="needs antiword to read .doc files: apt-get install antiword")


def make_docx(path: Path) -> Path:
    docx = pytest.importorskip("docx", reason="needs python-docx: pip install 'tripkb[word]'")
    document = docx.Document()
    document.add_paragraph("出國報告（出國類別：研究）")
    document.add_paragraph("赴德國柏林國家圖書館研究古籍修復技術")
    table = document.add_table(rows=2, cols=2)
    for row, (label, value) in zip(table.rows, [("派赴國家", "德國"), ("出國期間", "民國100年3月1日至100年3月20日")]):
        row.cells[0].text, row.cells[1].text = label, value
    document.add_paragraph("心得：紙張脫酸與修復用和紙之選用，值得本館參考。")
    document.core_properties.title = "赴德國研究古籍修復出國報告"
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def test_docx_is_ingested_like_a_pdf_and_hits_have_no_pages(empty_kb, tmp_path):
    make_docx(tmp_path / "in" / "berlin.docx")
    report = ingest(empty_kb, [tmp_path / "in"])
    assert report.problems == [] and report.added == ["corpus/berlin.docx"]
    sidecar = yaml.safe_load((empty_kb.corpus / "berlin.yaml").read_text(encoding="utf-8"))
    assert sidecar["file"] == "berlin.docx"
    assert "pages" not in sidecar  # a Word file has no fixed pages to count
    # the cover is read as from a PDF's first page, its table included
    assert sidecar["title"] == "赴德國柏林國家圖書館研究古籍修復技術" and sidecar["category"] == "研究"
    assert sidecar["countries"] == ["德國"] and str(sidecar["trip"]["start"]) == "2011-03-01"
    hit = search(empty_kb, "和紙").hits[0]
    assert (hit.id, hit.file, hit.pages) == ("berlin", "corpus/berlin.docx", [])
    assert "和紙" in hit.snippet
    assert search(empty_kb, "民國100年3月1日").total == 1  # table cells are text too
    assert get(empty_kb, "berlin").paged is False


@needs_antiword
def test_legacy_doc_is_ingested_and_searchable(empty_kb, tmp_path):
    shutil.copy(DOC, tmp_path / "ifla-2010.doc")
    report = ingest(empty_kb, [tmp_path])
    assert report.problems == [] and report.added == ["corpus/ifla-2010.doc"]
    sidecar = yaml.safe_load((empty_kb.corpus / "ifla-2010.yaml").read_text(encoding="utf-8"))
    assert "pages" not in sidecar
    assert sidecar["title"] == "參加2010年國際圖書館協會聯盟(IFLA)年會報告"  # read from the cover
    assert sidecar["authors"] == ["陳美玲"] and sidecar["countries"] == ["瑞典"] and sidecar["year"] == 2010
    hit = search(empty_kb, "哥德堡").hits[0]
    assert (hit.file, hit.pages) == ("corpus/ifla-2010.doc", [])
    assert search(empty_kb, "瑞典国家图书馆").total == 1


def test_without_antiword_a_doc_is_kept_and_says_what_to_install(tmp_path):
    shutil.copy(DOC, tmp_path / "ifla-2010.doc")
    kb = tmp_path / "kb"
    done = run_cli("--kb", str(kb), "ingest", str(tmp_path / "ifla-2010.doc"), path=empty_path(tmp_path))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: corpus/ifla-2010.doc: cannot read .doc files: apt-get install antiword "
        "(then run 'tripkb reindex') (indexed from its metadata only)"]
    assert (kb / "corpus" / "ifla-2010.doc").read_bytes() == DOC.read_bytes()


def test_files_that_are_not_word_documents_are_refused(empty_kb, tmp_path):
    (tmp_path / "notes.doc").write_text("{\\rtf1 這其實是 RTF}", encoding="utf-8")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    report = ingest(empty_kb, [tmp_path])
    reasons = {Path(p.path).name: p.reason for p in report.problems}
    assert reasons["notes.doc"].startswith("not a Word 97–2003 .doc file (no OLE2 header")
    assert reasons["broken.docx"].startswith("damaged or unreadable .docx")
    assert report.added == [] and list(empty_kb.corpus.iterdir()) == []


def test_word_documents_beside_their_sidecars_are_found_in_the_corpus(empty_kb, tmp_path):
    make_docx(empty_kb.corpus / "berlin.docx")
    (empty_kb.corpus / "berlin.yaml").write_text("id: C10000001\ntype: report\n", encoding="utf-8")
    assert search(empty_kb, "和紙").hits[0].file == "corpus/berlin.docx"
