"""Nothing tripkb deletes, moves, reads or writes is reached through a link or lies outside the KB.

Each test plants a real symbolic link (or FIFO, device, stray folder) in a real KB, runs the
real command, and checks that what the link points to is untouched and the user is told.
"""

from __future__ import annotations

import io
import json
import hashlib
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tripkb.errors import UsageError
from tripkb.export.bundle import MANIFEST
from tripkb.index.integrity import verify
from tripkb.index.sync import sync
from tripkb.ingest.documents import ingest
from tripkb.kb import KnowledgeBase

from conftest import REPO, make_pdf, run_cli, tripkb_env
from reports import IFLA_2007
from smallkb import built_kb, kb  # noqa: F401  (fixtures)

SECRET = "TOP-SECRET-出國"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (links not followed) with its bytes: to see that nothing changed."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def errors(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder of the user's, outside any KB, that a hostile KB points at."""
    folder = tmp_path / "precious"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes\n", encoding="utf-8")
    (folder / "thesis.yaml").write_text(f"id: thesis\ntitle: {SECRET}\n", encoding="utf-8")
    (folder / "draft.pdf").write_bytes(b"%PDF-1.4 my draft")
    return folder


# --- 2. corpus/.staging and the KB's own folders ------------------------------------------------


def test_a_linked_staging_folder_is_never_emptied_nor_written_through(kb, outside, tmp_path):
    before = snapshot(outside)
    (kb.corpus / ".staging").symlink_to(outside, target_is_directory=True)
    make_pdf(tmp_path / "new.pdf", IFLA_2007[:1] + ["另一份報告"])
    result = run_cli("--kb", str(kb.root), "ingest", str(tmp_path / "new.pdf"))
    assert result.returncode == 2, result.stderr
    assert errors(result) == [f"Error: corpus/.staging in {kb.root} is a symbolic link: tripkb follows no links "
                              "inside a knowledge base (put the real folder or file there instead)"]
    assert snapshot(outside) == before and (kb.corpus / ".staging").is_symlink()


@pytest.mark.parametrize("own", ["corpus", "index", "cache", "cache/ocr", "vocab", "vocab/orgs.yaml",
                                 ".tripkb.lock"])
