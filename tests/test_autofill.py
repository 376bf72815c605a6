"""Extracted fields are marked; a later extraction refreshes only what is still tripkb's."""

from datetime import date

import yaml
from typer.testing import CliRunner

from tripkb.cli import app
from tripkb.ingest.documents import ingest, reextract
from tripkb.meta.autofill import fill, fingerprint
from tripkb.query.search import get

from reports import IFLA_2007


def read(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_fill_marks_what_it_writes_and_derives():
    out = fill({"title": "人工題名"}, {"title": "封面題名", "institution": "國家圖書館",
                                      "trip": {"start": date(2007, 8, 17)}, "countries": ["南非"]})
    assert out["title"] == "人工題名"  # a person's value wins
    assert (out["institution"], out["year"], out["region"]) == ("國家圖書館", 2007, "非洲地區")
    assert out["extracted"] == {k: fingerprint(out[k]) for k in ("institution", "countries", "region", "trip", "year")}


def test_refresh_replaces_only_unedited_values():
    first = fill({}, {"title": "舊題名", "institution": "國圖", "authors": ["王小明"]})
    edited = dict(first, institution="國家圖書館")  # a person corrects one extracted value
    again = fill(edited, {"title": "新題名", "institution": "國立中央圖書館", "authors": ["王小明", "李大同"]})
    assert again["title"] == "新題名" and again["authors"] == ["王小明", "李大同"]
    assert again["participants"] == 2  # derived again from the refreshed authors
    assert again["institution"] == "國家圖書館"  # edited: the person's now
    assert "institution" not in again["extracted"]  # ... and no longer marked, so it stays theirs


def test_removing_the_mark_claims_a_value():
    first = fill({}, {"title": "封面題名"})
    claimed = dict(first, extracted={})
    assert fill(claimed, {"title": "另一題名"})["title"] == "封面題名"


def test_a_value_no_longer_found_is_kept_and_an_id_never_changes():
    first = fill({"id": "C09601649"}, {"title": "封面題名", "id": "C09999999"})
    assert first["id"] == "C09601649" and "id" not in first["extracted"]
    assert fill(first, {})["title"] == "封面題名"


def test_ingest_fills_a_standard_cover_without_typing(empty_kb, tmp_path, pdf_maker):
    pdf_maker(tmp_path / "ifla.pdf", IFLA_2007)
    report = ingest(empty_kb, [tmp_path / "ifla.pdf"])
    assert report.problems == []
    data = read(empty_kb.corpus / "ifla.yaml")
    assert {k: data[k] for k in ("type", "title", "authors", "institution", "category", "events", "countries",
                                 "region", "trip", "year", "participants")} == {
        "type": "report", "title": "參加2007年國際圖書館協會聯盟(IFLA)年會報告", "authors": ["王小明"],
        "institution": "國家圖書館", "category": "開會", "events": ["IFLA"], "countries": ["南非"],
        "region": "非洲地區", "trip": {"start": date(2007, 8, 17), "end": date(2007, 8, 25)},
        "year": 2007, "participants": 1}
    assert set(data["extracted"]) == {"type", "title", "authors", "institution", "category", "events",
                                      "countries", "region", "trip", "year", "abstract", "participants"}
    assert get(empty_kb, "ifla").record["institution"] == "國家圖書館"


def test_a_sidecar_beside_the_pdf_wins_and_is_not_marked(empty_kb, tmp_path, pdf_maker):
    pdf_maker(tmp_path / "r.pdf", IFLA_2007)
    (tmp_path / "r.yaml").write_text("title: 人工題名\nauthors: [王小明, 李大同]\n", encoding="utf-8")
    ingest(empty_kb, [tmp_path / "r.pdf"])
    data = read(empty_kb.corpus / "r.yaml")
    assert data["title"] == "人工題名" and data["authors"] == ["王小明", "李大同"]
    assert data["participants"] == 2 and "participants" in data["extracted"]  # derived from the person's list
    assert not {"title", "authors"} & set(data["extracted"])
    assert data["institution"] == "國家圖書館"  # what the sidecar did not say came from the cover


def test_meta_extract_never_overwrites_a_person(empty_kb, tmp_path, pdf_maker):
    pdf_maker(tmp_path / "ifla.pdf", IFLA_2007)
    ingest(empty_kb, [tmp_path / "ifla.pdf"])
    sidecar = empty_kb.corpus / "ifla.yaml"
    data = read(sidecar)
    data["institution"] = "國家圖書館特藏組"  # a librarian's correction
    data["title"] = "舊的擷取題名"  # as an older extractor might have written it ...
    data["extracted"]["title"] = fingerprint("舊的擷取題名")  # ... and marked it
    sidecar.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    report = reextract(empty_kb)
    assert report.changed == ["corpus/ifla.yaml"] and report.problems == []
    data = read(sidecar)
    assert data["title"] == "參加2007年國際圖書館協會聯盟(IFLA)年會報告"  # refreshed: still tripkb's
    assert data["institution"] == "國家圖書館特藏組" and "institution" not in data["extracted"]
    assert get(empty_kb, "ifla").record["institution"] == "國家圖書館特藏組"
    assert reextract(empty_kb).unchanged == 1  # nothing left to do


def test_meta_extract_cli(empty_kb, tmp_path, pdf_maker):
    pdf_maker(tmp_path / "ifla.pdf", IFLA_2007)
    ingest(empty_kb, [tmp_path / "ifla.pdf"])
    result = CliRunner().invoke(app, ["--kb", str(empty_kb.root), "meta", "extract", "ifla", "C00000000"])
    assert result.exit_code == 1
    assert "Extract: 0 sidecars updated, 1 unchanged, 1 failed." in result.stdout
    assert "Error: C00000000: no document with this id in corpus/" in result.output
