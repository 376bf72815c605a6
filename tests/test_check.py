"""meta check: every class of sidecar problem, each with its exact file:line: key: problem message."""

import pytest
from typer.testing import CliRunner

from tripkb.cli import app
from tripkb.ingest.documents import ingest
from tripkb.meta.validate import check_kb
from tripkb.query.search import search

from reports import IFLA_2007

runner = CliRunner()
HEAD = "id: C09601649\ntitle: 參加2007年美國圖書館學會年會報告\n"


def problems(kb, text, name="r.yaml"):
    (kb.corpus / name).write_text(text, encoding="utf-8")
    return [str(p) for p in check_kb(kb).problems]


@pytest.mark.parametrize("body, message", [
    ("events: [ALA, XYZ]\n",
     "events: unknown organisation 'XYZ' (add it to vocab/orgs.yaml to use it)"),
    ("report_date: 2007-02-30\n",
     "report_date: cannot read '2007-02-30' as a date (no such day: 2007-02-30)"),
    ("report_date: 民國96年13月1日\n",
     "report_date: cannot read '民國96年13月1日' as a date (no such month: 2007-13)"),
    ("trip: {start: 2007-06-21, end: 2007-06-01}\n",
     "trip: end 2007-06-01 is before start 2007-06-21"),
    ("countries: [美國, 亞特蘭提斯]\n",
     "countries: unknown country '亞特蘭提斯' (add it to vocab/countries.yaml to use it)"),
    ("category: 旅遊\n",
     "category: unknown category '旅遊' (expected one of 考察, 進修, 研究, 實習, 視察, 訪問, 開會, 談判, 其他)"),
    ("region: 北美地區\n",
     "region: unknown region '北美地區' (expected one of 美加地區, 亞洲地區, 歐洲地區, 非洲地區, 大洋洲, 中南美洲)"),
    ("countries: [美國]\nregion: 歐洲地區\n",
     "region: '歐洲地區' is not the region of 美國 (美加地區)"),
    ("sha256: 1234\n", "sha256: expected 64 lower-case hexadecimal digits"),
    ("pages: many\n", "pages: expected a whole number, found 'many'"),
    ("type: book\n", "type: expected one of report, paper, poster, slides, other, found 'book'"),
    ("authors: {name: 王}\n", "authors: expected a list of names, found a mapping"),
    ("extracted: [title]\n", "extracted: expected a mapping of field names to fingerprints, e.g. {title: 1a2b3c4d}"),
])
def test_each_class_of_problem(empty_kb, body, message):
    line = 3 + body.count("\n") - 1  # the key the problem is about is the last one written
    assert problems(empty_kb, HEAD + body) == [f"corpus/r.yaml:{line}: {message}"]


def test_every_problem_of_a_file_is_listed_in_line_order(empty_kb):
    found = problems(empty_kb, HEAD + "pages: -1\ncountries: [火星]\nreport_date: 2007-02-30\n")
    assert found == [
        "corpus/r.yaml:3: pages: expected a whole number, found -1",
        "corpus/r.yaml:4: countries: unknown country '火星' (add it to vocab/countries.yaml to use it)",
        "corpus/r.yaml:5: report_date: cannot read '2007-02-30' as a date (no such day: 2007-02-30)",
    ]


def test_duplicate_id_across_sidecars(empty_kb):
    (empty_kb.corpus / "a.yaml").write_text(HEAD, encoding="utf-8")
    (empty_kb.corpus / "b.yaml").write_text("title: 另一份\nid: C09601649\n", encoding="utf-8")
    (empty_kb.corpus / "c.yaml").write_text("id: a\n", encoding="utf-8")  # a.yaml's id is C09601649, not a
    assert [str(p) for p in check_kb(empty_kb).problems] == [
        "corpus/b.yaml:2: id: 'C09601649' is also the id of corpus/a.yaml"]


def test_unreadable_yaml(empty_kb):
    [found] = problems(empty_kb, HEAD + "keywords: [unclosed\n")
    assert found.startswith("corpus/r.yaml:4: not valid YAML: ")  # libyaml's or PyYAML's wording


def test_a_kb_vocabulary_extends_what_is_known(empty_kb):
    (empty_kb.root / "vocab").mkdir()
    (empty_kb.root / "vocab" / "orgs.yaml").write_text(
        "orgs:\n  - code: XYZ\n    name: Example Society\n", encoding="utf-8")
    assert problems(empty_kb, HEAD + "events: [XYZ]\n") == []


def test_cli_lists_problems_and_exits_1(empty_kb):
    (empty_kb.corpus / "r.yaml").write_text(HEAD + "category: 旅遊\nreviewer: 林\n", encoding="utf-8")
    (empty_kb.corpus / "ok.yaml").write_text("id: ok\ncategory: 開會\n", encoding="utf-8")
    result = runner.invoke(app, ["--kb", str(empty_kb.root), "meta", "check"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "corpus/r.yaml:3: category: unknown category '旅遊' (expected one of 考察, 進修, 研究, 實習, 視察, 訪問, 開會, 談判, 其他)",
        "Checked 2 sidecars: 1 problem in 1 file."]
    assert "Warning: corpus/r.yaml: reviewer: unknown key (kept)" in result.output


def test_cli_on_the_sample_kb_is_clean(sample_kb):
    result = runner.invoke(app, ["--kb", str(sample_kb.root), "meta", "check"])
    assert result.exit_code == 0
    assert result.stdout == "Checked 21 sidecars: all valid.\n"


def test_ingest_refuses_an_invalid_sidecar_with_the_same_message(empty_kb, tmp_path, pdf_maker):
    folder = tmp_path / "in"
    pdf_maker(folder / "bad.pdf", IFLA_2007)
    (folder / "bad.yaml").write_text("id: C09601649\ncountries: [亞特蘭提斯]\n", encoding="utf-8")
    (folder / "record.yaml").write_text("id: C09700001\ncategory: 旅遊\n", encoding="utf-8")
    pdf_maker(folder / "good.pdf", IFLA_2007[:1] + ["另一份報告的摘要：德班。"])
    report = ingest(empty_kb, [folder])
    assert sorted(str(p) for p in report.problems) == [
        f"{folder}/bad.yaml:2: countries: unknown country '亞特蘭提斯' (add it to vocab/countries.yaml to use it)",
        f"{folder}/record.yaml:2: category: unknown category '旅遊' "
        "(expected one of 考察, 進修, 研究, 實習, 視察, 訪問, 開會, 談判, 其他)",
    ]
    assert report.added == ["corpus/good.pdf"]
    assert sorted(p.name for p in empty_kb.corpus.iterdir()) == ["good.pdf", "good.yaml"]
    assert search(empty_kb, "德班").total == 1


def test_a_sidecar_never_holds_yaml_anchors():
    """A value used twice in a record is written twice, not as an anchor and an alias."""
    from tripkb.meta.sidecar import dump

    names = ["王文陸", "彭慰"]
    assert dump({"id": "C1", "authors": names, "keywords": names}) == \
        "id: C1\nauthors:\n- 王文陸\n- 彭慰\nkeywords:\n- 王文陸\n- 彭慰\n"
