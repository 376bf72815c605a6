"""SIGKILL at any moment, a second writer, a full disk: the KB opens, searches and verifies."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tripkb.index.integrity import verify
from tripkb.kb import KnowledgeBase

from conftest import small_disk, tripkb_env
from reports import ALA_2008, IFLA_2007

N_DOCS = 24


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    from conftest import make_pdf

    src = tmp_path_factory.mktemp("many")
    for i in range(N_DOCS):
        pages = [f"第{i}號報告 編號R{i:03d}X\n" + IFLA_2007[0]] + IFLA_2007[1:] + ALA_2008 * 3
        make_pdf(src / f"r{i:03d}.pdf", pages)
    return src


def cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "tripkb", *args], env=tripkb_env(**kw),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")


def run(*args, **kw):
    proc = cli(*args, **kw)
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def wait_until_locked(kb: Path, deadline: float = 60) -> None:
    """Until another process holds the KB's writer lock."""
    from filelock import FileLock, Timeout

    from tripkb.lock import LOCK_NAME

    end = time.monotonic() + deadline
    while time.monotonic() < end:
        probe = FileLock(str(kb / LOCK_NAME))
        try:
            probe.acquire(timeout=0)
            probe.release()
            time.sleep(0.05)
        except Timeout:
            return
    raise AssertionError("the first ingest never took the lock")


def documents(kb: Path) -> list[str]:
    return sorted(p.name for p in (kb / "corpus").glob("*.pdf"))


@pytest.mark.parametrize("delay", [0.3, 1.0, 1.6, 2.4, 3.5, 5.0])
def test_sigkill_during_ingest_then_rerun(tmp_path, many, delay):
    kb = tmp_path / "kb"
    proc = cli("--kb", str(kb), "ingest", str(many))
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    if (kb / "corpus").exists():  # killed before even that: nothing to check yet
        code, out, err = run("--kb", str(kb), "search", "德班", "--json", "--limit", "100")
        assert code == 0, err
        assert "Traceback" not in err
        assert json.loads(out)["total"] == len(documents(kb))  # what made it into corpus/ is found

    code, out, err = run("--kb", str(kb), "ingest", str(many))
    assert code == 0, err
    assert documents(kb) == [f"r{i:03d}.pdf" for i in range(N_DOCS)]  # none missing, none twice
    assert not (kb / "corpus" / ".staging").exists()
    assert verify(KnowledgeBase(kb)).problems == []
    code, out, _ = run("--kb", str(kb), "search", "德班", "--json", "--limit", "100")
    assert json.loads(out)["total"] == N_DOCS
    code, out, _ = run("--kb", str(kb), "search", "R007X", "--json")
    assert [h["file"] for h in json.loads(out)["hits"]] == ["corpus/r007.pdf"]


def test_second_writer_waits_then_fails(tmp_path, many):
    from tripkb.lock import writer_lock

    kb = tmp_path / "kb"
    code, _, err = run("--kb", str(kb), "ingest", str(many / "r000.pdf"))
    assert code == 0, err
    with writer_lock(KnowledgeBase(kb)):  # another writer at work
        started = time.monotonic()
        code, out, err = run("--kb", str(kb), "ingest", str(many), TRIPKB_LOCK_TIMEOUT="1")
        assert code == 1
        assert err == f"Error: another tripkb process is writing to {kb}; waited 1 s " \
                      "(try again when it has finished)\n"
        assert time.monotonic() - started < 60
        code, out, err = run("--kb", str(kb), "search", "德班", "--json")  # readers are not blocked
        assert code == 0 and json.loads(out)["total"] == 1, err
    assert documents(kb) == ["r000.pdf"]
    assert verify(KnowledgeBase(kb)).problems == []


def test_searches_work_during_an_ingest(tmp_path, many):
    kb = tmp_path / "kb"
    code, _, err = run("--kb", str(kb), "ingest", str(many / "r000.pdf"))
    assert code == 0, err
    first = cli("--kb", str(kb), "ingest", str(many))
    wait_until_locked(kb)
    seen = []
    while first.poll() is None:
        code, out, err = run("--kb", str(kb), "search", "德班", "--json", "--limit", "100")
        assert code == 0, err
        seen.append(json.loads(out)["total"])
    assert first.returncode == 0
    assert seen and all(1 <= n <= N_DOCS for n in seen)
    assert verify(KnowledgeBase(kb)).problems == []


def test_full_disk_keeps_the_corpus_intact(tmp_path, many):
    with small_disk(tmp_path, "900k") as mount:
        kb = mount / "kb"
        code, out, err = run("--kb", str(kb), "ingest", str(many))
        assert code == 1
        assert "Traceback" not in err
        assert "No space left on device" in err
        base = KnowledgeBase(kb)
        for problem in verify(base).problems:  # what is in corpus/ is whole; only the index may lag
            assert "SHA-256" not in problem.reason and "missing" not in problem.reason
