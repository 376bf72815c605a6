"""MARC 21, MARCXML, RIS and CSL-JSON: every record read back by the format's own reader."""

from __future__ import annotations

import datetime as dt
import io
import json

import pymarc
import pytest
import rispy
from typer.testing import CliRunner

from tripkb.cli import app
from tripkb.export.marc import MAX_FIELD_BYTES, Unmappable, marc_record, write_marc, write_marcxml
from tripkb.export.references import csl_item, csl_name, inverted_name, ris_entry, split_name, write_csl_json, write_ris

from samplekb import sample  # noqa: F401  (fixture)
from smallkb import built_kb, kb  # noqa: F401  (fixtures)


def run(kb, *args):
    return CliRunner().invoke(app, ["--kb", str(kb.root), *args])


def _subfields(marc: pymarc.Record, tag: str, code: str = "a") -> list[str]:
    return [v for f in marc.get_fields(tag) for v in f.get_subfields(code)]


def _check_marc(marc: pymarc.Record, record: dict) -> None:
    """The fields a cataloguer expects, against the sidecar the record came from."""
    assert marc.leader[5:10] == "nam a" and marc.leader[9] == "a"  # UTF-8
    assert marc["001"].data == record["id"] and _subfields(marc, "035") == [record["id"]]
    assert len(marc["008"].data) == 40
    assert _subfields(marc, "245") == [record["title"]]
    assert _subfields(marc, "100") + _subfields(marc, "700") == [inverted_name(a) for a in record.get("authors", [])]
    assert _subfields(marc, "653") == record.get("keywords", [])
    assert _subfields(marc, "651") == record.get("countries", [])
    assert _subfields(marc, "520") == ([record["abstract"]] if record.get("abstract") else [])
    year = record["report_date"][:4] if record.get("report_date") else str(record["year"])
    assert _subfields(marc, "264", "c") == [year] and marc["008"].data[7:11] == year
    if record.get("institution"):
        assert _subfields(marc, "264", "b") == [record["institution"]]
        assert record["institution"] in _subfields(marc, "710") + _subfields(marc, "110")
    if record.get("file"):
        assert _subfields(marc, "856", "u") == [f"corpus/{record['file']}"]
        assert _subfields(marc, "300") == [f"1 online resource ({record['pages']} pages)"]
    if record.get("language") == "zh-Hant":
        assert _subfields(marc, "041") == ["chi"] and marc["008"].data[35:38] == "chi"
    notes = _subfields(marc, "500")
    if record.get("trip"):
        assert f"Trip dates: {record['trip']['start']} to {record['trip']['end']}" in notes
    if record.get("category"):
        assert f"Trip category: {record['category']}" in notes
    assert len(_subfields(marc, "711")) == len(record.get("events", []))


def test_every_sample_record_reads_back_from_iso_2709_and_marcxml(sample):
    items, sidecars = sample
    mrc, xml = io.BytesIO(), io.BytesIO()
    assert write_marc(items, mrc) == [] and write_marcxml(items, xml) == []
    from_mrc = list(pymarc.MARCReader(mrc.getvalue(), to_unicode=True, force_utf8=True))
    xml.seek(0)
    from_xml = pymarc.parse_xml_to_array(xml)
    assert len(from_mrc) == len(from_xml) == len(sidecars) == 21
    for marc, again in zip(from_mrc, from_xml):
        _check_marc(marc, sidecars[marc["001"].data])
        assert marc.as_dict()["fields"] == again.as_dict()["fields"]


