"""import-csv: UTF-8 and Big5 catalogues, ROC dates, bad rows, column mapping, exit codes."""

import csv
from collections import Counter
from datetime import date

import pytest
import yaml
from typer.testing import CliRunner

from tripkb.cli import app
from tripkb.errors import CatalogueError, UsageError
from tripkb.index import bulk
from tripkb.index.corpus import Entry
from tripkb.index.prepare import prepare
from tripkb.index.schema import open_index
from tripkb.index.sync import sync
from tripkb.ingest import catalogue
from tripkb.ingest.catalogue import import_csv, parse_mapping
from tripkb.query.search import Filters, get, search

runner = CliRunner()
HEADER = ["系統識別號", "報告名稱", "主辦機關", "出國類別", "前往地區", "出國期間", "報告日期", "關鍵詞", "摘要", "出國人員"]
ROWS = [
    ["C09601649", "參加2007年美國圖書館學會年會報告", "國家圖書館", "開會", "美國", "096/06/21~096/07/03",
     "096/09/30", "公共圖書館;海報展", "本次出國參加美國圖書館學會年會，參觀海報展。", "王文陸 編輯、彭慰 助理編輯"],
    ["C09800001", "參加2009年國際圖書館協會聯盟年會報告", "國家圖書館", "開會", "義大利（米蘭）",
     "民國98年8月21日至98年8月30日", "九十八年十一月二日", "IFLA、文化遺產", "第75屆年會\n於米蘭舉行，主題為文化遺產。", "周美惠"],
]


def write_csv(path, rows, header=HEADER, encoding="utf-8-sig"):
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def sidecar(kb, name):
    return yaml.safe_load((kb.corpus / f"{name}.yaml").read_text(encoding="utf-8"))


def test_utf8_catalogue_with_roc_dates(empty_kb, tmp_path):
    report = import_csv(empty_kb, write_csv(tmp_path / "cat.csv", ROWS))
    assert (report.rows, report.added, report.unchanged, report.problems, report.encoding) == (2, 2, 0, [], "utf-8")
    assert sidecar(empty_kb, "C09601649") == {
        "id": "C09601649", "type": "report", "title": "參加2007年美國圖書館學會年會報告",
        "authors": ["王文陸", "彭慰"], "institution": "國家圖書館", "category": "開會", "events": ["ALA"],
        "countries": ["美國"], "region": "美加地區", "trip": {"start": date(2007, 6, 21), "end": date(2007, 7, 3)},
        "report_date": date(2007, 9, 30), "year": 2007, "keywords": ["公共圖書館", "海報展"],
        "abstract": "本次出國參加美國圖書館學會年會，參觀海報展。", "participants": 2}
    milan = sidecar(empty_kb, "C09800001")
    assert (milan["countries"], milan["region"], milan["report_date"], milan["events"]) == \
        (["義大利"], "歐洲地區", date(2009, 11, 2), ["IFLA"])


def test_imported_records_are_searchable_and_shown(empty_kb, tmp_path):
    import_csv(empty_kb, write_csv(tmp_path / "cat.csv", ROWS))
    result = search(empty_kb, "文化遺產", Filters(org="IFLA", region="歐洲地區"))
    assert [(h.id, h.file, h.pages) for h in result.hits] == [("C09800001", None, [])]
    assert get(empty_kb, "C09601649").record["trip"] == {"start": "2007-06-21", "end": "2007-07-03"}


def test_big5_catalogue_is_detected(empty_kb, tmp_path):
    path = write_csv(tmp_path / "big5.csv", ROWS, encoding="cp950")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")
    report = import_csv(empty_kb, path)
    assert (report.encoding, report.added) == ("big5", 2)
    assert sidecar(empty_kb, "C09601649")["title"] == "參加2007年美國圖書館學會年會報告"


def test_a_wrong_encoding_is_refused_with_a_hint(empty_kb, tmp_path):
    path = write_csv(tmp_path / "big5.csv", ROWS, encoding="cp950")
    with pytest.raises(CatalogueError) as err:
        import_csv(empty_kb, path, encoding="utf-8")
    assert str(err.value).startswith(f"{path}: not utf-8 text (byte 0x")
    assert str(err.value).endswith("; try --encoding")


