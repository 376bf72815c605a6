"""Statistics: the seed paper's 表四, 表五 and 表六 rebuilt from metadata-only records.

The paper's 表四 (region × year) and 表五 (institution × year) both count 82
reports but disagree on the year of one of them (表四: 15 in 2006 and 10 in
2005; 表五: 14 and 11), so no single set of records reproduces both; each
table gets its own 82 records, written as sidecars and indexed for real.
"""

from __future__ import annotations

import csv
import io
import json
from itertools import cycle

import pytest
import yaml
from rich.cells import cell_len
from typer.testing import CliRunner

from tripkb.cli import app
from tripkb.errors import UsageError
from tripkb.index.sync import sync
from tripkb.query.search import Filters
from tripkb.query.stats import OTHER, stats

YEARS = list(range(2009, 1999, -1))

# 表四：公務出國考察報告統計—依參加地區 (rows 2009 … 2000)
REGIONS = ["美加地區", "亞洲地區", "歐洲地區", "非洲地區"]
TABLE4 = [[3, 1, 5, 0], [7, 5, 1, 0], [2, 4, 2, 2], [2, 13, 0, 0], [6, 2, 2, 0],
          [1, 2, 0, 0], [1, 1, 2, 0], [1, 2, 2, 0], [5, 2, 0, 0], [2, 3, 1, 0]]
TABLE4_TOTALS = [30, 35, 15, 2]
# Countries written as people write them; all must count under their region.
COUNTRIES = {"美加地區": ["美國", "USA", "加拿大", "美国"], "亞洲地區": ["日本", "韓國", "中國大陸", "新加坡"],
             "歐洲地區": ["德國", "英國", "法國", "荷蘭"], "非洲地區": ["南非"]}

# 表五：公務出國考察報告統計—依報告機關 (rows 2009 … 2000); 其他 is several institutions.
INSTITUTIONS = ["國家圖書館", "國立臺中圖書館", "臺北市立圖書館", OTHER]
TABLE5 = [[5, 2, 0, 2], [8, 2, 2, 1], [6, 2, 0, 2], [8, 1, 0, 5], [6, 1, 2, 2],
          [3, 0, 0, 0], [2, 0, 0, 2], [3, 0, 0, 2], [4, 0, 0, 3], [3, 0, 0, 3]]
TABLE5_TOTALS = [48, 8, 4, 22]
SPELLINGS = {"國家圖書館": ["國家圖書館", "國圖", "National Central Library"],
             "國立臺中圖書館": ["國立臺中圖書館", "國立台中圖書館", "國立公共資訊圖書館"],
             "臺北市立圖書館": ["臺北市立圖書館", "台北市立圖書館"]}
OTHERS = ["國立臺灣大學圖書館", "國立政治大學圖書館", "國立臺灣師範大學圖書館", "國立成功大學圖書館",
          "國立清華大學圖書館", "國立中興大學圖書館", "高雄市立圖書館", "國立中央圖書館臺灣分館"]

# 表六：我國圖書館界參與國際專業組織年會人次統計表 (participants, rows 2009 … 2000)
ORGS = ["IFLA", "ALA", "SLA", "IASL", "MLA", "ASIST"]
TABLE6 = [[25, 9, 0, 1, 0, 12], [12, 12, 0, 6, 5, 0], [9, 14, 0, 200, 2, 1], [14, 0, 0, 15, 0, 0],
          [9, 10, 1, 0, 0, 1], [8, 0, 0, 0, 0, 1], [10, 0, 0, 0, 0, 2], [4, 9, 0, 0, 0, 1],
          [14, 0, 1, 0, 0, 1], [9, 13, 0, 0, 0, 0]]
TABLE6_TOTALS = [114, 67, 2, 222, 7, 19]


def write_records(kb, records: list[dict]) -> None:
    for n, record in enumerate(records):
        (kb.corpus / f"r{n:05d}.yaml").write_text(yaml.safe_dump(record, allow_unicode=True),
                                                 encoding="utf-8")
    sync(kb)