def test_names_headings_and_events_of_a_generated_record():
    record = {"id": "p1", "type": "paper", "title": "Sharing Metadata", "authors": ["Yu-Ting Chen", "李四", "Plato"],
              "institution": "國立臺灣大學圖書資訊學系", "events": ["IFLA", "XYZ"], "year": 2010, "language": "en"}
    marc = marc_record(record, entered=dt.date(2024, 1, 2))
    assert (marc["100"].indicator1, marc["100"]["a"]) == ("1", "Chen, Yu-Ting")
    assert [(f.indicator1, f["a"]) for f in marc.get_fields("700")] == [("1", "李四"), ("0", "Plato")]
    assert marc["245"]["c"] == "Yu-Ting Chen, 李四, Plato" and marc["245"].indicator1 == "1"
    assert _subfields(marc, "711") == ["International Federation of Library Associations and Institutions", "XYZ"]
    assert marc["008"].data == "240102s2010    xx      o    |100 0 eng d"
    assert _subfields(marc, "546") == ["English"] and not marc.get_fields("856", "300", "520")


def test_an_institution_alone_is_the_main_entry():
    marc = marc_record({"id": "x", "title": "館訊", "institution": "國家圖書館"})
    assert _subfields(marc, "110") == ["國家圖書館"] and not marc.get_fields("100", "700", "710")
    assert marc["008"].data[6:11] == "nuuuu"
    assert marc_record({"id": "y", "title": "無名"})["245"].indicator1 == "0"


def test_a_long_abstract_is_cut_to_fit_and_a_record_too_long_for_iso_2709_is_refused():
    abstract = "摘" * 5000  # 15,000 bytes of UTF-8
    marc = marc_record({"id": "x", "title": "長摘要", "abstract": abstract})
    text = marc["520"]["a"]
    assert len(text.encode()) < MAX_FIELD_BYTES and abstract.startswith(text[:-1]) and text.endswith("…")
    assert len(list(pymarc.MARCReader(marc.as_marc(), to_unicode=True))) == 1
    with pytest.raises(Unmappable, match="longer than MARC's 99999 bytes"):
        marc_record({"id": "x", "title": "關鍵詞太多", "keywords": [f"關鍵詞{n}" for n in range(10000)]})


def test_a_record_without_a_title_is_reported_not_written(kb):
    (kb.corpus / "untitled.yaml").write_text("id: untitled\ntype: report\nauthors: [王小明]\n", encoding="utf-8")
    result = run(kb, "export", "-f", "marc")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: corpus/untitled.yaml: no title, so no MARC record (give the sidecar a title) (left out)",
        "Exported 4 documents (marc)."]
    records = list(pymarc.MARCReader(result.stdout_bytes, to_unicode=True, force_utf8=True))
    assert sorted(r["001"].data for r in records) == ["C09601160", "C09601649", "ifla", "paper"]


