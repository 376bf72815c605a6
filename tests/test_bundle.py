"""Bundles: an exact round trip between two KBs, checksums verified, hostile archives refused."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tripkb.cli import app
from tripkb.errors import BundleError, UsageError
from tripkb.export.bundle import MANIFEST, import_bundle, write_bundle
from tripkb.index.sync import sync
from tripkb.ingest.documents import ingest
from tripkb.kb import KnowledgeBase
from tripkb.query.search import Filters, search
from tripkb.query.selection import select

from smallkb import built_kb, kb  # noqa: F401  (fixtures)

QUERIES = ["年會", "图书馆", "IFLA", '"海報展"', "公共圖書館考察", "數位"]


def run(kb, *args):
    return CliRunner().invoke(app, ["--kb", str(kb.root), *args])


def corpus_files(kb: KnowledgeBase) -> dict[str, bytes]:
    return {p.relative_to(kb.corpus).as_posix(): p.read_bytes() for p in sorted(kb.corpus.rglob("*")) if p.is_file()}


def bundle_of(kb: KnowledgeBase, target: Path, query=None, filters=None) -> Path:
    packed, problems = write_bundle(kb, select(kb, query, filters).items, target)
    assert problems == []
    return target


@pytest.fixture
def fresh(tmp_path) -> KnowledgeBase:
    return KnowledgeBase.locate(tmp_path / "other", create=True)


def test_round_trip_loses_nothing(kb, fresh, tmp_path):
    (kb.corpus / "2009").mkdir()  # a document in a subfolder, named by its sidecar's file:
    (kb.corpus / "2009" / "notes.pdf").write_bytes((kb.corpus / "ifla.pdf").read_bytes() + b"%\n")
    (kb.corpus / "2009" / "notes.yaml").write_text("id: N1\ntitle: 筆記\nfile: 2009/notes.pdf\n", encoding="utf-8")
    (kb.corpus / "loose.pdf").write_bytes((kb.corpus / "paper.pdf").read_bytes() + b"%\n")  # no sidecar
    assert sync(kb).problems == []
    bundle = bundle_of(kb, tmp_path / "all.tar.gz")
    report = ingest(fresh, [bundle])
    assert report.problems == [] and report.unchanged == 0
    assert sorted(report.added) == ["corpus/2009/notes.yaml", "corpus/C09601160.yaml", "corpus/C09601649.yaml",
                                    "corpus/ifla.yaml", "corpus/loose.pdf", "corpus/paper.yaml"]
    assert corpus_files(fresh) == corpus_files(kb)
    for query in QUERIES:  # equal scores may come in either order: the index order differs
        mine, theirs = search(kb, query, limit=50).to_json(), search(fresh, query, limit=50).to_json()
        assert sorted(mine.pop("hits"), key=str) == sorted(theirs.pop("hits"), key=str) and mine == theirs
    assert [i.record for i in select(fresh).items] == [i.record for i in select(kb).items]


def test_manifest_lists_every_file_with_its_sum(kb, tmp_path):
    bundle = bundle_of(kb, tmp_path / "b.tgz")
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile(MANIFEST).read())
        for name, info in manifest["files"].items():
            data = tar.extractfile(name).read()
            assert (hashlib.sha256(data).hexdigest(), len(data)) == (info["sha256"], info["size"])
            assert data == (kb.root / name).read_bytes()
    assert sorted(names) == sorted([MANIFEST, *manifest["files"]])
    assert {d["id"]: (d["sidecar"], d["file"]) for d in manifest["documents"]}["C09601160"] == \
        ("corpus/C09601160.yaml", None)
    assert all(m.uname == "" and m.uid == 0 and m.isreg() for m in tarfile.open(bundle).getmembers())


def test_selection_bundle_and_reimport_skips_what_is_there(kb, fresh, tmp_path):
    bundle = bundle_of(kb, tmp_path / "ifla.tar.gz", "年會", Filters(org="IFLA"))
    assert ingest(fresh, [bundle]).added == ["corpus/ifla.yaml"]
    again = ingest(fresh, [bundle])
    assert (again.added, again.unchanged, again.problems) == ([], 1, [])
    assert sorted(corpus_files(fresh)) == ["ifla.pdf", "ifla.yaml"]


def test_empty_selection_makes_an_empty_bundle(kb, fresh, tmp_path):
    bundle = bundle_of(kb, tmp_path / "none.tar.gz", "沒有這個詞")
    report = ingest(fresh, [bundle])
    assert (report.added, report.problems) == ([], [])


def test_conflicts_are_reported_and_never_overwrite(kb, fresh, tmp_path):
    bundle = bundle_of(kb, tmp_path / "all.tar.gz")
    ingest(fresh, [bundle])
    edited = fresh.corpus / "C09601649.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("年會報告", "年會心得"), encoding="utf-8")
    (fresh.corpus / "paper.yaml").unlink()
    (fresh.corpus / "paper.pdf").unlink()
    (fresh.corpus / "paper.yaml").write_text("id: P2\ntitle: 另一份文件\n", encoding="utf-8")
    before = corpus_files(fresh)
    report = ingest(fresh, [bundle])
    assert corpus_files(fresh) == before
    assert report.added == [] and report.unchanged == 2
    assert sorted(str(p) for p in report.problems) == [
        f"{bundle}: corpus/C09601649.yaml: conflict: id 'C09601649' is already in the knowledge base with "
        f"different content (corpus/C09601649.yaml); kept that one, did not import this one",
        f"{bundle}: corpus/paper.yaml: conflict: corpus/paper.yaml already exists for another document; "
        f"did not import this one",
    ]


def test_the_same_file_under_another_id_is_a_conflict(kb, fresh, tmp_path):
    bundle = bundle_of(kb, tmp_path / "ifla.tar.gz", "IFLA", Filters(org="IFLA"))
    ingest(fresh, [kb.corpus / "ifla.pdf"])  # plain ingest from A's corpus: same bytes, no sidecar values
    (fresh.corpus / "ifla.yaml").rename(fresh.corpus / "renamed.yaml")
    (fresh.corpus / "ifla.pdf").rename(fresh.corpus / "renamed.pdf")
    text = (fresh.corpus / "renamed.yaml").read_text(encoding="utf-8")
    (fresh.corpus / "renamed.yaml").write_text(text.replace("id: ifla", "id: X1").replace("file: ifla.pdf",
                                                                                         "file: renamed.pdf"),
                                               encoding="utf-8")
    sync(fresh)
    problems = [str(p) for p in ingest(fresh, [bundle]).problems]
    assert problems == [f"{bundle}: corpus/ifla.yaml: conflict: the same file is already in the knowledge base "
                        f"as id 'X1'; did not import this one"]


# --- damaged and hostile bundles ---------------------------------------------------------------------


def rewrite(bundle: Path, target: Path, change) -> Path:
    """A copy of ``bundle`` with each (TarInfo, bytes) passed through ``change`` (None drops it)."""
    with tarfile.open(bundle) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(target, "w:gz") as out:
        for member, data in members:
            changed = change(member, data)
            if changed is not None:
                info, payload = changed
                info.size = len(payload)
                out.addfile(info, io.BytesIO(payload))
    return target


def test_a_file_failing_its_checksum_is_not_imported_and_the_rest_is(kb, fresh, tmp_path):
    good = bundle_of(kb, tmp_path / "good.tar.gz")
    bad = rewrite(good, tmp_path / "bad.tar.gz",
                  lambda m, d: (m, d.replace(b"%PDF", b"%PDx")) if m.name == "corpus/ifla.pdf" else (m, d))
    report = ingest(fresh, [bad])
    assert [str(p) for p in report.problems] == [
        f"{bad}: corpus/ifla.pdf: checksum does not match the manifest (damaged bundle; not imported)"]
    assert sorted(report.added) == ["corpus/C09601160.yaml", "corpus/C09601649.yaml", "corpus/paper.yaml"]
    assert not (fresh.corpus / "ifla.pdf").exists() and not (fresh.corpus / "ifla.yaml").exists()
    assert not [p for p in fresh.corpus.iterdir() if p.name.startswith(".")]  # no temporary files left


def _hostile(tmp_path: Path, name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> Path:
    target = tmp_path / "hostile.tar.gz"
    with tarfile.open(target, "w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, linkname
        payload = b"id: evil\n" if kind == tarfile.REGTYPE else b""
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
        manifest = json.dumps({"format": "tripkb-bundle", "version": 1, "documents": [], "files": {}}).encode()
        mi = tarfile.TarInfo(MANIFEST)
        mi.size = len(manifest)
        tar.addfile(mi, io.BytesIO(manifest))
    return target


@pytest.mark.parametrize("name, kind, linkname, why", [
    ("/etc/evil.yaml", tarfile.REGTYPE, "", "has an absolute path (refused)"),
    ("corpus/../../evil.yaml", tarfile.REGTYPE, "", "has a path with '..', '.' or an empty part (refused)"),
    ("corpus/link.yaml", tarfile.SYMTYPE, "/etc/passwd", "is a link (refused)"),
    ("corpus/hard.yaml", tarfile.LNKTYPE, "corpus/x.yaml", "is a link (refused)"),
    ("corpus/dev.yaml", tarfile.CHRTYPE, "", "is a device or pipe (refused)"),
    ("corpus/fifo.yaml", tarfile.FIFOTYPE, "", "is a device or pipe (refused)"),
    ("corpus/sub", tarfile.DIRTYPE, "", "is not a regular file (refused)"),
    ("corpus/.hidden.yaml", tarfile.REGTYPE, "", "is not a document or sidecar under corpus/ (expected .pdf, .docx, .doc, .yaml)"),
    ("elsewhere/x.yaml", tarfile.REGTYPE, "", "is not a document or sidecar under corpus/ (expected .pdf, .docx, .doc, .yaml)"),
    ("corpus/run.sh", tarfile.REGTYPE, "", "is not a document or sidecar under corpus/ (expected .pdf, .docx, .doc, .yaml)"),
])
def test_unsafe_members_refuse_the_whole_bundle(fresh, tmp_path, name, kind, linkname, why):
    bundle = _hostile(tmp_path, name, kind, linkname)
    with pytest.raises(BundleError) as caught:
        import_bundle(fresh, bundle)
    assert caught.value.problem == f"member {name!r} {why}; nothing was imported"
    assert list(fresh.corpus.iterdir()) == [] and not (tmp_path / "evil.yaml").exists()


def test_unreadable_and_incomplete_bundles(kb, fresh, tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_text("這不是壓縮檔", encoding="utf-8")
    good = bundle_of(kb, tmp_path / "good.tar.gz")
    no_manifest = rewrite(good, tmp_path / "nomanifest.tar.gz", lambda m, d: None if m.name == MANIFEST else (m, d))
    missing = rewrite(good, tmp_path / "missing.tar.gz", lambda m, d: None if m.name == "corpus/ifla.pdf" else (m, d))
    unlisted = tmp_path / "unlisted.tar.gz"
    with tarfile.open(unlisted, "w:gz") as tar, tarfile.open(good) as src:
        for member in src.getmembers():
            tar.addfile(member, src.extractfile(member))
        tar.addfile(tarfile.TarInfo("corpus/extra.yaml"), io.BytesIO(b""))
    report = ingest(fresh, [junk, no_manifest, missing, unlisted])
    reasons = {Path(p.path).name: p.reason for p in report.problems}
    assert reasons["junk.tar.gz"].startswith("not a readable .tar.gz bundle (")
    assert reasons["nomanifest.tar.gz"] == "no manifest.json: not a tripkb bundle; nothing was imported"
    assert reasons["missing.tar.gz"] == ("manifest.json lists 'corpus/ifla.pdf', which the bundle does not hold; "
                                         "nothing was imported")
    assert reasons["unlisted.tar.gz"] == "member 'corpus/extra.yaml' is not in manifest.json; nothing was imported"
    assert report.added == [] and list(fresh.corpus.iterdir()) == []


def test_a_manifest_that_disagrees_with_its_sidecar(kb, fresh, tmp_path):
    good = bundle_of(kb, tmp_path / "good.tar.gz", "IFLA", Filters(org="IFLA"))

    def relabel(member, data):
        return (member, data.replace(b'"id": "ifla"', b'"id": "C09601649"')) if member.name == MANIFEST \
            else (member, data)

    bad = rewrite(good, tmp_path / "relabelled.tar.gz", relabel)
    assert [str(p) for p in ingest(fresh, [bad]).problems] == [
        f"{bad}: corpus/ifla.yaml: the manifest says id 'C09601649' but the sidecar says 'ifla' (not imported)"]
    assert list(fresh.corpus.iterdir()) == []


# --- the commands ------------------------------------------------------------------------------------


def test_cli_export_and_ingest_bundle(kb, fresh, tmp_path):
    bundle = tmp_path / "all.tar.gz"
    result = run(kb, "export", "--bundle", str(bundle), "--type", "report")
    assert (result.exit_code, result.stderr) == (0, f"Exported 3 documents (bundle) to {bundle}.\n")
    result = run(fresh, "ingest", str(bundle))
    assert result.exit_code == 0 and result.stdout.startswith("Ingest: 3 added, 0 unchanged.")
    edited = fresh.corpus / "ifla.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "participants: 3\n", encoding="utf-8")
    result = run(fresh, "ingest", str(bundle))
    assert result.exit_code == 1 and result.stdout.startswith("Ingest: 0 added, 2 unchanged, ")
    assert result.stderr.startswith(f"Error: {bundle}: corpus/ifla.yaml: conflict: id 'ifla'")


@pytest.mark.parametrize("args, message", [
    (["--bundle", "out.zip"],
     "the bundle name 'out.zip' must end in .tar.gz or .tgz (that is how 'tripkb ingest' recognises a bundle)"),
    (["--bundle", "b.tar.gz", "-o", "x"], "--output is for --format; a bundle is written to the --bundle file"),
])
def test_cli_bad_bundle_options(kb, args, message):
    result = run(kb, "export", *args)
    assert (result.exit_code, result.stderr) == (2, f"Error: {message}\n")


def test_write_bundle_refuses_a_missing_folder(kb, tmp_path):
    with pytest.raises(UsageError, match="the folder .* does not exist"):
        write_bundle(kb, [], tmp_path / "no" / "b.tar.gz")
