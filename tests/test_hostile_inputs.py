"""Hostile text and data (issue 17, items 4-6): what documents, sidecars, catalogues and bundles
hold never acts on a terminal or a spreadsheet, never breaks XML or JSON, and never crashes a
command: one line naming the file, and the right exit code."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import signal
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import run_cli, small_disk, tripkb_env

ESC_TITLE = "年會\x1b]52;c;aGVsbG8=\x07 [bold]x[/bold] \x1b[2J"
HOSTILE = {
    "A1": {"id": "A1", "type": "report", "title": ESC_TITLE, "year": 2007,
           "abstract": "摘要 年會 \x1b]0;pwned\x07 \u202eevil\u202c \x9b31m",
           "institution": "=cmd|' /C calc'!A0", "keywords": ["+SUM(1)", "-2+3"], "+note": "\tTAB"},
    "@SUM(1+1)": {"id": "@SUM(1+1)", "type": "report", "title": "年會 two\x01\x0b\x0c\ufffe end", "year": 2008},
}
#: What a terminal would act on; none of it may reach one.
CONTROLS = ["\x1b", "\x07", "\x9b", "\u202e", "\x01", "\x0b"]


def write_sidecar(corpus: Path, name: str, record: dict) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{key}: {json.dumps(value)}\n" for key, value in record.items())
    (corpus / f"{name}.yaml").write_text(text, encoding="utf-8")  # JSON is YAML: escapes as "\u001b"


@pytest.fixture
def hostile_kb(tmp_path) -> Path:
    kb = tmp_path / "kb"
    for n, record in enumerate(HOSTILE.values()):
        write_sidecar(kb / "corpus", f"H{n}", record)
    return kb


def cli(kb: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli("--kb", str(kb), *args)


def assert_no_controls(text: str) -> None:
    for ch in CONTROLS:
        assert ch not in text, f"{ch!r} reached the output: {text!r}"


# --- item 4: the terminal, spreadsheets, XML -------------------------------------------------------


def test_titles_snippets_and_names_reach_the_terminal_escaped(hostile_kb):
    bad_name = hostile_kb / "corpus" / "bad\x1b]0;retitled\x07.yaml"
    bad_name.write_text("title: [unclosed\n", encoding="utf-8")
    runs = {args: cli(hostile_kb, *args) for args in
            [("search", "年會"), ("show", "A1"), ("cite", "A1"), ("cite", "--all"), ("meta", "check"),
             ("stats", "--by", "institution"), ("reindex",)]}
    for args, done in runs.items():
        assert "Traceback" not in done.stderr, args
        assert_no_controls(done.stdout + done.stderr)
    search = runs[("search", "年會")].stdout
    assert "\\x1b]52;c;aGVsbG8=\\x07 [bold]x[/bold] \\x1b[2J" in search  # visible, not obeyed
    assert "\\u202eevil" in search and "\\x9b31m" in search
    assert "[bold]x[/bold]" in runs[("show", "A1")].stdout  # rich markup in a title is shown as text
    assert "Error: corpus/bad\\x1b]0;retitled\\x07.yaml" in runs[("reindex",)].stderr
    assert "corpus/bad\\x1b]0;retitled\\x07.yaml" in runs[("meta", "check")].stdout


def test_json_output_escapes_what_a_terminal_would_act_on(hostile_kb):
    done = cli(hostile_kb, "show", "A1", "--json")
    assert done.returncode == 0, done.stderr
    assert_no_controls(done.stdout)
    assert json.loads(done.stdout)["record"]["abstract"] == HOSTILE["A1"]["abstract"]


def test_csv_export_never_holds_a_formula(hostile_kb, tmp_path):
    done = cli(hostile_kb, "export", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    by_year = {row["year"]: row for row in rows}
    assert by_year["2007"]["institution"] == "'=cmd|' /C calc'!A0"
    assert by_year["2007"]["keywords"] == "'+SUM(1); -2+3"
    assert by_year["2007"]["'+note"] == "'\tTAB"
    assert by_year["2008"]["id"] == "'@SUM(1+1)"
    for row in rows:
        for cell in list(row.values()) + list(row):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    stats = cli(hostile_kb, "stats", "--by", "institution", "--csv")
    assert "'=cmd|' /C calc'!A0,1" in stats.stdout.splitlines()


def test_dc_export_is_well_formed_xml(hostile_kb):
    done = cli(hostile_kb, "export", "--format", "dc")
    assert done.returncode == 0, done.stderr
    root = ET.fromstring(done.stdout.encode("utf-8"))  # raises on a character XML cannot hold
    titles = [e.text for e in root.iter("{http://purl.org/dc/elements/1.1/}title")]
    assert "年會 two\ufffd\ufffd\ufffd\ufffd end" in titles
    assert any(t.startswith("年會\ufffd]52;c;") for t in titles)


# --- item 5: values no record can hold, years, catalogues, bundles ---------------------------------


@pytest.mark.parametrize("line, shown", [
    ("pages: " + "9" * 5000, "not valid YAML: a number of more than 4300 digits"),
    ("notes: !!set {a, b}", "notes: found a set (!!set), which no record can hold"),
    ("blob: !!binary aGVsbG8=", "blob: found binary data (!!binary), which no record can hold"),
    ("score: .nan", "score: found .nan, which no record can hold"),
    ("score: -.inf", "score: found -.inf, which no record can hold"),
    ("extra: {deep: 99999999999999999999999}", "extra: found a number larger than"),
    ("participants: 99999999999", "participants: expected a whole number, found 99999999999"),
    ("ocr: {engine: x, junk: !!set {a}}", "ocr: expected {engine: NAME, pages: [...]}, found a set (!!set)"),
    ("trip: {start: '" + "9" * 5000 + "'}", "trip: cannot read"),
    ("pages: !!int abc", "not valid YAML: a tagged value that cannot be read (ValueError: invalid literal"),
    ("flag: !!bool maybe", "not valid YAML: a tagged value that cannot be read (KeyError: 'maybe')"),
], ids=["5000 digits", "set", "binary", "nan", "inf", "deep big number", "participants", "ocr", "date digits",
        "bad int tag", "bad bool tag"])
def test_a_sidecar_value_no_record_holds_is_one_line_naming_the_file(tmp_path, line, shown):
    kb = tmp_path / "kb"
    write_sidecar(kb / "corpus", "good", {"id": "G1", "title": "年會 good"})
    (kb / "corpus" / "bad.yaml").write_text(f"id: B1\ntitle: 年會 bad\n{line}\n", encoding="utf-8")

    check = cli(kb, "meta", "check")
    assert check.returncode == 1, check.stderr
    assert any(p.startswith("corpus/bad.yaml") and shown in p for p in check.stdout.splitlines()), check.stdout
    search = cli(kb, "search", "年會", "--json")
    assert search.returncode == 0, search.stderr
    assert json.loads(search.stdout)["total"] == 1
    assert search.stderr.startswith("Warning: corpus/bad.yaml")
    export = cli(kb, "export", "--format", "jsonl")
    assert export.returncode == 1 and export.stderr.startswith("Error: corpus/bad.yaml"), export.stderr
    assert [json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))["id"]
            for line in export.stdout.splitlines()] == ["G1"]


@pytest.mark.parametrize("args, shown", [
    (["search", "年會", "--since", "70000"], "--since 70000"),
    (["stats", "--until", "-5"], "--until -5"),
    (["export", "--format", "csv", "--since", "0"], "--since 0"),
    (["search", "year:99999"], "year:99999"),
    (["cite", "--all", "--until", "100000"], "--until 100000"),
])
def test_a_year_no_date_can_have_is_a_usage_error(hostile_kb, args, shown):
    done = cli(hostile_kb, *args)
    assert done.returncode == 2
    assert done.stderr == f"Error: {shown}: expected a year from 1 to 9999, such as 2007\n"


HEADER = "系統識別號,報告名稱,摘要,出國人數,報告日期\n"


def test_a_catalogue_cell_longer_than_the_csv_default_limit_is_read(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(HEADER + "C1,長摘要," + "長" * 140_000 + ',,\nC2,"two\nlines","say ""hi""",,\n',
                    encoding="utf-8")
    done = cli(tmp_path / "kb", "import-csv", str(path))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "kb" / "corpus").iterdir()) == ["C1.yaml", "C2.yaml"]
    assert "長" * 140_000 in (tmp_path / "kb" / "corpus" / "C1.yaml").read_text(encoding="utf-8")
    assert "say \"hi\"" in (tmp_path / "kb" / "corpus" / "C2.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("rows, problem", [
    ('C1,"t1 broken,a1,,\nC2,t2,a2,,\nC3,t3,a3,,\n',
     "2: a quote opened in this row is never closed (the file ends inside it); nothing was imported"),
    ('C1,"t1 broken,a1,,\nC2,"t2",a2,,\nC3,t3,a3,,\n',
     "2: a quote in this row ends a cell on line 3, but text follows it there (a quote missing, or one too "
     "many?); nothing was imported"),
], ids=["never closed", "closed early"])
def test_an_unbalanced_quote_names_its_row_instead_of_merging_rows(tmp_path, rows, problem):
    path = tmp_path / "cat.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    done = cli(tmp_path / "kb", "import-csv", str(path))
    assert done.returncode == 1
    assert done.stderr == f"Error: {path}:{problem}\n"
    assert not list((tmp_path / "kb" / "corpus").glob("*.yaml"))


