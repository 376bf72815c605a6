"""Preparing a trip: sections in the index, `show --section`, `search --section`, `similar`, end to end."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import REPO, make_pdf, run_cli


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The shipped sample KB, indexed once for the module."""
    root = tmp_path_factory.mktemp("sample")
    shutil.copytree(REPO / "corpus", root / "corpus")
    result = run_cli("--kb", str(root), "reindex")
    assert result.returncode == 0, result.stderr
    return str(root)


def test_show_prints_the_outline(sample):
    result = run_cli("--kb", sample, "show", "EX0960001")
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.split("Sections", 1)[1].splitlines() if line.strip()]
    assert lines == [["摘要", "p.", "2", "摘要"], ["目的", "p.", "3", "壹、目的"], ["過程", "p.", "3–4", "貳、過程"],
                     ["心得及建議", "p.", "5", "參、心得及建議"], ["附錄", "p.", "5", "肆、附錄"]]


def test_show_json_has_the_sections(sample):
    data = json.loads(run_cli("--kb", sample, "show", "EX0940001", "--json").stdout)
    assert [(s["name"], s["start_page"], s["end_page"]) for s in data["sections"]] == [
        ("摘要", 2, 2), ("目的", 3, 3), ("過程", 3, 4), ("心得", 4, 4), ("建議", 4, 4)]


def test_show_section_prints_that_section_only(sample):
    result = run_cli("--kb", sample, "show", "EX0960001", "--section", "建議")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("參、心得及建議")
    assert "建立出國報告分享機制" in result.stdout and "p. 5" in result.stdout
    assert "肆、附錄" not in result.stdout and "德班國際會議中心" not in result.stdout


def test_show_section_json_and_english_names(sample):
    data = json.loads(run_cli("--kb", sample, "show", "EX0940001", "--section", "Recommendations", "--json").stdout)
    [section] = data["sections"]
    assert section["name"] == "建議" and [p["page"] for p in section["pages"]] == [4]
    assert "巡迴書箱" in section["pages"][0]["text"] and "三、心得" not in section["pages"][0]["text"]


def test_show_section_missing_is_one_error_line(sample):
    result = run_cli("--kb", sample, "show", "EX0960003", "--section", "建議")
    assert result.returncode != 0
    assert result.stderr.strip() == "Error: EX0960003 has no 建議 section (it has no recognised sections)"
    result = run_cli("--kb", sample, "show", "EX0960001", "--section", "菜單")
    assert result.returncode != 0 and result.stderr.startswith("Error: no section is called '菜單'")
    assert "Traceback" not in result.stderr


def test_sections_of_a_new_document_are_indexed(tmp_path):
    make_pdf(tmp_path / "in" / "r.pdf", ["出國報告\n赴日本考察報告\n服務機關：國立臺中圖書館",
                                         "第一章 考察目的\n了解日本公共圖書館。\n第二章 考察過程\n參觀東京都立中央圖書館。",
                                         "第三章 心得與建議\n一、建議辦理說故事志工培訓。"])
    root = str(tmp_path / "kb")
    assert run_cli("--kb", root, "ingest", str(tmp_path / "in")).returncode == 0
    data = json.loads(run_cli("--kb", root, "show", "r", "--json").stdout)
    assert [(s["name"], s["heading"], s["start_page"]) for s in data["sections"]] == [
        ("目的", "第一章考察目的", 2), ("過程", "第二章考察過程", 2), ("心得及建議", "第三章心得與建議", 3)]