@pytest.mark.parametrize("chunk", [None, 2])  # 2: rows in chunks of 2 in worker processes
def test_bad_rows_are_named_and_the_rest_imported(empty_kb, tmp_path, monkeypatch, chunk):
    if chunk:
        monkeypatch.setattr(catalogue, "BULK_MIN", 1)
        monkeypatch.setattr(bulk, "BULK_CHUNK", chunk)
    rows = ROWS + [
        ["C09800002", "壞日期", "國家圖書館", "開會", "美國", "98年13月1日", "", "", "", ""],
        ["C09800003", "不明類別", "國家圖書館", "旅遊", "美國", "", "", "", "", ""],
        ["C09800004", "不明國家", "國家圖書館", "開會", "亞特蘭提斯", "", "", "", "", ""],
        ["", "沒有識別號", "國家圖書館", "開會", "美國", "", "", "", "", ""],
        ["C09800001", "重複", "國家圖書館", "開會", "美國", "", "", "", "", ""],
    ]
    path = write_csv(tmp_path / "cat.csv", rows)
    report = import_csv(empty_kb, path)
    assert (report.rows, report.added) == (7, 2)
    # row 2's 摘要 spans two lines, so row 3 starts on line 5
    assert [str(p) for p in report.problems] == [
        f"{path}:5: row 3: 出國期間: cannot read '98年13月1日' as a date (no such month: 2009-13)",
        f"{path}:6: row 4: 出國類別: unknown category '旅遊' (expected one of 考察, 進修, 研究, 實習, 視察, 訪問, 開會, 談判, 其他)",
        f"{path}:7: row 5: 前往地區: no known country in '亞特蘭提斯'",
        f"{path}:8: row 6: 系統識別號: missing: every row needs an id",
        f"{path}:9: row 7: 系統識別號: 'C09800001' is also the id of row 2",
    ]


def test_existing_records_are_left_alone(empty_kb, tmp_path):
    import_csv(empty_kb, write_csv(tmp_path / "cat.csv", ROWS))
    (empty_kb.corpus / "C09601649.yaml").write_text("id: C09601649\ntitle: 人工校訂\n", encoding="utf-8")
    changed = [ROWS[0][:1] + ["目錄上的新題名"] + ROWS[0][2:], ROWS[1]]
    report = import_csv(empty_kb, write_csv(tmp_path / "again.csv", changed))
    assert (report.added, report.unchanged) == (0, 2)
    assert sidecar(empty_kb, "C09601649") == {"id": "C09601649", "title": "人工校訂"}


def test_mapping_other_layouts(empty_kb, tmp_path):
    header = ["計畫編號", "題名", "出國期間(起)", "出國期間(迄)", "派赴國家/地區", "備註"]
    path = write_csv(tmp_path / "other.csv", [["C10100001", "赴芬蘭參加年會", "101.8.9", "101.8.20", "芬蘭、瑞典", "略"]],
                     header=header)
    mapping = parse_mapping(["計畫編號=id", "題名=title", "備註="])
    report = import_csv(empty_kb, path, mapping=mapping)
    assert report.problems == [] and report.warnings == []
    record = sidecar(empty_kb, "C10100001")
    assert (record["title"], record["countries"], record["trip"]) == \
        ("赴芬蘭參加年會", ["芬蘭", "瑞典"], {"start": date(2012, 8, 9), "end": date(2012, 8, 20)})


def test_unmapped_columns_are_named(empty_kb, tmp_path):
    path = write_csv(tmp_path / "cat.csv", [ROWS[0] + ["x"]], header=HEADER + ["承辦人"])
    assert import_csv(empty_kb, path).warnings == [
        f"{path}: columns not imported: 承辦人 (use --map COLUMN=FIELD to import one)"]


@pytest.mark.parametrize("spec, message", [
    ("計畫編號", "--map '計畫編號': expected COLUMN=FIELD, e.g. 計畫編號=id"),
    ("計畫編號=number", "--map '計畫編號=number': unknown field 'number' (expected one of id, type, title, "),
])
def test_bad_mappings_are_usage_errors(spec, message):
    with pytest.raises(UsageError) as err:
        parse_mapping([spec])
    assert str(err.value).startswith(message)


