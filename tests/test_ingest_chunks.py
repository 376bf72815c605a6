"""Documents brought in by the workers a chunk at a time: each chunk a segment, the result the same
as the one-by-one way, ids given twice settled as one process would, a failed chunk redone."""

from __future__ import annotations

import subprocess
import sys

import yaml

from tripkb.fsutil import sha256_of
from tripkb.index.schema import live_values, open_index
from tripkb.ingest.chunks import CHUNK_DOCUMENTS, chunks_of
from tripkb.ingest.documents import ingest
from tripkb.kb import KnowledgeBase
from tripkb.query.search import search

from conftest import REPO, tripkb_env
from hostile import slow_pdf
from reports import ALA_2008, IFLA_2007, MAINLAND_PAPER

QUERIES = ["國際圖書館協會聯盟", "美國圖書館學會", "图书馆", "數位典藏 -IFLA", "annual conference"]


def jobs(tmp_path, sizes):
    out = []
    for n, size in enumerate(sizes):
        path = tmp_path / f"d{n:03d}.pdf"
        path.write_bytes(b"x" * size)
        out.append((path, str(n), path))
    return out


def test_chunks_keep_the_order_two_a_worker_at_least_and_about_the_same_bytes(tmp_path):
    ten = jobs(tmp_path, [1000] * 10)
    chunks = chunks_of(ten, 2)
    assert [job for chunk in chunks for job in chunk] == ten
    assert [len(chunk) for chunk in chunks] == [3, 2, 3, 2]
    uneven = chunks_of(jobs(tmp_path, [10, 10, 1000, 1000, 1000, 1000]), 2)
    assert [len(chunk) for chunk in uneven] == [3, 1, 1, 1]
    assert len(chunks_of(jobs(tmp_path, [100] * 3), 2)) == 3  # never an empty chunk
    many = chunks_of(jobs(tmp_path, [100] * (5 * CHUNK_DOCUMENTS)), 2)
    assert len(many) == 5 and max(map(len, many)) <= CHUNK_DOCUMENTS


def six_reports(folder, pdf_maker):
    texts = [IFLA_2007, ALA_2008, MAINLAND_PAPER, IFLA_2007 + ALA_2008, ALA_2008 * 3, MAINLAND_PAPER + IFLA_2007]
    return [pdf_maker(folder / f"r{n}.pdf", text) for n, text in enumerate(texts)]


def test_each_chunk_is_a_segment_and_the_kb_is_as_one_by_one(tmp_path, pdf_maker):
    six_reports(tmp_path / "in", pdf_maker)
    chunked = KnowledgeBase.locate(tmp_path / "chunked", create=True)
    report = ingest(chunked, [tmp_path / "in"], workers=2)
    assert report.problems == [] and len(report.added) == 6
    assert report.segments == 4  # two chunks a worker
    here = KnowledgeBase.locate(tmp_path / "here", create=True)
    ingest(here, [tmp_path / "in"], workers=0)  # one by one, in this process
    assert {p.name: p.read_bytes() for p in chunked.corpus.iterdir()} == \
        {p.name: p.read_bytes() for p in here.corpus.iterdir()}
    for query in QUERIES:
        assert search(chunked, query, limit=50).to_json() == search(here, query, limit=50).to_json(), query
    assert not (chunked.corpus / ".staging").exists() and not list(chunked.root.glob("index.bulk-*"))


def ids_in(kb):
    with open_index(kb.index_dir).searcher() as s:
        return sorted(live_values(s.reader(), "id"))


def test_an_id_two_chunks_give_goes_to_the_first_in_input_order(tmp_path, pdf_maker):
    """Each document is a chunk of its own: the workers cannot see each other's ids, the writer does."""
    r0, r1, r2, r3 = six_reports(tmp_path / "in", pdf_maker)[:4]
    for path in (r0, r2):
        path.with_suffix(".yaml").write_text("id: DUP1\ntitle: 同一編號\n", encoding="utf-8")
    (tmp_path / "in" / "r4.pdf").unlink()
    (tmp_path / "in" / "r5.pdf").unlink()
    kb = KnowledgeBase.locate(tmp_path / "kb", create=True)
    report = ingest(kb, [tmp_path / "in"], workers=2)
    assert [(p.path, p.reason) for p in report.problems] == [
        (str(r2.with_suffix(".yaml")), "id: id DUP1 is already used by another document in the knowledge base "
                                       "(not ingested)")]
    assert report.added == ["corpus/r0.pdf", "corpus/r1.pdf", "corpus/r3.pdf"]
    assert sorted(p.name for p in kb.corpus.iterdir()) == ["r0.pdf", "r0.yaml", "r1.pdf", "r1.yaml",
                                                           "r3.pdf", "r3.yaml"]
    assert ids_in(kb) == ["DUP1", "r1", "r3"]
    assert search(kb, "id:DUP1").total == 1


