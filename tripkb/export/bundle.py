"""Bundles: a selection of documents and sidecars in one .tar.gz, for handing a collection to another KB.

A bundle holds ``corpus/…`` files exactly as they are on disk plus a
``manifest.json`` of their SHA-256 sums, so importing it reproduces the
files byte for byte. An archive comes from elsewhere and is not trusted:
every member is checked before anything is read (regular files under
``corpus/`` only: no absolute paths, ``..``, links or devices), nothing is
ever extracted by ``tarfile`` itself, and every file is verified against the
manifest while it is copied. What the KB already has is skipped; a document
whose id is taken by different content is reported, never overwritten.
"""

from __future__ import annotations

import datetime as dt
import errno
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from .. import __version__
from ..errors import BundleError, ExtractError, MetadataError, UsageError
from ..fsutil import NO_LINKS, honour_umask, is_regular, link_on_the_way, open_atomic, sha256_of
from ..index.schema import open_index
from ..kb import DOCUMENT_SUFFIXES, KnowledgeBase
from ..meta.sidecar import MAX_SIDECAR_KB, load_sidecar, normalise
from ..reporting import Problem
from ..text.extract import check_head

if TYPE_CHECKING:  # a lookup's chain, which ingest does not load
    from ..query.selection import Selected

SUFFIXES = (".tar.gz", ".tgz")
MANIFEST = "manifest.json"
FORMAT = "tripkb-bundle"
VERSION = 1
_MAX_MANIFEST_BYTES = 64 << 20
#: A document in a bundle larger than this many MB is refused before a byte of it is written
#: (a small gzip can hold gigabytes of zeros).
MAX_FILE_MB = int(os.environ.get("TRIPKB_MAX_BUNDLE_FILE_MB", "1024"))
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MEMBER_SUFFIXES = DOCUMENT_SUFFIXES + (".yaml",)
#: How much of what follows the last member is read to see that it is the end-of-archive
#: marker (zero blocks, padded to tarfile's record size), not damage that ended the listing.
_TRAILER_READ = 1 << 20


