"""Every ``stats`` table agrees with the documents ``search`` finds, however the index was built.

``stats`` reads per-document values by document number from the index's
columns; a segment in which no document has a value for a field (a
metadata-only record without a year, say) has no column for it. Each
knowledge base here is built in another order, by ingests of PDFs and of
records lacking fields, by copies synced in, by a rebuild, by merges; every
table, alone and crossed, with and without a query and filters, is compared
with counts made from the records search returns (without a query, the
selection ``export`` uses).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import replace
from itertools import combinations, product
from pathlib import Path

import pytest

from tripkb.index.schema import open_index
from tripkb.index.segment_writer import GroupedWriter
from tripkb.index.sync import sync
from tripkb.ingest.documents import ingest
from tripkb.kb import KnowledgeBase
from tripkb.meta.vocab import Vocabulary
from tripkb.query.search import Filters, search
from tripkb.query.selection import select
from tripkb.query.stats import FIELDS, stats

from conftest import REPO, run_cli

#: Sample reports with their sidecars: five of them about IFLA, all from 國家圖書館.
PDFS = ["EX0900001", "EX0920002", "EX0950001", "EX0960003", "EX0970001", "EX0980003"]
#: Metadata-only records, each lacking fields, so that a segment of them lacks those columns.
RECORDS = {
    "NOYEAR1": "id: NOYEAR1\ntype: report\ntitle: no year\n",
    "NOINST1": "id: NOINST1\ntype: report\ntitle: IFLA 年會報告\nyear: 2007\nevents: [WLIC]\n",
    "OLDNAME1": ("id: OLDNAME1\ntype: report\ntitle: 日本圖書館考察\ninstitution: 國立台中圖書館\n"
                 "year: 2009\ncountries: [日本]\nparticipants: 3\n"),
    "ORGONLY1": ("id: ORGONLY1\ntype: paper\ntitle: IFLA and ALA\nevents: [ala, IFLA]\n"
                 "countries: [USA, 加拿大]\n"),
    "REGION1": "id: REGION1\ntype: other\ntitle: 歐洲行\nregion: 歐洲地區\nparticipants: 5\n",
}
QUERIES = [None, "IFLA", "圖書館"]
FILTERS = [Filters(), Filters(institution="國圖"), Filters(since=2005), Filters(region="亞洲地區"),
           Filters(type="report", until=2008), Filters(org="IFLA")]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    """The sample PDFs with their sidecars, and the records, each in a folder of its own."""
    root = tmp_path_factory.mktemp("sources")
    for name in PDFS:
        folder = root / name
        folder.mkdir()
        for suffix in (".pdf", ".yaml"):
            shutil.copy(REPO / "corpus" / f"{name}{suffix}", folder)
    for name, text in RECORDS.items():
        (root / name).mkdir()
        (root / name / f"{name.lower()}.yaml").write_text(text, encoding="utf-8")
    return root


def _pdf(sources: Path, name: str) -> Path:
    return sources / name / f"{name}.pdf"


def _record(sources: Path, name: str) -> Path:
    return sources / name / f"{name.lower()}.yaml"


def records_first(kb: KnowledgeBase, sources: Path) -> None:
    for name in RECORDS:
        ingest(kb, [_record(sources, name)], workers=0)
    ingest(kb, [_pdf(sources, n) for n in PDFS], workers=0)


def pdfs_first(kb: KnowledgeBase, sources: Path) -> None:
    ingest(kb, [_pdf(sources, n) for n in PDFS], workers=0)
    for name in RECORDS:
        ingest(kb, [_record(sources, name)], workers=0)


def mixed(kb: KnowledgeBase, sources: Path) -> None:
    """One ingest per document, PDFs and records in turn: the first nine segments are merged
    as they tier up, the last record's and PDF's stay alone."""
    for pdf, record in zip(PDFS, [*RECORDS, None]):
        ingest(kb, [_pdf(sources, pdf)], workers=0)
        if record:
            ingest(kb, [_record(sources, record)], workers=0)


def copied(kb: KnowledgeBase, sources: Path) -> None:
    """Files put in corpus/ by hand (or git pull), each followed by a sync."""
    for record, pdf in zip([*RECORDS, None], reversed(PDFS)):
        for path in ([_record(sources, record)] if record else []) + [_pdf(sources, pdf)]:
            for part in path.parent.iterdir():
                shutil.copy(part, kb.corpus)
            sync(kb)


def reindexed(kb: KnowledgeBase, sources: Path) -> None:
    """Half the documents in one ingest, a rebuild (one segment), then the rest one by one."""
    records = list(RECORDS)
    ingest(kb, [_pdf(sources, n) for n in PDFS[:3]] + [_record(sources, n) for n in records[3:]], workers=0)
    sync(kb, rebuild=True)
    for name in records[:3]:
        ingest(kb, [_record(sources, name)], workers=0)
    for name in PDFS[3:]:
        ingest(kb, [_pdf(sources, name)], workers=0)


def edited(kb: KnowledgeBase, sources: Path) -> None:
    """Records first, then one given the fields it lacked, another and a report taken away:
    the replaced and removed documents stay in their segments, deleted, until a merge."""
    records_first(kb, sources)
    record = kb.corpus / "noyear1.yaml"
    record.write_text(record.read_text(encoding="utf-8") + "year: 2010\ninstitution: 國圖\n", encoding="utf-8")
    for name in ("region1.yaml", f"{PDFS[0]}.pdf", f"{PDFS[0]}.yaml"):
        (kb.corpus / name).unlink()
    sync(kb)


def optimized(kb: KnowledgeBase, sources: Path) -> None:
    """Records alone in segments, then everything merged into one segment."""
    records_first(kb, sources)
    writer = GroupedWriter(open_index(kb.index_dir))
    writer.commit(optimize=True)


def merged_records(kb: KnowledgeBase, sources: Path) -> None:
    """A segment of merged records lacking columns, beside segments of PDFs that have them."""
    pdfs_first(kb, sources)
    writer = GroupedWriter(open_index(kb.index_dir))
    writer.commit(mergetype=_merge_all_but_first)


def _merge_all_but_first(writer, segments: list) -> list:
    """Merge policy: the first segment (the PDFs) kept, every later one merged into one."""
    from whoosh.reading import SegmentReader

    for seg in segments[1:]:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        writer.add_reader(reader)
        reader.close()
    return segments[:1]


ORDERS = [records_first, pdfs_first, mixed, copied, edited, reindexed, optimized, merged_records]


@pytest.fixture(scope="module", params=ORDERS, ids=lambda order: order.__name__)
def built(request, sources, tmp_path_factory) -> KnowledgeBase:
    kb = KnowledgeBase.locate(tmp_path_factory.mktemp(request.param.__name__) / "kb", create=True)
    request.param(kb, sources)
    return kb


def _labels(record: dict, name: str, vocab: Vocabulary, historical: bool = False) -> tuple:
    """What a document counts under, made from its stored record (never from the index's columns)."""
    year = record.get("year")
    if name == "year":
        return (year,)
    if name in ("type", "category"):
        return (record.get(name) or None,)
    if name == "institution":
        if not record.get("institution"):
            return (None,)
        current = vocab.canonical_institution(record["institution"], year)
        return (vocab.canonical_institution(current, year, True) if historical else current,)
    countries = [vocab.canonical_country(c) or c for c in record.get("countries") or []]
    if name == "country":
        values = countries
    elif name == "org":
        values = [vocab.org_code(e) or e.upper() for e in record.get("events") or []]
    else:
        values = [record["region"]] if record.get("region") else []
        values += [r for r in map(vocab.region_for_country, countries) if r]
    return tuple(dict.fromkeys(values)) or (None,)


def _records(kb: KnowledgeBase, query: str | None, filters: Filters, vocab: Vocabulary) -> list[dict]:
    """The records search finds (the selection, without a query), --region as stats reads it."""
    narrowed = replace(filters, region=None)
    if query is None:
        found = [item.record for item in select(kb, None, narrowed).items]
    else:
        found = [hit.record for hit in search(kb, query, narrowed, limit=10_000).hits]
    if filters.region:
        found = [r for r in found if filters.region in _labels(r, "region", vocab)]
    return found


def _expected(records: list[dict], by: tuple[str, ...], vocab: Vocabulary, count: str = "documents",
              historical: bool = False) -> tuple[dict, list[dict], int]:
    cells: Counter = Counter()
    margins = [Counter() for _ in by]
    total = 0
    for record in records:
        weight = 1 if count == "documents" else record.get("participants") or 0
        labels = [_labels(record, name, vocab, historical) for name in by]
        for key in product(*labels):
            cells[key] += weight
        for margin, values in zip(margins, labels):
            for value in values:
                margin[value] += weight
        total += weight
    return dict(cells), [dict(m) for m in margins], total


def _check(kb, vocab, query, filters, tables) -> None:
    """Each (by, count, historical) of ``tables`` as stats counts it and as the found records do."""
    records = _records(kb, query, filters, vocab)
    for by, count, historical in tables:
        result = stats(kb, list(by), filters, query, count=count, historical=historical)
        expected = _expected(records, by, vocab, count, historical)
        assert (result.cells, result.margins, result.total) == expected, \
            f"--by {' --by '.join(by)} -q {query} {filters} --count {count} historical={historical}"


def test_every_table_agrees_with_search(built):
    """Each field alone and every pair, with and without a query, counts what search finds; under
    every query and filter, so does the tally by all fields at once (each table is a margin of it)."""
    vocab = Vocabulary.load(built.root)
    assert len(select(built).items) == len(list(built.corpus.glob("*.yaml")))
    tables = [((name,), "documents", False) for name in FIELDS] + [
        (pair, "documents", False) for pair in combinations(FIELDS, 2)]
    for query in QUERIES[:2]:
        _check(built, vocab, query, Filters(), tables)
    everything = [(FIELDS, "documents", False), (FIELDS[::-1], "participants", True)]
    for query, filters in product(QUERIES, FILTERS):
        _check(built, vocab, query, filters, everything)


def test_index_reads_every_document_by_number(built):
    """Every column the index keeps gives one value per document, in document order."""
    from tripkb.index.schema import live_values

    with open_index(built.index_dir).reader() as reader:
        size = reader.doc_count_all()
        for name, field in reader.schema.items():
            if field.column_type:
                assert len(list(reader.column_reader(name))) == size, name
        ids = live_values(reader, "id")
        stored = [fields["data"]["record"]["id"] for _, fields in reader.iter_docs()]
    assert ids == stored


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _cli_counts(kb: Path, field: str, query: str) -> Counter:
    table = _json(run_cli("--kb", str(kb), "stats", "--by", field, "-q", query, "--json"))
    return Counter({row[field]: row["count"] for row in table["rows"]})


def _agree(kb: Path, query: str) -> None:
    """``stats --json`` by institution and by year counts what ``search --json`` lists."""
    vocab = Vocabulary.load(kb)
    hits = _json(run_cli("--kb", str(kb), "search", query, "--json", "--limit", "1000"))["hits"]
    institutions = Counter(vocab.canonical_institution(hit["institution"], hit["year"])
                           if hit["institution"] else None for hit in hits)
    assert _cli_counts(kb, "institution", query) == institutions
    assert _cli_counts(kb, "year", query) == Counter(hit["year"] for hit in hits)


def test_readme_workflow_after_a_metadata_only_record(tmp_path):
    """The README's clone → search → ingest a record → ingest a PDF; then stats matches search."""
    clone = tmp_path / "kbclone"
    shutil.copytree(REPO / "corpus", clone / "corpus", ignore=shutil.ignore_patterns("EX1080001.*"))
    assert run_cli("--kb", str(clone), "search", "IFLA").returncode == 0
    noyear = tmp_path / "noyear.yaml"
    noyear.write_text("id: NOYEAR1\ntype: report\ntitle: no year\n", encoding="utf-8")
    assert run_cli("--kb", str(clone), "ingest", str(noyear)).returncode == 0
    new = tmp_path / "new.pdf"
    shutil.copy(REPO / "corpus" / "EX1080001.pdf", new)
    done = run_cli("--kb", str(clone), "ingest", str(new))
    assert done.returncode == 0, done.stderr
    assert "1 added" in done.stdout
    _agree(clone, "IFLA")


def test_fresh_kb_record_then_sample_reports(tmp_path):
    """A fresh KB: a record without a year, then a folder of the sample's EX09* reports."""
    kb = tmp_path / "kb"
    folder = tmp_path / "reports"
    folder.mkdir()
    for path in (REPO / "corpus").glob("EX09*"):
        shutil.copy(path, folder)
    noyear = tmp_path / "noyear.yaml"
    noyear.write_text("id: NOYEAR1\ntype: report\ntitle: no year\n", encoding="utf-8")
    assert run_cli("--kb", str(kb), "ingest", str(noyear)).returncode == 0
    assert run_cli("--kb", str(kb), "ingest", str(folder)).returncode == 0
    _agree(kb, "IFLA")
    assert _cli_counts(kb, "institution", "IFLA") == Counter({"國家圖書館": 5})
