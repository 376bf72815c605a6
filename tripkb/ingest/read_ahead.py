"""The text layer of the documents named, read on an idle core while the ingest starts up.

Before an ingest's workers start, the process that writes the index imports its
modules, takes the writer lock, finds which documents are new and loads the
route table of jieba's dictionary, once, so that the workers forked after it
share it: about half a second with the other cores idle. So as soon as the
command is parsed, before those imports, a reader process is forked: it reads
the text layer of the documents named (what :func:`~tripkb.text.extract.read`
gives; a PDF named alone, in small ranges of the pages its workers will take) into a
private folder, a file each, until the workers start. Then it is stopped,
whatever it was reading dropped, and a worker that takes a document (or a
range) it read finishes that text instead of reading the file again.

The reader writes nothing in the knowledge base, reads only the files named (as
ingest would), works under a worker's memory bound and dies with the command.
A document it cannot read is left to the worker, which reads it again and says why.
This module imports little, so that the reader starts early.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..fsutil import files_under
from ..text.suffixes import SUFFIXES
from ..workers import MEMORY_MB, _worker_setup, default_workers

if TYPE_CHECKING:
    import multiprocessing.process

    from ..text.extract import Extracted

#: A range of a document's pages: (k, n) is the k-th of n (see :mod:`.page_ranges`).
PageRange = tuple[int, ...]
WHOLE: PageRange = (0, 1)


class ReadAhead:
    """The reader of one ingest: started on entering :func:`reading_ahead`, :meth:`stop`\\ ped
    when the workers start."""

    def __init__(self, folder: Path, process: multiprocessing.process.BaseProcess | None):
        self.folder = folder
        self.process = process

    def stop(self) -> None:
        """Stop the reader now: what it has left is complete (each file is renamed in whole)."""
        if self.process is not None:
            self.process.kill()
            self.process.join()
            self.process = None


def documents_named(paths: list[Path]) -> list[Path]:
    """The documents an ingest of ``paths`` reads, in its order (see ``documents.collect``)."""
    seen: set[Path] = set()
    found = []
    for path in paths:
        for p in files_under(path):
            if p.suffix.lower() in SUFFIXES and p.is_file() and (real := p.resolve()) not in seen:
                seen.add(real)
                found.append(p)
    return found


#: A PDF named alone is read ahead in this many ranges of pages for each of the ranges its
#: workers take (``documents._extract_map``): what the reader has read when it is stopped is of
#: use however slowly the PDF reads.
SUBPARTS = 8


def jobs_for(documents: list[Path], cores: int) -> list[tuple[Path, PageRange]]:
    """What the reader reads: each document whole, or a PDF named alone in ``cores`` ×
    :data:`SUBPARTS` ranges of pages, a range of each worker's in turn, so that each finds
    about as much read when they start."""
    if len(documents) == 1 and documents[0].suffix.lower() == ".pdf" and cores > 1:
        n = cores * SUBPARTS
        return [(documents[0], (k * SUBPARTS + j, n)) for j in range(SUBPARTS) for k in range(cores)]
    return [(document, WHOLE) for document in documents]


@contextmanager
def reading_ahead(paths: list[Path], extractor: str | None, ocr: str = "auto",
                  on_cluster: bool = False) -> Iterator[ReadAhead | None]:
    """A reader of the documents under ``paths`` with ``extractor`` for the time of the block;
    None when its text would not be used (every page OCRed, or read on a cluster), when none of
    ``paths`` exists or there is no room for what it reads."""
    if ocr == "force" or on_cluster or not any(path.exists() for path in paths):
        yield None
        return
    try:
        _clear_stale(Path(tempfile.gettempdir()))
        folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    except OSError:
        yield None
        return
    import multiprocessing

    process = multiprocessing.get_context("fork").Process(target=_read, args=(folder, paths, extractor),
                                                          daemon=True)
    ahead = ReadAhead(folder, process)
    try:
        process.start()
        yield ahead
    finally:
        ahead.stop()
        shutil.rmtree(folder, ignore_errors=True)


#: The start of the names of the readers' folders, followed by the command's process id.
PREFIX = "tripkb-ahead-"


def _clear_stale(temp: Path) -> None:
    """Remove the folders that the readers of commands killed outright left in ``temp``: the
    user's own folders named for a process that is gone (never through a link)."""
    for folder in temp.glob(f"{PREFIX}*-*"):
        pid = folder.name[len(PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            info = folder.lstat()
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        pass
    return True


def _read(folder: Path, paths: list[Path], extractor: str | None) -> None:
    """In the reader: the text layer of each document under ``paths`` (found here, not in the
    command's process, which has its own start to make) into a file named for it, until
    stopped. It says nothing: what it cannot do is left to the workers (Ctrl-C is the
    command's to handle)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_setup(MEMORY_MB, nice=0)
    try:
        from ..text import extract

        extract.choose(extractor)
        jobs = jobs_for(documents_named(paths), default_workers())
    except Exception:  # the ingest says why
        return
    for source, part in jobs:
        try:
            got = extract.read(source, False, part)
        except Exception:  # the worker reads it again and says why
            continue
        try:
            keep(folder, source, part, got)
        except OSError:  # no room left for it: the workers read the rest
            return


def keep(folder: Path, source: Path, part: PageRange, got: Extracted) -> None:
    """Leave what was read of ``source`` (``part`` of its pages) in ``folder``, whole or not at all."""
    done = _file(folder, source, part)
    scratch = done.with_suffix(".part")
    scratch.write_bytes(pickle.dumps(got, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(scratch, done)


def already_read(folder: Path | None, source: Path, part: PageRange = WHOLE) -> Extracted | None:
    """The text layer (``part`` of the pages) the reader left for ``source``, if it read it whole."""
    if folder is None:
        return None
    try:
        data = _file(folder, source, part).read_bytes()
    except OSError:
        return None
    return pickle.loads(data)  # written by this ingest's own reader into its private folder


def _file(folder: Path, source: Path, part: PageRange) -> Path:
    name = os.fsencode(source) + f"\0{part[0]}/{part[1]}".encode()
    return folder / (hashlib.sha256(name).hexdigest()[:32] + ".read")