def test_cli_exit_codes(tmp_path):
    kb = tmp_path / "kb"
    good = write_csv(tmp_path / "good.csv", ROWS)
    result = runner.invoke(app, ["--kb", str(kb), "import-csv", str(good)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["Import (utf-8): 2 rows, 2 added, 0 unchanged.",
                                          "Index: 2 added, 0 updated, 0 removed, 0 unchanged."]
    bad = write_csv(tmp_path / "bad.csv", [["C09900001", "壞", "國家圖書館", "開會", "美國", "98年2月30日", "", "", "", ""]])
    result = runner.invoke(app, ["--kb", str(kb), "import-csv", str(bad)])
    assert result.exit_code == 1
    assert f"Error: {bad}:2: row 1: 出國期間: cannot read '98年2月30日' as a date (no such day: 2009-02-30)" \
        in result.output
    no_id = write_csv(tmp_path / "no-id.csv", [["x"]], header=["題名"])
    result = runner.invoke(app, ["--kb", str(kb), "import-csv", str(no_id)])
    assert result.exit_code == 1
    assert f"Error: {no_id}: no 系統識別號 (id) column; name one with --map COLUMN=id" in result.output
    result = runner.invoke(app, ["--kb", str(kb), "import-csv", str(good), "--map", "無此欄=id"])
    assert result.exit_code == 2
    assert "Error: --map: no column 無此欄 in" in result.output
    result = runner.invoke(app, ["--kb", str(kb), "import-csv", str(good), "--encoding", "latin-1"])
    assert result.exit_code == 2
    assert "Error: --encoding 'latin-1': expected auto, utf-8 or big5" in result.output


MORE = [
    ["C10000001", "赴日本東京參加「亞洲數位圖書館國際會議」（ICADL）", "國立臺中圖書館", "研究", "日本、韓國",
     "100年11月1日至100年11月9日", "2011-12-20", "數位典藏；ICADL", "會議於東京舉行。\n討論 open access 與 ASIS&T 的合作。",
     "林靜宜 研究員"],
    ["C09900007", "2010 IFLA WLIC 報告", "國圖", "開會", "Sweden", "2010/08/10-2010/08/15", "", "", "", ""],
    ["1234", "只有題名", "", "", "", "", "", "", "", ""],
]


def stored_records(kb) -> dict:
    with open_index(kb.index_dir).searcher() as searcher:
        return {doc["key"]: doc["data"]["record"] for doc in searcher.documents()}


def test_the_index_holds_imported_records_as_their_sidecars_read_back(empty_kb, tmp_path):
    """Import indexes the records it checked instead of reading the sidecars back
    (a tenth of the work): what it indexes must be what reading the sidecars gives."""
    report = import_csv(empty_kb, write_csv(tmp_path / "cat.csv", ROWS + MORE))
    assert (report.added, report.problems) == (5, [])
    imported = stored_records(empty_kb)
    sync(empty_kb, rebuild=True)
    assert stored_records(empty_kb) == imported
    assert imported["1234.yaml"] == {"id": "1234", "type": "report", "title": "只有題名"}
    assert imported["C10000001.yaml"]["trip"] == {"start": "2011-11-01", "end": "2011-11-09"}


def test_rows_taken_a_batch_at_a_time_through_each_step(empty_kb, tmp_path, monkeypatch):
    """A worker checks, writes and indexes its rows a batch at a time: a repeated id is
    refused across batches, a bad row leaves its batch's others in, and every record is
    indexed as its sidecar reads back."""
    monkeypatch.setattr(catalogue, "BULK_MIN", 1)
    monkeypatch.setattr(catalogue, "BATCH", 2)
    rows = ROWS + MORE + [
        ["C09601649", "同一識別號", "國家圖書館", "開會", "美國", "", "", "", "", ""],
        ["C09601649", "同一識別號，另一批", "國家圖書館", "開會", "美國", "", "", "", "", ""],
        ["C09800009", "壞日期", "國家圖書館", "開會", "美國", "98年2月30日", "", "", "", ""],
        ["C09800010", "最後一批", "國家圖書館", "開會", "日本", "", "", "", "", ""],
    ]
    path = write_csv(tmp_path / "cat.csv", rows)
    report = import_csv(empty_kb, path)
    assert (report.rows, report.added, report.synced.added) == (9, 6, 6)
    # rows with one id go to one chunk in a row: the third of them is in the next batch
    assert [str(p) for p in report.problems] == [
        f"{path}:9: row 6: 系統識別號: 'C09601649' is also the id of row 1",
        f"{path}:10: row 7: 系統識別號: 'C09601649' is also the id of row 1",
        f"{path}:11: row 8: 出國期間: cannot read '98年2月30日' as a date (no such day: 2009-02-30)",
    ]
    imported = stored_records(empty_kb)
    assert sorted(imported) == sorted(f"{r[0]}.yaml" for r in ROWS + MORE + rows[-1:])
    sync(empty_kb, rebuild=True)
    assert stored_records(empty_kb) == imported


def test_a_record_handed_over_is_used_only_while_its_sidecar_is_unchanged(empty_kb):
    path = empty_kb.corpus / "C1.yaml"
    path.write_text("id: C1\ntitle: 檔案上的題名\n", encoding="utf-8")
    entry = Entry("C1.yaml", path, None)
    written = (entry.stamp(), {"id": "C1", "type": "report", "title": "匯入時的題名"})
    assert prepare(empty_kb, entry, written=written).fields["data"]["record"]["title"] == "匯入時的題名"
    path.write_text("id: C1\ntitle: 匯入後人工校訂的題名\n", encoding="utf-8")
    assert prepare(empty_kb, entry, written=written).fields["data"]["record"]["title"] == "匯入後人工校訂的題名"


def test_ids_that_make_one_file_name_get_a_file_each(empty_kb, tmp_path, monkeypatch):
    """A/B and A_B both make A_B.yaml: planned apart, even when imported by two workers at once."""
    monkeypatch.setattr(catalogue, "BULK_MIN", 1)
    monkeypatch.setattr(bulk, "BULK_CHUNK", 1)
    rows = [["A/B", "斜線", "", "", "", "", "", "", "", ""], ["A_B", "底線", "", "", "", "", "", "", "", ""]]
    report = import_csv(empty_kb, write_csv(tmp_path / "cat.csv", rows))
    assert (report.added, report.problems) == (2, [])
    assert sorted(p.name for p in empty_kb.corpus.glob("*.yaml")) == ["A_B-A_B.yaml", "A_B.yaml"]
    assert (get(empty_kb, "A/B").record["title"], get(empty_kb, "A_B").record["title"]) == ("斜線", "底線")


def test_a_chunk_done_again_after_its_worker_died_writes_each_sidecar_once(empty_kb, tmp_path):
    path = write_csv(tmp_path / "cat.csv", ROWS + MORE)
    with catalogue._open(path, catalogue._encoding(path, "auto")) as fh:
        rows = catalogue._rows(fh, path)
        layout = catalogue._columns(path, next(rows)[1], {}, catalogue.ImportReport())
        keyed = list(catalogue._keyed(catalogue._numbered(rows), layout))
    chunks, where = catalogue._plan(empty_kb, Counter(key for key, _ in keyed), set(), 0)
    [chunk] = catalogue._filled(path, iter(keyed), chunks, where)
    staging = tmp_path / "staging"
    staging.mkdir()
    first = catalogue._import_chunk(path, layout, empty_kb, staging, chunk)
    again = catalogue._import_chunk(path, layout, empty_kb, staging, chunk)
    assert first[1] == again[1] == [(n, "indexed") for n in range(1, 6)]
    assert len(list(empty_kb.corpus.glob("*.yaml"))) == 5


def test_a_sidecar_put_at_a_planned_name_meanwhile_is_kept(empty_kb, tmp_path, monkeypatch):
    """Someone else's file at the name planned for a row stays; the row takes another name."""
    real_plan = catalogue._plan

    def plan_then_someone_writes(kb, *args):
        chunks = real_plan(kb, *args)
        (kb.corpus / "C09601649.yaml").write_text("id: 手寫\ntitle: 別人的檔案\n", encoding="utf-8")
        return chunks

    monkeypatch.setattr(catalogue, "_plan", plan_then_someone_writes)
    report = import_csv(empty_kb, write_csv(tmp_path / "cat.csv", ROWS))
    assert (report.added, report.synced.added) == (2, 3)
    assert sidecar(empty_kb, "C09601649")["title"] == "別人的檔案"
    assert sidecar(empty_kb, "C09601649-C0960164")["title"] == "參加2007年美國圖書館學會年會報告"
    assert get(empty_kb, "手寫").record["title"] == "別人的檔案"
    assert get(empty_kb, "C09601649").record["title"] == "參加2007年美國圖書館學會年會報告"


def test_progress_counts_the_rows(empty_kb, tmp_path):
    seen = []
    report = import_csv(empty_kb, write_csv(tmp_path / "cat.csv", ROWS + MORE), progress=lambda *a: seen.append(a))
    assert report.added == 5 and (5, 5, "row 5") in seen


def test_json_for_scripts(tmp_path):
    import json
    import subprocess
    import sys

    kb = tmp_path / "kb"
    bad = ["C09900001", "壞", "國家圖書館", "開會", "美國", "98年2月30日", "", "", "", ""]
    path = write_csv(tmp_path / "cat.csv", ROWS + [bad])
    run = subprocess.run([sys.executable, "-m", "tripkb", "--kb", str(kb), "import-csv", str(path), "--json"],
                         capture_output=True, text=True, encoding="utf-8")
    assert run.returncode == 1
    assert json.loads(run.stdout) == {
        "encoding": "utf-8", "rows": 3, "added": 2, "unchanged": 0,
        "refused": [{"where": f"{path}:5", "problem": "row 3: 出國期間: cannot read '98年2月30日' as a date "
                                                       "(no such day: 2009-02-30)"}],
        "warnings": [], "index": {"added": 2, "updated": 0, "removed": 0, "unchanged": 0, "problems": []}}
    assert f"Error: {path}:5: row 3: 出國期間" in run.stderr