def _search(kb: str, *args: str) -> dict:
    result = run_cli("--kb", kb, "search", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_search_in_recommendations_on_the_sample(sample):
    everywhere = _search(sample, "古籍", "-n", "20")
    data = _search(sample, "古籍", "--section", "建議")
    assert everywhere["total"] == 5
    assert data["total"] == 4
    assert {h["id"]: h["pages"] for h in data["hits"]} == {"EX0980001": [4], "EX0980003": [5], "EX1080001": [4],
                                                          "EX0950001": [4]}
    assert all("古籍" in h["snippet"] for h in data["hits"])
    assert _search(sample, "古籍 section:建議")["hits"] == data["hits"]


def test_search_by_section_takes_page_and_snippet_from_that_section(tmp_path):
    make_pdf(tmp_path / "in" / "a.pdf", ["出國報告\n甲報告", "一、目的\n了解數位保存的作法。\n二、過程\n參觀圖書館。",
                                         "三、建議\n建議本館訂定數位保存政策。"])
    make_pdf(tmp_path / "in" / "b.pdf", ["出國報告\n乙報告", "一、目的\n交流。\n二、過程\n討論數位保存與網頁典藏。",
                                         "三、建議\n建議持續派員出席。"])
    make_pdf(tmp_path / "in" / "c.pdf", ["會議紀錄\n討論數位保存，並建議擴大辦理。"])
    kb = str(tmp_path / "kb")
    assert run_cli("--kb", kb, "ingest", str(tmp_path / "in")).returncode == 0
    assert _search(kb, "數位保存")["total"] == 3
    data = _search(kb, "數位保存", "--section", "建議")
    assert data["total"] == 1
    [hit] = data["hits"]
    assert hit["id"] == "a" and hit["pages"] == [3] and "訂定數位保存政策" in hit["snippet"]
    assert [h["id"] for h in _search(kb, "數位保存", "--section", "過程")["hits"]] == ["b"]
    result = run_cli("--kb", kb, "search", "數位保存", "--section", "菜單")
    assert result.returncode != 0 and result.stderr.startswith("Error: no section is called '菜單'")


RARE_BOOKS = "古籍數位化與善本影像的開放授權，手稿編目與古籍聯合目錄，數位典藏的長期保存。"
TEENS = "青少年空間的規劃，創客空間與三維列印，青少年參與設計，遊戲與影音工作坊。"


def _report(folder, name: str, title: str, org: str, country: str, body: str, keywords: list[str]) -> None:
    make_pdf(folder / f"{name}.pdf", [f"出國報告\n{title}", f"一、目的\n{body}\n二、過程\n{body}", f"三、心得及建議\n{body}"])
    (folder / f"{name}.yaml").write_text(
        f"id: {name}\ntype: report\ntitle: {title}\nevents: [{org}]\ncountries: [{country}]\nyear: 2010\n"
        f"keywords: [{', '.join(keywords)}]\n", encoding="utf-8")


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """Reports whose likeness is known: A and B share the conference and the subject, C only the
    subject, D only the conference (and a catalogue record with no text), E only common words."""
    folder = tmp_path_factory.mktemp("in")
    _report(folder, "A", "參加IFLA年會報告（米蘭）", "IFLA", "義大利", RARE_BOOKS, ["古籍", "數位典藏"])
    _report(folder, "B", "參加IFLA年會報告（哥特堡）", "IFLA", "瑞典", RARE_BOOKS, ["古籍"])
    _report(folder, "C", "參加美國醫學圖書館學會年會報告", "MLA", "美國", RARE_BOOKS, ["善本"])
    _report(folder, "D", "參加IFLA年會報告（新加坡）", "IFLA", "新加坡", TEENS, ["青少年"])
    _report(folder, "E", "參加ALA年會報告", "ALA", "美國", TEENS, ["創客空間"])
    (folder / "R.yaml").write_text("id: R\ntype: report\ntitle: 參加IFLA年會報告（波士頓）\nevents: [IFLA]\n"
                                   "countries: [美國]\nyear: 2001\n", encoding="utf-8")
    kb = str(tmp_path_factory.mktemp("known") / "kb")
    assert run_cli("--kb", kb, "ingest", str(folder)).returncode == 0
    return kb


def test_similar_ranks_known_likeness(known):
    result = run_cli("--kb", known, "similar", "A", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["id"] == "A"
    ranked = [s["id"] for s in data["similar"]]
    assert ranked == ["B", "C", "D", "R", "E"]  # subject and conference, subject, conference, then words alone
    reasons = {s["id"]: s["reason"] for s in data["similar"]}
    assert reasons["B"].startswith("same organisation: IFLA; shared keywords: 古籍; shared terms: ")
    assert "古籍" in reasons["B"] and "古籍" in reasons["C"] and "organisation" not in reasons["C"]
    assert reasons["R"] == "same organisation: IFLA"


def test_similar_limit_and_listing(known):
    data = json.loads(run_cli("--kb", known, "similar", "E", "--limit", "1", "--json").stdout)
    assert [s["id"] for s in data["similar"]] == ["D"]
    result = run_cli("--kb", known, "similar", "A", "-n", "2")
    assert result.returncode == 0 and "Reports like 參加IFLA年會報告（米蘭）" in result.stdout
    assert "same organisation: IFLA" in result.stdout and "[C]" in result.stdout


def test_similar_unknown_id_is_one_error_line(known):
    result = run_cli("--kb", known, "similar", "NOPE")
    assert result.returncode != 0 and result.stderr.strip().startswith("Error: no document with id 'NOPE'")


def test_similar_on_the_sample_gives_reasons(sample):
    data = json.loads(run_cli("--kb", sample, "similar", "EX0980003", "--limit", "3", "--json").stdout)
    assert len(data["similar"]) == 3 and all(s["reason"] for s in data["similar"])
    assert data["similar"][0]["reason"].startswith("same organisation: IFLA")


IFLA_REPORTS = ["EX1020001", "EX1010001", "EX0980003", "EX0970001", "EX0960001", "EX0950001", "EX0900001"]


def test_brief_on_the_sample_shows_every_ifla_report(sample):
    result = run_cli("--kb", sample, "brief", "--org", "IFLA")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("7 documents; sections read from 7, text in 7\n")
    assert "Institutions visited (named in the 過程 sections of 7 reports)" in out
    assert "Recommendations, newest first (from the 建議 sections of 7 reports)" in out
    for doc in IFLA_REPORTS:  # each in the timeline and among the recommendations
        assert out.count(f"[{doc}") >= 2, doc
    assert "建議本館訂定數位保存政策" in out and "[EX0980003 p. 5]" in out
    assert "國家圖書館: " in out and "周美惠 (1)" in out
    assert "斯德哥爾摩市立圖書館 (1)" in out and "哈佛大學燕京圖書館 (1)" in out


def test_brief_json_on_the_sample(sample):
    data = json.loads(run_cli("--kb", sample, "brief", "--org", "IFLA", "--json").stdout)
    assert [t["id"] for t in data["trips"]] == IFLA_REPORTS  # newest first
    assert data["documents"] == 7 and data["with_sections"] == 7
    assert data["with_process"] == 7 and data["with_recommendations"] == 7
    assert {r["id"] for r in data["recommendations"]} == set(IFLA_REPORTS)
    years = [r["year"] for r in data["recommendations"]]
    assert years == sorted(years, reverse=True)
    assert data["travellers"]["國家圖書館"][0] == {"name": "陳冠宇", "trips": 1}
    assert {"institution": "魁北克國家圖書館", "reports": 1} in data["visited"]
    assert data["terms"] and "IFLA" in data["terms"]


def test_brief_markdown_file(sample, tmp_path):
    target = tmp_path / "brief.md"
    result = run_cli("--kb", sample, "brief", "--org", "IFLA", "--country", "義大利", "--markdown", str(target))
    assert result.returncode == 0, result.stderr
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Trip brief: org=IFLA country=義大利\n\n1 document; sections read from 1, text in 1.\n")
    assert "| 2009 | 國家圖書館 | 周美惠 | 義大利 | 參加2009年國際圖書館協會聯盟年會（義大利米蘭）報告 (EX0980003) |" in text
    assert "- 數位檔案的長期保存需要制度化的格式遷移規劃,建議本館訂定數位保存政策。 (EX0980003, p. 5)" in text
    assert "## Institutions visited\n\nNamed in the 過程 sections of 1 report.\n" in text
    assert "## Recommendations, newest first\n\nFrom the 建議 sections of 1 report.\n" in text


def test_brief_counts_records_and_reports_without_sections(tmp_path):
    folder = tmp_path / "in"
    make_pdf(folder / "A.pdf", ["出國報告\n參加IFLA年會報告", "一、目的\n交流。\n二、過程\n參觀赫爾辛基市立圖書館，了解服務。",
                                "三、建議\n（一）建議辦理館員研習。\n（二）建議持續出席。"])
    (folder / "A.yaml").write_text("id: A\ntitle: 參加IFLA年會報告\nevents: [IFLA]\nyear: 2012\ninstitution: 國家圖書館\n"
                                   "authors: [王小明]\n", encoding="utf-8")
    make_pdf(folder / "B.pdf", ["IFLA海報\n• 數位典藏成果\n• 建議合作"])
    (folder / "B.yaml").write_text("id: B\ntitle: IFLA海報\nevents: [IFLA]\nyear: 2010\n", encoding="utf-8")
    (folder / "R.yaml").write_text("id: R\ntype: report\ntitle: 參加IFLA年會報告（波士頓）\nevents: [IFLA]\nyear: 2001\n"
                                   "institution: 國圖\nauthors: [王小明, 林靜宜]\n", encoding="utf-8")
    kb = str(tmp_path / "kb")
    assert run_cli("--kb", kb, "ingest", str(folder)).returncode == 0
    data = json.loads(run_cli("--kb", kb, "brief", "--org", "IFLA", "--json").stdout)
    assert [t["id"] for t in data["trips"]] == ["A", "B", "R"]
    assert (data["documents"], data["with_text"], data["with_sections"]) == (3, 2, 1)
    assert (data["with_process"], data["with_recommendations"]) == (1, 1)  # A's; B has no outline, R no text
    assert data["travellers"] == {"國家圖書館": [{"name": "王小明", "trips": 2}, {"name": "林靜宜", "trips": 1}]}
    assert [(r["id"], r["page"], r["text"]) for r in data["recommendations"]] == [
        ("A", 3, "建議辦理館員研習。"), ("A", 3, "建議持續出席。")]
    assert data["visited"] == [{"institution": "赫爾辛基市立圖書館", "reports": 1}]
    empty = run_cli("--kb", kb, "brief", "--org", "ALA")
    assert empty.returncode == 0 and empty.stdout.strip() == "No reports match."
