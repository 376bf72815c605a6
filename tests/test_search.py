"""Search over a real index: literal recall, both scripts, phrases, filters, pages, snippets."""

import pytest

from tripkb.errors import QueryError
from tripkb.index.sync import sync
from tripkb.ingest.documents import ingest
from tripkb.kb import KnowledgeBase
from tripkb.query.search import Filters, search

from reports import ALA_2008, IFLA_2007, MAINLAND_PAPER


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> KnowledgeBase:
    from conftest import make_pdf

    root = tmp_path_factory.mktemp("search")
    kb = KnowledgeBase.locate(root / "kb", create=True)
    src = root / "src"
    make_pdf(src / "ifla2007.pdf", IFLA_2007)
    make_pdf(src / "ala2008.pdf", ALA_2008)
    make_pdf(src / "paper.pdf", MAINLAND_PAPER)
    (src / "ifla2007.yaml").write_text(
        "id: EX0960001\ntype: report\ntitle: 參加2007年國際圖書館協會聯盟（IFLA）年會報告\n"
        "institution: 國家圖書館\ncategory: 開會\nevents: [IFLA]\ncountries: [南非]\nregion: 非洲地區\n"
        "year: 2007\n", encoding="utf-8")
    (src / "ala2008.yaml").write_text(
        "id: EX0970001\ntype: report\ntitle: 參加2008年美國圖書館學會年會暨參訪公共圖書館報告\n"
        "institution: 臺北市立圖書館\ncategory: 考察\nevents: [ALA]\ncountries: [美國]\nregion: 美加地區\n"
        "year: 2008\n", encoding="utf-8")
    (src / "paper.yaml").write_text("id: EX0980001\ntype: paper\ntitle: 数字图书馆资源共享研究\nyear: 2009\n",
                                    encoding="utf-8")
    assert ingest(kb, [src]).problems == []
    return kb


def ids(result):
    return [h.id for h in result.hits]


def test_traditional_query(kb):
    result = search(kb, "國際圖書館協會聯盟")
    assert ids(result) == ["EX0960001"]
    assert result.hits[0].pages == [1]


def test_simplified_query_finds_traditional_text_and_back(kb):
    assert ids(search(kb, "国际图书馆协会联盟")) == ["EX0960001"]
    assert ids(search(kb, "數字圖書館")) == ["EX0980001"]


def test_tai_and_tai(kb):
    assert ids(search(kb, "臺北")) == ids(search(kb, "台北")) == ["EX0970001"]  # text says 台北
    assert ids(search(kb, "台灣")) == ids(search(kb, "臺灣")) == ["EX0960001"]  # text says 臺灣


def test_substrings_that_jieba_segments_differently_are_found(kb):
    # 館協 straddles two jieba words; 書館協會聯 starts and ends mid-word
    assert ids(search(kb, "館協")) == ["EX0960001"]
    assert ids(search(kb, "書館協會聯")) == ["EX0960001"]


def test_phrases_in_chinese_and_english(kb):
    assert set(ids(search(kb, '"美國圖書館學會"'))) == {"EX0960001", "EX0970001"}
    assert ids(search(kb, '"annual conference"')) == ["EX0960001"]
    assert ids(search(kb, '"conference annual"')) == []


def test_mixed_script_and_full_width(kb):
    assert ids(search(kb, "ＩＦＬＡ")) == ["EX0960001"]
    assert ids(search(kb, "聯盟（IFLA）年會")) == ["EX0960001"]
    assert ids(search(kb, "World Library")) == ["EX0960001"]
    assert ids(search(kb, "ala年會"))[0] == "EX0970001"  # literally; the other has both words apart


def test_boolean_syntax(kb):
    assert set(ids(search(kb, "德班 OR 安那翰"))) == {"EX0960001", "EX0970001"}
    assert ids(search(kb, "海報展 -德班")) == ["EX0970001"]
    assert ids(search(kb, "title:年會 body:德班")) == ["EX0960001"]


def test_filters(kb):
    assert ids(search(kb, "圖書館", Filters(org="IFLA"))) == ["EX0960001"]
    assert ids(search(kb, "圖書館", Filters(since=2008))) != []
    assert "EX0960001" not in ids(search(kb, "圖書館", Filters(since=2008)))
    assert ids(search(kb, "圖書館", Filters(type="paper"))) == ["EX0980001"]
    assert ids(search(kb, "圖書館", Filters(region="美加地區"))) == ["EX0970001"]
    assert ids(search(kb, "圖書館", Filters(category="開會", until=2007))) == ["EX0960001"]


def test_one_hit_per_document_with_every_matching_page(kb):
    result = search(kb, "圖書館學會")
    assert result.total == len(set(ids(result)))
    ifla = next(h for h in result.hits if h.id == "EX0960001")
    assert ifla.pages == [3]


def test_snippet_highlights_the_original_characters(kb):
    hit = search(kb, "台北").hits[0]
    for start, end in hit.snippet_spans:
        assert hit.snippet[start:end] in ("臺北", "台北")
    assert hit.snippet_spans


def test_latin_words_match_whole_words_only(kb):
    # ALA must not match inside other words, nor highlight inside them
    hit = search(kb, "ALA").hits[0]
    assert all(hit.snippet[s:e].lower() == "ala" for s, e in hit.snippet_spans)


