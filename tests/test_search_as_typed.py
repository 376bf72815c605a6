"""Issue 19: queries read as people type them, at the shell and in the library, and what the
output says about them (the query battery is in test_query_battery.py)."""

import json

import pytest

import battery
from conftest import run_cli
from tripkb.errors import QueryError
from tripkb.index.sync import sync
from tripkb.kb import KnowledgeBase
from tripkb.query.search import search


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> KnowledgeBase:
    from conftest import make_pdf

    kb = KnowledgeBase(battery.build(tmp_path_factory.mktemp("typed"), make_pdf))
    sync(kb)
    return kb


def cli(kb, *args):
    return run_cli("--kb", str(kb.root), *args)


def ids(result):
    return [h.id for h in result.hits]


def test_several_words_at_the_shell_are_one_query(kb):
    result = cli(kb, "search", "年會", "海報展", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["query"] == "年會 海報展" and "EX0970002" in [h["id"] for h in data["hits"]]


def test_a_leading_minus_at_the_shell_excludes(kb):
    result = cli(kb, "search", "年會", "-ALA", "--json")
    assert result.returncode == 0, result.stderr
    assert not {h["id"] for h in json.loads(result.stdout)["hits"]} & battery.ALA
    first = cli(kb, "search", "-ALA", "年會", "--json", "-n", "50")
    assert json.loads(first.stdout)["total"] == json.loads(result.stdout)["total"]
    after = cli(kb, "search", "--json", "--", "-ALA", "年會")
    assert json.loads(after.stdout)["total"] == json.loads(result.stdout)["total"]


def test_an_unknown_long_option_says_how_to_search_for_it(kb):
    result = cli(kb, "search", "年會", "--limt", "3")
    assert result.returncode == 2
    assert "No such option: --limt" in result.stderr and "tripkb search -- --limt" in result.stderr


def test_a_bare_id_at_the_shell(kb):
    result = cli(kb, "search", "c09601649", "--json")
    assert json.loads(result.stdout)["hits"][0]["id"] == "C09601649"


@pytest.mark.parametrize("typed", ["tsaibologna2016", "TSAIBOLOGNA2016", "TsaiBologna2016", "id:tSAIbologna2016",
                                   "tsaibol*"])
def test_an_id_of_any_shape_in_any_case_at_the_shell(kb, typed):
    result = cli(kb, "search", typed, "--json")
    assert result.returncode == 0, result.stderr
    assert [h["id"] for h in json.loads(result.stdout)["hits"]][:1] == ["TsaiBologna2016"]


@pytest.mark.parametrize("typed", [
    "A Library in the Subway Taipei Public Librarys SelfService Intelligent Library",
    "a library in the subway: taipei public librarys selfservice intelligent library",
    "ALibraryInTheSubway TaipeiPublicLibrary's SelfServiceIntelligentLibrary",
])
def test_a_title_typed_without_its_punctuation_or_with_words_joined_comes_first(kb, typed):
    result = cli(kb, "search", "--json", "--", typed)
    assert result.returncode == 0, result.stderr
    first = json.loads(result.stdout)["hits"][0]
    assert first["id"] == "EX0970003" and first["words_only"] == []


def test_a_joined_word_finds_its_hyphenated_form(kb):
    result = cli(kb, "search", "SelfService")
    assert result.returncode == 0, result.stderr
    assert "EX0970003" in result.stdout and "«Self-Service»" in result.stdout


def test_a_country_in_the_mainland_spelling_finds_the_taiwan_one_and_back(kb):
    listing = cli(kb, "search", "意大利米蘭")
    assert listing.returncode == 0, listing.stderr
    assert "EX0980003" in listing.stdout and "«義大利米蘭»" in listing.stdout
    assert "only the separate words" not in listing.stdout
    for typed, meant in (("參加2009年國際圖書館協會聯盟年會（意大利米蘭）報告", "EX0980003"),
                         ("赴義大利波隆那兒童書展考察報告", "TsaiBologna2016")):
        data = json.loads(cli(kb, "search", typed, "--json").stdout)
        assert data["hits"][0]["id"] == meant and data["hits"][0]["words_only"] == [], typed
    assert ids(search(kb, "義大利波隆那")) == ids(search(kb, "意大利波隆那")) == ["TsaiBologna2016"]
    assert "TsaiBologna2016" not in ids(search(kb, "-意大利 兒童", limit=50))


@pytest.mark.parametrize("query, message", [
    ("*", "the query '*' has no words to search for: '*' stands for the rest of a word, as in EX096* or 圖書*"),
    ("title:", "'title:' needs something to search for after it, e.g. title:年會"),
    ("Title:", "'Title:' needs something to search for after it, e.g. title:年會"),
    ("？", "the query '？' has no words to search for (only punctuation or operators)"),
])
def test_odd_queries_give_one_clear_line(kb, query, message):
    result = cli(kb, "search", "--", query)
    assert result.returncode == 2 and result.stderr == f"Error: {message}\n"
    assert "_q" not in result.stderr


def test_year_ranges(kb):
    assert set(ids(search(kb, "year:2007..2008 IFLA"))) == set(ids(search(kb, "year:[2007 TO 2008] IFLA"))) \
        == {"EX0960001", "EX0970001"}
    with pytest.raises(QueryError):
        search(kb, "year:soon")


def test_lower_case_or_is_explained(kb):
    result = search(kb, "ifla or ala")
    assert "'or' was searched as a word: operators are upper-case (OR)" in result.notes


def test_hits_on_the_separate_words_only_say_so(kb):
    result = search(kb, "國家應", limit=20)
    assert result.hits[0].id == "GEN0001" and result.hits[0].words_only == []
    others = [h for h in result.hits if h.id != "GEN0001"]
    assert others and all(h.words_only == ["國家應"] for h in others)
    listing = cli(kb, "search", "國家應")
    assert "only the separate words of 國家應, not as written" in listing.stdout
    data = json.loads(cli(kb, "search", "國家應", "--json").stdout)
    assert data["hits"][0]["words_only"] == [] and data["hits"][1]["words_only"] == ["國家應"]


def test_literal_matches_rank_above_the_separate_words(kb):
    for query, literal in (("之規定", "GEN0003"), ("請說明", "GEN0003"), ("國家應", "GEN0001")):
        result = search(kb, query, limit=50)
        assert result.hits[0].id == literal, query
        assert all(h.words_only for h in result.hits[1:]), query


def test_did_you_mean_from_the_knowledge_base(kb):
    for query, meant in (("國際圖書館協曾聯盟", "國際圖書館協會聯盟"), ("IFAL", "IFLA"),
                         ("Intelligant Library", "Intelligent Library"), ("警察人圓", "警察人員"),
                         ("醫學図書館", "醫學圖書館")):
        result = search(kb, query)
        assert result.total == 0 and meant in result.suggestions, (query, result.suggestions)
    listing = cli(kb, "search", "IFAL")
    assert "No documents match IFAL." in listing.stdout and "Did you mean: IFLA" in listing.stdout


def test_a_long_question_falls_back_to_its_words_and_says_so(kb):
    result = search(kb, "圖書館安全管理應該如何規劃")
    assert result.hits and result.hits[0].id == "GEN0003"
    assert any("ranked by the words it contains" in note for note in result.notes)


def test_page_lists_are_capped(kb):
    hit = search(kb, "安全管理檢核表").hits[0]
    assert len(hit.pages) == 7
    listing = cli(kb, "search", "安全管理檢核表")
    assert "p. 4, 5, 6, 7, 8 … and 2 more" in listing.stdout


def test_piped_output_marks_highlights(kb):
    listing = cli(kb, "search", "德班")
    assert "«德班»" in listing.stdout


def test_show_names_the_fields_read_from_the_document_not_their_fingerprints(kb):
    sidecar = kb.corpus / "GEN0003.yaml"
    sidecar.write_text(sidecar.read_text(encoding="utf-8")
                       + "extracted: {title: 8d0ccb73, year: 1a2b3c4d}\n", encoding="utf-8")
    result = cli(kb, "show", "GEN0003")
    assert result.returncode == 0, result.stderr
    assert "8d0ccb73" not in result.stdout and "title, year (read from the document)" in result.stdout