def test_cli_writes_marcxml_to_a_file(kb, tmp_path):
    out = tmp_path / "ncl.xml"
    result = run(kb, "export", "-f", "marcxml", "--institution", "國家圖書館", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(r["001"].data for r in pymarc.parse_xml_to_array(str(out))) == ["C09601649", "ifla"]


# --- RIS and CSL-JSON ---------------------------------------------------------------------------


def test_latin_names_split_and_chinese_names_stay_whole():
    assert [split_name(n) for n in ("Yu-Ting Chen", "Chen, Yu-Ting", "Mary Ann Smith", "王文陸", "Plato")] == \
        [("Chen", "Yu-Ting"), ("Chen", "Yu-Ting"), ("Smith", "Mary Ann"), None, None]
    item = csl_item({"id": "p", "type": "paper", "title": "T", "authors": ["Yu-Ting Chen", "王文陸"]})
    assert item["author"] == [{"family": "Chen", "given": "Yu-Ting"}, {"literal": "王文陸"}]
    assert ris_entry({"id": "p", "title": "T", "authors": ["Yu-Ting Chen", "王文陸"]})["authors"] == \
        ["Chen, Yu-Ting", "王文陸"]


def test_every_sample_record_round_trips_through_rispy(sample):
    items, sidecars = sample
    out = io.BytesIO()
    write_ris(items, out)
    entries = rispy.loads(out.getvalue().decode("utf-8"))
    assert len(entries) == 21
    types = {"report": "RPRT", "paper": "CPAPER", "poster": "SLIDE", "slides": "SLIDE", "other": "GEN"}
    for entry in entries:
        record = sidecars[entry["id"]]
        assert entry["type_of_reference"] == types[record["type"]]
        assert entry["title"] == record["title"]
        assert entry.get("authors", []) == [inverted_name(a) for a in record.get("authors", [])]
        assert entry.get("keywords", []) == record.get("keywords", [])
        assert entry.get("abstract") == record.get("abstract")
        assert entry["name_of_database"] == record["source"] and entry["accession_number"] == record["id"]
        if record.get("report_date"):
            assert entry["date"] == record["report_date"].replace("-", "/")
    assert not out.getvalue().startswith(b"1.")  # no numbering lines, which RIS does not have


def test_every_sample_record_round_trips_through_csl_json(sample):
    items, sidecars = sample
    out = io.BytesIO()
    write_csl_json(items, out)
    data = json.loads(out.getvalue())
    assert len(data) == 21
    types = {"report": "report", "paper": "paper-conference", "poster": "speech", "slides": "speech",
             "other": "document"}
    for item in data:
        record = sidecars[item["id"]]
        assert item["type"] == types[record["type"]] and item["title"] == record["title"]
        assert item.get("author", []) == [csl_name(a) for a in record.get("authors", [])]
        if record.get("report_date"):
            assert item["issued"] == {"date-parts": [[int(p) for p in record["report_date"].split("-")]]}
        assert item["archive"] == record["source"] and item["number"] == record["id"]
    poster = next(i for i in data if sidecars[i["id"]]["type"] == "poster")
    assert poster["genre"] == "Poster"


def test_a_system_id_is_cited_without_a_source_and_a_made_up_id_is_not():
    report = {"id": "C09800417", "type": "report", "title": "出席第十一屆亞洲數位圖書館國際會議(ICADL 2008)"}
    assert csl_item(report)["number"] == "C09800417"
    assert csl_item(report)["archive"] == ris_entry(report)["name_of_database"] == "OPEN 政府出版資料回應網公務出國報告"
    assert "number" not in csl_item({"id": "ifla", "title": "T"}) and "accession_number" not in ris_entry({"id": "ifla", "title": "T"})


def test_cli_writes_ris_and_csl_json(kb):
    result = run(kb, "export", "-f", "ris", "--type", "paper")
    assert result.exit_code == 0 and result.stderr == "Exported 1 document (ris).\n"
    assert rispy.loads(result.stdout)[0]["authors"] == ["Chen, Yu-Ting", "李四", "Lai, Ming-Hsien"]
    result = run(kb, "export", "-f", "csl-json", "--org", "IFLA")
    assert [i["id"] for i in json.loads(result.stdout)] == ["ifla"]


#: docs/contracts.md §5: the keys a CSL-JSON item may have; the first three always.
CSL_KEYS = {"id", "type", "title", "author", "issued", "genre", "publisher", "event-title", "number", "archive",
            "abstract", "keyword", "language", "note"}


def test_the_json_exports_have_the_documented_shape(sample):
    from tripkb.export.records import write_jsonl
    from tripkb.meta.sidecar import KEYS

    items, sidecars = sample
    out = io.BytesIO()
    write_csl_json(items, out)
    data = json.loads(out.getvalue())
    assert isinstance(data, list) and len(data) == len(items)
    for item in data:
        assert {"id", "type", "title"} <= set(item) <= CSL_KEYS and all(item.values())
        assert item["type"] in ("report", "paper-conference", "speech", "document")
        for name in item.get("author", []):
            assert set(name) in ({"literal"}, {"family", "given"})
        assert len(item["issued"]["date-parts"][0]) in (1, 3)
    out = io.BytesIO()
    write_jsonl(items, out)
    for line in out.getvalue().decode("utf-8").splitlines():
        record = json.loads(line)
        known = [k for k in record if k in KEYS]
        assert "id" in record and known == [k for k in KEYS if k in record]
        assert list(record)[:len(known)] == known  # the sidecar's keys first, in their order
        assert {k: v for k, v in record.items() if k in sidecars[record["id"]]} == sidecars[record["id"]]
