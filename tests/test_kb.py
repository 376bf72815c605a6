"""Finding a knowledge base's files."""

import os

from tripkb.index.corpus import corpus_entries


def test_corpus_files_skip_hidden_and_keep_a_stable_order(empty_kb):
    corpus = empty_kb.corpus
    for rel in ("b.yaml", "a-b/x.yaml", "a/x.yaml", "a/x.pdf", ".git/c.yaml", "a/.hidden.yaml", "z/y.PDF"):
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        (corpus / rel).write_text("", encoding="utf-8")
    assert empty_kb.corpus_files() == ["a-b/x.yaml", "a/x.pdf", "a/x.yaml", "b.yaml", "z/y.PDF"]
    entries = [(e.key, e.document and e.document.name) for e in corpus_entries(empty_kb)]
    assert entries == [("a-b/x.yaml", None), ("a/x.yaml", "x.pdf"), ("b.yaml", None), ("z/y.PDF", "y.PDF")]


def test_symlinked_folders_are_not_followed(empty_kb, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "r.yaml").write_text("", encoding="utf-8")
    os.symlink(outside, empty_kb.corpus / "linked")
    assert empty_kb.corpus_files() == ["linked"] and empty_kb.corpus_links() == ["linked"]  # listed, not entered
