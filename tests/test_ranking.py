"""Ranking on the shipped sample: every document holding an unquoted Chinese query literally
ranks above every document that does not (issue 19; bench/ranking_bench.py measures it at large)."""

import shutil

import pytest

from conftest import REPO
from tripkb.index.schema import StoredDoc, open_index, text_values
from tripkb.index.sync import sync
from tripkb.kb import KnowledgeBase
from tripkb.query.search import ParsedQuery, search
from tripkb.text.normalise import match_form

#: Substrings of the sample's text that cross a jieba word boundary, each held by 2 to 8 documents.
CROSSING = ["書館為", "參加各場", "位與會", "積極推", "議過程", "國公共", "告說明", "全國公", "建置聯",
            "書館如", "示方式", "了解國", "日開幕典", "日返抵台", "調圖書", "術資源", "閱讀服", "書館合",
            "少年空", "出席前", "我國網"]


@pytest.fixture(scope="module")
def sample_kb(tmp_path_factory):
    """(the indexed sample KB, the match-form searchable texts of each document by id)."""
    root = tmp_path_factory.mktemp("ranking")
    shutil.copytree(REPO / "corpus", root / "corpus")
    kb = KnowledgeBase(root)
    sync(kb)
    with open_index(kb.index_dir).searcher() as searcher:
        stored = [StoredDoc.from_stored(f["data"]) for f in searcher.all_stored_fields()]
    return kb, {s.record["id"]: list(text_values(s.record, s.text).values()) for s in stored}, \
        {s.record["id"]: s.record for s in stored}


def holding(texts, query: str) -> set[str]:
    """The ids of the documents whose searchable text holds ``query`` as written."""
    literal = ParsedQuery(None, [match_form(query)], []).patterns()[0]
    return {doc_id for doc_id, values in texts.items() if any(literal.search(v) for v in values)}


@pytest.mark.parametrize("query", CROSSING)
def test_literal_holders_rank_first(sample_kb, query):
    kb, texts, _ = sample_kb
    held = holding(texts, query)
    assert len(held) >= 2
    ranked = [h.id for h in search(kb, query, limit=len(texts), fresh=False).hits]
    assert set(ranked[:len(held)]) == held, ranked


#: Queries that name a metadata value (an institution it begins, an institution, a country by an
#: alias the vocabulary knows, an organisation), and which records carry that value.
CARRIED = [
    ("臺北市立", lambda record: record.get("institution", "").startswith("臺北市立")),
    ("國家圖書館", lambda record: record.get("institution") == "國家圖書館"),
    ("魁北克", lambda record: "加拿大" in record.get("countries", [])),
    ("美國圖書館學會", lambda record: "ALA" in record.get("events", [])),
]


@pytest.mark.parametrize("query, carries", CARRIED, ids=[q for q, _ in CARRIED])
def test_metadata_carriers_rank_with_the_literal_holders(sample_kb, query, carries):
    """A record carrying the value the query names holds the query: it ranks among the literal
    holders, and documents holding only the query's separate words come after all of them."""
    kb, texts, records = sample_kb
    text_only = holding(texts, query)
    carriers = {doc_id for doc_id, record in records.items() if carries(record)}
    assert carriers - text_only and text_only  # a record holding the value and no such text
    held = text_only | carriers
    hits = search(kb, query, limit=len(texts), fresh=False).hits
    assert {h.id for h in hits[:len(held)]} == held, [h.id for h in hits]
    assert all(h.words_only == [] for h in hits[:len(held)])
    assert all(h.words_only == [query] for h in hits[len(held):])
