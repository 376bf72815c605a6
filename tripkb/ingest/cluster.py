"""Per-document extraction on a Dask cluster, for archives one machine cannot read in time.

Workers are sent each document's bytes (no shared file system is assumed),
read its text layer with the same :func:`read` inside the same time- and
memory-bounded pebble pool as local ingest, OCR the pages that need it with
the same :class:`Ocr`, and send back the final :class:`Extracted` text with
the OCR cache entry, which the client keeps as a local OCR would have. The client alone copies into ``corpus/``, writes
sidecars and the index, so the knowledge base's guarantees are those of
local ingest. :func:`cluster_map` keeps :func:`workers.bounded_map`'s
contract: results in input order, a failure as an :class:`ExtractError`,
a bounded window of documents in flight.

``distributed`` is imported only when a cluster is asked for: it is the
optional ``tripkb[cluster]`` extra, and the pebble processes on a worker
never need it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import CancelledError
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import ClusterError, ExtractError, UsageError
from ..fsutil import write_text_atomic
from ..text.extract import ExtractMap, Extracted, _has_pdfium, begin, choose, engine_in_use, read
from ..text.ocr import Engine, Mode, Ocr, probe
from ..workers import MEMORY_MB, TIMEOUT, _limit_memory, outcome

if TYPE_CHECKING:
    from distributed import Client, Future
    from pebble import ProcessPool

#: Seconds to wait for the scheduler to answer and for a first worker to join.
CONNECT_TIMEOUT = float(os.environ.get("TRIPKB_CLUSTER_TIMEOUT", "20"))
#: Times a document whose task raised is tried again (a worker's death is
#: retried by the scheduler, up to ``distributed.scheduler.allowed-failures``).
RETRIES = 2


@contextmanager
def extract_mapper(address: str | None, workers: int | None = None, ocr: Mode = "auto",
                   ocr_cache: Path | None = None) -> Iterator[ExtractMap]:
    """A mapper that reads documents on the cluster at ``address``, or on ``workers`` local Dask workers.

    ``ocr`` is the client's OCR mode; the OCR text that comes back is kept in
    ``ocr_cache`` so a later reindex on the client does not OCR again.

    Connects and checks the workers before yielding, so a cluster that
    cannot be used fails before any document is read or written.
    """
    client = _connect(address, workers)
    where = address or "the local Dask cluster"
    try:
        _check_workers(client, where, ocr)
        yield partial(cluster_map, client, where=where, ocr=ocr, ocr_cache=ocr_cache)
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()


def _connect(address: str | None, workers: int | None) -> Client:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--cluster and --workers need Dask's distributed: pip install 'tripkb[cluster]'") from None
    # Failures are reported per document in tripkb's words; Dask's own log lines would repeat them.
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    if address is None:
        import dask

        # Set for good, not for a block: a nanny restarting a dead worker reads it again then.
        dask.config.set({"distributed.worker.daemon": False})
        # ":0": a free port on loopback; None would still take (or warn about) the shared 8787.
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=":0", silence_logs=logging.CRITICAL)
        return Client(cluster)
    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, ValueError) as exc:  # TimeoutError is an OSError
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def worker_profile() -> dict[str, Any]:
    """What a worker must share with the client to read a document alike, and whether it may
    start the bounded reader processes (a daemonic process may not have children)."""
    import multiprocessing

    engine = probe()
    return {"version": __version__, "pdfium": _has_pdfium(), "daemon": multiprocessing.current_process().daemon,
            "ocr": engine.name + f" ({engine.languages})" if isinstance(engine, Engine) else None,
            "no_ocr": None if isinstance(engine, Engine) else engine}


def _check_workers(client: Client, where: str, ocr: Mode) -> None:
    """Refuse workers that would read documents differently from local ingest or from each other
    (another tripkb, no pypdfium2, another Tesseract or none)."""
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except TimeoutError:
        raise ClusterError(f"no Dask worker has joined the scheduler at {where} within {CONNECT_TIMEOUT:.0f} s "
                           "(start one with 'dask worker ADDRESS'; see docs/cluster.md)") from None
    try:
        profiles = client.run(worker_profile)
    except Exception as exc:  # typically: tripkb is not installed on the worker
        raise ClusterError(f"a Dask worker at {where} cannot run tripkb ({type(exc).__name__}: {exc}); "
                           f"install tripkb {__version__} on every worker") from None
    engine = engine_in_use()
    for worker, profile in sorted(profiles.items()):
        if profile["version"] != __version__:
            raise ClusterError(f"the Dask worker {worker} runs tripkb {profile['version']}, this client "
                               f"{__version__}: install the same version on every worker")
        if profile["daemon"]:
            raise ClusterError(f"the Dask worker {worker} cannot start the processes that bound each document's "
                               "time and memory: start it with DASK_DISTRIBUTED__WORKER__DAEMON=False "
                               "(see docs/cluster.md)")
        if engine == "pypdfium2" and not profile["pdfium"]:
            raise ClusterError(f"the Dask worker {worker} has no pypdfium2, which this client reads PDFs with: "
                               "pip install 'tripkb[cluster,fast]' there, or ingest with --extractor pypdf")
    readers = {profile["ocr"] for profile in profiles.values()}
    if ocr != "off" and len(readers) > 1:
        said = "; ".join(f"{worker}: {profile['ocr'] or profile['no_ocr']}" for worker, profile in sorted(profiles.items()))
        raise ClusterError(f"the Dask workers would OCR scans differently ({said}): install the same Tesseract "
                           "and language data on every worker, or ingest with --no-ocr")


def cluster_map(client: Client, paths: Iterable[Path], where: str = "the Dask cluster", ocr: Mode = "auto",
                ocr_cache: Path | None = None, window: int | None = None, timeout: float = TIMEOUT,
                memory_mb: int = MEMORY_MB) -> Iterator[tuple[Path, Extracted | ExtractError]]:
    """:func:`workers.bounded_map` of :func:`extract` over the cluster's workers.

    Each document travels inside its task, so the scheduler can give it to
    another worker when one dies; at most ``window`` documents (default:
    twice the cluster's threads) are read into memory or in flight at once.
    """
    import dask

    engine = engine_in_use()
    window = window or max(4, 2 * sum(client.nthreads().values()))
    pending: deque[tuple[Path, str, Future | ExtractError]] = deque()
    source = iter(paths)

    def submit() -> None:
        for path in source:
            try:
                data = path.read_bytes()
            except OSError as exc:
                pending.append((path, "", ExtractError(f"cannot read the file: {exc.strerror or exc}")))
                return
            pending.append((path, hashlib.sha256(data).hexdigest(),
                            client.submit(extract_bytes, path.name, data, engine, ocr, timeout, memory_mb,
                                          retries=RETRIES, pure=False)))
            return

    # A document in its task is deliberate (see above): no "large graph" warning for it.
    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "4GiB"}):
        for _ in range(window):
            submit()
        while pending:
            path, sha, job = pending.popleft()
            result = job if isinstance(job, ExtractError) else _result(client, job, where)
            submit()
            if isinstance(result, Read):
                _keep_ocr(ocr_cache, sha, result.ocr_cache)
                result = result.extracted
            yield path, result


def _keep_ocr(cache: Path | None, sha: str, entry: str | None) -> None:
    """Keep a worker's OCR text as a local OCR would have; a cache that cannot be written only costs time."""
    target = cache / f"{sha}.json" if cache and entry else None
    if target is not None and not target.exists():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(target, entry)
        except OSError:
            pass


def _result(client: Client, future: Future, where: str) -> Read | ExtractError:
    """The worker's answer, or why there is none: this document's fault, or the whole cluster's."""
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker:
        return ExtractError("the Dask workers reading this file died each time it was tried "
                            "(out of memory or crashed; see the workers' logs)")
    except CancelledError:
        raise ClusterError(f"lost the Dask scheduler at {where}; what was ingested is kept, "
                           "run the same ingest again to finish") from None
    except Exception as exc:
        if client.status != "running":
            raise ClusterError(f"lost the Dask scheduler at {where}; what was ingested is kept, "
                               "run the same ingest again to finish") from None
        return ExtractError(f"failed on the Dask cluster {RETRIES + 1} times ({type(exc).__name__}: {exc})")
    finally:
        future.release()


@dataclass
class Read:
    """A worker's answer: the final text, and its OCR cache entry (JSON) when pages were OCRed."""

    extracted: Extracted
    ocr_cache: str | None = None


_pools: dict[int, ProcessPool] = {}
_ocrs: dict[str, Ocr] = {}
_lock = threading.Lock()  # pools start on first use: once, whatever the worker's threads


def extract_bytes(name: str, data: bytes, engine: str, ocr: Mode, timeout: float, memory_mb: int) -> Read | ExtractError:
    """On a worker: write the document to a private folder under its own name, read it under the
    usual bounds, OCR what needs it, and hand back the text.

    A bad document comes back as an :class:`ExtractError` value, not raised,
    so Dask does not retry what would fail the same way again.
    """
    from distributed import get_worker

    scratch = get_worker().local_directory  # Dask's own scratch space: it clears what a killed worker left
    with tempfile.TemporaryDirectory(prefix="tripkb-", dir=scratch) as folder:
        path = Path(folder) / Path(name).name
        path.write_bytes(data)
        with _lock:
            pool = _pool(memory_mb)
        future = pool.schedule(_read_with, args=(path, engine, ocr == "force"), timeout=timeout)
        layer = outcome(future, timeout, memory_mb)
        if isinstance(layer, ExtractError):
            return layer
        sha = hashlib.sha256(data).hexdigest()
        with _lock:
            if ocr not in _ocrs:  # one Tesseract per Dask thread: --nthreads says how many cores to use
                _ocrs[ocr] = Ocr(ocr, Path(scratch) / "tripkb-ocr", workers=get_worker().state.nthreads)
            reader = _ocrs[ocr]
            pending = begin(path, layer, reader, sha)
        extracted = pending.finish()
        entry = reader.cache_file(sha)
        if entry is None or not entry.exists():
            return Read(extracted)
        text = entry.read_text(encoding="utf-8")
        entry.unlink()
        return Read(extracted, text)


def _pool(memory_mb: int) -> ProcessPool:
    """This worker's pebble pool, one process per Dask thread, kept for the worker's life.

    forkserver, not fork: a Dask worker runs threads, and forking those is unsafe.
    """
    if memory_mb not in _pools:
        import multiprocessing

        from distributed import get_worker
        from pebble import ProcessPool

        _pools[memory_mb] = ProcessPool(max_workers=get_worker().state.nthreads, initializer=_limit_memory,
                                        initargs=(memory_mb,), context=multiprocessing.get_context("forkserver"))
    return _pools[memory_mb]


def _read_with(path: Path, engine: str, force_ocr: bool) -> Extracted:
    choose(engine)
    return read(path, force_ocr)
