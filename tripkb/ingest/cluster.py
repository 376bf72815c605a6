"""Per-document extraction on a Dask cluster, for archives one machine cannot read in time.

Workers are sent each document's bytes (no shared file system is assumed),
read its text layer with the same :func:`read` under the same time and
memory bounds as local ingest, OCR the pages that need it with the same
:class:`Ocr`, and send back the final :class:`Extracted` text with the OCR
cache entry, which the client keeps as a local OCR would have. The bounds
are held by a child process per document started with :mod:`subprocess`
(:mod:`ingest.child`), so workers started the standard way, daemonic, will
do. The client alone copies into ``corpus/``, writes sidecars and the index,
so the knowledge base's guarantees are those of local ingest.
:func:`cluster_map` keeps :func:`workers.bounded_map`'s contract with
``ordered=False``: results as they finish, a failure as an
:class:`ExtractError`, a bounded window of documents in flight.

``distributed`` is imported only when a cluster is asked for: it is the
optional ``tripkb[cluster]`` extra, and the child processes never need it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
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
from ..text.extract import ExtractMap, Extracted, _has_pdfium, engine_in_use
from ..text.ocr import Engine, Mode, Ocr, probe
from ..workers import MEMORY_MB, TIMEOUT
from . import child

if TYPE_CHECKING:
    from distributed import Client, Future

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
        # ":0": a free port on loopback; None would still take (or warn about) the shared 8787.
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=":0", silence_logs=logging.CRITICAL)
        return Client(cluster)
    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, ValueError) as exc:  # TimeoutError is an OSError
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def worker_profile() -> dict[str, Any]:
    """What a worker must share with the client to read a document alike."""
    engine = probe()
    return {"version": __version__, "pdfium": _has_pdfium(),
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
    """:func:`workers.bounded_map` of :func:`extract_bytes` over the cluster's workers, results as they finish.

    Each document travels inside its task, so the scheduler can give it to
    another worker when one dies; at most ``window`` documents (default:
    twice the cluster's threads) are read into memory or in flight at once.
    """
    import dask
    from distributed import as_completed

    engine = engine_in_use()
    window = window or max(4, 2 * sum(client.nthreads().values()))
    pending: dict[Future, tuple[Path, str]] = {}
    source = iter(paths)
    finished = as_completed()

    def fill() -> Iterator[tuple[Path, ExtractError]]:
        """Submit documents until ``window`` are in flight; yield those that cannot even be read here."""
        while len(pending) < window and (path := next(source, None)) is not None:
            try:
                data = path.read_bytes()
            except OSError as exc:
                yield path, ExtractError(f"cannot read the file: {exc.strerror or exc}")
                continue
            future = client.submit(extract_bytes, path.name, data, engine, ocr, timeout, memory_mb,
                                   retries=RETRIES, pure=False)
            pending[future] = (path, hashlib.sha256(data).hexdigest())
            finished.add(future)

    # A document in its task is deliberate (see above): no "large graph" warning for it.
    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "4GiB"}):
        yield from fill()
        for future in finished:
            path, sha = pending.pop(future)
            result = _result(client, future, where)
            yield from fill()
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


_missing: dict[str, str | None] = {}


def extract_bytes(name: str, data: bytes, engine: str, ocr: Mode, timeout: float, memory_mb: int) -> Read | ExtractError:
    """On a worker: write the document to a private folder under its own name, read it under the
    usual bounds, OCR what needs it, and hand back the text.

    The reading, and the OCR, run in child processes started by :mod:`subprocess`
    (:mod:`ingest.child`), which a daemonic Dask worker may start. A bad document comes
    back as an :class:`ExtractError` value, not raised, so Dask does not retry what
    would fail the same way again.
    """
    from distributed import get_worker

    if ocr not in _missing:  # why this worker cannot OCR, if it cannot: asked once
        reader = Ocr(ocr)
        _missing[ocr] = reader.missing if reader.engine is None else None
    scratch = get_worker().local_directory  # Dask's own scratch space: it clears what a killed worker left
    with tempfile.TemporaryDirectory(prefix="tripkb-", dir=scratch) as folder:
        path = Path(folder) / Path(name).name
        path.write_bytes(data)
        answer = Path(folder) / ".answer"
        layer = child.run("read", (path, engine, ocr == "force", _missing[ocr]), answer, timeout, memory_mb)
        if isinstance(layer, ExtractError) or layer.final:
            return layer if isinstance(layer, ExtractError) else Read(layer)
        sha = hashlib.sha256(data).hexdigest()
        # Each page is bounded by the OCR pool inside the child, as locally; the child dies with this worker.
        done = child.run("ocr", (path, layer, ocr, Path(folder) / "ocr", sha), answer, None, memory_mb)
        return done if isinstance(done, ExtractError) else Read(*done)
