"""Records without a document are indexed in chunks, each chunk a segment written by a worker.

The results must be those of the one-writer path: same documents, same
search results, updates replacing what they replace, every problem reported,
and records that turn out to name a document read as documents.
"""

from __future__ import annotations

import pytest

from tripkb.fsutil import temporary_folder
from tripkb.index import bulk as index_bulk, sync as index_sync
from tripkb.index.schema import open_index
from tripkb.index.sync import sync
from tripkb.kb import KnowledgeBase
from tripkb.query.search import Filters, search

from conftest import make_pdf
from reports import IFLA_2007

ORGS = [("國際圖書館協會聯盟", "IFLA"), ("美國圖書館學會", "ALA"), ("東亞圖書館協會", "CEAL")]
QUERIES = ["國際圖書館協會聯盟", "數位典藏", "館協", "IFLA", "王文陸", '"年會報告"', "古籍 -IFLA", "交流經驗"]


def sidecar(n: int, edition: int = 1) -> str:
    org, code = ORGS[n % 3]
    return (f"id: C{n:05d}\ntype: report\ntitle: 參加民國{86 + n % 20}年{org}年會報告（第{edition}版）\n"
            f"authors: [{['王文陸', '林靜宜', '彭慰'][n % 3]}]\ninstitution: 國家圖書館\ncategory: 開會\n"
            f"events: [{code}]\nyear: {1997 + n % 20}\n"
            f"keywords: [{['數位典藏', '古籍保護', '閱讀推廣'][n % 3]}]\n"
            f"abstract: 本次出國參加{org}年會，與各國館員交流{['數位典藏', '古籍保護'][n % 2]}的經驗（{n}）。\n")


def make_kb(root, count: int) -> KnowledgeBase:
    """A KB with an (empty) index, then ``count`` records: the next sync adds them (a first one rebuilds)."""
    kb = KnowledgeBase.locate(root / "kb", create=True)
    sync(kb)
    for n in range(count):
        (kb.corpus / f"C{n:05d}.yaml").write_text(sidecar(n), encoding="utf-8")
    return kb


def results(kb: KnowledgeBase) -> dict:
    """Each query's total, and its hits with their scores and snippets."""
    out = {}
    for query in QUERIES:
        got = search(kb, query, limit=1000)
        out[query] = (got.total, {h.id: (h.score, h.snippet) for h in got.hits})
    out["IFLA since 2005"] = search(kb, "年會", Filters(org="IFLA", since=2005), limit=1000).total
    return out


def same_results(got: dict, expected: dict, rel: float = 1e-9) -> None:
    """Equal results; scores within ``rel``: a merged segment keeps field lengths rounded to
    Whoosh's length byte, which moves BM25's average length a little."""
    assert got.keys() == expected.keys()
    for query, value in expected.items():
        if isinstance(value, int):
            assert got[query] == value, query
            continue
        (total, hits), (got_total, got_hits) = value, got[query]
        assert got_total == total and got_hits.keys() == hits.keys(), query
        for key, (score, snippet) in hits.items():
            assert got_hits[key] == (pytest.approx(score, rel=rel), snippet), (query, key)


def segment_sizes(kb: KnowledgeBase) -> list[int]:
    return sorted(seg.doc_count() for seg in open_index(kb.index_dir)._segments())


@pytest.fixture
def bulk(monkeypatch):
    """The bulk path for any number of records, in chunks of about 7."""
    monkeypatch.setattr(index_sync, "BULK_MIN", 1)
    monkeypatch.setattr(index_bulk, "BULK_CHUNK", 7)


