"""The command line: exit codes, exact error lines, JSON contracts, --kb and TRIPKB_HOME."""

import json

import pytest
from typer.testing import CliRunner

from tripkb.cli import app

from reports import IFLA_2007

runner = CliRunner()


def run(*args, env=None):
    return runner.invoke(app, list(args), env=env)


@pytest.fixture
def kb(tmp_path, pdf_maker):
    pdf_maker(tmp_path / "in" / "ifla.pdf", IFLA_2007)
    (tmp_path / "in" / "ifla.yaml").write_text(
        "id: EX0960001\ntype: report\ntitle: 參加2007年國際圖書館協會聯盟（IFLA）年會報告\n"
        "institution: 國家圖書館\nevents: [IFLA]\ncountries: [南非]\nyear: 2007\n", encoding="utf-8")
    root = tmp_path / "kb"
    result = run("--kb", str(root), "ingest", str(tmp_path / "in"))
    assert result.exit_code == 0, result.output
    assert "Ingest: 1 added, 0 unchanged." in result.output
    return root


def test_search_json_contract(kb):
    result = run("--kb", str(kb), "search", "德班", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == {"query", "total", "hits", "notes", "suggestions"}
    assert data["query"] == "德班" and data["total"] == 1 and data["notes"] == data["suggestions"] == []
    hit = data["hits"][0]
    assert set(hit) == {"id", "title", "type", "institution", "year", "file", "score", "pages", "snippet",
                        "words_only"}
    assert hit["words_only"] == []
    assert (hit["id"], hit["type"], hit["institution"], hit["year"], hit["file"], hit["pages"]) == \
        ("EX0960001", "report", "國家圖書館", 2007, "corpus/ifla.pdf", [2])
    assert "德班" in hit["snippet"] and isinstance(hit["score"], float)


def test_search_listing(kb):
    result = run("--kb", str(kb), "search", "國際圖書館協會聯盟")
    assert result.exit_code == 0
    assert "1 document matches 國際圖書館協會聯盟" in result.stdout
    assert "國家圖書館 · 2007 · report · 南非 · IFLA" in result.stdout
    assert "p. 1" in result.stdout


def test_no_match(kb):
    result = run("--kb", str(kb), "search", "量子電腦")
    assert result.exit_code == 0 and "No documents match 量子電腦." in result.stdout


def test_kb_from_environment(kb, tmp_path):
    result = run("search", "德班", "--json", env={"TRIPKB_HOME": str(kb)})
    assert json.loads(result.stdout)["total"] == 1


def test_missing_kb_is_a_usage_error(tmp_path):
    result = run("--kb", str(tmp_path / "nowhere"), "search", "年會")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: no knowledge base at {tmp_path / 'nowhere'} (from --kb)")


def test_bad_query_exit_2(kb):
    result = run("--kb", str(kb), "search", "zzz:年會")
    assert result.exit_code == 2
    assert result.stderr == "Error: unknown field 'zzz:' in the query; fields are: title, " \
        "keywords, authors, abstract, body, org, country, id, type, institution, region, category, " \
        "language, year\n"


def test_bad_filter_exit_2(kb):
    result = run("--kb", str(kb), "search", "年會", "--type", "memo")
    assert result.exit_code == 2
    assert "Error: --type must be one of report, paper, poster, slides, other, not 'memo'" in result.stderr


def test_show(kb):
    result = run("--kb", str(kb), "show", "EX0960001", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["record"]["title"] == "參加2007年國際圖書館協會聯盟（IFLA）年會報告"
    assert data["file"] == "corpus/ifla.pdf"
    assert data["first_page"].startswith("出國報告(出國類別:開會)")
    text = run("--kb", str(kb), "show", "ex0960001")
    assert text.exit_code == 0 and "Page 1" in text.stdout and "南非" in text.stdout


def test_show_unknown_id(kb):
    result = run("--kb", str(kb), "show", "C00000000")
    assert result.exit_code == 1
    assert result.stderr == f"Error: no document with id 'C00000000' in {kb}\n"


def test_ingest_bad_file_exit_1(kb, tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"")
    result = run("--kb", str(kb), "ingest", str(bad))
    assert result.exit_code == 1
    assert f"Error: {bad}: empty file (0 bytes)" in result.stderr
    assert "Ingest: 0 added, 0 unchanged, 1 failed." in result.stdout


def test_reindex(kb):
    result = run("--kb", str(kb), "reindex")
    assert result.exit_code == 0
    assert "Index: 1 added, 0 updated, 0 removed, 0 unchanged." in result.stdout


def test_search_no_refresh_reads_the_index_as_it_is(kb):
    sidecar = kb / "corpus" / "ifla.yaml"
    sidecar.write_text(sidecar.read_text(encoding="utf-8").replace("年會報告", "年會報告（修訂稿）"), encoding="utf-8")
    stale = run("--kb", str(kb), "search", "修訂稿", "--json", "--no-refresh")
    assert stale.exit_code == 0 and json.loads(stale.stdout)["total"] == 0  # the edit is not indexed yet
    fresh = run("--kb", str(kb), "search", "修訂稿", "--json")
    assert fresh.exit_code == 0 and json.loads(fresh.stdout)["hits"][0]["title"].endswith("年會報告（修訂稿）")


def test_search_no_refresh_still_builds_a_missing_index(kb):
    import shutil

    shutil.rmtree(kb / "index")
    result = run("--kb", str(kb), "search", "德班", "--json", "--no-refresh")
    assert result.exit_code == 0 and json.loads(result.stdout)["total"] == 1
