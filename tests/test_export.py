"""Exports: every format parsed back, the selection is search's, and a cluster would answer as tripkb does."""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from tripkb.cli import app
from tripkb.export import records as export, opensearch
from tripkb.index.analysis import grams_analyzer, words_analyzer
from tripkb.index.schema import GRAM_SUFFIX, text_values
from tripkb.meta.sidecar import read_sidecar, to_json
from tripkb.query.search import Filters, search
from tripkb.query.selection import select

import smallkb
from smallkb import built_kb, kb  # noqa: F401  (fixtures)

DC_ELEMENTS = {"title", "creator", "subject", "description", "publisher", "contributor", "date", "type",
               "format", "identifier", "source", "language", "relation", "coverage", "rights"}
OAI, OAI_DC, DC = export.OAI, export.OAI_DC, export.DC


def run(kb, *args):
    return CliRunner().invoke(app, ["--kb", str(kb.root), *args])


def _bytes(writer, items, **kw) -> bytes:
    out = io.BytesIO()
    writer(items, out, **kw)
    return out.getvalue()


# --- the selection --------------------------------------------------------------------------------


def test_selection_is_what_search_finds_and_records_come_from_sidecars(kb):
    everything = select(kb)
    assert [i.id for i in everything.items] == sorted(smallkb.IDS) and everything.problems == []
    chosen = select(kb, "年會", Filters(org="IFLA"))
    assert [i.id for i in chosen.items] == [h.id for h in search(kb, "年會", Filters(org="IFLA")).hits] == ["ifla"]
    ala = next(i for i in everything.items if i.id == "C09601649")
    assert ala.record == to_json(read_sidecar(kb.corpus / "C09601649.yaml")[0])
    assert ala.record["reviewer"] == "林"  # unknown keys travel too


def test_a_sidecar_edited_since_indexing_is_exported_as_it_now_reads(kb):
    path = kb.corpus / "ifla.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("書目控制", "編目"), encoding="utf-8")
    item = next(i for i in select(kb).items if i.id == "ifla")
    assert item.record["keywords"] == ["編目"]


def test_duplicate_ids_are_reported_not_exported_twice(kb):
    (kb.corpus / "copy.yaml").write_text(smallkb.RECORD_ONLY, encoding="utf-8")
    selection = select(kb)
    assert [i.id for i in selection.items].count("C09601160") == 1
    assert [str(p) for p in selection.problems] == [
        "corpus/copy.yaml: id 'C09601160' is also the id of corpus/C09601160.yaml (skipped)"]


# --- CSV and JSON Lines ----------------------------------------------------------------------------


def test_csv_has_every_field_and_reads_back(kb):
    items = select(kb).items
    rows = list(csv.DictReader(io.StringIO(_bytes(export.write_csv, items).decode("utf-8"), newline="")))
    assert [r["id"] for r in rows] == sorted(smallkb.IDS)
    ala = next(r for r in rows if r["id"] == "C09601649")
    assert ala["authors"] == "王文陸; 彭慰" and ala["keywords"] == "公共圖書館; 海報展"
    assert (ala["trip_start"], ala["trip_end"], ala["report_date"]) == ("2007-06-21", "2007-07-03", "2007-09-30")
    assert ala["region"] == "美加地區" and ala["reviewer"] == "林" and ala["pages"] == "2"
    only = next(r for r in rows if r["id"] == "C09601160")
    assert only["file"] == "" and only["pages"] == "" and only["authors"] == "楊宣勤; 劉水抱"
    assert next(r for r in rows if r["id"] == "paper")["title"] == "R&D <數位> 資源共享研究"


def test_csv_bom_is_only_a_prefix(kb):
    items = select(kb).items
    plain, marked = _bytes(export.write_csv, items), _bytes(export.write_csv, items, bom=True)
    assert marked == b"\xef\xbb\xbf" + plain and not plain.startswith(b"\xef\xbb\xbf")
    assert next(csv.reader(io.StringIO(marked.decode("utf-8-sig"))))[0] == "id"


