"""Hostile inputs, alone as in a batch: one line naming the file, the right exit code, nothing
left behind, and memory within the bound (each CLI run is capped, so a run outside the bound
fails fast instead of taking the machine's memory)."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from tripkb.errors import MetadataError
from tripkb.ingest.documents import ingest
from tripkb.meta.sidecar import read_sidecar

from conftest import REPO, tripkb_env
from hostile import alias_bomb, bundle_with_big_member, deep_page_tree, docx_bomb, flate_bomb, many_page_refs
from reports import ALA_2008

#: The address space of a whole CLI run in these tests; its workers are bound far lower.
CLI_CAP_MB = 2048
WORKER_MB = "700"


def capped_cli(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """``python -m tripkb ARGS`` in a subprocess whose memory is capped at CLI_CAP_MB."""
    def cap() -> None:
        limit = CLI_CAP_MB << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run([sys.executable, "-m", "tripkb", *args], capture_output=True, text=True,
                          env=tripkb_env(PYTHONPATH=str(REPO), TRIPKB_EXTRACT_MEMORY_MB=WORKER_MB, **env),
                          timeout=timeout, preexec_fn=cap)


def left_in(folder) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_one_docx_zip_bomb_alone_is_bounded(empty_kb, tmp_path):
    """3 MB that inflate to 256 MB of XML: read alone, it is still read in a bounded worker."""
    bomb = docx_bomb(tmp_path / "bomb.docx", 256)
    run = capped_cli("--kb", str(empty_kb.root), "ingest", str(bomb))
    assert run.returncode == 1, run.stderr
    assert run.stderr.splitlines() == [f"Error: {bomb}: needs more than {WORKER_MB} MB of memory to read "
                                       "(stopped; set TRIPKB_EXTRACT_MEMORY_MB to allow more)"]
    assert left_in(empty_kb.corpus) == []


def test_a_search_that_indexes_one_new_bomb_is_bounded(empty_kb, tmp_path):
    docx_bomb(empty_kb.corpus / "bomb.docx", 256)
    run = capped_cli("--kb", str(empty_kb.root), "search", "報告")
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines() == [f"Warning: corpus/bomb.docx: needs more than {WORKER_MB} MB of memory "
                                       "to read (stopped; set TRIPKB_EXTRACT_MEMORY_MB to allow more) "
                                       "(indexed from its metadata only)"]


PYPDF_LIMITS = {
    "deep.pdf": (deep_page_tree, "LimitReachedError: Maximum page tree depth reached"),
    "refs.pdf": (many_page_refs, "LimitReachedError: Reached maximum array element count"),
    "flate.pdf": (flate_bomb, "LimitReachedError: Limit reached while decompressing"),
}


@pytest.mark.parametrize("name", sorted(PYPDF_LIMITS))
def test_pypdf_limits_are_one_cannot_read_line(empty_kb, tmp_path, monkeypatch, name):
    make, reason = PYPDF_LIMITS[name]
    monkeypatch.setattr("tripkb.text.extract._engine", "pypdf")
    pdf = make(tmp_path / name)
    report = ingest(empty_kb, [pdf])
    [problem] = report.problems
    assert problem.path == str(pdf) and problem.reason.startswith(f"damaged or unreadable PDF ({reason}")
    assert report.added == [] and left_in(empty_kb.corpus) == []


def test_cli_deep_page_tree_with_pypdf(empty_kb, tmp_path):
    pdf = deep_page_tree(tmp_path / "deep.pdf")
    run = capped_cli("--kb", str(empty_kb.root), "ingest", "--extractor", "pypdf", str(pdf))
    assert run.returncode == 1
    assert run.stderr.splitlines() == [f"Error: {pdf}: damaged or unreadable PDF (LimitReachedError: Maximum "
                                       "page tree depth reached: 101 > 100.)"]
    assert left_in(empty_kb.corpus) == []


ALIAS_REFUSED = "holds a YAML anchor or alias (&name, *name), which a sidecar may not use: write each value out"


def test_alias_bomb_sidecar_is_one_line(empty_kb, tmp_path, pdf_maker):
    pdf = pdf_maker(tmp_path / "in" / "bomb.pdf", ALA_2008)
    pdf.with_suffix(".yaml").write_text(alias_bomb(), encoding="utf-8")
    run = capped_cli("--kb", str(empty_kb.root), "ingest", str(pdf), timeout=60)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [f"Error: {pdf.with_suffix('.yaml')}:3: {ALIAS_REFUSED}"]
    assert left_in(empty_kb.corpus) == []


def test_alias_bomb_in_the_corpus_leaves_search_stats_export_working(empty_kb):
    (empty_kb.corpus / "bomb.yaml").write_text(alias_bomb(), encoding="utf-8")
    (empty_kb.corpus / "ok.yaml").write_text("id: OK1\ntitle: 正常的報告\n", encoding="utf-8")
    line = f"corpus/bomb.yaml:3: {ALIAS_REFUSED}"
    for command, shown, said, code in ((["search", "報告"], "[OK1]", "Warning", 0), (["stats"], "1", "Warning", 0),
                                       (["export", "-f", "jsonl"], "OK1", "Error", 1)):  # export: all or say so
        run = capped_cli("--kb", str(empty_kb.root), *command, timeout=60)
        assert run.returncode == code, (command, run.stderr)
        assert run.stderr.splitlines()[0] == f"{said}: {line}" and shown in run.stdout


def test_a_sidecar_over_the_limit_is_refused_unread(tmp_path, monkeypatch):
    big = tmp_path / "big.yaml"
    big.write_text("id: BIG\nabstract: " + "摘要" * 200_000 + "\n", encoding="utf-8")  # 1.2 MB
    with pytest.raises(MetadataError) as err:
        read_sidecar(big)
    assert str(err.value) == (f"{big}: larger than the limit of 1024 KB for a sidecar (refused unread; "
                              "set TRIPKB_MAX_SIDECAR_KB to allow more)")
    monkeypatch.setattr("tripkb.meta.sidecar.MAX_SIDECAR_KB", 2048)
    assert read_sidecar(big)[0]["id"] == "BIG"


def test_cli_sidecar_limit_is_set_by_its_variable(empty_kb, tmp_path, pdf_maker):
    pdf = pdf_maker(tmp_path / "in" / "long.pdf", ALA_2008)
    pdf.with_suffix(".yaml").write_text("id: LONG\nabstract: " + "長" * 40_000 + "\n", encoding="utf-8")  # 120 KB
    run = capped_cli("--kb", str(empty_kb.root), "ingest", str(pdf), TRIPKB_MAX_SIDECAR_KB="64")
    assert run.returncode == 1
    assert run.stderr.splitlines() == [f"Error: {pdf.with_suffix('.yaml')}: larger than the limit of 64 KB for a "
                                       "sidecar (refused unread; set TRIPKB_MAX_SIDECAR_KB to allow more)"]
    assert left_in(empty_kb.corpus) == []


def test_bundle_member_over_the_limit_is_never_written(empty_kb, tmp_path, monkeypatch):
    """64 MB of zeros from a 64 KB gzip, with the limit at 16 MB: refused before a byte is written."""
    monkeypatch.setattr("tripkb.export.bundle.MAX_FILE_MB", 16)
    bundle = bundle_with_big_member(tmp_path / "big.tar.gz", 64)
    report = ingest(empty_kb, [bundle])
    assert [str(p) for p in report.problems] == [
        f"{bundle}: corpus/big.pdf: is 64 MB, more than the limit of 16 MB for a file in a bundle "
        "(not imported; set TRIPKB_MAX_BUNDLE_FILE_MB to allow more)"]
    assert report.added == [] and left_in(empty_kb.corpus) == []


def test_bundle_member_that_is_not_what_it_says_stays_out(empty_kb, tmp_path):
    bundle = bundle_with_big_member(tmp_path / "zeros.tar.gz", 8)
    report = ingest(empty_kb, [bundle])
    assert [str(p) for p in report.problems] == [
        f"{bundle}: corpus/big.pdf: not a PDF (no %PDF- header) (not imported)"]
    assert report.added == [] and left_in(empty_kb.corpus) == []


def test_import_csv_refuses_a_large_file_without_id_column_in_bounded_memory(empty_kb, tmp_path):
    """120 MB of short cells: the old import held the bytes, the text and every row (3 GB)."""
    path = tmp_path / "no-id.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("題名,機關,類別,地區,日期,頁數,人數,語言,來源,備註\n")
        block = "ab,cd,ef,gh,ij,kl,mn,op,qr,st\n" * 100_000
        for _ in range(40):
            out.write(block)
    run = capped_cli("--kb", str(empty_kb.root), "import-csv", str(path), timeout=60)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [f"Error: {path}: no 系統識別號 (id) column; name one with --map COLUMN=id"]
    assert left_in(empty_kb.corpus) == []


def test_import_csv_lists_the_first_refused_rows_and_counts_the_rest(empty_kb, tmp_path):
    path = tmp_path / "bad.csv"
    rows = [f"C{n:08d},題名{n},國家圖書館,旅遊,美國\n" for n in range(1, 3001)]
    path.write_text("系統識別號,報告名稱,主辦機關,出國類別,前往地區\n" + "".join(rows), encoding="utf-8")
    run = capped_cli("--kb", str(empty_kb.root), "import-csv", str(path))
    assert run.returncode == 1
    errors = run.stderr.splitlines()
    assert len(errors) == 101 and errors[0].startswith(f"Error: {path}:2: row 1: 出國類別: unknown category '旅遊'")
    assert errors[99].startswith(f"Error: {path}:101: row 100: 出國類別")
    assert errors[100] == f"Error: {path}: 2900 more rows refused (only the first 100 are listed)"
    assert run.stdout.splitlines()[0] == "Import (utf-8): 3000 rows, 0 added, 0 unchanged, 3000 refused."
