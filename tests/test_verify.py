"""verify: every mismatch and orphan is named; a clean KB verifies clean."""

from typer.testing import CliRunner

from tripkb.cli import app
from tripkb.index.integrity import verify
from tripkb.index.sync import sync
from tripkb.ingest.documents import ingest

from reports import ALA_2008, IFLA_2007


def test_clean_then_each_kind_of_damage(empty_kb, tmp_path, pdf_maker):
    pdf_maker(tmp_path / "in" / "a.pdf", IFLA_2007)
    pdf_maker(tmp_path / "in" / "b.pdf", ALA_2008)
    ingest(empty_kb, [tmp_path / "in"])
    assert verify(empty_kb).problems == []

    corpus = empty_kb.corpus
    a = corpus / "a.pdf"
    a.write_bytes(a.read_bytes() + b"\n% tampered\n")          # bytes changed behind tripkb's back
    (corpus / "b.pdf").unlink()                                 # file lost
    pdf_maker(corpus / "c.pdf", ALA_2008[:1])                   # dropped in without ingest
    messages = sorted(str(p) for p in verify(empty_kb).problems)
    assert messages == [
        "corpus/a.pdf: SHA-256 differs from the sidecar's: the file changed since ingest",
        "corpus/a.yaml: changed since it was indexed (run 'tripkb ingest corpus/')",
        "corpus/b.yaml: changed since it was indexed (run 'tripkb ingest corpus/')",
        "corpus/b.yaml: file: corpus/b.pdf is missing",
        "corpus/c.pdf: document without a sidecar (run 'tripkb ingest corpus/')",
        "corpus/c.pdf: not in the index (run 'tripkb ingest corpus/')",
    ]


def test_index_entry_without_corpus_entry(empty_kb, tmp_path, pdf_maker):
    pdf_maker(tmp_path / "a.pdf", IFLA_2007)
    ingest(empty_kb, [tmp_path / "a.pdf"])
    (empty_kb.corpus / "a.pdf").unlink()
    (empty_kb.corpus / "a.yaml").unlink()
    assert [str(p) for p in verify(empty_kb).problems] == [
        "index/a.yaml: indexed, but no longer in corpus/ (run 'tripkb reindex')"]
    sync(empty_kb)
    assert verify(empty_kb).problems == []


def test_cli_exit_codes(empty_kb, tmp_path, pdf_maker):
    pdf_maker(tmp_path / "a.pdf", IFLA_2007)
    ingest(empty_kb, [tmp_path / "a.pdf"])
    runner = CliRunner()
    ok = runner.invoke(app, ["--kb", str(empty_kb.root), "verify"])
    assert ok.exit_code == 0 and "Verified 1 documents: all consistent." in ok.stdout
    (empty_kb.corpus / "a.pdf").write_bytes(b"%PDF-1.4 other")
    bad = runner.invoke(app, ["--kb", str(empty_kb.root), "verify"])
    assert bad.exit_code == 1
    assert "Error: corpus/a.pdf: SHA-256 differs from the sidecar's: the file changed since ingest" in bad.stderr
