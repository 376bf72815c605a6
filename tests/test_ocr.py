"""Scanned and garbled PDFs: OCR with Tesseract when installed, a flag that says what to install when not."""

import os
import shutil
from pathlib import Path

import pytest
import yaml

from tripkb.index.sync import sync
from tripkb.ingest.documents import ingest
from tripkb.query.search import search
from tripkb.text.extract import extract
from tripkb.text.ocr import Engine, Ocr, probe
from tripkb.text.page_quality import GARBAGE, NO_TEXT, page_problem

from conftest import SHARED_PDFS, empty_path, run_cli
from reports import IFLA_2007

ENGINE = probe()
needs_tesseract = pytest.mark.skipif(
    not isinstance(ENGINE, Engine), reason=f"needs Tesseract with Traditional Chinese: {ENGINE}")

SCAN = [["出國報告（出國類別：考察）", "赴日本東京考察公共圖書館"],
        ["本館同仁參訪東京都立中央圖書館", "了解其數位典藏與閱讀推廣"]]
NO_TESSERACT = ("no text layer — scanned? needs OCR; Tesseract is not installed: "
                "apt-get install tesseract-ocr tesseract-ocr-chi-tra (indexed from its metadata only)")
# What each engine cannot read: pypdfium2 gets XiaoBiaoSong and issue3521 right, pypdf does not.
GARBLED = [("pypdf", name) for name in ("XiaoBiaoSong.pdf", "issue2884_reduced.pdf", "issue3521.pdf",
                                        "issue4061.pdf", "issue7696.pdf")] + \
          [("pypdfium2", name) for name in ("issue2884_reduced.pdf", "issue4061.pdf", "issue7696.pdf")]


@pytest.fixture
def engine():
    """Choose the PDF extractor for one test, and go back to the default after it."""
    from tripkb.text import extract as ex

    def choose(name: str) -> str:
        if name == "pypdfium2":
            pytest.importorskip("pypdfium2", reason="needs pypdfium2: pip install 'tripkb[fast]'")
        return ex.choose(name)

    yield choose
    ex.choose("auto")


def shared_pdf(name: str) -> Path:
    path = SHARED_PDFS / name
    if not path.exists():
        pytest.skip(f"the real-world PDFs are not here ({SHARED_PDFS}); they live beside the repository")
    return path


def test_page_problem_tells_scans_and_garbage_from_text():
    assert page_problem("") == NO_TEXT
    assert page_problem("- 3 -") == NO_TEXT  # a scanner's stamped page number is not a text layer
    assert page_problem("本館同仁出席於南非德班舉行之年會，參與書目控制組會議。") is None
    assert page_problem("Ä¿ ¡¡ ¡¡ Â1⁄4 1Ø ÓÚ oì 3⁄4ü ×÷ Õ1⁄2 μÄ Ô Ôò £± ¡­ ¡­") == GARBAGE  # GBK read as Latin-1
    assert page_problem("\ufffd" * 40 + "年會") == GARBAGE
    assert page_problem("轉轉︰針針針針針針針針針針針針") == GARBAGE  # one glyph mapped for all
    assert page_problem("參加 IFLA 年會，拜會 Réseau des bibliothèques 與 Zoë Müller 館長。") is None


@needs_tesseract
def test_scanned_pdf_is_ocred_and_its_words_are_found(empty_kb, tmp_path, scan_maker):
    scan_maker(tmp_path / "in" / "tokyo.pdf", SCAN)
    seen: list[str] = []
    report = ingest(empty_kb, [tmp_path / "in"], lambda done, total, label: seen.append(label))
    assert report.problems == [] and report.added == ["corpus/tokyo.pdf"]
    sidecar = yaml.safe_load((empty_kb.corpus / "tokyo.yaml").read_text(encoding="utf-8"))
    assert sidecar["ocr"] == {"engine": ENGINE.name, "languages": ENGINE.languages, "pages": [1, 2]}
    assert sidecar["pages"] == 2 and sidecar["title"].startswith("出國報告")
    hit = search(empty_kb, "東京都立中央圖書館").hits[0]
    assert (hit.id, hit.file, hit.pages) == ("tokyo", "corpus/tokyo.pdf", [2])
    assert search(empty_kb, "东京 公共图书馆").total == 1  # either script, like any text
    assert "tokyo.pdf: OCR page 2/2" in seen