def test_jsonl_is_one_record_a_line(kb):
    items = select(kb).items
    lines = _bytes(export.write_jsonl, items).decode("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == sorted(smallkb.IDS)
    assert "王文陸" in lines[1]  # UTF-8 as is, no \\u escapes
    assert records[1]["trip"] == {"start": "2007-06-21", "end": "2007-07-03"}
    assert "file" not in records[0]


# --- Dublin Core -------------------------------------------------------------------------------------


def _dc(kb, query=None):
    root = ET.fromstring(_bytes(export.write_dc, select(kb, query).items))
    assert root.tag == f"{{{OAI}}}OAI-PMH"
    return root, {r.find(f"{{{OAI}}}header/{{{OAI}}}identifier").text: r.find(f"{{{OAI}}}metadata/{{{OAI_DC}}}dc")
                  for r in root.iter(f"{{{OAI}}}record")}


def _values(dc, name):
    return [e.text for e in dc.findall(f"{{{DC}}}{name}")]


def test_dc_records_use_the_oai_dc_namespaces_and_map_fields(kb):
    root, records = _dc(kb)
    assert sorted(records) == sorted(export.oai_identifier(i) for i in smallkb.IDS)
    assert root.find(f"{{{OAI}}}request").attrib == {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    for dc in records.values():
        assert dc.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation").startswith(OAI_DC)
        for child in dc:
            namespace, name = child.tag[1:].split("}")
            assert namespace == DC and name in DC_ELEMENTS and child.text
    ala = records["oai:tripkb:C09601649"]
    assert _values(ala, "creator") == ["王文陸", "彭慰"] and _values(ala, "publisher") == ["國家圖書館"]
    assert _values(ala, "date") == ["2007-09-30"] and _values(ala, "identifier") == ["C09601649"]
    assert _values(ala, "subject") == ["公共圖書館", "海報展", "ALA"]
    assert _values(ala, "coverage") == ["美國", "2007-06-21/2007-07-03"]
    assert _values(ala, "type") == ["Text", "report"] and _values(ala, "format") == ["application/pdf"]
    assert _values(ala, "language") == ["zh-Hant"]
    assert _values(ala, "source") == ["OPEN 政府出版資料回應網公務出國報告"]
    only = records["oai:tripkb:C09601160"]
    assert _values(only, "format") == [] and _values(only, "date") == ["2007"]
    assert _values(records["oai:tripkb:paper"], "title") == ["R&D <數位> 資源共享研究"]


def test_dc_of_an_empty_selection_is_the_protocols_no_records_answer(kb):
    root, records = _dc(kb, "沒有這個詞")
    assert records == {} and root.find(f"{{{OAI}}}error").get("code") == "noRecordsMatch"


# --- OpenSearch --------------------------------------------------------------------------------------


def _bulk(folder):
    lines = (folder / opensearch.BULK_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) % 2 == 0
    pairs = [(json.loads(lines[i]), json.loads(lines[i + 1])) for i in range(0, len(lines), 2)]
    mapping = json.loads((folder / opensearch.MAPPING_FILE).read_text(encoding="utf-8"))
    return pairs, mapping


def _positions(token_string):
    return {(t, pos) for pos, group in enumerate(token_string.split()) for t in group.split(opensearch.SAME_POSITION)}


def test_bulk_pairs_actions_with_documents_that_fit_the_mapping(kb, tmp_path):
    items = select(kb).items
    opensearch.write(items, tmp_path / "os")
    pairs, mapping = _bulk(tmp_path / "os")
    ids = [action["index"]["_id"] for action, _ in pairs]
    assert ids == sorted(smallkb.IDS) and len(set(ids)) == len(ids)
    assert all(set(action) == {"index"} and action["index"]["_index"] == "tripkb" for action, _ in pairs)
    props = mapping["mappings"]["properties"]
    assert mapping["mappings"]["dynamic"] == "strict"
    analyzers = mapping["settings"]["analysis"]["analyzer"]
    for _, doc in pairs:
        assert "action" not in doc and set(doc) <= set(props)
        for name, value in doc.items():
            kind = props[name]["type"]
            if kind == "text":
                assert isinstance(value, str) and props[name]["analyzer"] in analyzers
            elif kind == "keyword":
                assert isinstance(value, str) or all(isinstance(v, str) for v in value)
            elif kind == "integer":
                assert isinstance(value, int)
            else:
                assert kind == "object" and props[name]["enabled"] is False
    only = next(doc for action, doc in pairs if action["index"]["_id"] == "C09601160")
    assert "body" not in only and only["display"]["file"] is None and only["display"]["pages"] == []


def test_bulk_tokens_sit_at_the_positions_tripkbs_analysers_give(kb, tmp_path):
    """What the mapping's whitespace + pattern_capture analyser reads back equals the index's tokens."""
    for item in select(kb).items:
        doc = opensearch.document(item)
        for name, folded in text_values(item.record, item.stored.text).items():
            for field, analyzer in ((name, words_analyzer()), (name + GRAM_SUFFIX, grams_analyzer())):
                expected = {(t.text, t.pos) for t in analyzer(folded, positions=True)}
                assert _positions(doc[field]) == expected, (item.id, field)
    ifla = opensearch.document(next(i for i in select(kb).items if i.id == "ifla"))
    assert "南非" in ifla["countries"] and ifla["events"] == ["ifla"] and ifla["year"] == 2007


def _matches(q, doc) -> bool:
    """A small evaluator of the query DSL subset query_dsl emits, with OpenSearch's semantics."""
    (kind, body), = q.items()
    if kind == "match_all":
        return True
    if kind == "bool":
        should = [_matches(c, doc) for c in body.get("should", [])]
        need = body.get("minimum_should_match", 0 if ("must" in body or "filter" in body) else 1)
        return (all(_matches(c, doc) for c in body.get("must", []) + body.get("filter", []))
                and not any(_matches(c, doc) for c in body.get("must_not", []))
                and (not should or sum(should) >= need))
    (field, arg), = body.items()
    value = doc.get(field)
    if value is None:
        return False
    if kind == "range":
        return all({"gte": value >= v, "lte": value <= v, "gt": value > v, "lt": value < v}[op]
                   for op, v in arg.items())
    text = arg["value"] if kind != "match_phrase" else arg["query"]
    if isinstance(value, (list, int)) or field not in opensearch.mapping()["mappings"]["properties"] \
            or opensearch.mapping()["mappings"]["properties"][field]["type"] != "text":
        values = value if isinstance(value, list) else [str(value)]
        return any(v == text if kind == "term" else v.startswith(text) for v in values)
    tokens = _positions(value)
    if kind == "term":
        return any(t == text for t, _ in tokens)
    if kind == "prefix":
        return any(t.startswith(text) for t, _ in tokens)
    if kind == "wildcard":
        return any(fnmatch.fnmatchcase(t, text) for t, _ in tokens)
    words = text.split()
    return any(all((w, start + k) in tokens for k, w in enumerate(words)) for t, start in tokens if t == words[0])


@pytest.mark.parametrize("query, filters", [
    ("年會", {}), ("图书馆", {}), ('"海報展"', {}), ("IFLA", {}), ("年會 -ALA", {}), ("title:報告", {}),
    ("館", {}), ("德班 OR 安那翰", {}), ("year:2007", {}), ("數位*", {}), ("org:ALA", {}),
    ("報告", {"org": "IFLA"}), ("年會", {"since": 2008}), (None, {"type": "paper"}), (None, {}),
    (None, {"sector": "library"}), ("年會", {"sector": "other"}),
])
def test_the_cluster_query_finds_what_tripkb_search_finds(kb, query, filters):
    docs = {i.id: opensearch.document(i) for i in select(kb).items}
    dsl = opensearch.query_dsl(query, Filters(**filters))
    found = sorted(i for i, doc in docs.items() if _matches(dsl["query"], doc))
    expected = sorted(i.id for i in select(kb, query, Filters(**filters)).items)
    assert found == expected
    if query:
        assert expected == sorted(h.id for h in search(kb, query, Filters(**filters), limit=100).hits)


def test_query_fields_exist_in_the_mapping_and_carry_tripkbs_weights(kb):
    dsl = json.dumps(opensearch.query_dsl("年會", Filters(org="IFLA", since=2005)), ensure_ascii=False)
    props = opensearch.mapping()["mappings"]["properties"]
    for field in ('"title"', '"title_g"', '"body"', '"events"', '"year"'):
        assert field[1:-1] in props and field in dsl
    assert '"boost": 4.0' in dsl and '"gte": 2005' in dsl


# --- the command --------------------------------------------------------------------------------------


def test_cli_writes_each_format(kb, tmp_path):
    result = run(kb, "export", "--format", "csv", "--query", "年會", "--country", "南非")
    assert result.exit_code == 0 and result.stdout.splitlines()[1].startswith("ifla,report,")
    assert result.stderr == "Exported 1 document (csv).\n"
    out = tmp_path / "all.xml"
    assert run(kb, "export", "-f", "dc", "-o", str(out)).exit_code == 0
    assert len(ET.parse(out).getroot().findall(f".//{{{OAI_DC}}}dc")) == 4
    result = run(kb, "export", "-f", "opensearch", "-o", str(tmp_path / "cluster"))
    assert result.exit_code == 0 and (tmp_path / "cluster" / "mapping.json").exists()


def test_cli_empty_selection_is_not_an_error(kb, tmp_path):
    result = run(kb, "export", "-f", "jsonl", "-q", "沒有這個詞")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "Exported 0 documents (jsonl).\n")
    assert run(kb, "export", "-f", "csv", "-q", "沒有這個詞").stdout.startswith("id,type,title,")
    assert run(kb, "export", "-f", "opensearch", "-q", "沒有這個詞", "-o", str(tmp_path / "e")).exit_code == 0
    assert (tmp_path / "e" / "bulk.ndjson").read_bytes() == b""


@pytest.mark.parametrize("args, message", [
    (["-f", "xml"], "--format must be one of csv, jsonl, dc, opensearch, marc, marcxml, ris, csl-json, not 'xml'"),
    ([], "give --format csv|jsonl|dc|opensearch|marc|marcxml|ris|csl-json, or --bundle FILE.tar.gz"),
    (["-f", "csv", "--bundle", "x.tar.gz"],
     "--format and --bundle cannot be combined: a bundle holds the documents themselves"),
    (["-f", "jsonl", "--bom"], "--bom applies only to --format csv"),
    (["-f", "opensearch"], "--format opensearch writes two files (bulk.ndjson and mapping.json): give --output DIR"),
    (["-f", "csv", "-q", ""], "the query is empty: give a word or phrase to search for, e.g. 年會"),
    (["-f", "csv", "--type", "book"], "--type must be one of report, paper, poster, slides, other, not 'book'"),
    (["-f", "csv", "--since", "2010", "--until", "2000"], "--since 2010 is after --until 2000"),
])
def test_cli_bad_input_is_one_error_line_and_exit_2(kb, args, message):
    result = run(kb, "export", *args)
    assert (result.exit_code, result.stderr, result.stdout) == (2, f"Error: {message}\n", "")


def test_cli_output_into_a_missing_folder(kb, tmp_path):
    target = tmp_path / "nowhere" / "out.csv"
    result = run(kb, "export", "-f", "csv", "-o", str(target))
    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot write {target}: the folder {target.parent} does not exist\n"
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    result = run(kb, "export", "-f", "opensearch", "-o", str(tmp_path / "a-file"))
    assert result.exit_code == 2 and "is a file; --format opensearch writes two files" in result.stderr


@pytest.mark.parametrize("format_", ["csv", "jsonl", "dc"])
def test_the_library_writes_each_format_as_its_writer_does(kb, tmp_path, format_):
    items = select(kb).items
    writer = {"csv": export.write_csv, "jsonl": export.write_jsonl, "dc": export.write_dc}[format_]
    out = io.BytesIO()
    assert export.write_format(items, format_, None, out) == (None, [])
    assert export.write_format(items, format_, tmp_path / "out", io.BytesIO()) == (str(tmp_path / "out"), [])
    if format_ != "dc":  # dc carries the time it was written
        assert out.getvalue() == (tmp_path / "out").read_bytes() == _bytes(writer, items)
    where, unwritten = export.write_format(items, "opensearch", tmp_path / "os", io.BytesIO())
    assert where.endswith("mapping.json") and unwritten == []
