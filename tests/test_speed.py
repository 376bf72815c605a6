"""A lookup is a whole process: what it imports and how it exits (issue 20). No time is asserted."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import REPO, run_cli, tripkb_env
from tripkb.query.search import search


def _imports(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """``python -X importtime -m tripkb ARGS``: the run and the modules it imported."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "tripkb", *args], capture_output=True,
                         text=True, env=tripkb_env(PYTHONPATH=str(REPO)), timeout=300)
    modules = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)$", run.stderr, re.M))
    return run, modules


def test_json_lookup_loads_no_rich_and_none_of_what_whoosh_never_uses(sample_kb):
    for _ in range(2):  # the first builds the index, the second keeps a copy of its stamps
        run_cli("--kb", str(sample_kb.root), "search", "圖書館", "--json")
    run, modules = _imports("--kb", str(sample_kb.root), "search", "圖書館", "--json")
    assert run.returncode == 0, run.stderr
    assert "whoosh.reading" in modules and "tripkb.query.search" in modules
    assert not {m for m in modules if m == "rich" or m.startswith("rich.")}
    assert not modules & {"asyncio", "urllib.request", "http.client", "ssl", "cached_property", "filelock"}
    # Nor what only an index that changed, a sidecar to parse, a section: query or the shell needs.
    assert modules & {"yaml", "tripkb.index.sync", "tripkb.text.sections", "whoosh.lang.morph_en",
                      "whoosh.qparser"} == set()
    assert not {m for m in modules if m.split(".")[0] == "prompt_toolkit"}


def test_json_lookup_prints_what_the_library_finds(sample_kb):
    """The whole answer reaches a pipe, though the process skips the interpreter's teardown."""
    expected = search(sample_kb, "圖書館", limit=50).to_json()
    run = run_cli("--kb", str(sample_kb.root), "search", "圖書館", "--limit", "50", "--json")
    assert run.returncode == 0 and run.stderr == ""
    assert json.loads(run.stdout) == expected


def test_exit_codes_are_kept(sample_kb, tmp_path):
    missing = run_cli("--kb", str(tmp_path / "none"), "search", "x", "--json")
    assert missing.returncode == 2 and missing.stderr.startswith("Error: ") and missing.stdout == ""
    bad = run_cli("--kb", str(sample_kb.root), "search", "x", "--limit", "0")
    assert bad.returncode == 2 and "--limit" in bad.stderr


def test_a_sidecar_edited_by_hand_is_searched_as_it_now_reads(sample_kb):
    run_cli("--kb", str(sample_kb.root), "search", "圖書館", "--json")
    sidecar = sample_kb.corpus / "EX0960003.yaml"
    sidecar.write_text(sidecar.read_text(encoding="utf-8").replace(
        "title:", "title: 獨一無二的標題詞彙", 1), encoding="utf-8")
    run = run_cli("--kb", str(sample_kb.root), "search", "獨一無二的標題詞彙", "--json")
    assert run.returncode == 0, run.stderr
    assert [hit["id"] for hit in json.loads(run.stdout)["hits"]] == ["EX0960003"]


def test_the_shipped_vocabulary_is_read_from_its_json_copy_only_while_the_file_is_unchanged(tmp_path, monkeypatch):
    from tripkb.meta import vocab_files

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    label, parsed = vocab_files.shipped("categories.yaml")
    [copy] = (tmp_path / "cache" / "tripkb" / "vocab").glob("categories-*.json")
    saved = json.loads(copy.read_text(encoding="utf-8"))
    assert saved["data"] == parsed
    saved["data"] = {"categories": ["從副本讀出"]}
    copy.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
    assert vocab_files.shipped("categories.yaml")[1] == {"categories": ["從副本讀出"]}
    saved["stamp"][2] += 1  # as if the shipped file had changed since
    copy.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
    assert vocab_files.shipped("categories.yaml")[1] == parsed


def test_help_loads_neither_markdown_nor_pygments():
    """typer's formatter imports them for markdown help and pretty tracebacks, unused here."""
    run, modules = _imports("--help")
    assert run.returncode == 0 and "search" in run.stdout
    assert "typer.rich_utils" in modules
    assert not {m for m in modules if m.split(".")[0] in ("markdown_it", "pygments", "prompt_toolkit")}
    assert not modules & {"rich.markdown", "rich.traceback", "rich.syntax"}


def test_a_stand_in_class_is_the_real_one_when_used():
    from tripkb.stand_ins import deferred

    Markdown = deferred("rich.markdown", "Markdown")
    made = Markdown("# title")
    assert type(made).__module__ == "rich.markdown" and made.markup == "# title"
    assert Markdown.elements is sys.modules["rich.markdown"].Markdown.elements