def table4_records() -> list[dict]:
    """The 82 reports of 表四, plus three archive reports the query 圖書館 must leave out."""
    spell = {region: cycle(names) for region, names in COUNTRIES.items()}
    records = []
    for year, row in zip(YEARS, TABLE4):
        for region, n in zip(REGIONS, row):
            for _ in range(n):
                country = next(spell[region])
                records.append({"type": "report", "year": year, "institution": "國家圖書館",
                                "title": f"參加{year}年{country}圖書館會議報告", "countries": [country]})
    records += [{"type": "report", "year": 2007, "institution": "國家發展委員會檔案管理局",
                 "title": "參加國際檔案理事會年會報告", "countries": ["法國"]}] * 3
    return records


def table5_records() -> list[dict]:
    spell = {name: cycle(names) for name, names in SPELLINGS.items()}
    others = cycle(OTHERS)
    records = []
    for year, row in zip(YEARS, TABLE5):
        for name, n in zip(INSTITUTIONS, row):
            for _ in range(n):
                written = next(others) if name == OTHER else next(spell[name])
                records.append({"type": "report", "year": year, "institution": written,
                                "title": f"{written}{year}年出國報告", "region": "亞洲地區"})
    return records


def table6_records() -> list[dict]:
    """One record per non-zero cell of 表六, carrying the cell as its number of participants."""
    return [{"type": "report", "year": year, "events": [org], "participants": n,
             "title": f"參加{year}年{org}年會報告"}
            for year, row in zip(YEARS, TABLE6) for org, n in zip(ORGS, row) if n]


def cross_tab(result) -> dict:
    return {key: n for key, n in result.rows}


@pytest.fixture
def table4_kb(empty_kb):
    write_records(empty_kb, table4_records())
    return empty_kb


@pytest.fixture
def table5_kb(empty_kb):
    write_records(empty_kb, table5_records())
    return empty_kb


def assert_cells(result, columns: list, table: list[list[int]]) -> None:
    """Every (year, column) cell of a year-by-column count equals the paper's table."""
    cells = cross_tab(result)
    for year, row in zip(YEARS, table):
        for column, n in zip(columns, row):
            assert cells.get((year, column), 0) == n, (year, column)


def test_table4_region_by_year_cell_by_cell(table4_kb):
    result = stats(table4_kb, ["year", "region"], query="圖書館")
    assert result.total == 82
    assert_cells(result, REGIONS, TABLE4)
    assert [result.margins[0][year] for year in YEARS] == [sum(row) for row in TABLE4]
    assert [result.margins[1][r] for r in REGIONS] == TABLE4_TOTALS
    assert result.order == [list(range(2000, 2010)), REGIONS]  # years in order, regions as in 表四
    assert not result.overlapping
    # without the query the archive reports count too
    assert stats(table4_kb, ["region"]).margins[0]["歐洲地區"] == 18


def test_table5_institution_by_year_cell_by_cell(table5_kb):
    result = stats(table5_kb, ["year", "institution"], top=3, historical=True)
    assert result.total == 82
    assert result.order[1] == INSTITUTIONS  # ranked, 其他 last: the paper's columns
    assert_cells(result, INSTITUTIONS, TABLE5)
    assert [result.margins[0][year] for year in YEARS] == [sum(row) for row in TABLE5]
    assert [result.margins[1][name] for name in INSTITUTIONS] == TABLE5_TOTALS


def test_institutions_count_under_their_current_name_unless_historical(table5_kb):
    current = stats(table5_kb, ["institution"])
    assert current.margins[0]["國立公共資訊圖書館"] == 8  # 國立臺中圖書館, 國立台中…, 國立公共資訊…
    assert "國立臺中圖書館" not in current.margins[0]
    assert current.margins[0]["國立臺灣圖書館"] == 2  # was 國立中央圖書館臺灣分館
    historical = stats(table5_kb, ["institution"], historical=True)
    assert historical.margins[0]["國立臺中圖書館"] == 8
    assert historical.margins[0]["國立中央圖書館臺灣分館"] == 2
    # the filter takes any name of the institution, in either mode
    for flag in (False, True):
        assert stats(table5_kb, ["year"], Filters(institution="國資圖"), historical=flag).total == 8


