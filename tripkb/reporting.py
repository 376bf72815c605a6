"""What long work reports as it goes: how far it is, and the problems of single files that did
not stop it. The CLI draws the one and prints the other; the library only hands them on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


#: progress(done, total, label): how long work reports itself; the CLI draws it.
Progress = Callable[[int, int, str], None]


@dataclass
class Problem:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class SyncReport:
    """What bringing the index up to date with ``corpus/`` did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