@needs_tesseract
def test_only_pages_without_text_are_ocred(empty_kb, tmp_path, pdf_maker, scan_maker):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.append(str(pdf_maker(tmp_path / "text.pdf", IFLA_2007[:1])))
    writer.append(str(scan_maker(tmp_path / "scan.pdf", SCAN[1:])))
    (tmp_path / "in").mkdir()
    writer.write(str(tmp_path / "in" / "mixed.pdf"))
    assert ingest(empty_kb, [tmp_path / "in"]).problems == []
    sidecar = yaml.safe_load((empty_kb.corpus / "mixed.yaml").read_text(encoding="utf-8"))
    assert sidecar["ocr"]["pages"] == [2]
    assert search(empty_kb, "閱讀推廣").hits[0].pages == [2]
    assert search(empty_kb, "南非").hits[0].pages == [1]


@needs_tesseract
def test_ocr_runs_once_per_file_and_a_reindex_reuses_it(empty_kb, tmp_path, scan_maker, monkeypatch):
    real = shutil.which("tesseract")
    log = tmp_path / "calls.log"
    wrapper = tmp_path / "bin" / "tesseract"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{real}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")
    scan_maker(tmp_path / "in" / "tokyo.pdf", SCAN)
    ingest(empty_kb, [tmp_path / "in"])
    ocr_runs = lambda: sum("chi_tra" in line and "--list-langs" not in line  # noqa: E731
                           for line in log.read_text(encoding="utf-8").splitlines())
    assert ocr_runs() == 2
    sync(empty_kb, rebuild=True)
    assert ocr_runs() == 2  # the pages came from cache/ocr/, not from Tesseract again
    assert search(empty_kb, "閱讀推廣").total == 1


@needs_tesseract
def test_force_ocr_reads_every_page(empty_kb, tmp_path, pdf_maker):
    pdf_maker(tmp_path / "born.pdf", IFLA_2007)
    assert ingest(empty_kb, [tmp_path / "born.pdf"], ocr="force").problems == []
    sidecar = yaml.safe_load((empty_kb.corpus / "born.yaml").read_text(encoding="utf-8"))
    assert sidecar["ocr"]["pages"] == [1, 2, 3]
    assert search(empty_kb, "書目控制").total == 1


def test_no_ocr_keeps_the_scan_and_flags_it(empty_kb, tmp_path, scan_maker):
    scan_maker(tmp_path / "tokyo.pdf", SCAN)
    report = ingest(empty_kb, [tmp_path / "tokyo.pdf"], ocr="off")
    assert [str(p) for p in report.problems] == [
        "corpus/tokyo.pdf: no text layer — scanned? needs OCR; OCR skipped (--no-ocr) "
        "(indexed from its metadata only)"]
    assert report.added == ["corpus/tokyo.pdf"]  # kept in the corpus all the same
    sidecar = yaml.safe_load((empty_kb.corpus / "tokyo.yaml").read_text(encoding="utf-8"))
    assert sidecar["pages"] == 2 and "ocr" not in sidecar
    hit = search(empty_kb, "tokyo").hits[0]  # a metadata record, found by what is known
    assert (hit.file, hit.pages) == ("corpus/tokyo.pdf", [])


def test_without_tesseract_scans_are_kept_and_say_what_to_install(tmp_path, scan_maker, pdf_maker):
    """Tesseract made unfindable on PATH in a real subprocess: no mocks of tripkb."""
    scan_maker(tmp_path / "in" / "tokyo.pdf", SCAN)
    pdf_maker(tmp_path / "in" / "ifla.pdf", IFLA_2007)
    kb = tmp_path / "kb"
    done = run_cli("--kb", str(kb), "ingest", str(tmp_path / "in"), path=empty_path(tmp_path))
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [f"Error: corpus/tokyo.pdf: {NO_TESSERACT}"]
    assert sorted(p.name for p in (kb / "corpus").iterdir()) == ["ifla.pdf", "ifla.yaml", "tokyo.pdf", "tokyo.yaml"]
    assert "+ corpus/tokyo.pdf" in done.stdout
    found = run_cli("--kb", str(kb), "search", "德班", "--json")
    assert '"total": 1' in found.stdout


@pytest.mark.parametrize("extractor, name", GARBLED)
def test_garbled_real_world_pdfs_are_flagged_not_indexed_as_text(empty_kb, engine, extractor, name):
    engine(extractor)
    report = ingest(empty_kb, [shared_pdf(name)], ocr="off")
    assert [p.reason for p in report.problems] == [
        "text extracts as garbage — fonts without a usable Unicode map? needs OCR; OCR skipped (--no-ocr) "
        "(indexed from its metadata only)"]
    assert report.added == [f"corpus/{name}"]
    assert extract(empty_kb.corpus / name, Ocr("off")).pages == [""]  # the nonsense is not kept as text