def test_top_folds_the_rest_into_other(table5_kb):
    result = stats(table5_kb, ["institution"], top=3)
    assert [(key[0], n) for key, n in result.rows] == [
        ("國家圖書館", 48), ("國立公共資訊圖書館", 8), ("臺北市立圖書館", 4), (OTHER, 22)]
    assert sum(n for _, n in result.rows) == result.total == 82
    with pytest.raises(UsageError, match="years are never folded"):
        stats(table5_kb, ["year"], top=3)


def test_participants_reproduce_table6(empty_kb):
    write_records(empty_kb, table6_records() + [{"type": "report", "year": 2009, "title": "未填人數"}])
    result = stats(empty_kb, ["year", "org"], count="participants")
    assert result.total == 431
    assert_cells(result, ORGS, TABLE6)
    assert [result.margins[1][o] for o in ORGS] == TABLE6_TOTALS
    assert result.margins[0][2007] == 226
    assert result.uncounted == 1  # the record without a number counts as 0, and is reported


def test_several_countries_count_under_each_region(empty_kb):
    write_records(empty_kb, [
        {"type": "report", "year": 2008, "title": "美日考察", "countries": ["美國", "日本"],
         "events": ["IFLA", "美國圖書館學會"], "authors": ["王", "林", "陳"]},
        {"type": "report", "year": 2008, "title": "德國考察", "countries": ["Germany"]},
        {"type": "paper", "year": 2009, "title": "沒有地點的論文"},
    ])
    result = stats(empty_kb, ["year", "region"])
    assert result.total == 3
    assert cross_tab(result) == {(2008, "美加地區"): 1, (2008, "亞洲地區"): 1, (2008, "歐洲地區"): 1,
                                 (2009, None): 1}
    assert result.margins[0] == {2008: 2, 2009: 1}  # margins count each document once
    assert result.overlapping
    assert stats(empty_kb, ["region"], Filters(region="亞洲地區")).total == 1
    assert stats(empty_kb, ["country"]).margins[0] == {"美國": 1, "日本": 1, "德國": 1, None: 1}
    assert stats(empty_kb, ["org"]).margins[0] == {"IFLA": 1, "ALA": 1, None: 2}
    assert stats(empty_kb, ["org"], Filters(org="ala")).total == 1
    # participants default to the number of authors
    assert stats(empty_kb, ["type"], count="participants").cells == {("report",): 3, ("paper",): 0}


def test_removed_and_changed_records_are_counted_as_they_are_now(table5_kb):
    (table5_kb.corpus / "r00000.yaml").unlink()  # 國家圖書館, 2009
    (table5_kb.corpus / "r00001.yaml").write_text("type: paper\nyear: 2009\ninstitution: 國圖\n",
                                                  encoding="utf-8")
    result = stats(table5_kb, ["type"], Filters(institution="國家圖書館", since=2009))
    assert result.margins[0] == {"report": 3, "paper": 1}


def test_an_empty_knowledge_base_counts_nothing(empty_kb):
    result = stats(empty_kb, ["institution", "year"], count="participants", historical=True)
    assert (result.total, result.rows, result.to_json()["rows"]) == (0, [], [])
    assert stats(empty_kb, []).to_json() == {"by": [], "rows": [], "total": 0}


def test_query_and_filters_narrow_the_count(table4_kb):
    assert stats(table4_kb, ["year"]).total == 85
    assert stats(table4_kb, ["year"], query="檔案").total == 3
    assert stats(table4_kb, ["year"], query="圖書館", filters=Filters(since=2005, until=2006)).total == 25
    usa = sum(r["countries"] in (["美國"], ["USA"], ["美国"]) for r in table4_records())
    assert usa == 23 and stats(table4_kb, ["region"], Filters(country="USA")).total == usa
    assert stats(table4_kb, ["region"], Filters(type="poster")).total == 0


def test_json_contract(table4_kb):
    data = stats(table4_kb, ["year", "region"], query="圖書館").to_json()
    assert list(data) == ["by", "rows", "total"]
    assert data["by"] == ["year", "region"] and data["total"] == 82
    assert data["rows"][0] == {"year": 2000, "region": "美加地區", "count": 2}  # as 表四 is laid out
    assert {"year": 2007, "region": "非洲地區", "count": 2} in data["rows"]
    assert all(row["count"] > 0 for row in data["rows"])
    assert sum(row["count"] for row in data["rows"]) == 82


