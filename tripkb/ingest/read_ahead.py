"""The text layer of the first documents, read on the idle core while the route table loads.

Before an ingest's workers start, the writing process loads the route table of
jieba's dictionary (0.2 s), once, so that the workers forked after it share it;
a worker forked before would load its own. Meanwhile the other cores would wait.
So a reader process is forked first: it reads the text layer of the new
documents in order (what a worker's :func:`~tripkb.text.extract.read_final`
gives: pages in display form, judged, flagged when no OCR is to come) and
leaves each in a folder of its own, until the table is loaded. Then it is
stopped, whatever it was reading dropped, and a worker that takes a document
it read analyses that text instead of reading the file again.

The reader works under a worker's memory bound and dies with this process; its
time is that of the table's load. A document it cannot read is left to the
worker, which reads it again and reports why.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..fsutil import clear_temporary, temporary_folder
from ..kb import KnowledgeBase
from ..text.extract import Extracted
from ..workers import MEMORY_MB, _worker_setup

#: The folder beside the index where the reader leaves what it read (removed after the ingest).
READ_AHEAD = "index.ahead-"


class ReadAhead:
    """The reader of one ingest: started on entering, :meth:`stop`\\ ped when the workers start."""

    def __init__(self, folder: Path, process: multiprocessing.process.BaseProcess | None):
        self.folder = folder
        self.process = process

    def stop(self) -> None:
        """Stop the reader now: what it has left is complete (each file is renamed in whole)."""
        if self.process is not None:
            self.process.kill()
            self.process.join()
            self.process = None


@contextmanager
def read_ahead(kb: KnowledgeBase, sources: list[Path],
               read: Callable[[Path], Extracted]) -> Iterator[ReadAhead | None]:
    """A reader of ``sources`` (in the order the workers take them) by ``read``, for the time of
    the block; None when there is no room for what it reads."""
    clear_temporary(kb.root, READ_AHEAD)  # left by a crash; the caller holds the writer lock
    try:
        folder = temporary_folder(kb.root, READ_AHEAD)
    except OSError:
        yield None
        return
    process = multiprocessing.get_context("fork").Process(target=_read, args=(folder, sources, read),
                                                          daemon=True)
    ahead = ReadAhead(folder, process)
    try:
        process.start()
        yield ahead
    finally:
        ahead.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _read(folder: Path, sources: list[Path], read: Callable[[Path], Extracted]) -> None:
    """In the reader: each document's text layer into a file named for its path, until stopped."""
    _worker_setup(MEMORY_MB, nice=0)
    for source in sources:
        try:
            got = read(source)
        except Exception:  # the worker reads it again and says why
            continue
        done = _file(folder, source)
        scratch = done.with_suffix(".part")
        scratch.write_bytes(pickle.dumps(got, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(scratch, done)


def already_read(folder: Path | None, source: Path) -> Extracted | None:
    """The text layer the reader left for ``source``, if it read it whole."""
    if folder is None:
        return None
    try:
        data = _file(folder, source).read_bytes()
    except OSError:
        return None
    return pickle.loads(data)  # written by this ingest's own reader into its private folder


def _file(folder: Path, source: Path) -> Path:
    return folder / (hashlib.sha256(os.fsencode(source)).hexdigest()[:32] + ".read")
