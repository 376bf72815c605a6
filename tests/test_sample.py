"""The shipped sample KB: every document that literally contains a query is found, in either script."""

import random
import re

import pytest

from tripkb.query.search import search
from tripkb.text.extract import extract
from tripkb.text.normalise import match_form, query_form

from conftest import REPO

CJK = re.compile(r"[\u4e00-\u9fff]{2,}")
QUERIES = ["國際圖書館協會聯盟", "美國圖書館學會", "年會", "海報展", "臺北", "台北", "数字图书馆",
           "annual conference", "IFLA", "ALA", "數位典藏", "出國類別：開會", "公共圖書館", "德班", "館員"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    import shutil

    from tripkb.kb import KnowledgeBase

    root = tmp_path_factory.mktemp("sample")
    shutil.copytree(REPO / "corpus", root / "corpus")
    kb = KnowledgeBase(root)
    texts = {}
    for pdf in sorted(kb.corpus.glob("*.pdf")):
        pages = extract(pdf).pages
        texts[pdf.stem] = [re.sub(r"\s+", "", p) for p in pages]
    return kb, texts


def found(kb, query):
    return {h.id for h in search(kb, query, limit=1000).hits}


def containing(texts, query):
    """Documents whose text (whitespace removed, either script) contains the query's words."""
    needle = re.sub(r"\s+", "", query_form(query))
    return {doc for doc, pages in texts.items() if any(needle in match_form(p) for p in pages)}


def test_the_sample_has_what_the_readme_promises(sample):
    kb, texts = sample
    assert len(texts) >= 12
    assert len(list(kb.corpus.glob("*.yaml"))) > len(texts)  # plus metadata-only records


@pytest.mark.parametrize("query", QUERIES)
def test_every_document_containing_the_query_is_found(sample, query):
    kb, texts = sample
    expected = containing(texts, query)
    if query.isascii():  # Latin words match whole words: check with word boundaries
        pattern = re.compile(rf"(?<![a-z0-9]){re.escape(query_form(query).replace(' ', ''))}(?![a-z0-9])")
        expected = {d for d, pages in texts.items() if any(pattern.search(match_form(p)) for p in pages)}
    assert expected, f"the sample should contain {query}"
    assert expected <= found(kb, query)


def test_random_substrings_in_both_scripts(sample):
    kb, texts = sample
    rng = random.Random(20261125)
    for doc, pages in texts.items():
        runs = [m.group() for p in pages for m in CJK.finditer(p)]
        for _ in range(6):
            run = rng.choice(runs)
            n = rng.randint(2, min(8, len(run)))
            i = rng.randint(0, len(run) - n)
            query = run[i:i + n]
            assert doc in found(kb, query), query
            assert doc in found(kb, match_form(query)), match_form(query)


def test_metadata_only_records_are_searchable(sample):
    kb, _ = sample
    hits = {h.id: h for h in search(kb, "參加 2007 年美國圖書館學會年會報告", limit=50).hits}
    assert hits["C09601649"].file is None and hits["C09601649"].pages == []