def test_a_bad_byte_is_placed_where_it_is(tmp_path):
    path = tmp_path / "cat.csv"
    data = "\ufeff".encode() + HEADER.encode() + b"C1,t1,a\xff1,,\n"
    path.write_bytes(data)
    done = cli(tmp_path / "kb", "import-csv", str(path))
    assert done.returncode == 1
    at = data.index(b"\xff")
    assert f"not utf-8 text (byte 0xff at offset {at}, line 2)" in done.stderr


def test_numbers_of_thousands_of_digits_in_a_catalogue_refuse_their_row(tmp_path):
    path = tmp_path / "cat.csv"
    path.write_text(HEADER + f"C1,t1,,{'9' * 5000},\nC2,t2,,,{'9' * 5000}\nC3,t3,,3,2007-06-21\n",
                    encoding="utf-8")
    done = cli(tmp_path / "kb", "import-csv", str(path))
    assert done.returncode == 1
    assert "internal error" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"Error: {path}:2: row 1: 出國人數: expected a whole number")
    assert lines[1].startswith(f"Error: {path}:3: row 2: 報告日期: cannot read")
    assert "Import (utf-8): 3 rows, 1 added, 0 unchanged, 2 refused." in done.stdout


def test_a_vocabulary_number_of_thousands_of_digits_is_one_line(tmp_path):
    kb = tmp_path / "kb"
    write_sidecar(kb / "corpus", "good", {"id": "G1", "title": "年會"})
    (kb / "vocab").mkdir()
    (kb / "vocab" / "orgs.yaml").write_text("organisations:\n  - code: X\n    size: " + "9" * 5000 + "\n")
    done = cli(kb, "meta", "check")
    assert done.returncode == 1
    assert done.stderr == f"Error: {kb}/vocab/orgs.yaml: not valid YAML: a number of more than 4300 digits\n"