def test_a_kb_whose_own_files_are_links_is_refused(kb, outside, own):
    """A KB cloned from git can carry any of these as a link; every command refuses it, for
    reading (search) as for writing (reindex), and what the link points at is left as it was."""
    (kb.root / "cache" / "ocr").mkdir(parents=True, exist_ok=True)
    (kb.root / "vocab").mkdir(exist_ok=True)
    place = kb.root / own
    if place.is_dir():
        (outside / "moved").mkdir()
        place.rename(outside / "moved" / place.name)
        target = outside / "moved" / place.name
    else:
        target = outside / "notes.txt"
        place.unlink(missing_ok=True)
    place.symlink_to(target)
    before = snapshot(outside)
    for command in (["search", "年會"], ["reindex"], ["verify"]):
        result = run_cli("--kb", str(kb.root), *command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert errors(result) == [f"Error: {own} in {kb.root} is a symbolic link: tripkb follows no links "
                                  "inside a knowledge base (put the real folder or file there instead)"]
        assert snapshot(outside) == before, command


def test_the_lock_file_is_never_truncated_through_a_link(kb, outside):
    """The lock is opened for writing (O_TRUNC): a link there would empty the file it points at."""
    (kb.root / ".tripkb.lock").unlink(missing_ok=True)
    (kb.root / ".tripkb.lock").symlink_to(outside / "notes.txt")
    with pytest.raises(UsageError):
        sync(kb)
    assert (outside / "notes.txt").read_text(encoding="utf-8") == "my notes\n"


def test_a_link_inside_the_index_is_never_read_the_index_is_rebuilt(kb, outside):
    """Whoosh reads and cleans the files of index/: one that is a link makes the index one to rebuild."""
    (outside / "tripkb.json").write_text('{"schema_version": 6}\n', encoding="utf-8")
    (kb.index_dir / "tripkb.json").unlink()
    (kb.index_dir / "tripkb.json").symlink_to(outside / "tripkb.json")
    before = snapshot(outside)
    result = run_cli("--kb", str(kb.root), "search", "年會")
    assert result.returncode == 0, result.stderr
    assert not [p for p in kb.index_dir.iterdir() if p.is_symlink()]
    assert snapshot(outside) == before


def test_reindex_removes_only_the_folders_tripkb_made(kb):
    """A folder named like tripkb's temporary ones (index.new-*, index.old-*, index.bulk-*) is the
    user's unless tripkb marked it; one tripkb left marked (a crash) is cleared."""
    from tripkb.fsutil import temporary_folder

    mine = {}
    for prefix in ("index.new-", "index.old-", "index.bulk-"):
        folder = kb.root / f"{prefix}mine"
        folder.mkdir()
        (folder / "keep.txt").write_text("the user's", encoding="utf-8")
        mine[folder] = snapshot(folder)
    crashed = [temporary_folder(kb.root, prefix) for prefix in ("index.new-", "index.old-", "index.bulk-")]
    (crashed[0] / "half-written.seg").write_bytes(b"x")
    result = run_cli("--kb", str(kb.root), "reindex")
    assert result.returncode == 0, result.stderr
    csv = kb.root.parent / "rows.csv"
    csv.write_text("系統識別號,報告名稱\nX1,一份報告\n", encoding="utf-8")
    result = run_cli("--kb", str(kb.root), "import-csv", str(csv))
    assert result.returncode == 0, result.stderr
    assert {folder: snapshot(folder) for folder in mine} == mine
    assert not any(folder.exists() for folder in crashed)
    assert sorted(p.name for p in kb.root.iterdir() if p.name.startswith("index")) == \
        ["index", "index.bulk-mine", "index.new-mine", "index.old-mine"]


def test_the_rebuilt_index_folder_honours_the_umask(kb):
    old = os.umask(0o022)
    try:
        sync(kb, rebuild=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE(kb.index_dir.stat().st_mode) == 0o755
    assert not list(kb.index_dir.glob(".tripkb*"))


# --- 2. links in corpus/ -----------------------------------------------------------------------


def test_a_linked_sidecar_is_not_read_and_verify_reports_it(kb, outside):
    (kb.corpus / "x.yaml").symlink_to(outside / "thesis.yaml")
    shown = run_cli("--kb", str(kb.root), "show", "thesis")
    assert SECRET not in shown.stdout + shown.stderr and shown.returncode != 0
    listed = run_cli("--kb", str(kb.root), "search", "--json", "TOP")
    assert SECRET not in listed.stdout + listed.stderr
    checked = run_cli("--kb", str(kb.root), "verify")
    assert checked.returncode == 1
    assert "Error: corpus/x.yaml: is a symbolic link (tripkb follows no links in corpus/; refused)" in checked.stderr
    assert SECRET not in checked.stdout + checked.stderr


def test_links_inside_corpus_are_refused_too(kb, outside):
    """A link is refused wherever it points: to another record's file, to a folder, inside or out."""
    (kb.corpus / "twin.yaml").write_text("id: twin\ntitle: 雙胞胎\n", encoding="utf-8")
    (kb.corpus / "twin.pdf").symlink_to(kb.corpus / "ifla.pdf")
    (kb.corpus / "alias.yaml").symlink_to(kb.corpus / "paper.yaml")
    (kb.corpus / "shelf").symlink_to(outside, target_is_directory=True)
    (kb.corpus / "real").mkdir()
    (kb.corpus / "via.yaml").write_text("id: via\nfile: inner/ifla.pdf\n", encoding="utf-8")
    (kb.corpus / "inner").symlink_to(kb.corpus, target_is_directory=True)
    report = sync(kb)
    assert sorted(str(p) for p in report.problems) == [
        "corpus/alias.yaml: is a symbolic link (tripkb follows no links in corpus/; refused)",
        "corpus/twin.yaml: file: 'twin.pdf' is a symbolic link (tripkb follows no links in corpus/; refused)",
        "corpus/via.yaml: file: 'inner/ifla.pdf' is reached through the symbolic link corpus/inner "
        "(tripkb follows no links in corpus/; refused)",
    ]
    problems = sorted(str(p) for p in verify(kb).problems)
    for link in ("alias.yaml", "inner", "shelf", "twin.pdf"):
        assert f"corpus/{link}: is a symbolic link (tripkb follows no links in corpus/; refused)" in problems


def test_a_fifo_in_corpus_never_blocks_a_command(kb):
    """Opening a FIFO waits for a writer forever: a FIFO sidecar or document is refused unopened."""
    os.mkfifo(kb.corpus / "pipe.yaml")
    os.mkfifo(kb.corpus / "loose.pdf")
    env = tripkb_env(PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-m", "tripkb", "--kb", str(kb.root), "verify"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1
    assert "Error: corpus/pipe.yaml: not a regular file (refused)" in result.stderr
    assert "Error: corpus/loose.pdf: 'loose.pdf' is not a regular file (refused)" in result.stderr


def test_verify_reports_two_records_claiming_one_file(kb):
    (kb.corpus / "second.yaml").write_text("id: second\ntitle: 第二筆\nfile: ifla.pdf\n", encoding="utf-8")
    sync(kb)
    problems = [str(p) for p in verify(kb).problems]
    assert problems == ["corpus/second.yaml: file: corpus/ifla.pdf is also the file of corpus/ifla.yaml "
                        "(two records claim one file)"]


# --- 6. export --output and bundles -------------------------------------------------------------


def _device(tmp_path: Path) -> Path:
    path = tmp_path / "null-device"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    return path


@pytest.mark.parametrize("kind", ["fifo", "link", "device", "sidecar", "new-in-corpus", "in-index"])
def test_export_output_refuses_what_is_not_a_plain_file_or_is_the_kbs(kb, outside, tmp_path, kind):
    if kind == "fifo":
        output = tmp_path / "fifo.csv"
        os.mkfifo(output)
        why = "is a FIFO, not a regular file"
    elif kind == "link":
        output = tmp_path / "link.csv"
        output.symlink_to(outside / "notes.txt")
        why = "is a symbolic link, not a regular file"
    elif kind == "device":
        output = _device(tmp_path)
        why = "is a device, not a regular file"
    else:
        output = {"sidecar": kb.corpus / "ifla.yaml", "new-in-corpus": kb.corpus / "new.csv",
                  "in-index": kb.index_dir / "out.csv"}[kind]
        why = f"is inside the knowledge base's {'index' if kind == 'in-index' else 'corpus'}/ folder"
    before, kb_before = snapshot(outside), snapshot(kb.corpus)
    mode = os.lstat(output).st_mode if os.path.lexists(output) else None
    result = run_cli("--kb", str(kb.root), "export", "--format", "csv", "--output", str(output))
    assert result.returncode == 2
    assert errors(result) == [f"Error: cannot write {output}: it {why} (refused)"]
    assert snapshot(outside) == before and snapshot(kb.corpus) == kb_before
    assert (os.lstat(output).st_mode if os.path.lexists(output) else None) == mode


def test_export_bundle_and_opensearch_refuse_the_same(kb, outside, tmp_path):
    link = tmp_path / "b.tar.gz"
    link.symlink_to(outside / "notes.txt")
    result = run_cli("--kb", str(kb.root), "export", "--bundle", str(link))
    assert result.returncode == 2
    assert errors(result) == [f"Error: cannot write {link}: it is a symbolic link, not a regular file (refused)"]
    result = run_cli("--kb", str(kb.root), "export", "--format", "opensearch", "--output", str(kb.corpus))
    assert result.returncode == 2
    assert errors(result) == [f"Error: cannot write {kb.corpus}: it is inside the knowledge base's corpus/ "
                              "folder (refused)"]
    (tmp_path / "os").mkdir()
    (tmp_path / "os" / "bulk.ndjson").symlink_to(outside / "notes.txt")
    result = run_cli("--kb", str(kb.root), "export", "--format", "opensearch", "--output", str(tmp_path / "os"))
    assert result.returncode == 2
    assert errors(result) == [f"Error: cannot write {tmp_path / 'os' / 'bulk.ndjson'}: it is a symbolic link, "
                              "not a regular file (refused)"]
    assert (outside / "notes.txt").read_text(encoding="utf-8") == "my notes\n"


def _bundle(path: Path, documents: list[dict], files: dict[str, bytes]) -> Path:
    """A bundle made by hand: what a hostile (or careless) other KB could hand over."""
    sums = {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)} for name, data in files.items()}
    manifest = json.dumps({"format": "tripkb-bundle", "version": 1, "documents": documents, "files": sums}).encode()
    with tarfile.open(path, "w:gz") as tar:
        for name, data in [*files.items(), (MANIFEST, manifest)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_a_bundle_cannot_add_a_second_record_for_a_kb_file(kb, tmp_path):
    bundle = _bundle(tmp_path / "claim.tar.gz", [{"id": "claim", "sidecar": "corpus/claim.yaml", "file": None}],
                     {"corpus/claim.yaml": b"id: claim\ntitle: claim\nfile: ifla.pdf\n"})
    report = ingest(kb, [bundle])
    assert [str(p) for p in report.problems] == [
        f"{bundle}: corpus/claim.yaml: conflict: its file: names corpus/ifla.pdf, which is already in the "
        "knowledge base and not in this bundle entry; did not import this one"]
    assert not (kb.corpus / "claim.yaml").exists()
    assert [str(p) for p in verify(kb).problems] == []


def test_a_bundle_never_writes_through_a_linked_folder(kb, outside, tmp_path):
    (kb.corpus / "sub").symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    bundle = _bundle(tmp_path / "sub.tar.gz", [{"id": "s1", "sidecar": "corpus/sub/s1.yaml", "file": None}],
                     {"corpus/sub/s1.yaml": b"id: s1\ntitle: s1\n"})
    report = ingest(kb, [bundle])
    assert [str(p) for p in report.problems][0] == (
        f"{bundle}: corpus/sub/s1.yaml: conflict: corpus/sub is a symbolic link "
        "(tripkb follows no links in corpus/); did not import this one")
    assert snapshot(outside) == before


def test_bundle_imported_files_honour_the_umask(kb, tmp_path):
    from tripkb.export.bundle import write_bundle
    from tripkb.query.selection import select

    bundle = tmp_path / "all.tar.gz"
    write_bundle(kb, select(kb).items, bundle)
    fresh = KnowledgeBase.locate(tmp_path / "fresh", create=True)
    old = os.umask(0o022)
    try:
        report = ingest(fresh, [bundle])
    finally:
        os.umask(old)
    assert report.problems == []
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in fresh.corpus.iterdir() if p.is_file()}
    assert modes and set(modes.values()) == {0o644}, modes
