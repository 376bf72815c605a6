"""New documents brought in by the workers a chunk at a time: each worker reads, analyses, places
and indexes its chunk into an index segment of its own, which the writing process adopts.

With one process placing every document, filing its postings and writing the
segment, that process was the limit of an ingest while the other cores waited
(bench/README.md). Here the writing process only checks each document's id
against those given meanwhile in other chunks, adopts the segments and commits.

A document is placed exactly as on the one-by-one way (staged complete, then
renamed into ``corpus/``, document first). What a chunk cannot finish goes back
to the caller: a document whose pages await OCR, one that cannot be read, one
whose id another chunk gave first (placed again the one-by-one way), and every
document of a chunk whose worker died or overran the time bound (its documents
are taken out of ``corpus/`` again and read one by one, each with its own bound).
"""

from __future__ import annotations

import os
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
from ..workers import bounded_map, orphaned

#: A chunk holds at most this many documents (many chunks keep every worker busy to the end;
#: each is a segment, which the index's tiered merge takes in).
CHUNK_DOCUMENTS = 64

#: (source, sha256, target) of a document to bring in.
Job = tuple[Path, str, Path]


@dataclass
class Outcome:
    """What a worker did with one document of its chunk."""

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


def chunks_of(jobs: list[Job], workers: int) -> list[list[Job]]:
    """``jobs`` in order, in at least two chunks a worker (so that one long chunk does not hold up
    the end) of at most CHUNK_DOCUMENTS, each about as many bytes of documents as the others."""
    sizes = []
    for source, _, _ in jobs:
        try:
            sizes.append(max(1, os.stat(source).st_size))
        except OSError:
            sizes.append(1)
    count = min(len(jobs), max(2 * workers, -(-len(jobs) // CHUNK_DOCUMENTS)))
    per_chunk, total = sum(sizes) / max(1, count), 0
    out: list[list[Job]] = [[]]
    for job, size in zip(jobs, sizes):
        if out[-1] and (total >= per_chunk * len(out) or len(out[-1]) >= CHUNK_DOCUMENTS) and len(out) < count:
            out.append([])
        out[-1].append(job)
        total += size
    return out


def bring_in_chunks(kb: KnowledgeBase, writer: BatchWriter, jobs: list[Job], known_ids: set[str],
                    vocab: Vocabulary, workers: int, read: Callable[[Path], Extracted], bring_in: BringIn,
                    report, step: Callable[[Path, int], None]) -> tuple[list[tuple[Path, Extracted | ExtractError]],
                                                                         list[Path]]:
    """Bring ``jobs`` in, a chunk a worker; returns (documents to finish, with their text layer or
    failure) and (documents to read one by one). ``read`` reads a document in a worker (its text
    final unless pages await OCR); ``step(source, running)`` counts one more document done,
    ``running`` being those done in chunks not yet adopted (``source`` None: a count alone)."""
    to_finish: list[tuple[Path, Extracted | ExtractError]] = []
    again: list[Path] = []
    with Staging(kb) as staging:
        if staging is None:  # no room for the workers' segments: the one-by-one way
            return [], [source for source, _, _ in jobs]
        work = partial(chunk_segment, kb, staging.folder, frozenset(known_ids), read, bring_in)
        chunks = list(enumerate(chunks_of(jobs, workers)))
        # Adopted in input order: a tie in a search's scores goes to the lower document number,
        # so results do not depend on which worker finished first.
        for (number, chunk), result in bounded_map(work, chunks, workers=workers, nice=0,
                                                   waiting=lambda: step(None, staging.running())):
            staging.settled(number)
            if isinstance(result, ExtractError):  # the worker died or overran: one by one, each bounded
                for source, _, target in chunk:
                    _take_out(target)
                    again.append(source)
                continue
            folder, outcomes = result
            clashes = []
            for one in outcomes:
                if one.layer is not None:
                    to_finish.append((one.source, one.layer))
                    continue
                if one.id is not None and one.id in known_ids:  # another chunk gave it first
                    clashes.append(one)
                    continue
                if one.id is not None:
                    known_ids.add(one.id)
                report.added.extend(one.added)
                report.problems.extend(one.problems)
                report.warnings.extend(one.warnings)
                step(one.source, staging.running())
            writer.adopt(folder)
            targets = {source: target for source, _, target in chunk}
            shas = {source: sha for source, sha, _ in chunk}
            for one in clashes:
                target = targets[one.source]
                writer.delete(target.with_suffix(".yaml").relative_to(kb.corpus).as_posix())
                _take_out(target)
                bring_in(kb, one.source, shas[one.source], target, one.extracted, known_ids, vocab, report, writer.add)
                step(one.source, staging.running())
    return to_finish, again


def _take_out(target: Path) -> None:
    """Remove a document and sidecar this run placed at ``target`` (its name was free when this
    run chose it, under the writer lock: nothing else is there)."""
    for path in (target, target.with_suffix(".yaml")):
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def chunk_segment(kb: KnowledgeBase, staging: Path, known_ids: frozenset[str], read: Callable[[Path], Extracted],
                  bring_in: BringIn, chunk: tuple[int, list[Job]]) -> tuple[Path | None, list[Outcome]]:
    """Runs in a worker: read, place and index chunk ``(number, jobs)`` into a segment of its own;
    returns the segment's folder (None if nothing was indexed) and each document's outcome."""
    number, jobs = chunk
    vocab = Vocabulary.load(kb.root)
    ids = set(known_ids)
    outcomes: list[Outcome] = []
    with ChunkSegment(staging, number, every=1) as segment:
        for done, (source, sha, target) in enumerate(jobs):
            segment.count(done)
            try:
                got = read(source)
            except ExtractError as exc:
                outcomes.append(Outcome(source, layer=exc))
                continue
            if not got.final:
                outcomes.append(Outcome(source, layer=got))
                continue
            if orphaned():  # no one awaits this any more, and no lock guards corpus/
                os._exit(1)
            one = Outcome(source)
            added: list[dict] = []
            bring_in(kb, source, sha, target, got, ids, vocab, one, lambda fields: added.append(fields))
            if added:
                one.id = added[0]["data"]["record"]["id"]
                segment.add(added[0])
                got.body = None  # the postings are in the segment: only the text goes back
                one.extracted = got
            outcomes.append(one)
        return segment.finish(), outcomes