def make_bundle(path: Path, members: list[tuple[str, bytes]], manifest: bytes | None = None) -> Path:
    """A tripkb bundle of these sidecars, its manifest listing them (or ``manifest`` as given)."""
    files, documents = {}, []
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            documents.append({"id": Path(name).stem, "sidecar": name, "file": None})
        if manifest is None:
            manifest = json.dumps({"format": "tripkb-bundle", "version": 1, "documents": documents,
                                   "files": files}).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    return path


def test_a_member_name_too_long_for_the_disk_refuses_that_member_only(tmp_path):
    long = "L" * 300
    bundle = make_bundle(tmp_path / "b.tar.gz", [("corpus/ok1.yaml", b"id: ok1\ntitle: fine\n"),
                                                 (f"corpus/{long}.yaml", f"id: {long}\n".encode())])
    done = cli(tmp_path / "kb", "ingest", str(bundle))
    assert done.returncode == 1
    assert done.stderr == (f"Error: {bundle}: corpus/{long}.yaml: its name is too long for this file system "
                           "(not imported)\n")
    assert "Ingest: 1 added, 0 unchanged, 1 failed." in done.stdout
    assert [p.name for p in (tmp_path / "kb" / "corpus").glob("*.yaml")] == ["ok1.yaml"]


def test_a_manifest_nested_200000_deep_is_one_line(tmp_path):
    bundle = make_bundle(tmp_path / "b.tar.gz", [("corpus/ok1.yaml", b"id: ok1\n")],
                         manifest=b"[" * 200_000 + b"]" * 200_000)
    done = cli(tmp_path / "kb", "ingest", str(bundle))
    assert done.returncode == 1
    assert done.stderr == (f"Error: {bundle}: manifest.json nests lists or mappings too deeply to be a manifest; "
                           "nothing was imported\n")


