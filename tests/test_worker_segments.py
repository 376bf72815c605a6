"""Documents brought in by the workers, each writing one segment of those it took: the result the
same as the one-by-one way, ids given twice settled as one process would, a worker that dies or
overruns the time bound redone one document at a time."""

from __future__ import annotations

import subprocess
import sys

import yaml

from tripkb.fsutil import sha256_of
from tripkb.index.schema import live_values, open_index
from tripkb.ingest import documents
from tripkb.ingest.documents import ingest
from tripkb.kb import KnowledgeBase
from tripkb.query.search import search

from conftest import REPO, tripkb_env
from hostile import slow_pdf
from reports import ALA_2008, IFLA_2007, MAINLAND_PAPER

QUERIES = ["國際圖書館協會聯盟", "美國圖書館學會", "图书馆", "數位典藏 -IFLA", "annual conference"]


def six_reports(folder, pdf_maker):
    texts = [IFLA_2007, ALA_2008, MAINLAND_PAPER, IFLA_2007 + ALA_2008, ALA_2008 * 3, MAINLAND_PAPER + IFLA_2007]
    return [pdf_maker(folder / f"r{n}.pdf", text) for n, text in enumerate(texts)]


def test_each_worker_writes_one_segment_and_the_kb_is_as_one_by_one(tmp_path, pdf_maker):
    six_reports(tmp_path / "in", pdf_maker)
    chunked = KnowledgeBase.locate(tmp_path / "chunked", create=True)
    seen = []
    report = ingest(chunked, [tmp_path / "in"], workers=2, progress=lambda done, total, _: seen.append((done, total)))
    assert report.problems == [] and len(report.added) == 6
    assert seen[-1] == (6, 6) and all(a <= b for a, b in zip(seen, seen[1:]))  # the bar never steps back
    assert report.segments == 2  # one a worker
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


def slow_read(path, *args, **kwargs):
    """The workers' reader, a second slower: each of two workers surely takes one document first."""
    import time

    time.sleep(1)
    return READ(path, *args, **kwargs)


READ = documents._read_analysed


def test_an_id_two_workers_give_is_settled_by_the_writer(tmp_path, pdf_maker, monkeypatch):
    """Each worker takes one of the two reports whose sidecars give the same id: neither sees the
    other's, the writer does: one is ingested, the other refused, as one process would."""
    monkeypatch.setattr(documents, "_read_analysed", slow_read)
    r0, r1 = six_reports(tmp_path / "in", pdf_maker)[:2]
    for path in (r0, r1):
        path.with_suffix(".yaml").write_text("id: DUP1\ntitle: 同一編號\n", encoding="utf-8")
    for extra in ("r2.pdf", "r3.pdf", "r4.pdf", "r5.pdf"):
        (tmp_path / "in" / extra).unlink()
    kb = KnowledgeBase.locate(tmp_path / "kb", create=True)
    report = ingest(kb, [tmp_path / "in"], workers=2)
    [kept] = report.added
    refused = r1 if kept == "corpus/r0.pdf" else r0
    assert [(p.path, p.reason) for p in report.problems] == [
        (str(refused.with_suffix(".yaml")), "id: id DUP1 is already used by another document in the knowledge base "
                                            "(not ingested)")]
    name = kept[len("corpus/"):]
    assert sorted(p.name for p in kb.corpus.iterdir()) == [name, name[:-len(".pdf")] + ".yaml"]
    assert ids_in(kb) == ["DUP1"]  # the refused one's document deleted from its worker's segment


def test_a_name_another_worker_took_as_an_id_is_given_a_longer_one(tmp_path, pdf_maker, monkeypatch):
    """r0's sidecar names it r1; r1, read by the other worker, took its name as its id too: one of
    them keeps r1 and r1, if it is the one, gets its name and the start of its SHA-256."""
    monkeypatch.setattr(documents, "_read_analysed", slow_read)
    r0, r1 = six_reports(tmp_path / "in", pdf_maker)[:2]
    for extra in ("r2.pdf", "r3.pdf", "r4.pdf", "r5.pdf"):
        (tmp_path / "in" / extra).unlink()
    r0.with_suffix(".yaml").write_text("id: r1\n", encoding="utf-8")
    kb = KnowledgeBase.locate(tmp_path / "kb", create=True)
    report = ingest(kb, [tmp_path / "in"], workers=2)
    if report.problems:  # r1 was adopted first: r0's sidecar cannot have its id
        assert [(p.path, p.reason) for p in report.problems] == [
            (str(r0.with_suffix(".yaml")), "id: id r1 is already used by another document in the knowledge base "
                                           "(not ingested)")]
        assert ids_in(kb) == ["r1"]
        return
    longer = f"r1-{sha256_of(r1)[:8]}"
    assert yaml.safe_load((kb.corpus / "r1.yaml").read_text(encoding="utf-8"))["id"] == longer
    assert ids_in(kb) == sorted(["r1", longer])
    assert search(kb, f"id:{longer}").total == 1 and search(kb, "id:r1").total == 1


