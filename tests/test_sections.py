"""Report sections recognised from real PDFs, in every heading form reports use, and none invented."""

from __future__ import annotations

from pathlib import Path

import pytest

from tripkb.text.extract import read
from tripkb.text.sections import find_sections, section_text, section_wanted

from conftest import REPO, make_pdf

COVER = "出國報告（出國類別：開會）\n參加國際圖書館協會聯盟年會報告\n服務機關：國家圖書館\n姓名職稱：王小明編輯"
PURPOSE = "了解國際圖書館界的最新發展，並與各國同道交流，介紹臺灣的數位典藏成果。"
PROCESS = "8月18日抵達會場，參加國家圖書館組與編目組會議，並參觀市立圖書館及大學圖書館。"
REFLECT = "各國圖書館重視數位保存，值得參考。"
ADVICE = "一、建議本館訂定數位保存政策，定期檢討。\n二、建議持續派員參加年會並發表海報。"


def _outline(tmp_path: Path, pages: list[str]) -> list[tuple[str, int, int]]:
    got = read(make_pdf(tmp_path / "r.pdf", pages))
    return [(s.name, s.start_page, s.end_page) for s in find_sections(got.pages)]


@pytest.mark.parametrize("numbers", [
    ("壹、", "貳、", "參、", "肆、"),
    ("一、", "二、", "三、", "四、"),
    ("第一章 ", "第二章 ", "第三章 ", "第四章 "),
    ("1. ", "2. ", "3. ", "4. "),
])
def test_numbered_outlines(tmp_path, numbers):
    a, b, c, d = numbers
    pages = [COVER, f"摘要\n{PURPOSE}",
             f"{a}目的\n{PURPOSE}\n{b}會議過程\n{PROCESS}",
             f"{PROCESS}\n{c}心得\n{REFLECT}",
             f"{d}建議事項\n{ADVICE}"]
    assert _outline(tmp_path, pages) == [("摘要", 2, 2), ("目的", 3, 3), ("過程", 3, 4), ("心得", 4, 4),
                                         ("建議", 5, 5)]


def test_combined_reflections_and_recommendations_and_appendix(tmp_path):
    pages = [COVER, f"提要\n{PURPOSE}",
             f"一、考察目的\n{PURPOSE}\n二、參訪過程\n{PROCESS}",
             f"三、心得與建議\n{ADVICE}\n四、附件\n大會議程一份。"]
    assert _outline(tmp_path, pages) == [("摘要", 2, 2), ("目的", 3, 3), ("過程", 3, 3), ("心得及建議", 4, 4),
                                         ("附錄", 4, 4)]


def test_colon_headings_and_visit_reflections(tmp_path):
    pages = [COVER, f"目的：{PURPOSE}\n過程：{PROCESS}", f"參訪心得\n{REFLECT}\n建議事項\n{ADVICE}"]
    assert _outline(tmp_path, pages) == [("目的", 2, 2), ("過程", 2, 2), ("心得", 3, 3), ("建議", 3, 3)]


def test_english_paper_headings(tmp_path):
    body = "Libraries aggregate records from many archives and measure their completeness."
    pages = [f"Union Catalogues in Taiwan\nAbstract\n{body}",
             f"1 Introduction\n{body}\n2 Data and Method\n{body}",
             f"3 Conclusion\n{body}\n4 Recommendations\n{body}\nReferences\n[1] A paper."]
    assert _outline(tmp_path, pages) == [("摘要", 1, 1), ("前言", 2, 2), ("結論", 3, 3), ("建議", 3, 3),
                                         ("參考文獻", 3, 3)]


def test_numbered_points_inside_a_section_are_not_headings(tmp_path):
    pages = [COVER, f"壹、目的\n{PURPOSE}\n一、了解國際書目控制的最新討論，並交流。\n二、過程很順利，收穫很多。",
             f"貳、心得及建議\n{ADVICE}"]
    assert _outline(tmp_path, pages) == [("目的", 2, 2), ("心得及建議", 3, 3)]


def test_table_of_contents_is_not_the_outline(tmp_path):
    pages = [COVER, "目次\n壹、目的..........1\n貳、過程..........2\n參、心得及建議 3",
             f"壹、目的\n{PURPOSE}\n貳、過程\n{PROCESS}", f"參、心得及建議\n{ADVICE}"]
    assert _outline(tmp_path, pages) == [("目的", 3, 3), ("過程", 3, 3), ("心得及建議", 4, 4)]


@pytest.mark.parametrize("pages", [
    ["數位保存的研究\n本文討論數位保存與長期保存的政策，並提出具體做法。", "各館的經驗不同，值得比較。"],
    ["Partnerships between libraries\n• 巡迴書箱最受歡迎\n• 建議：建立合作平台"],
    ["會議紀錄\n一、主席致詞，說明本次會議的目的與議程。\n二、各館報告，討論經費。"],
])
def test_nothing_invented_without_an_outline(tmp_path, pages):
    assert _outline(tmp_path, pages) == []


def test_section_text_runs_to_the_next_heading(tmp_path):
    got = read(make_pdf(tmp_path / "r.pdf", [COVER, f"一、目的\n{PURPOSE}\n二、過程\n{PROCESS}",
                                             f"{PROCESS}\n三、建議\n{ADVICE}"]))
    process = find_sections(got.pages)[1]
    parts = section_text(got.pages, process)
    assert [page for page, _ in parts] == [2, 3]
    assert parts[0][1].startswith("二、過程") and "三、建議" not in parts[1][1]


def test_asking_for_recommendations_finds_combined_sections():
    assert section_wanted("心得及建議", "建議") and section_wanted("建議", "Recommendations")
    assert section_wanted("結論及建議", "建議事項") and not section_wanted("目的", "建議")


SAMPLE = {  # the shipped sample's outlines, read by eye from its PDFs
    "EX0900001": [("摘要", 2), ("目的", 3), ("過程", 3), ("心得及建議", 4)],
    "EX0940001": [("摘要", 2), ("目的", 3), ("過程", 3), ("心得", 4), ("建議", 4)],
    "EX0960001": [("摘要", 2), ("目的", 3), ("過程", 3), ("心得及建議", 5), ("附錄", 5)],
    "EX0920002": [("摘要", 1), ("前言", 2), ("結論及建議", 4), ("參考文獻", 4)],
    "EX0980003": [("摘要", 2), ("目的", 3), ("過程", 3), ("心得及建議", 5)],
    "EX0990001": [("摘要", 1), ("摘要", 1), ("前言", 2), ("結論", 3), ("參考文獻", 3)],
    "EX0960003": [],
    "EX0970003": [],
}


@pytest.mark.parametrize("doc", sorted(SAMPLE))
def test_sample_outlines(doc):
    got = read(REPO / "corpus" / f"{doc}.pdf")
    assert [(s.name, s.start_page) for s in find_sections(got.pages)] == SAMPLE[doc]