@pytest.mark.parametrize("query, message", [
    ("", "the query is empty: give a word or phrase to search for, e.g. 年會"),
    ("   ", "the query is empty: give a word or phrase to search for, e.g. 年會"),
    ("：，。！", "the query '：，。！' has no words to search for (only punctuation or operators)"),
    ("((", "the query '((' has no words to search for (only punctuation or operators)"),
    ("-海報", "the query only excludes words; add a word to search for"),
    ("foo:bar", "unknown field 'foo:' in the query; fields are: title, keywords, authors, abstract, "
                "body, org, country, id, type, institution, region, category, language, year"),
    ("館" * 1001, "the query is 1001 characters long; the limit is 1000"),
])
def test_bad_queries_have_helpful_messages(kb, query, message):
    with pytest.raises(QueryError) as info:
        search(kb, query)
    assert str(info.value) == message


def test_unbalanced_quote_is_searched_as_words(kb):
    assert ids(search(kb, '"德班')) == ["EX0960001"]


def test_index_is_rebuilt_when_missing(kb, tmp_path):
    import shutil

    copy = KnowledgeBase(tmp_path / "copy")
    shutil.copytree(kb.corpus, copy.corpus)
    assert ids(search(copy, "德班")) == ["EX0960001"]
    assert sync(copy).unchanged == 3


def test_filters_understand_aliases_and_former_names(tmp_path):
    from tripkb.meta.sidecar import write_sidecar

    kb = KnowledgeBase.locate(tmp_path / "kb", create=True)
    write_sidecar(kb.corpus / "a.yaml", {"id": "A", "title": "公共圖書館參訪", "institution": "國立臺中圖書館",
                                         "countries": ["USA"], "events": ["WLIC"], "year": 2009})
    write_sidecar(kb.corpus / "b.yaml", {"id": "B", "title": "公共圖書館年會", "institution": "國立公共資訊圖書館",
                                         "countries": ["美国"], "year": 2015})
    both = {"A", "B"}
    assert set(ids(search(kb, "公共圖書館", Filters(institution="國立公共資訊圖書館")))) == both
    assert set(ids(search(kb, "公共圖書館", Filters(institution="國立臺中圖書館")))) == both
    assert set(ids(search(kb, "公共圖書館", Filters(country="美國")))) == both
    assert set(ids(search(kb, "公共圖書館", Filters(region="美加地區")))) == both
    assert ids(search(kb, "公共圖書館", Filters(org="國際圖書館協會聯盟"))) == ["A"]
    assert ids(search(kb, "公共圖書館 org:ifla")) == ["A"]


def test_total_counts_every_matching_document_whatever_the_limit(kb):
    for query in ("圖書館", "年會", '"美國圖書館學會"', "圖書館 OR 數字"):
        everything = search(kb, query, limit=1000)
        assert everything.total == len(everything.hits)
        assert search(kb, query, limit=1).total == everything.total


def test_an_index_from_another_schema_version_is_rebuilt(kb, tmp_path):
    import json
    import shutil

    from tripkb.index.schema import SCHEMA_VERSION, VERSION_FILE

    copy = KnowledgeBase(tmp_path / "old")
    shutil.copytree(kb.root, copy.root)
    (copy.index_dir / VERSION_FILE).write_text(json.dumps({"schema_version": 1}), encoding="utf-8")
    assert ids(search(copy, "德班")) == ["EX0960001"]
    assert json.loads((copy.index_dir / VERSION_FILE).read_text())["schema_version"] == SCHEMA_VERSION


def test_total_with_filters_counts_what_the_filter_lets_through(kb):
    for query in ("圖書館", "國際圖書館協會聯盟", '"年會"'):
        for filters in (Filters(type="report"), Filters(since=2008), Filters(org="IFLA")):
            everything = search(kb, query, filters, limit=1000)
            assert everything.total == len(everything.hits)
            assert search(kb, query, filters, limit=1).total == everything.total
    assert search(kb, "圖書館", Filters(type="report")).total == 2


def test_query_words_longer_than_eight_characters_are_looked_up_whole(kb):
    from tripkb.index.schema import open_index
    from tripkb.query.search import lexicon_segmenter, query_form

    with open_index(kb.index_dir).searcher() as searcher:
        segment = lexicon_segmenter(searcher.reader())
        assert segment(query_form("國際圖書館協會聯盟")) == [query_form("國際圖書館協會聯盟")]


def test_a_quoted_chinese_phrase_needs_its_words_together(kb):
    assert ids(search(kb, '"國際圖書館協會聯盟"')) == ["EX0960001"]  # one indexed word
    assert search(kb, "年會圖書館").total == 3  # unquoted: both words, anywhere
    assert ids(search(kb, '"年會圖書館"')) == []  # both words are there, never side by side


@pytest.mark.parametrize("text", ["圖書館", "台北 美國", "annual conference", "IFLA", "國際圖書館協會聯盟 年會 2007",
                                  "e.g. U.S. 3.0", "數位典藏，國家圖書館。", "or and not", "＃ｗｏｒｄ",
                                  "圖書館\t年會\u3000海報"])
def test_a_query_of_plain_words_is_built_as_whoosh_s_parser_builds_it(text):
    from tripkb.query.search import _parser, _plain, syntax_form

    syntax = syntax_form(text)
    assert _plain(syntax) is not None and _plain(syntax) == _parser().parse(syntax)


@pytest.mark.parametrize("text", ['"annual conference"', "台北 OR 美國", "-IFLA 年會", "圖書*", "org:IFLA",
                                  "(年會 OR 會議)", "C++", "year:[2005 TO 2007]", "年會^2", "a AND b", "Taiwan's"])
def test_a_query_with_syntax_goes_to_whoosh_s_parser(text):
    from tripkb.query.search import _plain, syntax_form

    assert _plain(syntax_form(text)) is None
