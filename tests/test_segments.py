"""Index segments: batched commits and the tiered merge policy keep them few, and lose nothing."""

from __future__ import annotations

import math

from tripkb.index.batch_writer import BatchWriter
from tripkb.index.schema import create_index, document_fields, live_values


def record(n: int) -> dict:
    return {"id": f"C{n:05d}", "type": "report", "title": f"參加第{n}屆國際圖書館協會聯盟年會報告",
            "abstract": "本次出國參加年會，與各國館員交流數位典藏的經驗。", "year": 2000 + n % 20}


def add(writer: BatchWriter, numbers) -> None:
    for n in numbers:
        writer.add(document_fields(f"C{n:05d}.yaml", f"C{n:05d}.yaml:1.1:-", record(n), None, []))


def index_of_batches(tmp_path, *batches):
    """An index with one committed segment per batch of record numbers."""
    ix = create_index(tmp_path / "index")
    for numbers in batches:
        with BatchWriter(ix) as writer:
            add(writer, numbers)
    return ix


def segment_sizes(ix) -> list[int]:
    return sorted(seg.doc_count() for seg in ix._segments())


def test_many_small_commits_leave_few_segments_and_every_document(tmp_path):
    ix = create_index(tmp_path / "index")
    with BatchWriter(ix, batch=3) as writer:
        add(writer, range(300))
    sizes = segment_sizes(ix)
    tiers = {int(math.log(s, 8)) for s in sizes}
    assert sum(sizes) == 300
    assert all(sum(1 for s in sizes if int(math.log(s, 8)) == t) < 8 for t in tiers), sizes
    assert len(sizes) < 300 // 3 / 4  # 100 commits, far fewer segments
    with ix.searcher() as s:
        assert sorted(live_values(s.reader(), "id")) == [f"C{n:05d}" for n in range(300)]
        assert s.document_number(id="C00299") is not None


def test_a_segment_whose_documents_were_all_deleted_is_dropped(tmp_path):
    ix = index_of_batches(tmp_path, range(5), range(100, 105))
    assert segment_sizes(ix) == [5, 5]
    with BatchWriter(ix) as writer:
        for n in range(5):
            writer.delete(f"C{n:05d}.yaml")
        add(writer, [200])
    assert segment_sizes(ix) == [1, 5]
    with ix.searcher() as s:
        assert sorted(live_values(s.reader(), "id")) == ["C00100", "C00101", "C00102", "C00103", "C00104",
                                                         "C00200"]


def test_a_batch_is_committed_when_its_time_is_up(tmp_path):
    ix = create_index(tmp_path / "index")
    with BatchWriter(ix, seconds=0.0) as writer:
        add(writer, range(3))
        with ix.searcher() as s:  # already committed, before the writer closes
            assert s.doc_count() == 3


def test_field_lengths_read_into_memory_are_the_ones_on_disk(tmp_path):
    from tripkb.index.schema import lengths_in_memory

    ix = index_of_batches(tmp_path, range(10), range(10, 13))
    with BatchWriter(ix) as writer:
        writer.delete("C00003.yaml")
    fields = ("title", "title_g", "abstract", "abstract_g", "body")
    with ix.searcher() as s:
        before = {(d, f): s.doc_field_length(d, f) for d in range(s.doc_count_all()) for f in fields}
    with ix.searcher() as s:
        lengths_in_memory(s)
        assert len(s.leaf_searchers()) == 2
        assert all(isinstance(leaf.reader()._perdoc._readers["_title_len"], bytes)
                   for leaf, _ in s.leaf_searchers())
        after = {(d, f): s.doc_field_length(d, f) for d in range(s.doc_count_all()) for f in fields}
    assert after == before
    assert before[(0, "title")] > 0 and before[(0, "body")] == 0


def test_a_rebuilt_index_is_one_segment_with_every_record(tmp_path, monkeypatch):
    from tripkb.index import batch_writer, sync
    from tripkb.index.schema import open_index
    from tripkb.kb import KnowledgeBase

    monkeypatch.setattr(batch_writer, "COMMIT_EVERY", 3)
    kb = KnowledgeBase.locate(tmp_path / "kb", create=True)
    sync.sync(kb)
    for n in range(40):
        (kb.corpus / f"C{n:05d}.yaml").write_text(f"id: C{n:05d}\ntype: report\ntitle: 第{n}屆年會報告\n",
                                                   encoding="utf-8")
    assert sync.sync(kb).added == 40
    assert segment_sizes(open_index(kb.index_dir)) == [40]  # it committed as it went, then merged its own
    (kb.corpus / "C00040.yaml").write_text("id: C00040\ntype: report\ntitle: 第40屆年會報告\n", encoding="utf-8")
    assert sync.sync(kb).added == 1
    assert segment_sizes(open_index(kb.index_dir)) == [1, 40]  # each update adds its segment
    assert sync.sync(kb, rebuild=True).added == 41
    ix = open_index(kb.index_dir)
    assert segment_sizes(ix) == [41]
    with ix.searcher() as s:
        assert sorted(live_values(s.reader(), "id")) == [f"C{n:05d}" for n in range(41)]


def test_each_ingest_leaves_one_new_segment_however_often_it_committed(tmp_path, monkeypatch):
    """A run that commits on the way (every two records here; every minute on a slow machine)
    still adds one segment: the count follows the runs, not the machine's speed."""
    from tripkb.index import batch_writer
    from tripkb.index.schema import open_index
    from tripkb.ingest.documents import ingest
    from tripkb.kb import KnowledgeBase

    monkeypatch.setattr(batch_writer, "COMMIT_EVERY", 2)
    kb = KnowledgeBase.locate(tmp_path / "kb", create=True)
    counts = []
    for run in range(3):
        src = tmp_path / f"src{run}"
        src.mkdir()
        for n in range(run * 10, run * 10 + 7):
            (src / f"C{n:05d}.yaml").write_text(f"id: C{n:05d}\ntype: report\ntitle: 第{n}屆年會報告\n",
                                                encoding="utf-8")
        report = ingest(kb, [src])
        assert len(report.added) == 7 and not report.problems
        counts.append(report.segments)
    ix = open_index(kb.index_dir)
    assert counts == [1, 2, 3] and segment_sizes(ix) == [7, 7, 7]
    with ix.searcher() as s:
        assert len(list(live_values(s.reader(), "id"))) == 21


def test_the_ingest_summary_names_the_segments_when_there_are_several(tmp_path):
    from conftest import run_cli

    kb = tmp_path / "kb"
    for run in range(2):
        src = tmp_path / f"src{run}"
        src.mkdir()
        (src / f"C0000{run}.yaml").write_text(f"id: C0000{run}\ntype: report\ntitle: 第{run}屆年會報告\n",
                                              encoding="utf-8")
        result = run_cli("--kb", str(kb), "ingest", str(src))
        assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Ingest: 1 added, 0 unchanged, index in 2 segments.")
