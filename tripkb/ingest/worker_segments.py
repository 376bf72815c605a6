"""New documents brought in by the workers: each worker takes the next document not yet taken
until none is left, reads, analyses, places and indexes it, and writes one index segment of all
it took, which the writing process adopts.

With one process placing every document, filing its postings and writing the
segment, that process was the limit of an ingest while the other cores waited
(bench/README.md). Here the writing process only checks each document's id
against those the other workers gave meanwhile, adopts the segments and commits.
Taking documents one at a time keeps every worker busy to the end however
uneven the documents, and an ingest adds one segment a worker.

A document is placed exactly as on the one-by-one way (staged complete, then
renamed into ``corpus/``, document first). What a worker cannot finish goes back
to the caller: a document whose pages await OCR, one that cannot be read, one
whose id another worker gave first (placed again the one-by-one way), and every
document of a worker that died or whose document overran the time bound (what it
placed is taken out of ``corpus/`` again, and those documents are read one at a
time, each with the bounds of its own).
"""

from __future__ import annotations

import codecs
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ..errors import ExtractError
from ..index.batch_writer import BatchWriter
from ..index.bulk import ChunkSegment, Staging
from ..kb import KnowledgeBase
from ..meta.vocab import Vocabulary
from ..reporting import Problem
from ..text.extract import Extracted
from ..workers import TIMEOUT, bounded_map, orphaned

#: (source, sha256, target) of a document to bring in.
Job = tuple[Path, str, Path]


@dataclass
class Outcome:
    """What a worker did with one document it took."""

    source: Path
    #: Not placed: the text layer, whose pages await OCR, or why it cannot be read.
    layer: Extracted | ExtractError | None = None
    #: Placed and indexed under this id; its text (without postings) in case the id must change.
    id: str | None = None
    extracted: Extracted | None = None
    added: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


#: One document placed and indexed the one-by-one way: (kb, source, sha, target, extracted,
#: known ids, vocabulary, report, add) -> None (see ``documents._bring_in_guarded``).
BringIn = Callable[..., None]


def bring_in_by_workers(kb: KnowledgeBase, writer: BatchWriter, jobs: list[Job], known_ids: set[str],
                        vocab: Vocabulary, workers: int, read: Callable[[Path], Extracted], bring_in: BringIn,
                        report, step: Callable[[Path | None, int], None]
                        ) -> tuple[list[tuple[Path, Extracted | ExtractError]], list[Path]]:
    """Bring ``jobs`` in on ``workers`` workers; returns (documents to finish, with their text layer
    or failure) and (documents to read one by one). ``read`` reads a document in a worker (its
    text final unless pages await OCR); ``step(source, running)`` counts one more document done,
    ``running`` being those done in segments not yet adopted (``source`` None: a count alone)."""
    to_finish: list[tuple[Path, Extracted | ExtractError]] = []
    finished: set[Path] = set()
    with Staging(kb) as staging:
        if staging is None:  # no room for the workers' segments: the one-by-one way
            return [], [source for source, _, _ in jobs]
        work = partial(worker_segment, kb, staging.folder, frozenset(known_ids), jobs, read, bring_in, TIMEOUT)
        targets = {source: (sha, target) for source, sha, target in jobs}
        # The time bound is kept a document at a time by each worker's watchdog, not on its whole share.
        for number, result in bounded_map(work, range(min(workers, len(jobs))), workers=workers, timeout=None,
                                          ordered=False, nice=0, waiting=lambda: step(None, staging.running())):
            staging.settled(number)
            if isinstance(result, ExtractError):  # the worker died: what it took is read again below
                continue
            folder, outcomes = result
            clashes = []
            for one in outcomes:
                finished.add(one.source)
                if one.layer is not None:
                    to_finish.append((one.source, one.layer))
                    continue
                if one.id is not None and one.id in known_ids:  # another worker gave it first
                    clashes.append(one)
                    continue
                if one.id is not None:
                    known_ids.add(one.id)
                report.added.extend(one.added)
                report.problems.extend(one.problems)
                report.warnings.extend(one.warnings)
                step(one.source, staging.running())
            writer.adopt(folder)
            for one in clashes:
                sha, target = targets[one.source]
                writer.delete(target.with_suffix(".yaml").relative_to(kb.corpus).as_posix())
                _take_out(target)
                bring_in(kb, one.source, sha, target, one.extracted, known_ids, vocab, report, writer.add)
                step(one.source, staging.running())
    again = []
    for source, _, target in jobs:
        if source not in finished:  # its worker died or overran: one at a time, each under its own bounds
            _take_out(target)
            again.append(source)
    return to_finish, again


