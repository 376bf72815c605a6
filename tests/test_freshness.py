"""A lookup sees corpus/ as it is now, though it stats only folders and sidecars once the
folders' times are recorded (tripkb/index/freshness.py, docs/index-format.md "Freshness").
Every change here is a real edit on disk; folders are aged, as an untouched folder is, so
that the lookups take the cheap way, and the tests check that they did."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from conftest import run_cli
from tripkb.index.freshness import FOLDERS_COPY, RACY_NS
from tripkb.query.search import search


def _age(kb) -> None:
    """Every folder of corpus/ last changed an hour ago."""
    old = time.time_ns() - 3600 * 10**9
    for folder, _, _ in os.walk(kb.corpus):
        os.utime(folder, ns=(old, old))


def _ids(kb, query: str) -> list[str]:
    return [hit.id for hit in search(kb, query, limit=50).hits]


@pytest.fixture
def aged_kb(sample_kb):
    """The sample KB indexed, its folders aged and their times recorded by a lookup."""
    (sample_kb.corpus / "sub").mkdir()
    search(sample_kb, "圖書館")  # builds the index
    search(sample_kb, "圖書館")  # copies its stamps
    _age(sample_kb)
    search(sample_kb, "圖書館")  # compares file by file and records the folders
    assert _recorded(sample_kb) == {"": _mtime(sample_kb.corpus), "sub/": _mtime(sample_kb.corpus / "sub")}
    return sample_kb


def _recorded(kb) -> dict:
    return json.loads((kb.index_dir / FOLDERS_COPY).read_text(encoding="utf-8"))["folders"]


def _mtime(path) -> int:
    return os.stat(path).st_mtime_ns


def test_a_sidecar_edited_in_place_keeping_its_size_is_searched_as_it_now_reads(aged_kb):
    sidecar = aged_kb.corpus / "EX0960003.yaml"
    text = sidecar.read_text(encoding="utf-8")
    assert "中小學圖書館" in text and not _ids(aged_kb, "鑫龘麤")
    size, folder = sidecar.stat().st_size, _mtime(aged_kb.corpus)
    with open(sidecar, "r+b") as fh:  # overwritten where it stands: the folder does not change
        fh.write(text.replace("中小學", "鑫龘麤", 1).encode("utf-8"))
    assert sidecar.stat().st_size == size and _mtime(aged_kb.corpus) == folder
    assert _ids(aged_kb, "鑫龘麤") == ["EX0960003"]


def test_a_sidecar_added_in_a_subfolder_renamed_or_deleted_is_seen(aged_kb):
    source = (aged_kb.corpus / "EX0960003.yaml").read_text(encoding="utf-8")
    (aged_kb.corpus / "sub" / "NEW0001.yaml").write_text(
        source.replace("id: EX0960003", "id: NEW0001").replace("title: ", "title: 龘麤鑫驫 ", 1), encoding="utf-8")
    assert _ids(aged_kb, "龘麤鑫驫") == ["NEW0001"]

    _age(aged_kb)
    search(aged_kb, "圖書館")  # the folders' new times recorded
    os.rename(aged_kb.corpus / "sub" / "NEW0001.yaml", aged_kb.corpus / "sub" / "NEW0002.yaml")
    hits = search(aged_kb, "龘麤鑫驫").hits
    assert [h.id for h in hits] == ["NEW0001"] and hits[0].record["id"] == "NEW0001"

    _age(aged_kb)
    search(aged_kb, "圖書館")
    os.rename(aged_kb.corpus / "sub" / "NEW0002.yaml", aged_kb.corpus / "sub" / "NEW0002.yaml.bak")
    assert _ids(aged_kb, "龘麤鑫驫") == []

    (aged_kb.corpus / "sub" / "NEW0002.yaml.bak").rename(aged_kb.corpus / "sub" / "NEW0003.yaml")
    assert _ids(aged_kb, "龘麤鑫驫") == ["NEW0001"]
    _age(aged_kb)
    search(aged_kb, "圖書館")
    os.remove(aged_kb.corpus / "sub" / "NEW0003.yaml")
    assert _ids(aged_kb, "龘麤鑫驫") == []


def test_a_document_and_sidecar_moved_into_a_new_folder_are_found_there(aged_kb):
    moved = aged_kb.corpus / "sub" / "deeper"
    moved.mkdir()
    shutil.move(aged_kb.corpus / "EX0960003.pdf", moved / "EX0960003.pdf")
    sidecar = aged_kb.corpus / "EX0960003.yaml"
    sidecar.write_text(sidecar.read_text(encoding="utf-8").replace(
        "file: EX0960003.pdf", "file: sub/deeper/EX0960003.pdf"), encoding="utf-8")
    shutil.move(sidecar, moved / "EX0960003.yaml")
    hits = search(aged_kb, "中小學圖書館").hits
    assert [h.id for h in hits][:1] == ["EX0960003"] and hits[0].file == "corpus/sub/deeper/EX0960003.pdf"


def test_a_folder_changed_just_before_it_was_recorded_is_not_trusted(sample_kb):
    search(sample_kb, "圖書館")
    shutil.copy(sample_kb.corpus / "C09601160.yaml", sample_kb.corpus / "C09601160-copy.yaml")
    search(sample_kb, "圖書館")  # indexes the copy
    search(sample_kb, "圖書館")  # copies the stamps
    search(sample_kb, "圖書館")  # compares file by file: the folder changed a moment ago, too recent to trust
    assert _mtime(sample_kb.corpus) > time.time_ns() - RACY_NS
    assert _recorded(sample_kb) == {"": None}


def test_the_command_line_sees_an_in_place_edit_too(aged_kb):
    sidecar = aged_kb.corpus / "EX0920001.yaml"
    with open(sidecar, "r+", encoding="utf-8") as fh:
        text = fh.read()
        fh.seek(0)
        fh.write(text.replace("title: ", "title: 獨一無二", 1))
    run = run_cli("--kb", str(aged_kb.root), "search", "獨一無二", "--json")
    assert run.returncode == 0, run.stderr
    assert [hit["id"] for hit in json.loads(run.stdout)["hits"]] == ["EX0920001"]
