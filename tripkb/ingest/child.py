"""One document's reading or OCR in a child process started by :mod:`subprocess`, under its bounds.

A Dask worker started the standard way (``dask worker ADDRESS``) is a daemonic
process, and a daemonic process may not start :mod:`multiprocessing` children
(so no pebble pool). Any process may start a program, though: each document
is read by ``python -m tripkb.ingest.child``, which caps its own address space
and asks the kernel to kill it with its parent before it opens the document,
and which the caller kills when it overruns the time bound. Its arguments
come pickled on standard input and its answer goes to a file, so nothing a
library prints can garble it.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..errors import ExtractError
from ..workers import crashed, too_big, too_slow

#: The child's exit code when it ran out of its memory bound.
_OUT_OF_MEMORY = 3


def run(task: str, args: tuple, answer: Path, timeout: float | None, memory_mb: int) -> Any:
    """``task`` (see :data:`TASKS`) of ``args`` in a child process; its result, or the
    :class:`ExtractError` saying why there is none. ``answer`` is a file the child may write."""
    try:
        proc = subprocess.run([sys.executable, "-m", __name__, task, str(memory_mb), str(answer)],
                              input=pickle.dumps(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=timeout)
    except subprocess.TimeoutExpired:  # the child is killed (SIGKILL) and reaped by run()
        return too_slow(timeout or 0)
    if proc.returncode == _OUT_OF_MEMORY:
        return too_big(memory_mb)
    if proc.returncode != 0 or not answer.exists():
        return crashed(proc.returncode)
    with answer.open("rb") as fh:
        result = pickle.load(fh)
    answer.unlink()
    return result


def _read(path: Path, engine: str, force_ocr: bool, missing: str | None):
    from ..text.extract import choose, read_final

    choose(engine)
    return read_final(path, force_ocr, missing)


def _ocr(path: Path, layer, mode: str, cache: Path, sha: str):
    """OCR the pages of ``layer`` that need it, each page under the OCR bounds; the final text and
    the OCR cache entry (JSON) this made, which the client keeps."""
    from ..text.extract import begin
    from ..text.ocr import Ocr

    with Ocr(mode, cache, workers=1) as reader:  # one Tesseract per document, per Dask thread
        extracted = begin(path, layer, reader, sha).finish()
    entry = reader.cache_file(sha)
    return extracted, entry.read_text(encoding="utf-8") if entry is not None and entry.exists() else None


TASKS = {"read": _read, "ocr": _ocr}


def main(task: str, memory_mb: int, answer: Path) -> None:
    from ..workers import _worker_setup

    _worker_setup(memory_mb)
    args = pickle.load(sys.stdin.buffer)
    try:
        result = TASKS[task](*args)
    except ExtractError as exc:
        result = exc
    except MemoryError:
        os._exit(_OUT_OF_MEMORY)
    except Exception as exc:  # this document's failure, in the words of the local pool
        result = ExtractError(f"cannot be read ({type(exc).__name__}: {exc})")
    with answer.open("wb") as fh:
        pickle.dump(result, fh)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
