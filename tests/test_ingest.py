"""Ingest: copy, describe, index; idempotent; one bad file never stops a batch."""

import os

import yaml

from tripkb.index.sync import sync
from tripkb.ingest.documents import ingest
from tripkb.query.search import search

from reports import IFLA_2007, MAINLAND_PAPER


def test_ingest_copies_writes_sidecar_and_indexes(empty_kb, tmp_path, pdf_maker):
    src = pdf_maker(tmp_path / "in" / "ifla.pdf", IFLA_2007, title="參加2007年IFLA年會報告")
    before = src.read_bytes()
    report = ingest(empty_kb, [tmp_path / "in"])
    assert report.problems == []
    assert report.added == ["corpus/ifla.pdf"]
    assert src.read_bytes() == before  # the original is untouched
    sidecar = yaml.safe_load((empty_kb.corpus / "ifla.yaml").read_text(encoding="utf-8"))
    assert sidecar["title"] == "參加2007年國際圖書館協會聯盟(IFLA)年會報告"  # a report's cover beats its PDF title
    assert sidecar["pages"] == 3 and sidecar["file"] == "ifla.pdf" and len(sidecar["sha256"]) == 64
    assert search(empty_kb, "德班").total == 1


def test_title_of_a_paper_is_its_pdf_title_else_its_first_line(empty_kb, tmp_path, pdf_maker):
    pdf_maker(tmp_path / "titled.pdf", MAINLAND_PAPER, title="數位圖書館資源共享研究")
    pdf_maker(tmp_path / "untitled.pdf", MAINLAND_PAPER)
    ingest(empty_kb, [tmp_path / "titled.pdf", tmp_path / "untitled.pdf"])
    titles = [yaml.safe_load((empty_kb.corpus / f"{n}.yaml").read_text(encoding="utf-8"))["title"]
              for n in ("titled", "untitled")]
    assert titles == ["數位圖書館資源共享研究", "数字图书馆资源共享研究"]


def test_reingest_changes_nothing(empty_kb, tmp_path, pdf_maker):
    pdf_maker(tmp_path / "in" / "a.pdf", IFLA_2007)
    ingest(empty_kb, [tmp_path / "in"])
    snapshot = {p.name: p.read_bytes() for p in empty_kb.corpus.iterdir()}
    again = ingest(empty_kb, [tmp_path / "in"])
    assert again.added == [] and again.unchanged == 1
    assert {p.name: p.read_bytes() for p in empty_kb.corpus.iterdir()} == snapshot
    # the same bytes under another name are the same document
    (tmp_path / "in" / "copy.pdf").write_bytes((tmp_path / "in" / "a.pdf").read_bytes())
    assert ingest(empty_kb, [tmp_path / "in" / "copy.pdf"]).added == []


def test_existing_sidecar_values_are_kept(empty_kb, tmp_path, pdf_maker):
    pdf_maker(tmp_path / "r.pdf", IFLA_2007, title="PDF title")
    (tmp_path / "r.yaml").write_text("id: C09601649\ntitle: 人工校訂的題名\ninstitution: 國家圖書館\n"
                                     "trip: {start: 2007-08-17, end: 2007-08-25}\nreviewer: 林\n",
                                     encoding="utf-8")
    report = ingest(empty_kb, [tmp_path / "r.pdf"])
    data = yaml.safe_load((empty_kb.corpus / "r.yaml").read_text(encoding="utf-8"))
    assert data["id"] == "C09601649" and data["title"] == "人工校訂的題名" and data["year"] == 2007
    assert data["reviewer"] == "林"  # unknown keys are kept ...
    assert any("reviewer: unknown key" in w for w in report.warnings)  # ... and reported


def test_bad_files_are_named_and_the_rest_is_indexed(empty_kb, tmp_path, pdf_maker):
    folder = tmp_path / "batch"
    pdf_maker(folder / "good.pdf", IFLA_2007)
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "notes.pdf").write_text("這不是PDF", encoding="utf-8")
    (folder / "cut.pdf").write_bytes((folder / "good.pdf").read_bytes()[:400])
    report = ingest(empty_kb, [folder, tmp_path / "missing"])
    reasons = {p.path.rsplit("/", 1)[-1]: p.reason for p in report.problems}
    assert reasons["empty.pdf"] == "empty file (0 bytes)"
    assert reasons["notes.pdf"] == "not a PDF (no %PDF- header)"
    assert reasons["cut.pdf"].startswith("damaged or unreadable PDF")
    assert reasons["missing"] == "no such file or folder"
    assert report.added == ["corpus/good.pdf"]
    assert sorted(p.name for p in empty_kb.corpus.iterdir()) == ["good.pdf", "good.yaml"]