def is_bundle(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


# --- writing ---------------------------------------------------------------------------------------


def write_bundle(kb: KnowledgeBase, items: Sequence[Selected], target: Path) -> tuple[int, list[Problem]]:
    """Pack the selected documents, their sidecars and a manifest into ``target``.

    Returns how many documents were packed and why any others were not (a
    file leading outside ``corpus/``); the rest is packed regardless.
    """
    if not is_bundle(target):
        raise UsageError(f"the bundle name {target.name!r} must end in .tar.gz or .tgz "
                         f"(that is how 'tripkb ingest' recognises a bundle)")
    if not target.parent.is_dir():
        raise UsageError(f"cannot write {target}: the folder {target.parent} does not exist")
    kb.check_output(target)
    problems: list[Problem] = []
    documents: list[dict[str, Any]] = []
    files: dict[str, Path] = {}
    for item in items:
        entry: dict[str, Any] = {"id": item.id, "sidecar": None, "file": None}
        try:
            for role, path in (("sidecar", item.sidecar), ("file", item.document)):
                if path is not None and path.exists():
                    kb.inside(path, path, kb.relative(path))
                    entry[role] = kb.relative(path)
                    files[entry[role]] = path
        except MetadataError as exc:
            problems.append(Problem(kb.relative(Path(exc.path)), f"{exc.problem} (not packed)"))
            continue
        documents.append(entry)
    sums: dict[str, dict[str, Any]] = {}
    now = dt.datetime.now(dt.timezone.utc)
    with open_atomic(target) as raw, tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for arcname, path in files.items():
            sums[arcname] = _add(tar, arcname, path)
        manifest = {"format": FORMAT, "version": VERSION, "tripkb": __version__,
                    "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "documents": documents, "files": sums}
        data = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
        tar.addfile(_info(MANIFEST, len(data), now.timestamp()), io.BytesIO(data))
    return len(documents), problems


def _info(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    """A plain file entry owned by nobody in particular, so bundles do not leak local user names."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o644
    return info


class _Reader:
    """Passes reads through while hashing them, so the sum is of exactly the bytes packed."""

    def __init__(self, fh: IO[bytes]):
        self.fh, self.digest = fh, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        block = self.fh.read(size)
        self.digest.update(block)
        return block


def _add(tar: tarfile.TarFile, arcname: str, path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        st = os.fstat(fh.fileno())
        reader = _Reader(fh)
        tar.addfile(_info(arcname, st.st_size, st.st_mtime), reader)
    return {"sha256": reader.digest.hexdigest(), "size": st.st_size}


# --- reading ---------------------------------------------------------------------------------------


@dataclass
class BundleImport:
    added: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Held:
    """A document already in the KB: its sidecar and file, hashed only when a bundle names its id."""

    sidecar: Path | None
    document: Path | None

    def sums(self) -> tuple[str | None, str | None]:
        def sum_of(p: Path | None) -> str | None:
            return sha256_of(p) if p is not None and is_regular(p) else None

        return sum_of(self.sidecar), sum_of(self.document)


def import_bundle(kb: KnowledgeBase, path: Path) -> BundleImport:
    """Copy the bundle's new documents into ``corpus/``; the caller indexes them.

    Raises :class:`BundleError` when the bundle as a whole cannot be trusted
    or read; a document that fails its checksum or conflicts is reported
    and the others are still imported.
    """
    result = BundleImport()
    try:
        tar = tarfile.open(path, mode="r:gz")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BundleError(str(path), f"not a readable .tar.gz bundle ({exc})") from None
    with tar:
        try:
            members = _checked_members(tar, path)
            _check_end(tar, path)
            manifest = _manifest(tar, members, path)
            held, by_sha = _held(kb)
            for doc in manifest["documents"]:
                try:
                    _import_document(kb, tar, members, manifest["files"], doc, (held, by_sha), result, path)
                except OSError as exc:  # one member's name, not the bundle: the others are still imported
                    if exc.errno != errno.ENAMETOOLONG:
                        raise
                    result.problems.append(Problem(f"{path}: {doc.get('sidecar') or doc.get('file')}",
                                                   "its name is too long for this file system (not imported)"))
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise BundleError(str(path), f"the archive is damaged ({exc}); {len(result.added)} documents "
                                         f"were imported before the damage") from None
    return result


def _check_end(tar: tarfile.TarFile, path: Path) -> None:
    """Refuse an archive whose listing stopped at damage rather than at its end.

    ``tarfile`` ends the member list quietly at an unreadable header after the
    first one, so a damaged bundle would otherwise look like one without its
    manifest. A whole archive ends in zero blocks.
    """
    tar.fileobj.seek(tar.offset)  # type: ignore[union-attr]
    rest = tar.fileobj.read(_TRAILER_READ)  # type: ignore[union-attr]
    if not rest or rest.strip(b"\0"):
        raise BundleError(str(path), f"the archive is damaged (no readable member header at byte "
                                     f"{tar.offset} of the unpacked archive); nothing was imported")


def _checked_members(tar: tarfile.TarFile, path: Path) -> dict[str, tarfile.TarInfo]:
    """Every member by name, after refusing the whole bundle if any member is unsafe or unexpected."""
    members: dict[str, tarfile.TarInfo] = {}
    for member in tar.getmembers():
        why = _refusal(member)
        if why:
            raise BundleError(str(path), f"member {member.name!r} {why}; nothing was imported")
        if member.name in members:
            raise BundleError(str(path), f"member {member.name!r} appears twice; nothing was imported")
        members[member.name] = member
    return members


def _refusal(member: tarfile.TarInfo) -> str | None:
    name = member.name
    if member.issym() or member.islnk():
        return "is a link (refused)"
    if member.isdev():
        return "is a device or pipe (refused)"
    if not member.isreg():
        return "is not a regular file (refused)"
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or re.match(r"^[A-Za-z]:", name):
        return "has an absolute path (refused)"
    if any(p in ("", ".", "..") for p in parts):
        return "has a path with '..', '.' or an empty part (refused)"
    if name == MANIFEST:
        return None
    if parts[0] != "corpus" or len(parts) < 2 or any(p.startswith(".") for p in parts) \
            or PurePosixPath(name).suffix.lower() not in _MEMBER_SUFFIXES:
        return f"is not a document or sidecar under corpus/ (expected {', '.join(_MEMBER_SUFFIXES)})"
    return None


def _manifest(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], path: Path) -> dict[str, Any]:
    """The manifest, checked against the members: every file listed, every listed file present."""
    def bad(problem: str) -> BundleError:
        return BundleError(str(path), f"{problem}; nothing was imported")

    member = members.get(MANIFEST)
    if member is None:
        raise bad(f"no {MANIFEST}: not a tripkb bundle")
    if member.size > _MAX_MANIFEST_BYTES:
        raise bad(f"{MANIFEST} is {member.size} bytes, too large to be a manifest")
    try:
        manifest = json.loads(tar.extractfile(member).read().decode("utf-8"))  # type: ignore[union-attr]
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad(f"{MANIFEST} is not valid JSON ({exc})") from None
    except RecursionError:
        raise bad(f"{MANIFEST} nests lists or mappings too deeply to be a manifest") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise bad(f"{MANIFEST} does not describe a tripkb bundle")
    if manifest.get("version") != VERSION:
        raise bad(f"bundle version {manifest.get('version')!r} is not one this tripkb reads (it reads {VERSION})")
    files, documents = manifest.get("files"), manifest.get("documents")
    if not isinstance(files, dict) or not isinstance(documents, list):
        raise bad(f"{MANIFEST} lacks its 'files' and 'documents' lists")
    for name, info in files.items():
        if not isinstance(info, dict) or not _SHA256.match(str(info.get("sha256"))) \
                or not isinstance(info.get("size"), int):
            raise bad(f"{MANIFEST}: the entry for {name!r} lacks a sha256 sum or size")
    listed, packed = set(files), set(members) - {MANIFEST}
    if packed - listed:
        raise bad(f"member {sorted(packed - listed)[0]!r} is not in {MANIFEST}")
    if listed - packed:
        raise bad(f"{MANIFEST} lists {sorted(listed - packed)[0]!r}, which the bundle does not hold")
    for doc in documents:
        if not _document_entry_ok(doc, files):
            raise bad(f"{MANIFEST}: a document entry lacks an id, or names a sidecar or file "
                      f"the bundle does not hold: {doc!r}")
    return manifest


def _document_entry_ok(doc: Any, files: dict[str, Any]) -> bool:
    """An id, and a .yaml sidecar and/or a document file, each one the bundle holds."""
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        return False
    sidecar, document = doc.get("sidecar"), doc.get("file")
    return bool(sidecar or document) \
        and (sidecar is None or (sidecar in files and sidecar.lower().endswith(".yaml"))) \
        and (document is None or (document in files and document.lower().endswith(DOCUMENT_SUFFIXES)))


def _held(kb: KnowledgeBase) -> tuple[dict[str, _Held], dict[str, str]]:
    """id → files, and file SHA-256 → id, of what the KB has (from the index, which the caller has just synced)."""
    held: dict[str, _Held] = {}
    by_sha: dict[str, str] = {}
    with open_index(kb.index_dir).searcher() as searcher:
        for fields in searcher.reader().all_stored_fields():
            key, data = fields["key"], fields["data"]
            sidecar = kb.corpus / key if key.endswith(".yaml") else None
            held[fields["id"]] = _Held(sidecar, kb.root / data["file"] if data["file"] else None)
            if data["record"].get("sha256"):
                by_sha[data["record"]["sha256"]] = fields["id"]
    return held, by_sha


def _target(kb: KnowledgeBase, arcname: str) -> Path:
    return kb.corpus.joinpath(*PurePosixPath(arcname).parts[1:])


def _import_document(kb: KnowledgeBase, tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo],
                     files: dict[str, dict[str, Any]], doc: dict[str, Any],
                     known: tuple[dict[str, _Held], dict[str, str]], result: BundleImport, path: Path) -> None:
    """Verify one document's files into hidden temporary files, then place them or report why not.

    Already there (same id, same bytes): skipped. Same id with other content,
    the same file under another id, or a name in use: a conflict, reported.
    """
    held, by_sha = known
    arcs = {role: doc.get(role) for role in ("sidecar", "file")}
    shown = f"{path}: {arcs['sidecar'] or arcs['file']}"
    temps: dict[str, Path] = {}
    try:
        for role, arcname in arcs.items():
            if arcname:
                try:
                    temps[role] = _verified_copy(tar, members[arcname], files[arcname], kb.corpus)
                    if role == "file":
                        check_head(temps[role], PurePosixPath(arcname).suffix)
                except _Refused as exc:
                    result.problems.append(Problem(f"{path}: {arcname}", str(exc)))
                    return
                except ExtractError as exc:  # refused as it would be if ingested alone: never kept
                    result.problems.append(Problem(f"{path}: {arcname}", f"{exc} (not imported)"))
                    return
        read = _id_of(temps.get("sidecar"), arcs, shown, result)
        if read is None:
            return
        doc_id, claimed = read
        if doc_id != doc["id"]:
            result.problems.append(Problem(shown, f"the manifest says id {doc['id']!r} but the sidecar says "
                                                  f"{doc_id!r} (not imported)"))
            return
        sums = tuple(files[arcs[role]]["sha256"] if arcs[role] else None for role in ("sidecar", "file"))
        if doc_id in held:
            if held[doc_id].sums() == sums:
                result.unchanged += 1
            else:
                mine = held[doc_id].sidecar or held[doc_id].document
                result.problems.append(Problem(shown, f"conflict: id {doc_id!r} is already in the knowledge base "
                                                      f"with different content ({kb.relative(mine)}); "
                                                      f"kept that one, did not import this one"))
            return
        if sums[1] in by_sha:
            result.problems.append(Problem(shown, f"conflict: the same file is already in the knowledge base "
                                                  f"as id {by_sha[sums[1]]!r}; did not import this one"))
            return
        targets = {role: _target(kb, arc) for role, arc in arcs.items() if arc}
        conflict = _conflict(kb, targets, claimed)
        if conflict:
            result.problems.append(Problem(shown, f"conflict: {conflict}; did not import this one"))
            return
        for role in ("file", "sidecar"):  # the file first: a sidecar never points at a missing file
            if role in targets:
                targets[role].parent.mkdir(parents=True, exist_ok=True)
                os.replace(temps.pop(role), targets[role])
        held[doc_id] = _Held(targets.get("sidecar"), targets.get("file"))
        if sums[1]:
            by_sha[sums[1]] = doc_id
        result.added.append(kb.relative(targets.get("sidecar") or targets["file"]))
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)


def _conflict(kb: KnowledgeBase, targets: dict[str, Path], claimed: str | None) -> str | None:
    """Why a document's files may not be placed at ``targets``: a link on the way, a name in use,
    or a sidecar whose ``file:`` (``claimed``) names a file of the KB not placed with it."""
    for target in targets.values():
        link = link_on_the_way(kb.corpus, target)
        if link is not None:
            return f"{kb.relative(link)} is a symbolic link ({NO_LINKS})"
    taken = [t for t in targets.values() for s in _MEMBER_SUFFIXES if os.path.lexists(t.with_suffix(s))]
    if taken:
        return f"{kb.relative(taken[0])} already exists for another document"
    if claimed is not None and "sidecar" in targets:
        try:
            named = kb.document_path(targets["sidecar"], claimed)
        except MetadataError as exc:
            return f"its file: {exc.problem}"
        if named is not None and named != targets.get("file") and os.path.lexists(named):
            return (f"its file: names {kb.relative(named)}, which is already in the knowledge base "
                    f"and not in this bundle entry")
    return None


class _Refused(Exception):
    """A bundle member that is not copied: why, in words."""


def _verified_copy(tar: tarfile.TarFile, member: tarfile.TarInfo, expected: dict[str, Any],
                   folder: Path) -> Path:
    """The member's bytes in a hidden temporary file in ``folder``.

    Raises :class:`_Refused` before anything is written when the member is larger
    than a file of its kind may be (tarfile reads exactly ``member.size`` bytes),
    and after, with the file removed, when its bytes fail the manifest.
    """
    if member.name.lower().endswith(".yaml"):
        if member.size > MAX_SIDECAR_KB * 1024:
            raise _Refused(f"is {member.size} bytes, more than the limit of {MAX_SIDECAR_KB} KB for a sidecar "
                           "(not imported; set TRIPKB_MAX_SIDECAR_KB to allow more)")
    elif member.size > MAX_FILE_MB << 20:
        raise _Refused(f"is {member.size >> 20} MB, more than the limit of {MAX_FILE_MB} MB for a file in a bundle "
                       "(not imported; set TRIPKB_MAX_BUNDLE_FILE_MB to allow more)")
    damaged = _Refused("checksum does not match the manifest (damaged bundle; not imported)")
    if member.size != expected["size"]:
        raise damaged
    source = tar.extractfile(member)
    fd, tmp = tempfile.mkstemp(prefix=".bundle.", suffix=".tmp", dir=folder)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for block in iter(lambda: source.read(1 << 20), b""):  # type: ignore[union-attr]
                digest.update(block)
                out.write(block)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if digest.hexdigest() != expected["sha256"]:
        Path(tmp).unlink(missing_ok=True)
        raise damaged
    honour_umask(tmp)  # mkstemp made it 0600: placed as it is, it must be as any new file
    return Path(tmp)


def _id_of(sidecar: Path | None, arcs: dict[str, str | None], shown: str, result: BundleImport
           ) -> tuple[str, str | None] | None:
    """The document's id as the KB will see it (the sidecar's id, else the file name's stem)
    and the sidecar's ``file:``; None, reported, when the sidecar cannot be read."""
    stem = PurePosixPath(arcs["sidecar"] or arcs["file"] or "").stem
    if sidecar is None:
        return stem, None
    try:
        data, lines = load_sidecar(sidecar)  # bounded: no larger than a sidecar may be, no aliases
        record, _warnings = normalise(data, shown, lines)  # indexing the placed sidecar reports them
    except MetadataError as exc:
        result.problems.append(Problem(shown, f"{exc.key + ': ' if exc.key else ''}{exc.problem} (not imported)"))
        return None
    return record.get("id") or stem, record.get("file")