def test_chunks_written_by_workers_search_as_one_writer_does(tmp_path, monkeypatch):
    one = make_kb(tmp_path / "one", 40)
    report = sync(one, workers=2)
    assert (report.added, segment_sizes(one)) == (40, [40])  # one batch of the one writer
    expected = results(one)
    monkeypatch.setattr(index_sync, "BULK_MIN", 1)
    monkeypatch.setattr(index_bulk, "BULK_CHUNK", 7)
    chunked = make_kb(tmp_path / "chunked", 40)
    report = sync(chunked, workers=2)
    assert report.added == 40 and report.problems == []
    # 6 chunks adopted one by one, each a segment as its worker wrote it: their number follows the
    # records (chunks of BULK_CHUNK), not the machine's speed, and this process does not merge them again
    assert segment_sizes(chunked) == [5, 7, 7, 7, 7, 7]
    same_results(results(chunked), expected, rel=0.02)  # a merge sums field lengths as stored, in a byte
    assert not list(chunked.root.glob("index.bulk-*"))  # the workers' folders are gone


def test_changed_records_replace_their_old_version(tmp_path, bulk):
    kb = make_kb(tmp_path, 30)
    sync(kb, workers=2)
    for n in range(0, 30, 3):
        (kb.corpus / f"C{n:05d}.yaml").write_text(sidecar(n, edition=2), encoding="utf-8")
    (kb.corpus / "C00001.yaml").unlink()
    report = sync(kb, workers=2)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 10, 1, 19)
    assert search(kb, '"第2版"', limit=100).total == 10
    assert search(kb, '"第1版"', limit=100).total == 19
    with open_index(kb.index_dir).searcher() as s:
        assert s.doc_count() == 29


def test_problems_are_reported_and_documents_handed_back(tmp_path, bulk):
    kb = make_kb(tmp_path, 20)
    (kb.corpus / "C00003.yaml").write_text("id: C00003\ntype: report\ntitle: [不是, 字串]\n", encoding="utf-8")
    # A sidecar naming a PDF of another name is not a record: it is read as a document.
    make_pdf(kb.corpus / "reports" / "ifla.pdf", IFLA_2007)
    (kb.corpus / "C00005.yaml").write_text(sidecar(5) + "file: reports/ifla.pdf\n", encoding="utf-8")
    report = sync(kb, workers=2)
    assert [str(p) for p in report.problems] == ["corpus/C00003.yaml:3: title: expected text, found a list"]
    assert report.added == 19 + 1  # the refused sidecar is left out; the PDF is also a document of its own
    hits = search(kb, "書目控制").hits  # words of the PDF's pages
    assert sorted(h.id for h in hits) == ["C00005", "ifla"] and all(h.pages for h in hits)


def test_a_rebuild_from_chunks_is_one_segment(tmp_path, bulk):
    kb = make_kb(tmp_path, 30)
    sync(kb, workers=2)
    make_pdf(kb.corpus / "ifla.pdf", IFLA_2007)
    sync(kb, workers=2)
    assert segment_sizes(kb) == [1] + [5] * 6  # the first sync's six chunks, the second's one segment
    before = results(kb)
    report = sync(kb, rebuild=True, workers=2)
    assert report.added == 31 and segment_sizes(kb) == [31]
    same_results(results(kb), before, rel=0.02)


def test_a_chunk_in_this_process_when_asked_for_no_workers(tmp_path, bulk):
    kb = make_kb(tmp_path, 15)
    assert sync(kb, workers=0).added == 15
    assert search(kb, "國際圖書館協會聯盟", limit=100).total == 5


def test_segments_left_by_a_crash_are_cleared(tmp_path, bulk):
    kb = make_kb(tmp_path, 12)
    stale = temporary_folder(kb.root, "index.bulk-") / "tmpabc"  # as a crash leaves it: marked as tripkb's
    stale.mkdir()
    (stale / "tripkb_x.seg").write_bytes(b"half a segment")
    assert sync(kb, workers=0).added == 12
    assert not list(kb.root.glob("index.bulk-*"))


def test_progress_counts_up_to_every_record(tmp_path, bulk, monkeypatch):
    monkeypatch.setattr(index_bulk, "COUNT_EVERY", 1)
    kb = make_kb(tmp_path, 40)
    shown: list[int] = []
    sync(kb, progress=lambda done, total, label: shown.append(done), workers=2)
    assert shown and shown[-1] == 40
    assert shown == sorted(shown)
