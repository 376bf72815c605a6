"""Every kind of bad input: one line naming the file and the problem, the rest ingested, exit 1."""

import io
import os
import zlib

import pytest
import yaml
from typer.testing import CliRunner

from tripkb.cli import app
from tripkb.index.integrity import verify
from tripkb.ingest.documents import ingest
from tripkb.query.search import search

from reports import ALA_2008, IFLA_2007


def encrypted(src, dst, user_password):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(src))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    writer.write(dst)
    return dst


def blank_pages(dst, count):
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(width=200, height=200)
    writer.write(dst)
    return dst


def memory_bomb(dst, megabytes):
    """One page whose content stream inflates to ``megabytes`` MB from a few hundred KB."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, StreamObject

    packer = zlib.compressobj(9)
    chunk = b"0 0 m " * (1 << 16)
    data = b"".join(packer.compress(chunk) for _ in range(megabytes * (1 << 20) // len(chunk)))
    data += packer.flush()
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    stream = StreamObject()
    stream.set_data(b"")
    stream._data = data
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(stream)
    dst.parent.mkdir(parents=True, exist_ok=True)
    writer.write(dst)
    return dst


@pytest.fixture
def batch(tmp_path, pdf_maker):
    """A folder mixing good reports with every kind of bad input."""
    src = tmp_path / "batch"
    good = pdf_maker(src / "good-ifla.pdf", IFLA_2007)
    pdf_maker(src / "good-ala.pdf", ALA_2008)
    (src / "zero.pdf").write_bytes(b"")
    (src / "truncated.pdf").write_bytes(good.read_bytes()[:500])
    (src / "photo.pdf").write_bytes(b"\xff\xd8\xff\xe0 JFIF not a pdf")
    encrypted(good, src / "locked.pdf", "secret")
    encrypted(pdf_maker(tmp_path / "plain.pdf", ["空白密碼也能讀取的報告：公開取用"]), src / "open.pdf", "")
    blank_pages(src / "huge.pdf", 60)
    pdf_maker(src / "badyaml.pdf", ["YAML 壞掉的報告"])
    (src / "badyaml.yaml").write_text("title: [未閉合\nid: X1\n", encoding="utf-8")
    pdf_maker(src / "types.pdf", ["型別錯誤的報告"])
    (src / "types.yaml").write_text("id: X2\npages: many\n", encoding="utf-8")
    pdf_maker(src / "dupid.pdf", ["重複識別號的報告"])
    (src / "dupid.yaml").write_text("id: EX0960001\n", encoding="utf-8")
    pdf_maker(src / "dupid2.pdf", ["另一份重複識別號的報告"])
    (src / "dupid2.yaml").write_text("id: EX0960001\n", encoding="utf-8")
    os.mkfifo(src / "pipe.pdf")
    return src


def test_a_mixed_batch(empty_kb, batch, monkeypatch):
    monkeypatch.setattr("tripkb.text.extract.MAX_PAGES", 50)
    (batch / "good-ifla.yaml").write_text("id: EX0960001\n", encoding="utf-8")
    assert ingest(empty_kb, [batch / "good-ifla.pdf"]).added == ["corpus/good-ifla.pdf"]
    report = ingest(empty_kb, [batch])
    reasons = {p.path.split("/")[-1]: p.reason for p in report.problems}
    assert reasons == {
        "zero.pdf": "empty file (0 bytes)",
        "truncated.pdf": reasons["truncated.pdf"],
        "photo.pdf": "not a PDF (no %PDF- header)",
        "locked.pdf": "password-protected PDF: cannot read its text without the password",
        "huge.pdf": "has 60 pages, more than the limit of 50 (set TRIPKB_MAX_PAGES to allow more)",
        "badyaml.yaml:2": "not valid YAML: did not find expected ',' or ']'",
        "types.yaml:2": "pages: expected a whole number, found 'many'",
        "dupid.yaml": "id: id EX0960001 is already used by another document in the knowledge base "
                      "(not ingested)",
        "dupid2.yaml": "id: id EX0960001 is already used by another document in the knowledge base "
                       "(not ingested)",
        "pipe.pdf": "not a regular file",
    }
    assert reasons["truncated.pdf"].startswith("damaged or unreadable PDF")
    assert sorted(report.added) == ["corpus/good-ala.pdf", "corpus/open.pdf"] and report.unchanged == 1
    assert search(empty_kb, "公開取用").hits[0].file == "corpus/open.pdf"  # empty password: just works
    assert verify(empty_kb).problems == []


def test_cli_names_each_bad_file_on_one_line(empty_kb, batch):
    (batch / "dupid2.yaml").unlink()
    result = CliRunner().invoke(app, ["--kb", str(empty_kb.root), "ingest", str(batch)])
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 8 and all(line.startswith("Error: ") for line in errors)
    assert f"Error: {batch / 'zero.pdf'}: empty file (0 bytes)" in errors
    assert any(line.startswith("Error: corpus/huge.pdf: no text layer — scanned?") for line in errors)  # 60 blank pages
    assert "Traceback" not in result.output


def nap(seconds: float) -> float:
    """A real task that overruns, like an extractor caught in a loop."""
    import time

    time.sleep(seconds)
    return seconds


def test_time_bound_ends_one_task_not_the_batch():
    from tripkb.workers import bounded_map

    started = __import__("time").monotonic()
    results = dict(bounded_map(nap, [0.1, 60, 0.2], workers=2, timeout=1.0))
    assert results[0.1] == 0.1 and results[0.2] == 0.2
    assert str(results[60]) == "took longer than 1 s to read (stopped; set TRIPKB_EXTRACT_TIMEOUT to allow more)"
    assert __import__("time").monotonic() - started < 30


def hog(megabytes: int) -> int:
    """A real memory-hungry task for the worker pool."""
    return len(bytearray(megabytes << 20))


def test_memory_bound_ends_one_task_not_the_batch():
    from tripkb.workers import bounded_map

    results = dict(bounded_map(hog, [10, 3000, 20], workers=2, memory_mb=1024))
    assert results[10] == 10 << 20 and results[20] == 20 << 20
    assert str(results[3000]) == ("needs more than 1024 MB of memory to read (stopped; "
                                  "set TRIPKB_EXTRACT_MEMORY_MB to allow more)")


def test_decompression_bomb_does_not_stop_the_batch(empty_kb, tmp_path, pdf_maker):
    memory_bomb(tmp_path / "in" / "bomb.pdf", 1200)
    pdf_maker(tmp_path / "in" / "ok.pdf", ALA_2008)
    report = ingest(empty_kb, [tmp_path / "in"])
    assert "corpus/ok.pdf" in report.added


def test_non_utf8_file_name(empty_kb, tmp_path, pdf_maker):
    folder = tmp_path / "in"
    good = pdf_maker(folder / "x.pdf", IFLA_2007)
    odd = os.fsdecode(b"\xb3\xf8\xa7i-big5-name.pdf")  # 報告 in Big5, not UTF-8
    os.rename(good, folder / odd)
    (folder / os.fsdecode(b"\xff-broken.pdf")).write_bytes(b"")
    result = CliRunner().invoke(app, ["--kb", str(empty_kb.root), "ingest", str(folder)])
    assert result.exit_code == 1
    assert "\\udcff-broken.pdf: empty file (0 bytes)" in result.stderr
    assert "Ingest: 1 added, 0 unchanged, 1 failed." in result.stdout
    assert search(empty_kb, "德班").total == 1


def test_unreadable_file(empty_kb, tmp_path, pdf_maker):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    locked = pdf_maker(tmp_path / "in" / "secret.pdf", IFLA_2007)
    locked.chmod(0)
    report = ingest(empty_kb, [tmp_path / "in"])
    assert [str(p) for p in report.problems] == [f"{locked}: cannot read the file: Permission denied"]


def test_sidecar_written_with_the_users_umask(empty_kb, tmp_path, pdf_maker):
    pdf_maker(tmp_path / "a.pdf", IFLA_2007)
    old = os.umask(0o027)
    try:
        ingest(empty_kb, [tmp_path / "a.pdf"])
    finally:
        os.umask(old)
    assert (empty_kb.corpus / "a.yaml").stat().st_mode & 0o777 == 0o640
    assert (empty_kb.corpus / "a.pdf").stat().st_mode & 0o777 == 0o640
    assert yaml.safe_load(io.StringIO((empty_kb.corpus / "a.yaml").read_text(encoding="utf-8")))["pages"] == 3
