"""A file in corpus/ whose name is not valid UTF-8 is named and left out; every command goes on."""

from __future__ import annotations

import os

from conftest import make_pdf, run_cli


def test_a_name_that_is_not_utf8_is_one_warning_and_the_rest_is_searched(tmp_path):
    kb = tmp_path / "kb"
    corpus = kb / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "ok.yaml").write_text("id: OK1\ntitle: 國際圖書館協會聯盟年會\n", encoding="utf-8")
    with open(os.path.join(os.fsencode(corpus), b"bad\xff.yaml"), "wb") as fh:
        fh.write(b"id: BAD1\ntitle: \xe5\xb9\xb4\xe6\x9c\x83\n")
    pdf = make_pdf(tmp_path / "p.pdf", ["國際圖書館協會聯盟 年會報告"])
    os.rename(pdf, os.path.join(os.fsencode(corpus), b"scan\xfe.pdf"))
    for _ in range(2):  # the first search builds the index, the second refreshes it
        done = run_cli("--kb", str(kb), "search", "年會", "--json")
        assert done.returncode == 0, done.stderr
        assert '"id": "OK1"' in done.stdout and "BAD1" not in done.stdout
        assert sorted(done.stderr.splitlines()) == [
            "Warning: corpus/bad\\udcff.yaml: the file name is not valid UTF-8 (not indexed: rename the file)",
            "Warning: corpus/scan\\udcfe.pdf: the file name is not valid UTF-8 (not indexed: rename the file)"]
