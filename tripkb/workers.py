"""Per-document work on both cores, with a time and memory bound for each document.

A hostile or broken PDF can make an extractor loop or eat memory. Each
document is handled in a worker process (pebble kills and replaces a worker
whose task overruns); the worker's address space is capped, so a memory
blow-up ends that document, not the batch. At most a few documents are in
flight, so memory stays bounded however long the batch is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, TimeoutError as FutureTimeout, wait
from typing import TypeVar

from .errors import ExtractError

T = TypeVar("T")
R = TypeVar("R")

#: Seconds one document may take to extract.
TIMEOUT = float(os.environ.get("TRIPKB_EXTRACT_TIMEOUT", "300"))
#: Address space one worker may use, in MB.
MEMORY_MB = int(os.environ.get("TRIPKB_EXTRACT_MEMORY_MB", "2048"))


#: How often a pool's threads look at their workers and messages (see :func:`bounded_map`).
POLL_SECONDS = 0.01


def default_workers() -> int:
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8))


def workers_for(count: int, workers: int | None = None) -> int:
    """Workers to read ``count`` documents: never more than there are documents, and one even
    for one, since only a worker process bounds a document's time and memory (``0``, asked
    for, still runs in this process)."""
    if workers == 0 or count == 0:
        return 0
    return 1 if count == 1 else (default_workers() if workers is None else workers)


def _limit_memory(megabytes: int, nice: int = 10) -> None:
    """The memory bound, and a lower priority than the process that awaits the results
    (one writer, which every worker feeds) by ``nice``."""
    import resource

    os.nice(nice)
    limit = megabytes * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # a lower hard limit is already in force: keep it
        pass


#: prctl(2) option: the signal a process gets when its parent dies.
_PR_SET_PDEATHSIG = 1
#: In a pool worker, the process that started it; None elsewhere.
_parent: int | None = None


def _worker_setup(megabytes: int, nice: int = 10) -> None:
    """A pool worker's bounds, and its death with the process that started it.

    Killed with SIGKILL, that process can clean nothing up; its workers would
    finish their tasks (writing sidecars, in ``import-csv``) after its writer
    lock is gone. On Linux the kernel kills them with it; elsewhere (or if it
    died before this ran) they stop at their next task, when the pool's pipe is gone.
    """
    global _parent
    _parent = os.getppid()
    _limit_memory(megabytes, nice)
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def orphaned() -> bool:
    """In a pool worker: has the process that started it died? What the worker would write
    then, no one awaits and no writer lock guards (the kernel may not have killed it yet)."""
    return _parent is not None and os.getppid() != _parent


def bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int | None = None,
                timeout: float | None = TIMEOUT, memory_mb: int = MEMORY_MB,
                waiting: Callable[[], None] | None = None, ordered: bool = True,
                nice: int = 10) -> Iterator[tuple[T, R | ExtractError]]:
    """``(item, fn(item))`` in input order, or with ``ordered=False`` as each finishes (a long
    task then holds one worker, not the whole window); a failure comes back as an :class:`ExtractError`.

    At most twice ``workers`` tasks are in flight. ``waiting`` is called about twice a
    second while the next result is awaited (to show the progress of long tasks). ``nice``
    lowers the workers' priority below this process's. ``timeout`` None: the task keeps its own
    time bound. ``workers=0`` runs in this process (no bounds): for tests and debugging.
    """
    workers = default_workers() if workers is None else workers
    if workers == 0:
        for item in items:
            try:
                yield item, fn(item)
            except ExtractError as exc:
                yield item, exc
        return

    from pebble import ProcessPool
    from pebble.common import CONSTS

    # pebble's threads poll every sleep_unit, 0.1 s by default: a pool took a tenth of a second to
    # stop after its last result (a whole process ingesting one document waited that long twice).
    CONSTS.sleep_unit = POLL_SECONDS
    pending: dict[Future, T] = {}  # in submission order
    source = iter(items)
    with ProcessPool(max_workers=workers, initializer=_worker_setup, initargs=(memory_mb, nice)) as pool:
        def submit() -> None:
            for item in source:
                pending[pool.schedule(fn, args=(item,), timeout=timeout)] = item
                return

        for _ in range(workers * 2):
            submit()
        while pending:
            if ordered:
                future = next(iter(pending))
                while waiting is not None and not wait([future], timeout=0.5).done:
                    waiting()
            else:
                while not (done := wait(pending, timeout=0.5, return_when=FIRST_COMPLETED).done):
                    if waiting is not None:
                        waiting()
                future = next(f for f in pending if f in done)  # the earliest submitted of those done
            item = pending.pop(future)
            result: R | ExtractError = outcome(future, timeout, memory_mb)
            submit()
            yield item, result


def outcome(future: Future[R], timeout: float | None, memory_mb: int) -> R | ExtractError:
    """A pebble future's result, or the :class:`ExtractError` saying in words why there is none.

    Its words (:func:`too_slow`, :func:`too_big`, :func:`crashed`) are those of the child
    processes on a Dask worker too, so a document fails alike wherever it was read.
    """
    from pebble import ProcessExpired

    try:
        return future.result()
    except ExtractError as exc:
        return exc
    except FutureTimeout:
        return too_slow(timeout)
    except MemoryError:
        return too_big(memory_mb)
    except ProcessExpired as exc:
        return crashed(exc.exitcode)
    except Exception as exc:  # any other failure belongs to this one document
        return ExtractError(f"cannot be read ({type(exc).__name__}: {exc})")


def too_slow(timeout: float) -> ExtractError:
    return ExtractError(f"took longer than {timeout:g} s to read (stopped; set TRIPKB_EXTRACT_TIMEOUT to allow more)")


def too_big(memory_mb: int) -> ExtractError:
    return ExtractError(f"needs more than {memory_mb} MB of memory to read (stopped; "
                        "set TRIPKB_EXTRACT_MEMORY_MB to allow more)")


def crashed(exitcode: int | None) -> ExtractError:
    return ExtractError(f"the reader crashed on this file (exit code {exitcode})")
