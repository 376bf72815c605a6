"""The index writer every command uses: commits in batches, adopts segments built by workers,
and merges segments by size tier.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import KBIndexError


#: A commit every so many documents or seconds of index work, whichever comes first.
COMMIT_EVERY = 5000
COMMIT_SECONDS = 60.0


class BatchWriter:
    """Adds documents to the index and commits every ``batch`` of them or every ``seconds``.

    Committing in batches bounds what a crash can lose (the next sync redoes it
    from ``corpus/``) and the memory Whoosh holds; any error cancels the
    uncommitted batch and is reported in words. Each commit makes a segment,
    and every segment repeats the terms it shares with the others, so batches
    are large and segments are merged by :func:`tiered_merge`. The last commit
    merges every segment the writer made on the way into its own (:func:`_compact`):
    a writer leaves one new segment however long it ran, so the number of segments
    follows the sizes of the runs, never the speed of the machine. Segments built by
    workers and adopted (``import-csv``, records in a sync: one per chunk of up to
    ``BULK_CHUNK`` records, so their number follows the records too) are left to the
    tiered merge: merging them all once more in this one process, after the workers are
    done, would cost this process more than the workers took to build them.
    """

    def __init__(self, ix, batch: float | None = None, seconds: float | None = None, limitmb: int = 64):
        self.ix, self.limitmb = ix, limitmb
        self.batch = COMMIT_EVERY if batch is None else batch
        self.seconds = COMMIT_SECONDS if seconds is None else seconds
        self.count = 0
        self.w = None
        self.opened = 0.0
        #: The ids of the segments there were before this writer's first commit, and its commits.
        self.before: set[str] | None = None
        self.commits = 0
        #: The segments adopted from workers, which the last commit does not compact.
        self.adopted: set[str] = set()

    @property
    def one_segment(self) -> bool:
        """A writer that never commits on the way (a rebuild) makes one segment of everything."""
        return self.batch == math.inf

    def _writer(self):
        if self.w is None:
            from whoosh.index import LockError

            from .segment_writer import GroupedWriter

            try:
                self.w = GroupedWriter(self.ix, timeout=10.0, limitmb=self.limitmb)
            except LockError:
                raise KBIndexError("another process is writing to this index; "
                                   "try again when it has finished") from None
            self.opened = time.monotonic()
            if self.before is None:
                self.before = {segment.segment_id() for segment in self.w.segments}
        return self.w

    def add(self, fields: dict[str, Any]) -> None:
        self._writer().update_document(**fields)
        self.count += 1
        if self.count % self.batch == 0 or time.monotonic() - self.opened >= self.seconds:
            self.commit()

    def delete(self, key: str) -> None:
        self._writer().delete_by_term("key", key)

    def adopt(self, folder: Path | None) -> None:
        """Take in the one segment of the index in ``folder`` (built by a worker; None: nothing
        was), with the next commit, and remove the folder.

        It counts as a batch: it is committed now unless this writer makes one segment.
        """
        from whoosh.index import TOC

        from .schema import INDEX_NAME, _storage

        if folder is None:
            return
        segment = TOC.read(_storage(folder), INDEX_NAME).segments[0]
        writer = self._writer()
        prefix = segment.segment_id() + "."
        for name in os.listdir(folder):
            if name.startswith(prefix):
                os.replace(folder / name, Path(self.ix.storage.folder) / name)
        writer.adopted.append(segment)
        self.adopted.add(segment.segment_id())
        shutil.rmtree(folder, ignore_errors=True)
        if not self.one_segment:
            self.commit()

    def commit(self, last: bool = False) -> None:
        if last and self.w is None and self.commits > 1 and not self.one_segment:
            own = [seg for seg in self._writer().segments if seg.segment_id() not in self.before | self.adopted]
            if len(own) < 2:  # nothing left to add or merge: no new generation for nothing
                w, self.w = self.w, None
                w.cancel()
        if self.w is not None:
            w, self.w = self.w, None
            policy = _one_segment if self.one_segment else tiered_merge
            if last and self.before is not None and not self.one_segment:
                policy = partial(_compact, before=self.before | self.adopted)
            try:
                w.commit(mergetype=policy)
                self.commits += 1
            except OSError as exc:
                try:
                    w.cancel()
                except OSError:
                    pass  # cancelling writes too; the committed index is untouched either way
                raise KBIndexError(f"cannot write the index: {exc.strerror or exc} "
                                   f"(corpus/ is intact; fix this and run 'tripkb ingest' again)") from None

    def __enter__(self) -> "BatchWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.commit(last=True)
        elif self.w is not None:
            w, self.w = self.w, None
            try:
                w.cancel()
            except OSError:
                pass
        return False


def _one_segment(writer, segments: list) -> list:
    """Merge policy of a writer that makes one segment (a rebuild): merge in the adopted segments."""
    from whoosh.writing import OPTIMIZE

    return OPTIMIZE(writer, segments) if writer.adopted else segments


def _compact(writer, segments: list, before: set[str]) -> list:
    """Merge policy of a writer's last commit: its own earlier segments merged into the one
    it is writing, then the tiered merge over the rest."""
    from whoosh.reading import SegmentReader

    older = [seg for seg in segments if seg.segment_id() in before]
    for seg in segments:
        if seg.segment_id() not in before:
            reader = SegmentReader(writer.storage, writer.schema, seg)
            writer.add_reader(reader)
            reader.close()
    return tiered_merge(writer, older)


def tiered_merge(writer, segments: list, fan: int = 8) -> list:
    """Whoosh merge policy: merge segments of one size tier once ``fan`` of them exist.

    Tiers are powers of ``fan`` in live documents, so N documents make at most
    ``fan`` segments a tier and about log N tiers, and each document is
    rewritten about log N times. (Whoosh's default policy leaves segments of a
    few hundred documents alone until there are sixteen, then merges all.)
    Segments whose documents were all deleted are dropped.
    """
    from whoosh.reading import SegmentReader

    tiers: dict[int, list] = {}
    for seg in segments:
        live = seg.doc_count()
        tiers.setdefault(int(math.log(live, fan)) if live else -1, []).append(seg)
    kept = []
    for tier, segs in tiers.items():
        if tier >= 0 and len(segs) < fan:
            kept.extend(segs)
            continue
        for seg in segs:
            reader = SegmentReader(writer.storage, writer.schema, seg)
            writer.add_reader(reader)
            reader.close()
    return kept
