"""A person's outline in the sidecar (`sections:`) replaces the recognised one, for show, search,
brief and the index alike, and a sidecar edit is picked up on the next refresh: real PDFs, a real
index, the CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tripkb.meta.sidecar import load_sidecar, write_sidecar

from conftest import make_pdf, run_cli

#: Headings in a form no recogniser knows (★考察緣由): without the sidecar, no outline.
UNUSUAL = ["出國報告\n赴日本參訪公共圖書館報告\n服務機關：國立臺中圖書館",
           "★考察緣由\n了解日本公共圖書館的數位保存服務。\n★參訪紀實\n參觀東京都立中央圖書館及早稻田大學圖書館，了解數位保存。",
           "★心得與建言\n（一）建議本館訂定數位保存政策。\n（二）建議辦理館員研習。"]
CORRECTED = ("sections:\n- {name: 目的, page: 2}\n- {name: 過程, page: 2, heading: ★ 參訪紀實}\n"
             "- {name: Recommendations, page: 3}\n")
#: An outline the recogniser reads (一、目的 …), which a sidecar can still overrule.
USUAL = ["出國報告\n參加美國圖書館學會年會報告", "一、目的\n交流數位保存經驗。\n二、過程\n參觀紐約公共圖書館。",
         "三、建議\n一、建議本館加強數位保存。"]


def _sidecar(path, title: str, extra: str = "") -> None:
    path.write_text(f"id: {path.stem}\ntype: report\ntitle: {title}\nevents: [IFLA]\nyear: 2015\n"
                    f"institution: 國立臺中圖書館\nauthors: [林小華]\n{extra}", encoding="utf-8")


@pytest.fixture
def kb(tmp_path):
    folder = tmp_path / "in"
    make_pdf(folder / "J.pdf", UNUSUAL)
    _sidecar(folder / "J.yaml", "赴日本參訪公共圖書館報告", CORRECTED)
    make_pdf(folder / "K.pdf", USUAL)
    _sidecar(folder / "K.yaml", "參加美國圖書館學會年會報告")
    root = str(tmp_path / "kb")
    result = run_cli("--kb", root, "ingest", str(folder))
    assert result.returncode == 0, result.stderr
    return root


def _json(kb: str, *args: str) -> dict:
    result = run_cli("--kb", kb, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _outline(kb: str, doc: str) -> list[tuple[str, str, int, int]]:
    return [(s["name"], s["heading"], s["start_page"], s["end_page"]) for s in _json(kb, "show", doc)["sections"]]


def test_without_the_sidecar_nothing_is_recognised(tmp_path):
    make_pdf(tmp_path / "in" / "J.pdf", UNUSUAL)
    root = str(tmp_path / "kb")
    assert run_cli("--kb", root, "ingest", str(tmp_path / "in")).returncode == 0
    assert _outline(root, "J") == []


def test_the_sidecar_outline_is_shown_and_placed_at_its_headings(kb):
    data = _json(kb, "show", "J")
    assert data["sections_from"] == "sidecar" and _json(kb, "show", "K")["sections_from"] == "text"
    assert data["record"]["sections"] == [{"name": "目的", "page": 2}, {"name": "過程", "page": 2, "heading": "★ 參訪紀實"},
                                          {"name": "建議", "page": 3}]
    assert _outline(kb, "J") == [("目的", "目的", 2, 2), ("過程", "★參訪紀實", 2, 2), ("建議", "建議", 3, 3)]
    shown = run_cli("--kb", kb, "show", "J").stdout
    assert "Sections (as the sidecar lists them)" in shown and "目的 p. 2、過程 p. 2、建議 p. 3" in shown
    [purpose] = _json(kb, "show", "J", "--section", "目的")["sections"]
    assert "了解日本公共圖書館" in purpose["pages"][0]["text"] and "參觀" not in purpose["pages"][0]["text"]
    [process] = _json(kb, "show", "J", "--section", "過程")["sections"]
    assert process["pages"][0]["text"].startswith("★參訪紀實") and "考察緣由" not in process["pages"][0]["text"]


def test_search_and_brief_use_the_sidecar_outline(kb):
    hits = _json(kb, "search", "數位保存", "--section", "建議")["hits"]
    assert {h["id"]: h["pages"] for h in hits} == {"J": [3], "K": [3]}
    assert {h["id"]: h["pages"] for h in _json(kb, "search", "數位保存", "--section", "目的")["hits"]} == {
        "J": [2], "K": [2]}
    assert [h["id"] for h in _json(kb, "search", "東京都立中央圖書館", "--section", "過程")["hits"]] == ["J"]
    brief = _json(kb, "brief", "--org", "IFLA")
    assert (brief["documents"], brief["with_sections"], brief["with_process"], brief["with_recommendations"]) == (2, 2, 2, 2)
    assert {v["institution"] for v in brief["visited"]} == {"東京都立中央圖書館", "早稻田大學圖書館", "紐約公共圖書館"}
    assert [(r["id"], r["page"], r["text"]) for r in brief["recommendations"] if r["id"] == "J"] == [
        ("J", 3, "建議本館訂定數位保存政策。"), ("J", 3, "建議辦理館員研習。")]


def test_a_sidecar_edit_is_picked_up_on_the_next_refresh(kb):
    sidecar = f"{kb}/corpus/K.yaml"
    original = open(sidecar, encoding="utf-8").read()
    assert [s[0] for s in _outline(kb, "K")] == ["目的", "過程", "建議"]
    with open(sidecar, "a", encoding="utf-8") as fh:
        fh.write("sections: []\n")  # this document has no outline: do not guess one
    assert _json(kb, "search", "數位保存", "--section", "建議")["total"] == 1  # J only
    assert _outline(kb, "K") == []
    missing = run_cli("--kb", kb, "show", "K", "--section", "建議")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "Error: K has no 建議 section (it has no sections, as its sidecar says)"
    assert "none (the sidecar says the document has no outline)" in run_cli("--kb", kb, "show", "K").stdout
    brief = _json(kb, "brief", "--org", "IFLA")
    assert (brief["documents"], brief["with_text"], brief["with_sections"], brief["with_process"]) == (2, 2, 1, 1)
    assert "紐約公共圖書館" not in {v["institution"] for v in brief["visited"]}
    with open(sidecar, "w", encoding="utf-8") as fh:
        fh.write(original + "sections:\n- {name: 過程, page: 2}\n")
    assert _outline(kb, "K") == [("過程", "二、過程", 2, 3)]  # runs to the end: 三、建議 is no longer a section
    with open(sidecar, "w", encoding="utf-8") as fh:
        fh.write(original + "\n")  # the key gone: recognised again
    assert [s[0] for s in _outline(kb, "K")] == ["目的", "過程", "建議"]


def test_meta_extract_keeps_the_sidecar_outline(kb):
    result = run_cli("--kb", kb, "meta", "extract")
    assert result.returncode == 0, result.stderr
    record, _ = load_sidecar(Path(kb) / "corpus" / "J.yaml")
    assert [s["name"] for s in record["sections"]] == ["目的", "過程", "建議"]


def test_what_the_document_cannot_hold_is_a_warning_naming_the_file(tmp_path):
    folder = tmp_path / "in"
    make_pdf(folder / "J.pdf", UNUSUAL)
    _sidecar(folder / "J.yaml", "赴日本參訪公共圖書館報告",
             "sections:\n- {name: 目的, page: 2}\n- {name: 過程, page: 2}\n- {name: 心得, page: 3, heading: 伍、感想}\n")
    root = str(tmp_path / "kb")
    result = run_cli("--kb", root, "ingest", str(folder))
    assert result.returncode == 0, result.stderr
    assert ("corpus/J.yaml: sections: 過程: no heading of it found on page 2, where 目的 starts: "
            "give it as written (heading: …) to tell where one ends") in result.stderr
    assert "corpus/J.yaml: sections: 心得: no line on page 3 starts with '伍、感想' (it starts at the top of the page)" in result.stderr
    assert _outline(root, "J") == [("目的", "目的", 2, 2), ("過程", "過程", 2, 2), ("心得", "伍、感想", 3, 3)]
    sidecar = tmp_path / "kb" / "corpus" / "J.yaml"  # a person drops pages: and lists a page past the end
    record, _ = load_sidecar(sidecar)
    del record["pages"]
    write_sidecar(sidecar, {**record, "sections": record["sections"] + [{"name": "附錄", "page": 9}]})
    result = run_cli("--kb", root, "reindex")
    assert result.returncode == 0, result.stderr
    assert "corpus/J.yaml: sections: 附錄 on page 9, but the document has 3 pages (left out)" in result.stderr
    assert [s[0] for s in _outline(root, "J")] == ["目的", "過程", "心得"]


@pytest.mark.parametrize("value, problem", [
    ("建議", "expected a list of {name: SECTION, page: PAGE} in page order, e.g. [{name: 目的, page: 3}], found text"),
    ("[{name: 菜單, page: 3}]", "item 1: unknown section '菜單' (expected one of 摘要、前言、目的、過程、心得、建議、"
                               "心得及建議、結論、結論及建議、參考文獻、附錄)"),
    ("[{name: 目的, page: 2}, {name: 建議, page: 0}]", "item 2 (建議): expected a page number from 1, found 0"),
    ("[{name: 過程, page: 3}, {name: 目的, page: 2}]",
     "item 2 (目的): page 2 comes before page 3 of 過程: list the sections in page order"),
    ("[{name: 目的, pages: 2}]", "item 1: expected a list of {name: SECTION, page: PAGE} in page order, "
                                 "e.g. [{name: 目的, page: 3}] (and, if need be, heading: TEXT), found the keys name, pages"),
    ("[{name: 附錄, page: 4}]", "附錄 on page 4, but the document has 3 pages"),
])
def test_a_wrong_outline_is_one_line_naming_the_file(kb, value, problem):
    sidecar = f"{kb}/corpus/K.yaml"
    with open(sidecar, "a", encoding="utf-8") as fh:
        fh.write(f"sections: {value}\n")
    line = open(sidecar, encoding="utf-8").read().count("\n")
    checked = run_cli("--kb", kb, "meta", "check")
    assert checked.returncode == 1
    assert f"corpus/K.yaml:{line}: sections: {problem}\n" in checked.stdout
    verified = run_cli("--kb", kb, "verify")
    assert verified.returncode == 1 and f"corpus/K.yaml: sections: {problem}" in verified.stderr
    searched = run_cli("--kb", kb, "search", "數位保存")  # the last good version stays searchable
    assert f"corpus/K.yaml:{line}: sections: {problem}" in searched.stderr and "Traceback" not in searched.stderr
    assert "[K]" in searched.stdout