def test_csv_has_one_line_per_cell(table4_kb):
    text = stats(table4_kb, ["year", "region"], query="圖書館").to_csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["year", "region", "documents"]
    assert ["2006", "亞洲地區", "13"] in rows
    assert sum(int(r[2]) for r in rows[1:]) == 82


def test_bad_arguments_are_usage_errors(empty_kb):
    with pytest.raises(UsageError, match=r"--by must be one of year, institution, region"):
        stats(empty_kb, ["author"])
    with pytest.raises(UsageError, match="--by year is given twice"):
        stats(empty_kb, ["year", "year"])
    with pytest.raises(UsageError, match="--count must be one of documents, participants"):
        stats(empty_kb, ["year"], count="pages")


# The command line

runner = CliRunner()


def run(kb, *args: str):
    return runner.invoke(app, ["--kb", str(kb.root), "stats", *args], env={"COLUMNS": "80"})


def test_cli_json_and_csv(table4_kb):
    result = run(table4_kb, "--by", "year", "--by", "region", "--query", "圖書館", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total"] == 82 and data["by"] == ["year", "region"]
    result = run(table4_kb, "--by", "region", "--csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == ["region,documents", "亞洲地區,35"]


def test_cli_cross_tab_shows_zero_cells_and_margins(table5_kb):
    result = run(table5_kb, "--by", "institution", "--by", "year", "--top", "3", "--historical")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "82 documents by institution × year"
    row = next(line for line in lines if line.startswith("臺北市立圖書館"))
    assert row.split() == ["臺北市立圖書館", "0", "0", "0", "0", "0", "2", "0", "0", "2", "0", "4"]
    footer = next(line for line in lines if line.startswith("合計"))
    assert footer.split() == ["合計", "6", "7", "5", "4", "3", "11", "14", "10", "13", "9", "82"]
    assert all(cell_len(line) <= 80 for line in lines)


def test_cli_turns_a_cross_tab_with_too_many_years_round(empty_kb):
    write_records(empty_kb, [{"type": "report", "year": year, "title": "報告", "countries": [country]}
                             for year in range(1995, 2020) for country in ("美國", "日本")])
    result = run(empty_kb, "--by", "region", "--by", "year")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["year", "美加地區", "亞洲地區", "合計"]
    assert lines[-1] == "(year down, region across, to fit the terminal)"
    assert all(cell_len(line) <= 80 for line in lines)


def test_cli_ranked_table_has_shares(table5_kb):
    result = run(table5_kb, "--by", "institution", "--top", "3")
    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines() if line.startswith("國家圖書館"))
    assert row.split() == ["國家圖書館", "48", "58.5%"]


def test_cli_charts_fit_in_80_columns(table5_kb):
    for args in (["--by", "institution"], ["--by", "year", "--by", "institution", "--top", "3"]):
        result = run(table5_kb, *args, "--chart")
        assert result.exit_code == 0, result.stderr
        assert all(cell_len(line) <= 80 for line in result.stdout.splitlines())
    trend = run(table5_kb, "--by", "institution", "--by", "year", "--top", "3", "--chart").stdout
    line = next(line for line in trend.splitlines() if line.startswith("國家圖書館"))
    assert line.endswith(" 48")


@pytest.mark.parametrize("args, message", [
    (["--by", "author"], "Error: --by must be one of year, institution, region, org, category, "
                         "type, country; not 'author'"),
    (["--by", "year", "--top", "0", "--by", "region"],
     "Error: --top N needs N ≥ 1 and a --by field other than year (years are never folded)"),
    (["--by", "year", "--json", "--csv"], "Error: choose one of --json, --csv and --chart"),
    (["--by", "region", "--by", "org", "--chart"],
     "Error: --chart draws one --by field, or two when one of them is year (a trend over the years)"),
    (["--by", "year", "--since", "2009", "--until", "2000"], "Error: --since 2009 is after --until 2000"),
    (["--by", "year", "--query", "  "], "Error: the query is empty: give a word or phrase to search for, "
                                        "e.g. 年會"),
])
def test_cli_usage_errors_exit_2(table4_kb, args, message):
    result = run(table4_kb, *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""
