"""Atomic file writes: a crash leaves the old file or the new one, never half of one."""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def open_atomic(target: Path, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary stream whose bytes replace ``target`` only when the block ends without error."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; honour the user's umask
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(target: Path, text: str, durable: bool = True) -> None:
    """Write via a temporary file and a rename; ``durable=False`` skips the fsync, for
    bulk writers that make thousands of files and call :func:`os.sync` once at the end."""
    with open_atomic(target, durable) as fh:
        fh.write(text.encode("utf-8"))


#: Flags of a file written whole by :func:`write_text_via` (three system calls fewer than ``open``).
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def write_text_via(scratch: Path, target: Path, text: str) -> os.stat_result:
    """Write ``target`` as a file made whole in ``scratch`` (a private folder on the same file
    system) and renamed in: as atomic as :func:`write_text_atomic` without ``durable`` and,
    with no random name, no chmod and one entry fewer in the target's folder, cheaper
    for the many small files of a bulk writer. Returns the file's stat as written (the
    rename keeps it), so a later change to it can be told apart."""
    staged = scratch / target.name
    fd = os.open(staged, _NEW_FILE, 0o666)
    try:
        data = memoryview(text.encode("utf-8"))
        while data:
            data = data[os.write(fd, data):]
        written = os.fstat(fd)
    finally:
        os.close(fd)
    os.replace(staged, target)
    return written


def copy_atomic(source: Path, target: Path) -> None:
    with open_atomic(target) as out, source.open("rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes: a document's identity."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.()" else "_" for c in text).strip("._")


def name_candidates(stem: str, suffix: str, distinguisher: str) -> Iterator[str]:
    """File names for ``stem+suffix`` in the order they are tried: the stem made safe for a
    file name, then with the distinguisher's first 8 characters, then numbered."""
    safe = _safe(stem) or "document"
    tagged = f"{safe}-{_safe(distinguisher)[:8]}"
    yield f"{safe}{suffix}"
    yield f"{tagged}{suffix}"
    for n in itertools.count(2):
        yield f"{tagged}-{n}{suffix}"


def free_name(folder: Path, stem: str, suffix: str, distinguisher: str) -> Path:
    """The first of :func:`name_candidates` free in ``folder``, with no sidecar of that stem either."""
    candidates = (folder / name for name in name_candidates(stem, suffix, distinguisher))
    return next(c for c in candidates if not c.exists() and not c.with_suffix(".yaml").exists())