def test_a_damaged_archive_says_so_not_that_it_lacks_a_manifest(tmp_path):
    whole = make_bundle(tmp_path / "whole.tar.gz", [("corpus/a.yaml", b"id: a\n"), ("corpus/b.yaml", b"id: b\n")])
    tar = bytearray(gzip.decompress(whole.read_bytes()))
    header = tar.index(b"corpus/b.yaml") // 512 * 512  # the second member's (PAX) header block
    tar[header:header + 512] = b"\x07" * 512
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(gzip.compress(bytes(tar)))
    done = cli(tmp_path / "kb", "ingest", str(damaged))
    assert done.returncode == 1
    assert "manifest" not in done.stderr
    assert done.stderr.startswith(f"Error: {damaged}: the archive is damaged (no readable member header at byte ")
    assert not (tmp_path / "kb" / "corpus").exists() or not list((tmp_path / "kb" / "corpus").iterdir())
    ok = cli(tmp_path / "kb", "ingest", str(whole))  # the undamaged one still imports
    assert ok.returncode == 0, ok.stderr


# --- item 6: a full disk, a killed import, misleading messages --------------------------------------


def test_a_full_disk_during_a_searchs_refresh_is_an_error_not_stale_results(tmp_path):
    with small_disk(tmp_path, "2m") as mount:
        kb = mount / "kb"
        for i in range(3):
            write_sidecar(kb / "corpus", f"D{i}", {"id": f"D{i}", "title": f"年會 舊 {i}"})
        assert json.loads(cli(kb, "search", "年會", "--json").stdout)["total"] == 3
        for i in range(40):
            write_sidecar(kb / "corpus", f"N{i}", {"id": f"N{i}", "title": f"年會 新 {i}",
                                                   "abstract": "年會摘要內容" * 200})
        with pytest.raises(OSError), open(mount / "filler", "wb") as filler:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()
        done = cli(kb, "search", "年會", "--json")
        assert done.returncode == 1
        assert done.stdout == ""
        assert "No space left on device" in done.stderr and "Traceback" not in done.stderr


def test_import_csv_killed_leaves_no_worker_writing_after_its_lock_is_released(tmp_path):
    from filelock import FileLock, Timeout

    from tripkb.lock import LOCK_NAME

    path = tmp_path / "many.csv"
    path.write_text(HEADER + "".join(f"K{i:06d},年會報告 {i},摘要 {'內容' * 50},,\n" for i in range(40_000)),
                    encoding="utf-8")
    kb = tmp_path / "kb"
    proc = subprocess.Popen([sys.executable, "-m", "tripkb", "--kb", str(kb), "import-csv", str(path)],
                            env=tripkb_env(PYTHONPATH=str(Path(__file__).resolve().parent.parent)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list((kb / "corpus").glob("*.yaml")) if (kb / "corpus").is_dir() else []) < 200:
        assert time.monotonic() < deadline and proc.poll() is None, "the import wrote no sidecars"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lock = FileLock(str(kb / LOCK_NAME))
    while True:
        try:
            lock.acquire(timeout=0)
            break
        except Timeout:
            time.sleep(0.01)
    time.sleep(0.2)
    at_release = len(list((kb / "corpus").glob("*.yaml")))
    time.sleep(3)
    assert len(list((kb / "corpus").glob("*.yaml"))) == at_release
    lock.release()


def test_a_lock_wait_under_a_second_is_not_called_0_s(tmp_path):
    from tripkb.kb import KnowledgeBase
    from tripkb.lock import writer_lock

    kb = KnowledgeBase.locate(tmp_path / "kb", create=True)
    path = tmp_path / "cat.csv"
    path.write_text(HEADER + "C1,t1,a1,,\n", encoding="utf-8")
    with writer_lock(kb):
        done = subprocess.run([sys.executable, "-m", "tripkb", "--kb", str(kb.root), "import-csv", str(path)],
                              capture_output=True, text=True, timeout=120,
                              env=tripkb_env(PYTHONPATH=str(Path(__file__).resolve().parent.parent),
                                             TRIPKB_LOCK_TIMEOUT="0.4"))
    assert done.returncode == 1
    assert done.stderr == (f"Error: another tripkb process is writing to {kb.root}; waited 0.4 s "
                           "(try again when it has finished)\n")


@pytest.mark.parametrize("query", ["NOT NOT NOT 年會", "年會 NOT NOT 大會"], ids=["three", "two"])
def test_not_twice_is_explained(hostile_kb, query):
    done = cli(hostile_kb, "search", query)
    assert done.returncode == 2
    assert done.stderr == (f"Error: cannot understand the query {query!r}: NOT twice in a row "
                           "(write NOT once, before the word to leave out)\n")
