"""Where a knowledge base lives and which files belong to it (docs/contracts.md §1)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import MetadataError, UsageError
from .fsutil import NO_LINKS, link_on_the_way, not_regular
from .text.suffixes import SUFFIXES

ENV_VAR = "TRIPKB_HOME"
#: Where ingest makes a document and its sidecar whole before renaming them into ``corpus/``.
STAGING = ".staging"
#: What ingest takes in: whatever :mod:`tripkb.text.extract` has a reader for (:mod:`tripkb.text.suffixes`).
DOCUMENT_SUFFIXES = SUFFIXES


@dataclass(frozen=True)
class KnowledgeBase:
    root: Path

    @classmethod
    def locate(cls, kb: str | os.PathLike | None = None, create: bool = False) -> "KnowledgeBase":
        """``--kb DIR``, else ``$TRIPKB_HOME``, else the current directory.

        With ``create`` a missing ``corpus/`` is made (ingest starts a KB);
        otherwise a folder without one is refused with a hint.
        """
        chosen = kb or os.environ.get(ENV_VAR) or os.getcwd()
        root = Path(chosen).expanduser().absolute()
        base = cls(root)
        base.refuse_linked_parts()
        if not base.corpus.is_dir():
            if create:
                base.corpus.mkdir(parents=True, exist_ok=True)
            else:
                how = "--kb" if kb else (f"${ENV_VAR}" if os.environ.get(ENV_VAR) else "the current directory")
                raise UsageError(
                    f"no knowledge base at {root} (from {how}): it has no corpus/ folder; "
                    f"use --kb DIR or set {ENV_VAR}, or run 'tripkb ingest PATH' to start one"
                )
        return base

    def refuse_linked_parts(self) -> None:
        """:class:`UsageError` when a folder or file tripkb keeps in the KB is a symbolic link.

        A KB cloned from git can carry links: through ``corpus/.staging`` ingest
        would empty and write a folder anywhere, through ``.tripkb.lock`` truncate
        a file, through the others read or write what is not the KB's.
        """
        from .lock import LOCK_NAME
        from .meta.vocab import KB_VOCAB_DIR, KB_VOCAB_FILES

        parts = ["corpus", f"corpus/{STAGING}", "index", "cache", "cache/ocr", KB_VOCAB_DIR, LOCK_NAME]
        parts += [f"{KB_VOCAB_DIR}/{name}" for name in KB_VOCAB_FILES]
        for part in parts:
            if os.path.islink(self.root / part):
                raise UsageError(f"{part} in {self.root} is a symbolic link: tripkb follows no links inside a "
                                 "knowledge base (put the real folder or file there instead)")

    def check_output(self, path: Path, folder: bool = False) -> None:
        """:class:`UsageError` unless an export may write ``path``: a new path or a regular file
        (never a FIFO, link or device it would replace), outside the KB's corpus/, index/ and
        cache/. With ``folder``, ``path`` is a folder to write files into."""
        what = None if folder else not_regular(path)
        if what:
            raise UsageError(f"cannot write {path}: it is {what}, not a regular file (refused)")
        where = path.absolute().resolve()
        for part in ("corpus", "index", "cache"):
            if where.is_relative_to((self.root / part).resolve()):
                raise UsageError(f"cannot write {path}: it is inside the knowledge base's {part}/ folder (refused)")

    @property
    def corpus(self) -> Path:
        return self.root / "corpus"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def ocr_cache(self) -> Path:
        """OCR text by file SHA-256: derived like the index, kept apart so a rebuild reuses it."""
        return self.root / "cache" / "ocr"

    def relative(self, path: Path) -> str:
        """A path as shown to users and in JSON: relative to the KB root, with '/'."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def corpus_files(self) -> list[str]:
        """Every file in ``corpus/`` but hidden ones, as '/'-paths relative to it, in a stable order.

        One ``os.scandir`` walk of plain strings: every command scans the corpus
        first, and pathlib's rglob, sorting and suffix checks cost seconds on
        60,000 sidecars. Links are listed, never followed: reading one is refused
        later, with a message naming it.
        """
        return self._walk()[0]

    def corpus_links(self) -> list[str]:
        """Every symbolic link in ``corpus/`` (to a file or a folder, anywhere), as :meth:`corpus_files`."""
        return self._walk()[1]

    def corpus_files_and_folders(self) -> tuple[list[str], list[str]]:
        """:meth:`corpus_files`, and the folders they were listed from ('' for ``corpus/``,
        then 'sub/' …), from the same walk."""
        files, _, folders = self._walk()
        return files, folders

    def _walk(self) -> tuple[list[str], list[str], list[str]]:
        files: list[str] = []
        links: list[str] = []
        folders: list[str] = []
        pending = [("", str(self.corpus))]
        while pending:
            prefix, folder = pending.pop()
            folders.append(prefix)
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((f"{prefix}{entry.name}/", entry.path))
                        continue
                    files.append(prefix + entry.name)
                    if entry.is_symlink():
                        links.append(prefix + entry.name)
        return sorted(files), sorted(links), folders

    def sidecars(self) -> list[Path]:
        """Every sidecar in ``corpus/``, in a stable order."""
        return [self.corpus / name for name in self.corpus_files() if name.endswith(".yaml")]

    def document_path(self, sidecar: Path, file_value: str | None) -> Path | None:
        """The document a sidecar describes, refusing any path that leaves ``corpus/``.

        ``file:`` is relative to ``corpus/``; without it, a document of the same
        stem beside the sidecar is used; with neither, the record is metadata-only.
        """
        if file_value is None:
            for suffix in DOCUMENT_SUFFIXES:
                candidate = sidecar.with_suffix(suffix)
                if os.path.lexists(candidate):
                    return self.inside(candidate, sidecar, candidate.name)
            return None
        pure = PurePosixPath(file_value.replace("\\", "/"))
        if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
            raise MetadataError(str(sidecar), f"{file_value!r} is not a path inside corpus/ (refused)",
                                key="file")
        return self.inside(self.corpus.joinpath(*pure.parts), sidecar, file_value)

    def inside(self, path: Path, named_by: Path, shown: str) -> Path:
        """``path`` if it lies in ``corpus/`` with no symbolic link on the way and is a regular
        file (or nothing yet: a missing file is the caller's to report), else a refusal."""
        key = "file" if named_by != path else None
        if not path.is_relative_to(self.corpus) or ".." in path.relative_to(self.corpus).parts:
            raise MetadataError(str(named_by), f"{shown!r} leads outside corpus/ (refused)", key=key)
        link = link_on_the_way(self.corpus, path)
        if link is not None:
            how = "is a symbolic link" if link == path else \
                f"is reached through the symbolic link {self.relative(link)}"
            raise MetadataError(str(named_by), f"{shown!r} {how} ({NO_LINKS}; refused)", key=key)
        if not_regular(path):
            raise MetadataError(str(named_by), f"{shown!r} is not a regular file (refused)", key=key)
        return path
