"""One writer per knowledge base: a lock file beside corpus/ with a bounded wait."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import KBIndexError
from .kb import KnowledgeBase

LOCK_NAME = ".tripkb.lock"
#: Seconds a writer waits for another one to finish before giving up.
WAIT = float(os.environ.get("TRIPKB_LOCK_TIMEOUT", "10"))


@contextmanager
def writer_lock(kb: KnowledgeBase, wait: float | None = None) -> Iterator[None]:
    """Hold the KB's writer lock; after ``wait`` seconds, fail with a clear message.

    The lock is an OS file lock: it is released when its process dies, even
    by SIGKILL, so a crash never leaves the KB locked.
    """
    from filelock import FileLock, Timeout

    kb.refuse_linked_parts()  # the lock file is opened for writing: never through a link
    lock = FileLock(str(kb.root / LOCK_NAME), is_singleton=True)
    seconds = WAIT if wait is None else wait
    try:
        lock.acquire(timeout=seconds)
    except Timeout:
        waited = f"; waited {seconds:g} s" if seconds > 0 else ""
        raise KBIndexError(f"another tripkb process is writing to {kb.root}{waited} "
                           "(try again when it has finished)") from None
    try:
        yield
    finally:
        lock.release()
