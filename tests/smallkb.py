"""A small knowledge base with every kind of record, for the export, citation and bundle tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tripkb.index.sync import sync
from tripkb.ingest.documents import ingest
from tripkb.kb import KnowledgeBase

from conftest import make_pdf
from reports import ALA_2008, IFLA_2007, MAINLAND_PAPER

ALA_SIDECAR = """\
id: C09601649
type: report
title: 參加 2007 年美國圖書館學會年會報告
authors: [王文陸, 彭慰]
institution: 國家圖書館
category: 開會
events: [ALA]
countries: [美國]
trip: {start: 2007-06-21, end: 2007-07-03}
report_date: 2007-09-30
keywords: [公共圖書館, 海報展]
abstract: 本次出國參加美國圖書館學會年會，參觀海報展。
language: zh-Hant
source: OPEN 政府出版資料回應網公務出國報告
reviewer: 林
"""
IFLA_SIDECAR = """\
type: report
title: 參加2007年國際圖書館協會聯盟（IFLA）年會報告
authors: [王小明]
institution: 國家圖書館
category: 開會
events: [IFLA]
countries: [南非]
trip: {start: 民國96年8月17日, end: 民國96年8月25日}
keywords: [書目控制]
"""
PAPER_SIDECAR = """\
type: paper
title: "R&D <數位> 資源共享研究"
authors: [Yu-Ting Chen, 李四, Ming-Hsien Lai]
institution: 國立臺灣大學圖書資訊學系
report_date: 2010-05-01
"""
RECORD_ONLY = """\
id: C09601160
type: report
title: 2007 年美國 ALA 年會暨公共圖書館考察出國報告書
authors: [楊宣勤, 劉水抱]
year: 2007
source: OPEN 政府出版資料回應網公務出國報告
"""

IDS = ["C09601160", "C09601649", "ifla", "paper"]


def build(kb: KnowledgeBase, workdir: Path, pdf_maker) -> KnowledgeBase:
    """Two reports with PDFs, a paper, and a metadata-only record, ingested and indexed."""
    src = workdir / "sources"
    pdf_maker(src / "C09601649.pdf", ALA_2008)
    (src / "C09601649.yaml").write_text(ALA_SIDECAR, encoding="utf-8")
    pdf_maker(src / "ifla.pdf", IFLA_2007)
    (src / "ifla.yaml").write_text(IFLA_SIDECAR, encoding="utf-8")
    pdf_maker(src / "paper.pdf", MAINLAND_PAPER)
    (src / "paper.yaml").write_text(PAPER_SIDECAR, encoding="utf-8")
    (src / "C09601160.yaml").write_text(RECORD_ONLY, encoding="utf-8")
    report = ingest(kb, [src])
    assert report.problems == [] and len(report.added) == 4, report
    sync(kb)
    return kb


@pytest.fixture(scope="module")
def built_kb(tmp_path_factory) -> KnowledgeBase:
    """Built once per test module: making CJK PDFs and loading jieba cost seconds."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("TRIPKB_HOME", raising=False)
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
        root = tmp_path_factory.mktemp("smallkb")
        return build(KnowledgeBase.locate(root / "kb", create=True), root, make_pdf)


@pytest.fixture
def kb(built_kb, tmp_path) -> KnowledgeBase:
    """A private copy of the small KB (index included, timestamps kept, so nothing is re-indexed)."""
    root = tmp_path / "kb"
    shutil.copytree(built_kb.root, root)
    return KnowledgeBase(root)
