"""Before every lookup: is the index in step with ``corpus/``? Found out cheaply, and made so if not.

A lookup stats each folder of ``corpus/`` and each sidecar, not every file
(docs/index-format.md, "Freshness"):

* a file or folder added, removed or renamed changes the modification time of
  the folder it is in; the folders' times are recorded (``index/folders.json``)
  whenever the corpus has been compared file by file and found as the index
  holds it, for that generation of the index;
* a sidecar edited in place changes no folder, so every sidecar's modification
  time and size are compared with what the index recorded for it.

A document's own file is stat'ed only in the file-by-file comparison, made when a
folder is not as recorded, when there is no record for the index's generation, or
when a recorded time was too recent to be trusted (:data:`RACY_NS`); a sync
(``tripkb ingest``, ``tripkb reindex``) always makes it.
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from pathlib import Path

from ..errors import KBIndexError
from ..kb import KnowledgeBase
from ..reporting import Progress, SyncReport
from .corpus import (changed, corpus_layout, read_generation_copy, saved_stamps,
                     write_generation_copy)
from .schema import latest_generation, status

FOLDERS_COPY = "folders.json"
#: A folder modified less than this before it was recorded is compared file by file next
#: time: a file system's clock ticks coarsely (milliseconds; 2 s on FAT), so a change made
#: just after the folder was listed could leave its time as recorded.
RACY_NS = 3 * 10**9


def refresh(kb: KnowledgeBase, progress: Progress | None = None) -> SyncReport | None:
    """Sync before reading; when another process is writing, read what is there.

    Returns None when the index was left as it was because it is busy. A
    missing or outdated index is always built (waiting for the writer if needed).
    """
    if status(kb.index_dir):
        from .sync import sync

        return sync(kb, progress)
    unchanged = in_step(kb)
    if unchanged is not None:
        return unchanged
    from ..lock import writer_lock  # only now: a lookup on an index in step loads no writing code
    from .sync import sync_locked

    with ExitStack() as held:
        try:
            held.enter_context(writer_lock(kb, wait=0))
        except KBIndexError:  # busy: only this; a sync that fails (a full disk) is an error, not stale results
            return None
        return sync_locked(kb, progress)


def in_step(kb: KnowledgeBase) -> SyncReport | None:
    """A report of nothing to do when the index holds ``corpus/`` exactly as it is now, else None.

    Looked at without the writer lock, so that a lookup on an index that is up to
    date takes no lock: a sync changes the index by whole commits, each a generation
    the comparison sees entirely or not at all. Only the copy of the stamps a sync
    made for the current generation is trusted; without one, the locked way makes it.
    """
    try:
        generation = latest_generation(kb.index_dir)
        indexed = saved_stamps(kb.index_dir, generation)
    except (OSError, KBIndexError):  # being rebuilt this very moment
        return None
    if indexed is None:
        return None
    folders = _recorded_folders(kb.index_dir, generation)
    if folders is not None and None not in folders.values() and _folders_as_recorded(kb, folders):
        return SyncReport(unchanged=len(indexed)) if _sidecars_as_indexed(kb, indexed) else None
    listed_at = time.time_ns()
    files, names = kb.corpus_files_and_folders()
    layout = corpus_layout(kb, files)
    if len(layout) != len(indexed) or changed(kb, layout, indexed):
        return None
    _record_folders(kb, generation, names, listed_at)
    return SyncReport(unchanged=len(layout))


def _folders_as_recorded(kb: KnowledgeBase, folders: dict[str, int]) -> bool:
    base = os.path.join(kb.corpus, "")
    for name, mtime in folders.items():
        try:
            if os.lstat(base + name).st_mtime_ns != mtime:
                return False
        except OSError:
            return False
    return True


def _sidecars_as_indexed(kb: KnowledgeBase, indexed: dict[str, str]) -> bool:
    """Every sidecar's mtime and size as in its stamp (``key:sidecar:document``, see
    :func:`tripkb.index.corpus.stamp`; a record with a sidecar has that sidecar as key)."""
    base = os.path.join(kb.corpus, "")
    for key, stamp in indexed.items():
        sidecar = stamp[len(key) + 1:].split(":", 1)[0]
        if sidecar == "-":
            continue
        try:
            st = os.lstat(base + key)
        except OSError:
            return False
        if sidecar != f"{st.st_mtime_ns}.{st.st_size}":
            return False
    return True


def _recorded_folders(index_dir: Path, generation: int) -> dict[str, int | None] | None:
    return read_generation_copy(index_dir / FOLDERS_COPY, generation, "folders")


def _record_folders(kb: KnowledgeBase, generation: int, names: list[str], listed_at: int) -> None:
    """Record the folders' times for ``generation``, a time too recent as None (not trusted).

    Each folder is stat'ed after the listing, so a file added in between changes a time
    recorded as later than ``listed_at``, which is never trusted. A read-only KB records
    nothing; the next lookup compares file by file again.
    """
    base = os.path.join(kb.corpus, "")
    folders: dict[str, int | None] = {}
    for name in names:
        try:
            mtime = os.lstat(base + name).st_mtime_ns
        except OSError:
            return
        folders[name] = mtime if mtime < listed_at - RACY_NS else None
    write_generation_copy(kb.index_dir / FOLDERS_COPY, generation, "folders", folders)
