"""Both extractors give the same normalised text and the same search results."""

import shutil

import pytest

from tripkb.index.sync import sync
from tripkb.kb import KnowledgeBase
from tripkb.query.search import search
from tripkb.text import extract as ex

from conftest import REPO

pytest.importorskip("pypdfium2")
QUERIES = ["國際圖書館協會聯盟", "美國圖書館學會", "年會", "數位典藏", "台北", "annual conference", "IFLA",
           "图书馆", "德班", "海報展"]


@pytest.fixture
def engine():
    yield ex.choose
    ex.choose("auto")


def test_same_text_from_both_engines(engine):
    for pdf in sorted((REPO / "corpus").glob("*.pdf")):
        engine("pypdf")
        a = ex.extract(pdf).pages
        engine("pypdfium2")
        b = ex.extract(pdf).pages
        assert len(a) == len(b)
        squash = lambda pages: ["".join(p.split()) for p in pages]  # noqa: E731  line breaks may differ
        assert squash(a) == squash(b), pdf.name


def test_same_search_results(tmp_path, engine):
    results = {}
    for name in ("pypdf", "pypdfium2"):
        kb = KnowledgeBase(tmp_path / name)
        shutil.copytree(REPO / "corpus", kb.corpus)
        sync(kb, extractor=name)
        results[name] = {q: [(h.id, h.pages) for h in search(kb, q, limit=50).hits] for q in QUERIES}
    assert results["pypdf"] == results["pypdfium2"]


def test_unknown_engine_is_a_usage_error():
    from tripkb.errors import UsageError

    with pytest.raises(UsageError, match="--extractor must be one of auto, pypdf, pypdfium2, not 'xpdf'"):
        ex.choose("xpdf")
