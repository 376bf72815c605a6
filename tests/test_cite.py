"""Citations: the seed paper's footnote form, CSL styles (APA, Chicago) through citeproc-py, reference lists."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tripkb.cli import app
from tripkb.export.cite import cite, reference_list, tw
from tripkb.text.normalise import has_han

from samplekb import sample  # noqa: F401  (fixture)
from smallkb import built_kb, kb  # noqa: F401  (fixtures)

FOOTNOTE_21 = {"id": "C09601649", "type": "report", "title": "參加 2007 年美國圖書館學會年會報告",
               "authors": ["王文陸", "彭慰"], "institution": "國家圖書館", "report_date": "2007-09-30",
               "year": 2007, "source": "OPEN 政府出版資料回應網公務出國報告"}
FOOTNOTE_22 = {"id": "C09601160", "type": "report", "title": "2007 年美國 ALA 年會暨公共圖書館考察出國報告書",
               "authors": ["楊宣勤", "劉水抱"], "year": 2007, "source": "OPEN 政府出版資料回應網公務出國報告"}


def run(kb, *args):
    return CliRunner().invoke(app, ["--kb", str(kb.root), *args])


def test_tw_reproduces_the_seed_papers_footnotes():
    assert tw(FOOTNOTE_21) == "王文陸、彭慰，〈參加 2007 年美國圖書館學會年會報告〉，《OPEN 政府出版資料回應網公務出國報告》，C09601649。"
    assert tw(FOOTNOTE_22) == ("楊宣勤、劉水抱，〈2007 年美國 ALA 年會暨公共圖書館考察出國報告書〉，"
                               "《OPEN 政府出版資料回應網公務出國報告》，C09601160。")


def test_tw_without_a_source_names_institution_and_year_not_a_made_up_id():
    record = {"id": "ifla", "title": "參加年會報告", "authors": ["王小明"], "institution": "國家圖書館", "year": 2007}
    assert tw(record) == "王小明，〈參加年會報告〉，國家圖書館，2007。"
    assert tw({"id": "x", "title": "海報", "institution": "臺北市立圖書館"}) == "臺北市立圖書館，〈海報〉。"
    assert tw({"id": "x", "title": "無名報告"}) == "〈無名報告〉。"


PAPER = {"id": "p", "type": "paper", "title": "Sharing Metadata", "authors": ["Yu-Ting Chen", "李四", "Ming-Hsien Lai"],
         "institution": "國立臺灣大學", "events": ["IFLA"], "report_date": "2010-05-01", "year": 2009}


def test_tw_cites_a_system_id_as_the_report_sites_even_without_a_source():
    record = {"id": "C09800417", "type": "report", "title": "出席第十一屆亞洲數位圖書館國際會議(ICADL 2008)",
              "institution": "國家圖書館", "year": 2009}
    assert tw(record) == ("國家圖書館，〈出席第十一屆亞洲數位圖書館國際會議(ICADL 2008)〉，"
                          "《OPEN 政府出版資料回應網公務出國報告》，C09800417。")
    assert tw(record | {"authors": ["陳美玲"]}).startswith("陳美玲，〈")
    assert tw(record | {"id": "C0980041"}) == "國家圖書館，〈出席第十一屆亞洲數位圖書館國際會議(ICADL 2008)〉，2009。"


def test_apa_is_the_csl_style():
    assert cite(FOOTNOTE_21, "apa") == ("王文陸, & 彭慰. (2007). 參加 2007 年美國圖書館學會年會報告 (Trip Report No. C09601649). "
                                        "國家圖書館. OPEN 政府出版資料回應網公務出國報告.")
    assert cite(PAPER, "apa") == ("Chen, Y.-T., 李四, & Lai, M.-H. (2010, May 1). Sharing Metadata [Paper]. 國立臺灣大學. "
                                  "International Federation of Library Associations and Institutions.")
    assert cite({"id": "x", "type": "other", "title": "館訊", "institution": "國家圖書館"}, "apa") == "國家圖書館. (n.d.). 館訊."
    poster = {"id": "y", "type": "poster", "title": "海報", "year": 2008, "authors": ["王小明"], "events": ["ALA"]}
    assert cite(poster, "apa") == "王小明. (2008). 海報 [Poster]. American Library Association."


def test_chicago_author_date():
    assert cite(FOOTNOTE_21, "chicago") == ("王文陸, and 彭慰. 2007. 參加 2007 年美國圖書館學會年會報告. Trip report C09601649. "
                                            "國家圖書館. OPEN 政府出版資料回應網公務出國報告.")
    assert cite(PAPER, "chicago") == ("Chen, Yu-Ting, 李四, and Ming-Hsien Lai. 2010. “Sharing Metadata”. Paper presented at "
                                      "the International Federation of Library Associations and Institutions, May 1.")
    poster = {"id": "y", "type": "poster", "title": "海報", "year": 2008, "authors": ["王小明"], "events": ["ALA"]}
    assert cite(poster, "chicago") == "王小明. 2008. “海報”. Poster presented at the American Library Association."


@pytest.mark.parametrize("style, and_", [("apa", "&"), ("chicago", "and")])
def test_every_sample_record_renders_in_the_csl_styles(sample, style, and_):
    items, sidecars = sample
    references = reference_list([item.record for item in items], style)
    assert len(references) == 21
    for reference in references:
        [record] = [r for r in sidecars.values() if f"{r['title']}" in reference]
        year = record["report_date"][:4] if record.get("report_date") else str(record["year"])
        assert year in reference and reference.startswith(_first_name(record)), reference
        if len(record.get("authors", [])) == 2:
            assert f" {and_} " in reference
    firsts = [_first_name(r).casefold() for r in sidecars.values()]
    assert [next(f for f in sorted(firsts) if ref.casefold().startswith(f)) for ref in references] == sorted(firsts)


def _first_name(record):
    """How a reference list begins: a Chinese name whole, a Latin one by its family name."""
    first = (record.get("authors") or [record.get("institution")])[0]
    return first if has_han(first) else first.split()[-1]


def test_any_csl_style_by_name_and_a_system_id_without_a_source():
    report = {"id": "C09800417", "type": "report", "title": "出席第十一屆亞洲數位圖書館國際會議(ICADL 2008)",
              "institution": "國家圖書館", "year": 2009}
    assert cite(report, "harvard-cite-them-right") == ("國家圖書館 (2009) 出席第十一屆亞洲數位圖書館國際會議(ICADL 2008). "
                                                       "Trip report C09800417.")


def test_reference_list_is_sorted_and_style_is_checked():
    assert reference_list([FOOTNOTE_21, FOOTNOTE_22]) == [tw(FOOTNOTE_22), tw(FOOTNOTE_21)]  # 楊 < 王 in code points
    assert reference_list([FOOTNOTE_21, PAPER], "apa") == [cite(PAPER, "apa"), cite(FOOTNOTE_21, "apa")]  # by author


def test_cli_cites_one_document_by_id_in_any_case(kb):
    result = run(kb, "cite", "c09601649")
    assert (result.exit_code, result.stdout) == (0, tw(FOOTNOTE_21) + "\n")
    result = run(kb, "cite", "paper", "--style", "apa")
    assert result.stdout == "Chen, Y.-T., 李四, & Lai, M.-H. (2010, May 1). R&D <數位> 資源共享研究 [Paper]. 國立臺灣大學圖書資訊學系.\n"


def test_cli_reference_list_of_a_selection(kb):
    result = run(kb, "cite", "--all", "--query", "公共圖書館")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [tw(FOOTNOTE_22), tw(FOOTNOTE_21)]
    assert len(run(kb, "cite", "--all").stdout.splitlines()) == 4
    assert run(kb, "cite", "--all", "--org", "IFLA").stdout == "王小明，〈參加2007年國際圖書館協會聯盟（IFLA）年會報告〉，國家圖書館，2007。\n"


def test_cli_empty_reference_list_warns(kb):
    result = run(kb, "cite", "--all", "-q", "沒有這個詞")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "Warning: no documents match; the reference list is empty\n"


@pytest.mark.parametrize("args, code, message", [
    ([], 2, "give a document ID, or --all for a reference list"),
    (["C09601649", "--all"], 2, "give a document ID or --all, not both"),
    (["C09601649", "--org", "ALA"], 2, "--query and the filters choose documents for --all; they do not apply to one ID"),
    (["C09601649", "--style", "mla"], 2,
     "--style must be tw, apa, chicago or the name of a CSL style (e.g. harvard-cite-them-right), not 'mla'"),
    (["--all", "--style", "../apa"], 2,
     "--style '../apa' is not a style name: give tw, apa, chicago or a CSL style name such as harvard-cite-them-right"),
    (["--all", "--type", "book"], 2, "--type must be one of report, paper, poster, slides, other, not 'book'"),
])
def test_cli_bad_input(kb, args, code, message):
    result = run(kb, "cite", *args)
    assert (result.exit_code, result.stderr, result.stdout) == (code, f"Error: {message}\n", "")


def test_cli_unknown_id(kb):
    result = run(kb, "cite", "C00000000")
    assert result.exit_code == 1
    assert result.stderr == f"Error: no document with id 'C00000000' in {kb.root}\n"


def test_cli_json_gives_each_reference_with_its_id_in_the_lists_order(kb):
    """docs/contracts.md §4: {"style", "citations": [{"id", "text"}]}, for one ID or a reference list."""
    import json

    one = run(kb, "cite", "c09601649", "--json")
    assert one.exit_code == 0
    assert json.loads(one.stdout) == {"style": "tw", "citations": [{"id": "C09601649", "text": tw(FOOTNOTE_21)}]}
    for style in ("tw", "apa"):
        listed = run(kb, "cite", "--all", "--style", style)
        data = json.loads(run(kb, "cite", "--all", "--style", style, "--json").stdout)
        assert data["style"] == style and [set(c) for c in data["citations"]] == [{"id", "text"}] * 4
        assert [c["text"] for c in data["citations"]] == listed.stdout.splitlines()
        for citation in data["citations"]:
            assert citation["text"] == run(kb, "cite", citation["id"], "--style", style).stdout.rstrip("\n")
    empty = run(kb, "cite", "--all", "-q", "沒有這個詞", "--json")
    assert (empty.exit_code, json.loads(empty.stdout)) == (0, {"style": "tw", "citations": []})