def test_a_name_another_chunk_took_as_an_id_is_given_a_longer_one(tmp_path, pdf_maker):
    """r0's sidecar names it r2, so r2 (read in another chunk, which took its name) gets its
    name and the start of its SHA-256, as one process would have given it."""
    r0, r1, r2 = six_reports(tmp_path / "in", pdf_maker)[:3]
    for extra in ("r3.pdf", "r4.pdf", "r5.pdf"):
        (tmp_path / "in" / extra).unlink()
    r0.with_suffix(".yaml").write_text("id: r2\n", encoding="utf-8")
    kb = KnowledgeBase.locate(tmp_path / "kb", create=True)
    report = ingest(kb, [tmp_path / "in"], workers=2)
    assert report.problems == [] and len(report.added) == 3
    longer = f"r2-{sha256_of(r2)[:8]}"
    assert yaml.safe_load((kb.corpus / "r2.yaml").read_text(encoding="utf-8"))["id"] == longer
    assert ids_in(kb) == sorted(["r1", "r2", longer])
    assert search(kb, f"id:{longer}").total == 1 and search(kb, "id:r2").total == 1


def test_a_chunk_that_overruns_is_taken_out_and_read_one_by_one(tmp_path, pdf_maker):
    """The slow PDF shares a chunk with a report read before it: the chunk is stopped, that report
    taken out of corpus/ again, and each document read on its own with its own time bound."""
    folder = tmp_path / "in"
    pdf_maker(folder / "a.pdf", ["短篇報告：臺北市立圖書館參訪紀要，介紹館藏發展與讀者服務的新作法。"])
    slow_pdf(folder / "b.pdf")  # pypdf reads it for over 30 s
    for name, text in (("c", IFLA_2007 * 4), ("d", ALA_2008 * 6), ("e", MAINLAND_PAPER * 6), ("f", IFLA_2007 * 6)):
        pdf_maker(folder / f"{name}.pdf", text)
    paths = sorted(folder.glob("*.pdf"))
    [first, *_] = chunks_of([(p, "", p) for p in paths], 2)
    assert [p.name for p, _, _ in first][:2] == ["a.pdf", "b.pdf"]
    proc = subprocess.run([sys.executable, "-m", "tripkb", "--kb", str(tmp_path / "kb"), "ingest", "--extractor",
                           "pypdf", str(folder)],
                          env=tripkb_env(PYTHONPATH=str(REPO), TRIPKB_EXTRACT_TIMEOUT="5"), capture_output=True,
                          text=True, encoding="utf-8", timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines() == [f"Error: {folder / 'b.pdf'}: took longer than 5 s to read (stopped; "
                                        "set TRIPKB_EXTRACT_TIMEOUT to allow more)"]
    kb = KnowledgeBase(tmp_path / "kb")
    assert sorted(p.name for p in kb.corpus.iterdir()) == sorted(
        f"{n}.{s}" for n in "acdef" for s in ("pdf", "yaml"))
    assert ids_in(kb) == ["a", "c", "d", "e", "f"]
    assert [hit.id for hit in search(kb, "參訪紀要").hits] == ["a"]


def test_documents_with_the_same_score_are_listed_by_id_whatever_the_order_indexed(tmp_path, pdf_maker):
    first = [pdf_maker(tmp_path / "in" / f"{name}.pdf", [f"第{n}號 " + IFLA_2007[0]]) for n, name in enumerate("zab")]
    found = []
    for order in (first, first[::-1]):
        kb = KnowledgeBase.locate(tmp_path / f"kb{len(found)}", create=True)
        ingest(kb, order, workers=0)  # indexed in the order given
        found.append([hit.id for hit in search(kb, "國際圖書館協會聯盟").hits])
    assert found[0] == found[1] == ["a", "b", "z"]
