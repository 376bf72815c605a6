"""The library sector (--sector) and renamed agencies: the sample KB plus a catalogue of other agencies.

Which institution is in the library sector is set here by construction (the
vocabularies declare some, names say the rest, the KB's own vocabulary may
overrule both), and every command's answer is checked against that.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest
import yaml

from tripkb.errors import MetadataError
from tripkb.index.sync import sync
from tripkb.kb import KnowledgeBase
from tripkb.meta.sidecar import read_sidecar
from tripkb.meta.vocab import Vocabulary
from tripkb.query.search import Filters
from tripkb.query.stats import stats

from conftest import REPO, run_cli

#: A KB's own vocabulary: it takes the archives agency out of the library sector, puts 國史館 in,
#: and records that 中國石油股份有限公司 became 台灣中油股份有限公司 in 2007.
KB_VOCAB = """\
institutions:
  - name: 國家發展委員會檔案管理局
    sector: other
  - name: 國史館
    sector: library
  - name: 台灣中油股份有限公司
    en: CPC Corporation, Taiwan
    aliases: [中油]
    former:
      - name: 中國石油股份有限公司
        renamed_in: 2007
"""

#: Institutions as a national catalogue writes them, with the sector each must count in.
AGENCIES = {
    "交通部": "other",
    "經濟部標準檢驗局": "other",
    "國立臺灣大學": "other",
    "臺大醫學院圖書分館": "library",  # the vocabulary says so; the name has no 圖書館
    "臺大圖資系": "library",  # an alias of 國立臺灣大學圖書資訊學系
    "高雄市立图书馆": "library",  # not in the vocabulary, written in Simplified
    "University of Hawaii at Manoa Library": "library",
    "中華民國圖書館學會": "library",
    "國家發展委員會檔案管理局": "other",  # 檔案 in the name, but the KB says other
    "國史館": "library",  # the KB says library
    "中國石油股份有限公司": "other",
    "台灣中油股份有限公司": "other",
}
YEARS = (2005, 2006, 2008, 2009)


def catalogue() -> list[dict]:
    """Metadata-only records: each agency reports in each year (中國石油 before 2007, 台灣中油 after)."""
    records = []
    for n, (name, _) in enumerate(AGENCIES.items()):
        for year in YEARS:
            if (name == "中國石油股份有限公司" and year >= 2007) or (name == "台灣中油股份有限公司" and year < 2007):
                continue
            records.append({"id": f"G{n:02d}{year}", "type": "report", "institution": name, "year": year,
                            "title": f"{name}{year}年赴日本考察報告", "countries": ["日本"], "category": "考察"})
    return records


def sample_sectors(vocab: Vocabulary) -> dict[str, str]:
    """id → sector of every sample record, from its sidecar's institution."""
    out = {}
    for path in sorted((REPO / "corpus").glob("*.yaml")):
        record, _ = read_sidecar(path)
        out[record.get("id") or path.stem] = vocab.sector(record["institution"])
    return out


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """The sample KB, the catalogue of other agencies and the KB's vocabulary, indexed once."""
    root = tmp_path_factory.mktemp("mixed")
    shutil.copytree(REPO / "corpus", root / "corpus")
    (root / "vocab").mkdir()
    (root / "vocab" / "institutions.yaml").write_text(KB_VOCAB, encoding="utf-8")
    for record in catalogue():
        (root / "corpus" / f"{record['id']}.yaml").write_text(yaml.safe_dump(record, allow_unicode=True),
                                                             encoding="utf-8")
    kb = KnowledgeBase(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("TRIPKB_HOME", raising=False)
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
        assert sync(kb).problems == []
    vocab = Vocabulary.load(root)
    expected = sample_sectors(vocab) | {r["id"]: AGENCIES[r["institution"]] for r in catalogue()}
    return kb, vocab, expected


def test_the_sector_comes_from_the_vocabularies_else_from_the_name():
    vocab = Vocabulary.load()
    for name in ("國家圖書館", "國圖", "NCL", "臺大醫學院圖書分館", "臺大圖資系", "政大圖檔所", "LAROC", "檔管局"):
        assert vocab.sector(name) == "library", name  # declared in tripkb/data/institutions.yaml
    for name in ("某某鄉立圖書館", "某某鄉立图书馆", "某某大學圖書資訊學研究所", "某某大學資訊與圖書館學系",
                 "某某縣政府檔案室", "某某大学图书情报学院", "Harvard-Yenching Library", "ＮＵＳ Ｌｉｂｒａｒｉｅｓ",
                 "Library and Archives Canada", "The National Archives"):
        assert vocab.sector(name) == "library", name  # 圖書館, 圖書資訊, 檔案 … in any script or width
    for name in ("教育部", "國立臺灣大學", "台灣中油股份有限公司", "臺北榮總", "Archivesspace Inc", "Librettists Guild"):
        assert vocab.sector(name) == "other", name


def test_a_kb_vocabulary_declares_a_sector_either_way(tmp_path):
    (tmp_path / "vocab").mkdir()
    (tmp_path / "vocab" / "institutions.yaml").write_text(KB_VOCAB, encoding="utf-8")
    vocab = Vocabulary.load(tmp_path)
    assert vocab.sector("檔案管理局") == "other" and Vocabulary.load().sector("檔案管理局") == "library"
    assert vocab.sector("國史館") == "library" and Vocabulary.load().sector("國史館") == "other"
    # an entry for a former name declares the sector of the institution it was
    (tmp_path / "vocab" / "institutions.yaml").write_text(
        "institutions:\n  - name: 研考會檔案管理局\n    sector: other\n", encoding="utf-8")
    assert Vocabulary.load(tmp_path).sector("國家發展委員會檔案管理局") == "other"


def test_an_unknown_sector_in_a_vocabulary_file_names_the_file_and_key(tmp_path):
    (tmp_path / "vocab").mkdir()
    path = tmp_path / "vocab" / "institutions.yaml"
    path.write_text("institutions:\n  - name: 國史館\n    sector: museum\n", encoding="utf-8")
    with pytest.raises(MetadataError) as caught:
        Vocabulary.load(tmp_path)
    assert str(caught.value) == f"{path}: institutions[0].sector: expected library or other"


def test_stats_of_the_library_sector_count_exactly_its_institutions(mixed):
    kb, vocab, expected = mixed
    for sector in ("library", "other"):
        result = stats(kb, ["institution", "year"], Filters(sector=sector))
        assert result.total == sum(1 for s in expected.values() if s == sector)
        assert all(vocab.sector(name) == sector for name in result.margins[0])
    libraries = stats(kb, ["institution"], Filters(sector="library")).margins[0]
    assert libraries["國立臺灣大學醫學院圖書分館"] == libraries["國史館"] == len(YEARS)
    assert "國家發展委員會檔案管理局" not in libraries and "國立臺灣大學" not in libraries


def test_renamed_agencies_join_under_their_current_name(mixed):
    kb, _, _ = mixed
    result = stats(kb, ["institution", "year"], Filters(institution="中油"))
    assert result.margins[0] == {"台灣中油股份有限公司": len(YEARS)}
    historical = stats(kb, ["institution", "year"], Filters(institution="中國石油股份有限公司"), historical=True)
    assert {key: n for key, n in historical.rows} == {
        ("中國石油股份有限公司", 2005): 1, ("中國石油股份有限公司", 2006): 1,
        ("台灣中油股份有限公司", 2008): 1, ("台灣中油股份有限公司", 2009): 1}


def test_a_renaming_added_after_the_import_joins_the_rows_already_indexed(empty_kb):
    for record in catalogue():
        if "油" in record["institution"]:
            (empty_kb.corpus / f"{record['id']}.yaml").write_text(yaml.safe_dump(record, allow_unicode=True),
                                                                encoding="utf-8")
    before = run_cli("--kb", str(empty_kb.root), "stats", "--by", "institution", "--json")
    assert before.returncode == 0, before.stderr
    assert {row["institution"]: row["count"] for row in json.loads(before.stdout)["rows"]} == {
        "中國石油股份有限公司": 2, "台灣中油股份有限公司": 2}
    (empty_kb.root / "vocab").mkdir()
    (empty_kb.root / "vocab" / "institutions.yaml").write_text(KB_VOCAB, encoding="utf-8")
    after = run_cli("--kb", str(empty_kb.root), "stats", "--by", "institution", "--json")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["rows"] == [{"institution": "台灣中油股份有限公司", "count": 4}]
    found = run_cli("--kb", str(empty_kb.root), "search", "考察", "--institution", "中國石油股份有限公司", "--json")
    assert json.loads(found.stdout)["total"] == 4


def test_cli_stats_of_the_library_sector_by_institution_and_year(mixed):
    kb, vocab, expected = mixed
    result = run_cli("--kb", str(kb.root), "stats", "--sector", "library", "--by", "institution", "--by", "year",
                     "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total"] == Counter(expected.values())["library"]
    assert {row["institution"] for row in data["rows"]} == {
        vocab.canonical_institution(name) for name, sector in AGENCIES.items() if sector == "library"} | {
        vocab.canonical_institution(read_sidecar(p)[0]["institution"]) for p in (REPO / "corpus").glob("*.yaml")}


def test_cli_search_export_and_cite_take_the_sector(mixed):
    kb, _, expected = mixed
    for sector in ("library", "other"):
        wanted = sorted(i for i, s in expected.items() if s == sector)
        found = run_cli("--kb", str(kb.root), "search", "報告", "--sector", sector, "--limit", "500", "--json")
        assert found.returncode == 0, found.stderr
        hits = json.loads(found.stdout)["hits"]
        assert hits and {h["id"] for h in hits} <= set(wanted)
        exported = run_cli("--kb", str(kb.root), "export", "--format", "jsonl", "--sector", sector)
        assert exported.returncode == 0, exported.stderr
        assert sorted(json.loads(line)["id"] for line in exported.stdout.splitlines()) == wanted
        cited = run_cli("--kb", str(kb.root), "cite", "--all", "--sector", sector, "--json")
        assert cited.returncode == 0, cited.stderr
        assert sorted(c["id"] for c in json.loads(cited.stdout)["citations"]) == wanted


@pytest.mark.parametrize("command", [["search", "年會"], ["stats", "--by", "year"], ["export", "-f", "jsonl"],
                                     ["cite", "--all"], ["brief"]])
def test_cli_an_unknown_sector_is_one_line_naming_the_valid_ones(mixed, command):
    kb, _, _ = mixed
    result = run_cli("--kb", str(kb.root), *command, "--sector", "libraries")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "Error: --sector must be one of library, other; not 'libraries'\n"


def test_cli_opensearch_export_takes_the_sector_from_the_kb_vocabulary(mixed, tmp_path):
    kb, _, expected = mixed  # the KB's vocab/ moves the archives agency out of the sector, 國史館 in
    done = run_cli("--kb", str(kb.root), "export", "--format", "opensearch", "-o", str(tmp_path / "os"))
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "os" / "bulk.ndjson").read_text(encoding="utf-8").splitlines()
    sectors = {json.loads(doc)["id"]: json.loads(doc).get("sector") for doc in lines[1::2]}
    shipped = Vocabulary.load()
    moved = {r["id"] for r in catalogue() if shipped.sector(r["institution"]) != expected[r["id"]]}
    assert moved  # the KB's vocabulary decides these otherwise than the shipped one
    assert {i: sectors[i] for i in moved} == {i: expected[i] for i in moved}


def test_a_field_in_the_query_reads_the_kb_vocabulary(mixed):
    kb, _, _ = mixed  # 中油 is an alias, and 中國石油股份有限公司 a former name, only in the KB's vocab/
    wanted = sorted(r["id"] for r in catalogue() if "石油" in r["institution"] or "中油" in r["institution"])
    found = run_cli("--kb", str(kb.root), "search", "institution:中油", "--limit", "500", "--json")
    assert found.returncode == 0, found.stderr
    assert sorted(h["id"] for h in json.loads(found.stdout)["hits"]) == wanted
    exported = run_cli("--kb", str(kb.root), "export", "--format", "jsonl", "--query", "institution:中油")
    assert sorted(json.loads(line)["id"] for line in exported.stdout.splitlines()) == wanted
    counted = run_cli("--kb", str(kb.root), "stats", "--query", "institution:中油", "--by", "institution", "--json")
    assert counted.returncode == 0, counted.stderr
    assert "台灣中油股份有限公司" in counted.stdout and str(len(wanted)) in counted.stdout
