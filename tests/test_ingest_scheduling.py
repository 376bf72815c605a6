"""How ingest spreads documents over its workers: results taken as they finish, names given in
input order, and the text judged and analysed where it is read, blank or garbage pages included."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from tripkb.index.schema import body_fields
from tripkb.ingest.documents import _extract_map, ingest
from tripkb.query.search import search
from tripkb.text.ocr import Ocr
from tripkb.workers import bounded_map

from reports import ALA_2008, IFLA_2007


def held_until(item: str) -> str:
    """A task that returns ``item`` at once, unless it names a file: then once that file exists
    (the test creates it), or after a minute."""
    deadline = time.monotonic() + 60
    while "/" in item and not Path(item).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return item


def test_results_come_as_they_finish_one_long_task_holds_one_worker(tmp_path):
    flag = str(tmp_path / "go")
    items = [flag, "a", "b", "c", "d", "e"]  # the first task lasts until the others are all back
    seen = []
    for item, result in bounded_map(held_until, items, workers=2, ordered=False, nice=0):
        seen.append((item, result))
        if len(seen) == len(items) - 1:
            Path(flag).touch()
    assert seen[:-1] == [(x, x) for x in "abcde"]  # in submission order among themselves
    assert seen[-1] == (flag, flag)


def test_names_follow_the_input_order_not_the_finishing_order(empty_kb, tmp_path, pdf_maker):
    """Two files named alike: the first given keeps the plain name, though the second, shorter,
    is read first; the summary lists them in the order given."""
    long = pdf_maker(tmp_path / "a" / "report.pdf", IFLA_2007 * 40)
    short = pdf_maker(tmp_path / "b" / "report.pdf", ALA_2008)
    report = ingest(empty_kb, [long, short])
    assert report.problems == []
    plain = yaml.safe_load((empty_kb.corpus / "report.yaml").read_text(encoding="utf-8"))
    assert plain["pages"] == 3 * 40
    assert report.added[0] == "corpus/report.pdf" and report.added[1].startswith("corpus/report-")


def test_a_document_with_a_blank_page_is_judged_and_analysed_by_its_worker(empty_kb, tmp_path, pdf_maker):
    """With no OCR to come, the worker hands the writer final text with its index fields, the
    blank page noted; ingest then indexes it like any other document."""
    blank = pdf_maker(tmp_path / "in" / "blank.pdf", [IFLA_2007[0], "", IFLA_2007[1]])
    plain = pdf_maker(tmp_path / "in" / "plain.pdf", ALA_2008)
    with Ocr("off") as ocr, _extract_map(empty_kb, ocr, 2, None, None) as extract_map:
        got = dict(extract_map([blank, plain]))
    for path in (blank, plain):
        assert got[path].final
        assert got[path].body == body_fields(got[path].pages)  # analysed there, as the writer would
    assert got[blank].warnings == ["page 2: no text layer — scanned? needs OCR; OCR skipped (--no-ocr)"]
    report = ingest(empty_kb, [tmp_path / "in"], ocr="off")
    assert report.problems == [] and len(report.added) == 2
    assert any("page 2: no text layer" in w for w in report.warnings)
    assert search(empty_kb, "德班").total == 1