@pytest.mark.parametrize("extractor, name, query, other_script", [
    (extractor, "issue19182.pdf", "中文姓名", "中文姓名") for extractor in ("pypdf", "pypdfium2")] + [
    (extractor, "issue12823.pdf", "知识库简介", "知識庫簡介") for extractor in ("pypdf", "pypdfium2")] + [
    ("pypdfium2", "XiaoBiaoSong.pdf", "红军作战的原则", "紅軍作戰的原則"),
])
def test_clean_real_world_pdfs_are_not_flagged_and_are_found(empty_kb, engine, extractor, name, query,
                                                             other_script):
    engine(extractor)
    report = ingest(empty_kb, [shared_pdf(name)], ocr="off")
    assert report.problems == []
    assert search(empty_kb, query).total == 1 and search(empty_kb, other_script).total == 1


@needs_tesseract
@pytest.mark.parametrize("name, query", [
    ("issue4061.pdf", "港鐵"), ("issue7696.pdf", "中國文件"), ("issue2884_reduced.pdf", "公募型"),
    ("issue3521.pdf", "我们都是黑体字"), ("XiaoBiaoSong.pdf", "紅軍作戰"),
])
def test_garbled_real_world_pdfs_are_read_by_ocr(empty_kb, engine, name, query):
    engine("pypdf")  # the engine that garbles all five
    report = ingest(empty_kb, [shared_pdf(name)])
    assert report.problems == []
    hit = search(empty_kb, query).hits[0]
    assert (hit.id, hit.pages) == (Path(name).stem, [1])


def test_a_partly_scanned_pdf_without_ocr_says_which_pages(empty_kb, tmp_path, pdf_maker, scan_maker):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.append(str(pdf_maker(tmp_path / "text.pdf", IFLA_2007)))
    writer.append(str(scan_maker(tmp_path / "scan.pdf", SCAN)))
    writer.write(str(tmp_path / "appendix.pdf"))
    report = ingest(empty_kb, [tmp_path / "appendix.pdf"], ocr="off")
    assert report.problems == []  # the report's own text is there: not a failure
    assert report.warnings == ["corpus/appendix.pdf: pages 4–5: no text layer — scanned? needs OCR; "
                               "OCR skipped (--no-ocr)"]
    assert search(empty_kb, "德班").hits[0].pages == [2]


def test_cli_no_ocr_option(tmp_path, scan_maker):
    scan_maker(tmp_path / "tokyo.pdf", SCAN)
    done = run_cli("--kb", str(tmp_path / "kb"), "ingest", "--no-ocr", str(tmp_path / "tokyo.pdf"))
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["Error: corpus/tokyo.pdf: no text layer — scanned? needs OCR; "
                                        "OCR skipped (--no-ocr) (indexed from its metadata only)"]


def test_the_sidecars_ocr_record_is_checked(tmp_path):
    from tripkb.errors import MetadataError
    from tripkb.meta.sidecar import read_sidecar

    good = tmp_path / "good.yaml"
    good.write_text("id: A1\nocr: {engine: tesseract 5.3.0, languages: chi_tra+eng, pages: [1, 3]}\n",
                    encoding="utf-8")
    record, warnings = read_sidecar(good)
    assert record["ocr"]["pages"] == [1, 3] and warnings == []
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: A2\nocr: {engine: tesseract 5.3.0, pages: [0, two]}\n", encoding="utf-8")
    with pytest.raises(MetadataError) as caught:
        read_sidecar(bad)
    assert str(caught.value) == (f"{bad}:2: ocr: expected {{engine: NAME VERSION, pages: [PAGE, ...]}}: "
                                 "pages must be a list of page numbers from 1, found [0, 'two']")


@needs_tesseract
def test_meta_extract_ocrs_a_scan_ingested_without_ocr(empty_kb, tmp_path, scan_maker):
    """Installing Tesseract later: 'tripkb meta extract' reads the scan and records what OCR read."""
    from tripkb.ingest.documents import reextract

    scan_maker(tmp_path / "tokyo.pdf", SCAN)
    ingest(empty_kb, [tmp_path / "tokyo.pdf"], ocr="off")
    report = reextract(empty_kb)
    assert report.changed == ["corpus/tokyo.yaml"] and report.problems == []
    sidecar = yaml.safe_load((empty_kb.corpus / "tokyo.yaml").read_text(encoding="utf-8"))
    assert sidecar["ocr"]["pages"] == [1, 2] and sidecar["title"].startswith("出國報告")
    assert search(empty_kb, "東京都立中央圖書館").hits[0].pages == [2]
    assert reextract(empty_kb).changed == []  # the second time, nothing new to say
