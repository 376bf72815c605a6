"""Where a knowledge base lives and which files belong to it (docs/contracts.md §1)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import MetadataError, UsageError
from .extract import SUFFIXES

ENV_VAR = "TRIPKB_HOME"
#: What ingest takes in: whatever :mod:`tripkb.extract` has a reader for.
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
        60,000 sidecars. Symlinked folders are not followed (as rglob did not).
        """
        found: list[str] = []
        pending = [("", str(self.corpus))]
        while pending:
            prefix, folder = pending.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((f"{prefix}{entry.name}/", entry.path))
                    elif not entry.is_dir():  # a file, or a link to one (a broken link is reported later)
                        found.append(prefix + entry.name)
        return sorted(found)

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
                if candidate.exists():
                    return self.inside(candidate, sidecar, candidate.name)
            return None
        pure = PurePosixPath(file_value.replace("\\", "/"))
        if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
            raise MetadataError(str(sidecar), f"{file_value!r} is not a path inside corpus/ (refused)",
                                key="file")
        return self.inside(self.corpus.joinpath(*pure.parts), sidecar, file_value)

    def inside(self, path: Path, named_by: Path, shown: str) -> Path:
        """``path`` if it really lies in ``corpus/`` (symlinks resolved), else a refusal."""
        if not path.resolve().is_relative_to(self.corpus.resolve()):
            raise MetadataError(str(named_by), f"{shown!r} leads outside corpus/ (refused)",
                                key="file" if named_by != path else None)
        return path
