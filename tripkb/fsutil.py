"""Atomic file writes: a crash leaves the old file or the new one, never half of one.

And the one place that says whether a path inside a knowledge base may be used: tripkb
never reaches anything through a symbolic link there, never opens what is not a regular
file (a FIFO would block), and deletes only the temporary folders it marked as its own.
"""

from __future__ import annotations

import errno
import itertools
import os
import shutil
import stat
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def honour_umask(path: str | os.PathLike, folder: bool = False) -> None:
    """Give a file made by ``mkstemp`` (0600) or a folder made by ``mkdtemp`` (0700) the
    mode the user's umask gives new files and folders."""
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


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
        honour_umask(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def files_under(path: Path) -> list[Path]:
    """What a path names for ingest: the files under a folder, in name order, or the path itself."""
    return sorted(p for p in path.rglob("*") if not p.is_dir()) if path.is_dir() else [path]


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/tripkb`` (else ``~/.cache/tripkb``), made if missing: what tripkb
    derives once and keeps for the user's later runs, outside any KB."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "tripkb"
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_data_dir() -> Path:
    """``$XDG_DATA_HOME/tripkb`` (else ``~/.local/share/tripkb``), made if missing, private to
    the user: what tripkb keeps for the user, outside any KB (the shell's history)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    path = Path(base) / "tripkb"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


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
    import hashlib  # here: loading OpenSSL is a good part of a lookup's imports

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


def free_name(folder: Path, stem: str, suffix: str, distinguisher: str, taken: Collection[str] = ()) -> Path:
    """The first of :func:`name_candidates` free in ``folder``, with no sidecar of that stem either,
    and whose stem is not among the ``taken`` ones (names promised to files not placed yet)."""
    candidates = (folder / name for name in name_candidates(stem, suffix, distinguisher))
    return next(c for c in candidates if c.stem not in taken and not os.path.lexists(c)
                and not os.path.lexists(c.with_suffix(".yaml")))


# --- paths inside a knowledge base ---------------------------------------------------------------

#: How a link in corpus/ is refused, wherever it points.
NO_LINKS = "tripkb follows no links in corpus/"
#: Read flags that never follow a link in the last part nor wait on a FIFO.
_READ_SAFE = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
    | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def kind(mode: int) -> str | None:
    """What a file of this ``st_mode`` is, if it is not a regular file."""
    return next((name for test, name in _KINDS if test(mode)), None if stat.S_ISREG(mode) else "not a file")


def link_on_the_way(base: Path, path: Path) -> Path | None:
    """The first symbolic link among ``path`` and the folders between ``base`` and it
    (``base`` itself not included), or None; what does not exist yet is no link.
    ``path`` must be ``base`` joined with parts that hold no '..' (the caller refuses those)."""
    current = base
    for part in path.relative_to(base).parts:
        current = current / part
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return current
        except (FileNotFoundError, NotADirectoryError):
            return None
    return None


def not_regular(path: Path) -> str | None:
    """Why ``path`` (not followed) may not be opened as a file: 'a symbolic link', 'a FIFO'…;
    None for a regular file or nothing at all."""
    try:
        return kind(os.lstat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return None


def is_regular(path: Path) -> bool:
    """A regular file is there, itself, not a link to one."""
    return os.path.lexists(path) and not_regular(path) is None


class Refused(OSError):
    """A path in the KB that is not opened: a link, or not a regular file (``reason`` says which)."""

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(reason)
        self.filename, self.reason = str(path), reason


def read_regular(path: str | os.PathLike, follow: bool = False, limit: int = -1) -> bytes:
    """The bytes of a regular file, never waiting on a FIFO and, unless ``follow`` (a file of
    the user's, outside the KB), never through a link in its last part; :class:`Refused`
    otherwise. The folders on the way are the caller's to check. At most ``limit`` bytes
    are read when it is not negative."""
    try:
        fd = os.open(path, _READ_SAFE & ~getattr(os, "O_NOFOLLOW", 0) if follow else _READ_SAFE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused(path, "a symbolic link") from None
        raise
    with os.fdopen(fd, "rb") as fh:
        what = kind(os.fstat(fd).st_mode)
        if what:
            raise Refused(path, what)
        return fh.read(limit)


#: The file that marks a folder as tripkb's own temporary one.
TEMPORARY_MARK = ".tripkb-temporary"


def temporary_folder(parent: Path, prefix: str) -> Path:
    """A new folder ``<prefix><random>`` in ``parent``, marked as tripkb's, so that one a crash
    leaves behind is cleared by :func:`clear_temporary` and a folder of the user's never is."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    honour_umask(folder, folder=True)
    (folder / TEMPORARY_MARK).write_text("made by tripkb; removed by its next run\n", encoding="utf-8")
    return folder


def clear_temporary(parent: Path, prefix: str) -> None:
    """Remove every folder ``<prefix>*`` in ``parent`` that :func:`temporary_folder` made
    (a real folder, not a link, holding the mark). Call it only with the writer lock held."""
    with os.scandir(parent) as entries:
        stale = [e.path for e in entries if e.name.startswith(prefix) and e.is_dir(follow_symlinks=False)]
    for folder in stale:
        if is_regular(Path(folder) / TEMPORARY_MARK):
            shutil.rmtree(folder, ignore_errors=True)  # rmtree unlinks links inside, never follows them
