"""Validate sidecars against the schema and the vocabularies, in one place.

``tripkb meta check`` lists every problem of every sidecar; ingest and
``import-csv`` refuse a record with the very same message. Vocabulary problems
(an unknown organisation, country, category or region) are not type errors, so
``metadata`` accepts them: they are checked here, against the KB's vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MetadataError
from ..kb import KnowledgeBase
from ..reporting import Progress
from .sidecar import check_schema, load_sidecar, normalise
from .vocab import Vocabulary


@dataclass
class CheckReport:
    checked: int = 0
    problems: list[MetadataError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def files(self) -> int:
        """How many sidecars have at least one problem."""
        return len({p.path for p in self.problems})


def vocab_problems(record: dict[str, Any], where: str, lines: dict[str, int],
                   vocab: Vocabulary) -> list[MetadataError]:
    """What in a (type-checked) record the vocabularies do not know."""
    def problem(key: str, text: str) -> MetadataError:
        return MetadataError(where, text, key=key, line=lines.get(key))

    found = [problem("events", f"unknown organisation '{e}' (add it to vocab/orgs.yaml to use it)")
             for e in record.get("events", []) if vocab.org_code(e) is None]
    found += [problem("countries", f"unknown country '{c}' (add it to vocab/countries.yaml to use it)")
              for c in record.get("countries", []) if vocab.canonical_country(c) is None]
    category = record.get("category")
    if category and not vocab.is_category(category):
        found.append(problem("category", f"unknown category '{category}' "
                                         f"(expected one of {', '.join(vocab.categories)})"))
    region = record.get("region")
    if region and region not in vocab.regions:
        found.append(problem("region", f"unknown region '{region}' (expected one of {', '.join(vocab.regions)})"))
    elif region and record.get("countries"):
        theirs = {vocab.region_for_country(c) for c in record["countries"]} - {None}
        if theirs and region not in theirs:
            found.append(problem("region", f"'{region}' is not the region of "
                                           f"{'、'.join(record['countries'])} ({'、'.join(sorted(theirs))})"))
    return found


def validated(record: dict[str, Any], where: str, vocab: Vocabulary,
              lines: dict[str, int] | None = None, derived: bool = True) -> tuple[dict[str, Any], list[str]]:
    """The record normalised, or the first schema or vocabulary problem raised as MetadataError."""
    out, warnings = normalise(record, where, lines, derived)
    problems = vocab_problems(out, where, lines or {}, vocab)
    if problems:
        raise problems[0]
    return out, warnings


def read_valid_sidecar(path: Path, vocab: Vocabulary, derived: bool = True
                       ) -> tuple[dict[str, Any], list[str]]:
    """:func:`sidecar.read_sidecar` plus the vocabulary checks: what ingest accepts (of a
    sidecar of the user's, outside the KB, so a link to it is followed)."""
    data, lines = load_sidecar(path, follow=True)
    return validated(data, str(path), vocab, lines, derived)


def check_kb(kb: KnowledgeBase, progress: Progress | None = None) -> CheckReport:
    """Every problem of every sidecar in ``corpus/``, ordered by file and line."""
    vocab = Vocabulary.load(kb.root)
    report = CheckReport()
    ids: dict[str, str] = {}
    sidecars = list(kb.sidecars())
    for done, path in enumerate(sidecars, 1):
        where = kb.relative(path)
        report.checked += 1
        try:
            data, lines = load_sidecar(path)
        except MetadataError as exc:
            report.problems.append(MetadataError(where, exc.problem, exc.key, exc.line))
            continue
        record, warnings, errors = check_schema(data, where, lines)
        report.warnings += warnings
        report.problems += errors + vocab_problems(record, where, lines, vocab)
        doc_id = record.get("id") or path.stem
        if doc_id in ids:
            report.problems.append(MetadataError(where, f"'{doc_id}' is also the id of {ids[doc_id]}",
                                                 key="id", line=lines.get("id")))
        else:
            ids[doc_id] = where
        if progress:
            progress(done, len(sidecars), where)
    report.problems.sort(key=lambda p: (p.path, p.line or 0))
    return report