def test_metadata_only_record(empty_kb, tmp_path):
    rec = tmp_path / "C09601160.yaml"
    rec.write_text("id: C09601160\ntype: report\ntitle: 2007 年美國 ALA 年會暨公共圖書館考察出國報告書\n"
                   "authors: [楊宣勤, 劉水抱]\nyear: 2007\n", encoding="utf-8")
    assert ingest(empty_kb, [rec]).added == ["corpus/C09601160.yaml"]
    hit = search(empty_kb, "公共圖書館考察").hits[0]
    assert (hit.id, hit.file, hit.pages) == ("C09601160", None, [])


def test_hand_edited_sidecar_is_reindexed(empty_kb, tmp_path, pdf_maker):
    pdf_maker(tmp_path / "a.pdf", IFLA_2007)
    ingest(empty_kb, [tmp_path / "a.pdf"])
    sidecar = empty_kb.corpus / "a.yaml"
    sidecar.write_text(sidecar.read_text(encoding="utf-8").replace("type: report", "type: other")
                       + "keywords: [書目控制]\n", encoding="utf-8")
    report = sync(empty_kb)
    assert report.updated == 1
    assert search(empty_kb, "書目控制", limit=1).hits[0].type == "other"


def test_searches_see_each_edit_through_the_copy_of_the_stamps(empty_kb, tmp_path):
    rec = tmp_path / "C1.yaml"
    rec.write_text("id: C1\ntype: report\ntitle: 參加年會報告\n", encoding="utf-8")
    ingest(empty_kb, [rec])
    assert search(empty_kb, "年會").total == 1
    copy = empty_kb.index_dir / "stamps.json"
    assert "C1.yaml" in copy.read_text(encoding="utf-8")  # left by the search for the next one
    sidecar = empty_kb.corpus / "C1.yaml"
    for n, title in enumerate(["參加研討會報告", "參觀海報展報告"]):
        sidecar.write_text(f"id: C1\ntype: report\ntitle: {title}\n", encoding="utf-8")
        os.utime(sidecar, ns=(n, n))  # a stamp unlike any before, however fast the test runs
        assert search(empty_kb, title[2:5]).total == 1
        assert search(empty_kb, "年會").total == 0
    copy.write_text("not json", encoding="utf-8")
    (empty_kb.corpus / "C2.yaml").write_text("id: C2\ntype: report\ntitle: 參加年會報告\n", encoding="utf-8")
    assert search(empty_kb, "年會").total == 1


def test_sidecar_path_escaping_the_kb_is_refused(empty_kb, tmp_path):
    (tmp_path / "secret.pdf").write_bytes(b"%PDF-1.4 secret")
    (empty_kb.corpus / "evil.yaml").write_text("id: evil\nfile: ../../secret.pdf\n", encoding="utf-8")
    (empty_kb.corpus / "abs.yaml").write_text("id: abs\nfile: /etc/passwd\n", encoding="utf-8")
    (empty_kb.corpus / "link.pdf").symlink_to(tmp_path / "secret.pdf")
    (empty_kb.corpus / "link.yaml").write_text("id: link\n", encoding="utf-8")
    (empty_kb.corpus / "orphan.pdf").symlink_to(tmp_path / "secret.pdf")
    report = sync(empty_kb)
    messages = sorted(str(p) for p in report.problems)
    assert messages == [
        "corpus/abs.yaml: file: '/etc/passwd' is not a path inside corpus/ (refused)",
        "corpus/evil.yaml: file: '../../secret.pdf' is not a path inside corpus/ (refused)",
        "corpus/link.yaml: file: 'link.pdf' is a symbolic link (tripkb follows no links in corpus/; refused)",
        "corpus/orphan.pdf: 'orphan.pdf' is a symbolic link (tripkb follows no links in corpus/; refused)",
    ]


def test_a_removed_document_can_be_ingested_again(empty_kb, tmp_path, pdf_maker):
    """Deleted documents leave terms behind in Whoosh; they must not count as present."""
    pdf_maker(tmp_path / "a.pdf", IFLA_2007)
    ingest(empty_kb, [tmp_path / "a.pdf"])
    (empty_kb.corpus / "a.pdf").unlink()
    (empty_kb.corpus / "a.yaml").unlink()
    report = ingest(empty_kb, [tmp_path / "a.pdf"])
    assert report.synced.removed == 1 and report.added == ["corpus/a.pdf"]
    assert search(empty_kb, "德班").total == 1
    assert sync(empty_kb).unchanged == 1
