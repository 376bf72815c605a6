"""Records without a document, indexed in bulk: each worker writes a whole segment for a chunk of
them, and the one writing process only adopts it.

Filing postings is most of the work of indexing a catalogue record; done by the one
writing process it left the other cores idle.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import ExtractError
from ..fsutil import clear_temporary, temporary_folder
from ..kb import KnowledgeBase
from ..meta.vocab import Vocabulary
from ..workers import bounded_map, default_workers
from .batch_writer import BatchWriter
from .corpus import Entry
from .prepare import Prepared, prepare
from .schema import create_index


BULK_INDEX = "index.bulk-"


#: Records without a document are indexed in chunks of this many, each chunk a
#: segment written by a worker, once there are at least BULK_MIN of them.
BULK_CHUNK = 10000
#: Memory for each worker's postings before it spills them to disk.
BULK_POOL_MB = 128
#: A worker tells how far it is every so many records (for the progress bar).
COUNT_EVERY = 500


def index_in_bulk(kb: KnowledgeBase, writer: "BatchWriter", records: list[Entry], indexed: dict[str, str],
                  tally: Callable[[Prepared], None], advance: Callable[..., None],
                  workers: int | None) -> list[Entry]:
    """Index records without a document a chunk at a time, each chunk written as a segment by a worker.

    Filing postings is most of the work of indexing a catalogue record, and one
    process writing the index made a 60,000-row import take minutes while the
    other core waited. Each worker writes a whole segment; this process only
    moves it into the index and commits. A chunk whose worker failed, and any
    record that turns out to name a document, are handed back to be read one by one.
    """
    workers = default_workers() if workers is None else workers
    handed_back: list[Entry] = []
    with Staging(kb) as staging:
        if staging is None:  # no room for the workers' segments: the records go the one-by-one way
            return records
        jobs = bounded_map(partial(records_segment, kb, staging.folder), list(enumerate(chunked(records, workers))),
                           workers=workers, waiting=lambda: advance(staging.running(), "indexing records", settled=False))
        for (number, chunk), result in jobs:
            staging.settled(number)
            if isinstance(result, ExtractError):
                handed_back.extend(chunk)
                continue
            folder, prepared, left = result
            handed_back.extend(left)
            for one in prepared:
                tally(one)
                if one.fields is not None and one.entry.key in indexed:
                    writer.delete(one.entry.key)
            writer.adopt(folder)
            advance(len(chunk) - len(left), chunk[-1].key, ahead=staging.running())  # the bar never steps back
    return handed_back


def chunk_size(count: int, workers: int) -> int:
    """Items a chunk for the workers: at most about BULK_CHUNK, in as many chunks as a multiple
    of ``workers`` (so that all finish together)."""
    if not count:
        return 1
    chunks = -(-count // BULK_CHUNK)
    chunks = -(-chunks // max(1, workers)) * max(1, workers)
    return -(-count // chunks)


def chunked(items: list, workers: int) -> list[list]:
    """``items`` in order, in chunks of :func:`chunk_size`."""
    size = chunk_size(len(items), workers)
    return [items[i:i + size] for i in range(0, len(items), size)]


class Staging:
    """``schema.bulk-<random>/`` beside the index: the segments workers write, and how far each is.

    A worker counts its items in ``<chunk>.count``, a byte an item appended (a count never
    reads half-written, and no file is made or renamed an item, which took 0.4–0.7 ms while
    the workers wrote and synced documents); :meth:`running` adds them up for the progress
    bar. Left over by a crash, it is cleared by the next one (we hold the lock).
    """

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.folder = kb.root / BULK_INDEX  # made on entering

    def __enter__(self) -> "Staging | None":
        clear_temporary(self.kb.root, BULK_INDEX)
        try:
            self.folder = temporary_folder(self.kb.root, BULK_INDEX)
        except OSError:
            return None
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def running(self) -> int:
        count = 0
        for tally_file in self.folder.glob("*.count"):
            try:
                count += tally_file.stat().st_size
            except OSError:  # just removed: its chunk is being settled
                pass
        return count

    def settled(self, number: int) -> None:
        (self.folder / f"{number}.count").unlink(missing_ok=True)


class ChunkSegment:
    """Runs in a worker: a one-segment index of its own in the staging folder, for
    :meth:`BatchWriter.adopt`, with the count of items done kept for the progress bar
    (every ``every`` items)."""

    def __init__(self, staging: Path, number: int, every: int = COUNT_EVERY):
        from .segment_writer import GroupedWriter

        self.every, self.counted = every, 0
        self.folder = Path(tempfile.mkdtemp(dir=staging))
        self.writer = GroupedWriter(create_index(self.folder), limitmb=BULK_POOL_MB)
        self.counter = os.open(staging / f"{number}.count", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def count(self, done: int) -> None:
        if done % self.every == 0 and done > self.counted:
            os.write(self.counter, b"." * (done - self.counted))
            self.counted = done

    def add(self, fields: dict[str, Any]) -> None:
        self.writer.add_document(**fields)

    def __enter__(self) -> "ChunkSegment":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        os.close(self.counter)
        if exc_type is not None and not self.writer.is_closed:
            self.writer.cancel()

    def finish(self) -> Path | None:
        """The segment's folder, None if nothing was added."""
        indexed = self.writer.doc_count() > 0
        self.writer.commit(merge=False)
        return self.folder if indexed else None


def records_segment(kb: KnowledgeBase, staging: Path, chunk: tuple[int, list[Entry]]
                    ) -> tuple[Path | None, list[Prepared], list[Entry]]:
    """Runs in a worker: index chunk ``(number, entries)`` of records without a document
    into a :class:`ChunkSegment`.

    Returns its folder (None if no record could be indexed), each record's
    outcome with its fields left out (they are in the segment), and the
    entries whose sidecar names a document after all.
    """
    number, entries = chunk
    prepared: list[Prepared] = []
    left: list[Entry] = []
    vocab = Vocabulary.load(kb.root)
    with ChunkSegment(staging, number) as segment:
        for done, entry in enumerate(entries):
            segment.count(done)
            one = prepare(kb, entry, records_only=True, vocab=vocab)
            if one is None:
                left.append(entry)
                continue
            if one.fields is not None:
                segment.add(one.fields)
                one.fields = {}
            prepared.append(one)
        return segment.finish(), prepared, left