def test_a_worker_whose_document_overruns_is_stopped_and_its_documents_read_one_by_one(tmp_path, pdf_maker):
    """The slow PDF comes last, so the worker that takes it has placed a report before: the worker is
    stopped, that report taken out of corpus/ again, and each of its documents read on its own,
    with its own time bound."""
    folder = tmp_path / "in"
    pdf_maker(folder / "a.pdf", ["短篇報告：臺北市立圖書館參訪紀要，介紹館藏發展與讀者服務的新作法。"])
    for name, text in (("c", IFLA_2007 * 4), ("d", ALA_2008 * 6), ("e", MAINLAND_PAPER * 6), ("f", IFLA_2007 * 6)):
        pdf_maker(folder / f"{name}.pdf", text)
    slow_pdf(folder / "z.pdf")  # pypdf reads it for over 30 s
    proc = subprocess.run([sys.executable, "-m", "tripkb", "--kb", str(tmp_path / "kb"), "ingest", "--extractor",
                           "pypdf", str(folder)],
                          env=tripkb_env(PYTHONPATH=str(REPO), TRIPKB_EXTRACT_TIMEOUT="5"), capture_output=True,
                          text=True, encoding="utf-8", timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines() == [f"Error: {folder / 'z.pdf'}: took longer than 5 s to read (stopped; "
                                        "set TRIPKB_EXTRACT_TIMEOUT to allow more)"]
    kb = KnowledgeBase(tmp_path / "kb")
    assert sorted(p.name for p in kb.corpus.iterdir()) == sorted(
        f"{n}.{s}" for n in "acdef" for s in ("pdf", "yaml"))
    assert ids_in(kb) == ["a", "c", "d", "e", "f"]
    assert [hit.id for hit in search(kb, "參訪紀要").hits] == ["a"]
    assert not list(kb.root.glob("index.bulk-*"))


def test_the_watchdog_ends_its_process_when_a_document_overruns():
    code = ("import time; from tripkb.ingest.worker_segments import Watchdog\n"
            "with Watchdog(0.5) as w:\n    w.since = time.monotonic(); time.sleep(30)")
    proc = subprocess.run([sys.executable, "-c", code], env=tripkb_env(PYTHONPATH=str(REPO)), timeout=20)
    assert proc.returncode == 3


def test_documents_with_the_same_score_are_listed_by_id_whatever_the_order_indexed(tmp_path, pdf_maker):
    first = [pdf_maker(tmp_path / "in" / f"{name}.pdf", [f"第{n}號 " + IFLA_2007[0]]) for n, name in enumerate("zab")]
    found = []
    for order in (first, first[::-1]):
        kb = KnowledgeBase.locate(tmp_path / f"kb{len(found)}", create=True)
        ingest(kb, order, workers=0)  # indexed in the order given
        found.append([hit.id for hit in search(kb, "國際圖書館協會聯盟").hits])
    assert found[0] == found[1] == ["a", "b", "z"]


WORKER_IMPORTS = """
import sys
from pathlib import Path
from tripkb.index.bulk import Staging
from tripkb.ingest import documents, worker_segments
from tripkb.kb import STAGING, KnowledgeBase
from tripkb.meta.vocab import Vocabulary
from tripkb.text.extract import choose

kb, source = KnowledgeBase.locate(Path(sys.argv[1]), create=True), Path(sys.argv[2])
(kb.corpus / STAGING).mkdir()
choose(sys.argv[3])
worker_segments.before_fork(Vocabulary.load(kb.root))
before = set(sys.modules)
with Staging(kb) as staging:
    read = lambda path: documents._read_analysed(path, force_ocr=False, missing="off")
    folder, outcomes = worker_segments.worker_segment(
        kb, staging.folder, frozenset(), [(source, "0" * 64, kb.corpus / source.name)], read,
        documents._bring_in_guarded, 60, 0)
assert folder is not None and outcomes[0].id == source.stem, outcomes
# Ours and those we load; the extractor's own lazy imports are its business. (An old name of one
# of our modules, kept for old indexes, is the module itself.)
print(" ".join(sorted(m for m in set(sys.modules) - before if sys.modules[m].__name__ == m and
                      (m.partition(".")[0] in {"tripkb", "yaml", "whoosh", "jieba"} or m == sys.argv[3]))))
"""


def test_a_worker_forked_after_before_fork_imports_nothing_for_its_documents(tmp_path, pdf_maker):
    """What the workers need is loaded once, before they are forked: a module a worker imported on
    its first document would be imported, and its patterns compiled, once a worker."""
    source = pdf_maker(tmp_path / "in" / "r1.pdf", IFLA_2007)
    for engine in ("pypdf", "pypdfium2"):
        proc = subprocess.run([sys.executable, "-c", WORKER_IMPORTS, str(tmp_path / engine), str(source), engine],
                              env=tripkb_env(PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == [], (engine, proc.stdout)


def _claim_all(staging, n, out) -> None:
    from tripkb.ingest.worker_segments import Claims

    with Claims(staging) as claims:
        got = []
        while (index := claims.next()) < n:
            got.append(index)
    out.write_text(" ".join(map(str, got)))


def test_workers_claiming_at_once_share_the_documents_out_each_once(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    outs = [tmp_path / f"{k}.claimed" for k in range(3)]
    procs = [context.Process(target=_claim_all, args=(tmp_path, 3000, out)) for out in outs]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    claimed = [[int(i) for i in out.read_text().split()] for out in outs]
    assert sorted(i for got in claimed for i in got) == list(range(3000))  # each once, none left
    assert all(got == sorted(got) for got in claimed)  # each worker's in the order of the list
