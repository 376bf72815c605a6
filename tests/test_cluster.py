"""Ingest on a real Dask cluster on loopback: the same KB as local ingest, worker deaths, bad documents."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="needs Dask's distributed (pip install 'tripkb[cluster]')")

from distributed import Client  # noqa: E402

from tripkb.ingest.documents import ingest  # noqa: E402
from tripkb.kb import KnowledgeBase  # noqa: E402
from tripkb.query.search import search  # noqa: E402

from tripkb.text.ocr import Engine, probe  # noqa: E402

from conftest import REPO, make_pdf, make_scan, tripkb_env  # noqa: E402
from hostile import slow_pdf  # noqa: E402
from reports import ALA_2008, IFLA_2007, MAINLAND_PAPER  # noqa: E402

QUERIES = ["國際圖書館協會聯盟", "美國圖書館學會", "年會", "德班", "图书馆", "annual conference", "編號R003X",
           "東京都立中央圖書館", "閱讀推廣"]
SCAN = [["出國報告（出國類別：考察）", "赴日本東京考察公共圖書館"],
        ["本館同仁參訪東京都立中央圖書館", "了解其數位典藏與閱讀推廣"]]
#: The scanned report is OCRed on the workers when Tesseract is here; else both KBs flag it alike.
HAS_OCR = isinstance(probe(), Engine)
N_DOCS = 10


#: The ``dask`` command of this Python (a venv's bin may not be on PATH).
DASK = str(Path(sys.executable).with_name("dask")) if Path(sys.executable).with_name("dask").exists() else "dask"


def _env() -> dict[str, str]:
    # Workers import tripkb from this checkout; they are daemonic, as 'dask worker' makes them by default.
    env = tripkb_env(PYTHONPATH=str(REPO))
    env.pop("DASK_DISTRIBUTED__WORKER__DAEMON", None)
    return env


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1, as docs/cluster.md starts them."""
    folder = tmp_path_factory.mktemp("dask")
    file = folder / "scheduler.json"
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(file)], env=_env(), cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not file.exists():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        for _ in range(2):
            procs.append(subprocess.Popen([DASK, "worker", "--scheduler-file", str(file), "--host", "127.0.0.1",
                                           "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
                                          env=_env(), cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(scheduler_file=str(file), timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            address = client.scheduler.address
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("reports")
    for i in range(N_DOCS):
        pages = [f"第{i}號報告 編號R{i:03d}X\n" + IFLA_2007[0]] + IFLA_2007[1:] + ALA_2008 * (1 + i % 3)
        make_pdf(src / f"r{i:03d}.pdf", pages, title=f"報告 {i}" if i % 2 else None)
    make_pdf(src / "sub" / "paper.pdf", MAINLAND_PAPER)
    make_scan(src / "scans" / "tokyo.pdf", SCAN)
    return src


def _snapshot(kb: KnowledgeBase) -> tuple[dict[str, bytes], dict, dict[str, bytes]]:
    files = {p.name: p.read_bytes() for p in sorted(kb.corpus.iterdir()) if p.is_file()}
    found = {q: search(kb, q, limit=50).to_json() for q in QUERIES}
    cached = {p.name: p.read_bytes() for p in sorted(kb.ocr_cache.glob("*.json"))}
    return files, found, cached


def test_cluster_ingest_equals_local_ingest(tmp_path, scheduler, folder):
    local = KnowledgeBase.locate(tmp_path / "local", create=True)
    report = ingest(local, [folder])
    assert len(report.added) == N_DOCS + 2
    assert [p.path for p in report.problems] == ([] if HAS_OCR else ["corpus/tokyo.pdf"])

    proc = subprocess.run([sys.executable, "-m", "tripkb", "--kb", str(tmp_path / "remote"), "ingest",
                           "--cluster", scheduler, str(folder)],
                          env=_env(), capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert proc.returncode == (0 if HAS_OCR else 1), proc.stderr
    assert "Traceback" not in proc.stderr
    remote = KnowledgeBase(tmp_path / "remote")

    files, found, cached = _snapshot(remote)
    assert (files, found, cached) == _snapshot(local)  # the OCR cache too: a reindex OCRs nothing again
    assert len(files) == 2 * (N_DOCS + 2)
    assert found["編號R003X"]["total"] == 1
    assert found["東京都立中央圖書館"]["total"] == (1 if HAS_OCR else 0)
    assert len(cached) == (1 if HAS_OCR else 0)

    again = ingest(remote, [folder], cluster=scheduler)  # idempotent through the cluster too
    assert again.added == [] and again.unchanged == N_DOCS + 2


def test_a_document_that_always_fails_is_reported_and_the_rest_done(tmp_path, scheduler, folder):
    bad = tmp_path / "in"
    bad.mkdir()
    for pdf in sorted(folder.glob("r00[0-3].pdf")):
        (bad / pdf.name).write_bytes(pdf.read_bytes())
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(4000))
    kb = KnowledgeBase.locate(tmp_path / "kb", create=True)
    report = ingest(kb, [bad], cluster=scheduler)
    assert [p.path for p in report.problems] == [str(bad / "broken.pdf")]
    assert "damaged or unreadable PDF" in report.problems[0].reason
    assert len(report.added) == 4
    assert not (kb.corpus / "broken.pdf").exists()


def test_the_time_bound_holds_on_daemonic_workers(tmp_path, scheduler, folder):
    """On workers started as 'dask worker' starts them (daemonic), a document that overruns the
    time bound is killed and reported; the rest of the batch is ingested."""
    with Client(scheduler, timeout=60) as client:
        daemonic = client.run(lambda: __import__("multiprocessing").current_process().daemon)  # by value
        assert set(daemonic.values()) == {True}
    batch = tmp_path / "in"
    batch.mkdir()
    for pdf in sorted(folder.glob("r00[0-2].pdf")):
        (batch / pdf.name).write_bytes(pdf.read_bytes())
    slow_pdf(batch / "slow.pdf")  # pypdf reads it for over 30 s, page by page
    proc = subprocess.run([sys.executable, "-m", "tripkb", "--kb", str(tmp_path / "kb"), "ingest", "--extractor",
                           "pypdf", "--cluster", scheduler, str(batch)],
                          env=_env() | {"TRIPKB_EXTRACT_TIMEOUT": "10"}, capture_output=True, text=True,
                          encoding="utf-8", timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{batch / 'slow.pdf'}: took longer than 10 s to read (stopped" in proc.stderr
    kb = KnowledgeBase(tmp_path / "kb")
    assert sorted(p.name for p in kb.corpus.glob("*.pdf")) == ["r000.pdf", "r001.pdf", "r002.pdf"]
    assert search(kb, "編號R002X").total == 1


def test_a_worker_killed_mid_batch_loses_no_document(tmp_path, scheduler, folder):
    """SIGKILL one worker process while it reads a document: the batch still completes whole."""
    from tripkb.text.extract import choose

    killed = threading.Event()
    with Client(scheduler, timeout=60) as watcher:
        victim, pid = sorted(watcher.run(os.getpid).items())[0]

        def kill_when_busy() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if watcher.processing().get(victim):
                    os.kill(pid, signal.SIGKILL)
                    killed.set()
                    return
                time.sleep(0.01)

        choose("pypdf")  # slower reading, so the worker is caught with work in hand
        killer = threading.Thread(target=kill_when_busy)
        killer.start()
        try:
            kb = KnowledgeBase.locate(tmp_path / "kb", create=True)
            report = ingest(kb, [folder], cluster=scheduler)
        finally:
            choose("auto")
            killer.join()
        watcher.wait_for_workers(2, timeout=60)  # the nanny brings the worker back for the next tests
    assert killed.is_set()
    assert len(report.added) == N_DOCS + 2
    assert [p.path for p in report.problems] == ([] if HAS_OCR else ["corpus/tokyo.pdf"])
    assert search(kb, "德班", limit=50).total == N_DOCS


def test_unreachable_scheduler_is_one_line_and_exit_1(tmp_path):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.run([sys.executable, "-m", "tripkb", "--kb", str(tmp_path / "kb"), "ingest",
                           "--cluster", f"tcp://127.0.0.1:{port}", str(REPO / "corpus" / "EX0900001.pdf")],
                          env=tripkb_env(TRIPKB_CLUSTER_TIMEOUT="2"), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"Error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: ")
    assert "Traceback" not in proc.stderr


def test_local_dask_workers(tmp_path, folder):
    kb = KnowledgeBase.locate(tmp_path / "kb", create=True)
    report = ingest(kb, [folder], cluster_workers=2)
    assert len(report.added) == N_DOCS + 2
    assert [p.path for p in report.problems] == ([] if HAS_OCR else ["corpus/tokyo.pdf"])
    assert json.dumps(search(kb, "德班", limit=50).to_json())  # searchable as usual
    assert search(kb, "德班", limit=50).total == N_DOCS