def before_fork(vocab: Vocabulary) -> None:
    """Load in this process what every worker would otherwise load for itself on its first
    document: the route table, the extractor's library, YAML, the segment writer, the patterns
    of sections and organisations, the codecs that tell rare characters. Forked after, the
    workers share them, and the read-ahead keeps the other core busy meanwhile."""
    from ..index import segment_writer  # noqa: F401
    from ..index.analysis import preload
    from ..meta.sidecar import yaml_ready
    from ..text import sections  # noqa: F401
    from ..text.extract import load_engine
    from ..text.page_quality import COMMON_SETS

    preload()
    load_engine()
    yaml_ready()
    vocab.org_pattern()
    for name in COMMON_SETS:
        codecs.lookup(name)


def _take_out(target: Path) -> None:
    """Remove a document and sidecar this run placed at ``target`` (its name was free when this
    run chose it, under the writer lock: nothing else is there)."""
    for path in (target, target.with_suffix(".yaml")):
        try:
            path.unlink()
        except FileNotFoundError:
            pass


class Claims:
    """The workers' claims on the documents, a byte each appended to one file in the staging
    folder: where this worker's byte landed is the index of the document it claimed. An append
    is atomic, and it makes no file (a file a claim took 0.4–0.7 ms while the other worker
    wrote and synced documents, 0.1 ms alone; an append takes microseconds)."""

    def __init__(self, staging: Path):
        self.fd = os.open(staging / "claims", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def next(self) -> int:
        """The index of the next document no worker has claimed (counting past the last)."""
        os.write(self.fd, b".")
        return os.lseek(self.fd, 0, os.SEEK_CUR) - 1

    def __enter__(self) -> "Claims":
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.fd)


class Watchdog:
    """Ends this worker process when one document takes longer than ``seconds`` (a thread, so it
    acts even while the reader is stuck in a C library that released the GIL, or in Python)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.since: float | None = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self.stopped.wait(min(1.0, self.seconds / 4)):
            since = self.since
            if since is not None and time.monotonic() - since > self.seconds:
                os._exit(3)  # the writer sees the worker die and reads what it took one at a time

    def __enter__(self) -> "Watchdog":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()


def worker_segment(kb: KnowledgeBase, staging: Path, known_ids: frozenset[str], jobs: list[Job],
                   read: Callable[[Path], Extracted], bring_in: BringIn, timeout: float,
                   number: int) -> tuple[Path | None, list[Outcome]]:
    """Runs in a worker: take the documents of ``jobs`` no other worker has taken, one at a time,
    each read, placed and indexed within ``timeout`` seconds, into a segment of its own; returns
    the segment's folder (None if nothing was indexed) and each document's outcome."""
    vocab = Vocabulary.load(kb.root)
    ids = set(known_ids)
    outcomes: list[Outcome] = []
    with ChunkSegment(staging, number, every=1) as segment, Watchdog(timeout) as watchdog, Claims(staging) as claims:
        while (index := claims.next()) < len(jobs):
            source, sha, target = jobs[index]
            segment.count(len(outcomes))
            watchdog.since = time.monotonic()
            outcomes.append(_one(kb, source, sha, target, ids, vocab, read, bring_in, segment))
            watchdog.since = None
        return segment.finish(), outcomes


def _one(kb: KnowledgeBase, source: Path, sha: str, target: Path, ids: set[str], vocab: Vocabulary,
         read: Callable[[Path], Extracted], bring_in: BringIn, segment: ChunkSegment) -> Outcome:
    """One document a worker took: read, placed and added to its segment, or why not."""
    try:
        got = read(source)
    except ExtractError as exc:
        return Outcome(source, layer=exc)
    if not got.final:
        return Outcome(source, layer=got)
    if orphaned():  # no one awaits this any more, and no lock guards corpus/
        os._exit(1)
    one = Outcome(source)
    added: list[dict] = []
    bring_in(kb, source, sha, target, got, ids, vocab, one, added.append)
    if added:
        one.id = added[0]["data"]["record"]["id"]
        segment.add(added[0])
        got.body = None  # the postings are in the segment: only the text goes back
        one.extracted = got
    return one
