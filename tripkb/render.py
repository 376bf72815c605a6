"""Rich rendering of library results for the terminal. Only the CLI imports this."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

HIGHLIGHT = "bold black on yellow"


def print_json(data: Any) -> None:
    """JSON on stdout, UTF-8 as is (no \\u escapes), for scripts."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _line(label: str, style: str, message: str) -> None:
    """One unwrapped line on stderr, so scripts and grep see the whole message."""
    if err.is_terminal:
        err.print(Text(label, style=style) + Text(message), soft_wrap=True)
    else:
        sys.stderr.write(f"{label}{message}\n")


def error(message: str) -> None:
    _line("Error: ", "bold red", message)


def warning(message: str) -> None:
    _line("Warning: ", "yellow", message)


def _marked(text: str, spans: list[tuple[int, int]], style: str = "") -> Text:
    t = Text(text, style=style)
    for start, end in spans:
        t.stylize(HIGHLIGHT, start, end)
    return t


def search_result(result, shown_query: str) -> None:
    if not result.hits:
        out.print(f"No documents match {escape(shown_query)}.")
        return
    more = f" (showing {len(result.hits)})" if result.total > len(result.hits) else ""
    noun = "document matches" if result.total == 1 else "documents match"
    out.print(Text(f"{result.total} {noun} ") + Text(shown_query, style="bold") + Text(more))
    for n, hit in enumerate(result.hits, 1):
        out.print()
        out.print(Text(f"{n:>2}. ", style="bold") + _marked(hit.title, hit.title_spans, "bold"))
        rec = hit.record
        facts = [hit.institution, str(hit.year) if hit.year else None, hit.type,
                 "、".join(rec.get("countries", [])) or None, " ".join(rec.get("events", [])) or None]
        out.print(Text("    " + " · ".join(f for f in facts if f), style="cyan")
                  + Text(f"  [{hit.id}]", style="dim"))
        where = (f"p. {', '.join(map(str, hit.pages))}" if hit.pages
                 else ("metadata only" if not hit.file else ""))
        line = Text("    ")
        if where:
            line += Text(where + "  ", style="green")
        line += _marked(hit.snippet, hit.snippet_spans)
        out.print(line)


def record(doc, first_page: str) -> None:
    rec = doc.record
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rec.items():
        if isinstance(value, list):
            value = "、".join(map(str, value))
        elif isinstance(value, dict):
            value = " – ".join(str(v) for v in value.values())
        table.add_row(key, str(value))
    out.print(table)
    if doc.file:
        out.print()
        out.print(Text("Page 1" if doc.paged else "Text", style="bold underline"))
        out.print(Text(first_page or "(no text on this page)"))


def doctor(components, formats: dict[str, bool]) -> None:
    out.print(Text("Formats: ", style="bold") + Text(" · ").join(
        Text(f"{name} ", style="") + Text("yes" if ok else "no", style="green" if ok else "red")
        for name, ok in formats.items()))
    width = max(len(f"{c.name} {c.version or ''}") for c in components) + 2
    for c in components:
        mark = Text("ok      ", style="green") if c.installed else Text("missing ", style="bold red")
        name = Text(f"{c.name} {c.version or ''}".strip().ljust(width))
        what = Text(c.enables) if c.installed else Text(f"{c.without} — {c.install}", style="yellow")
        out.print(mark + name + what)


def ingest_summary(report) -> None:
    parts = [f"{len(report.added)} added", f"{report.unchanged} unchanged"]
    synced = report.synced
    if synced and (synced.added or synced.updated or synced.removed):
        parts.append(f"index refreshed ({synced.added} new, {synced.updated} changed, "
                     f"{synced.removed} removed in corpus/)")
    if report.problems:
        parts.append(f"{len(report.problems)} failed")
    out.print("Ingest: " + ", ".join(parts) + ".")
    for path in report.added:
        out.print(f"  + {path}")


def sync_summary(report) -> None:
    out.print(f"Index: {report.added} added, {report.updated} updated, {report.removed} removed, "
              f"{report.unchanged} unchanged.")


@contextmanager
def progress_bar(label: str) -> Iterator:
    """A progress callback for the library: a bar on stderr once there is more than one item."""
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[item]}", style="dim"), TimeRemainingColumn(),
                   console=err, transient=True)
    task = None

    def update(done: int, total: int, item: str) -> None:
        nonlocal task
        if total <= 1 or not err.is_terminal:
            return
        if task is None:
            bar.start()
            task = bar.add_task(label, total=total, item="")
        bar.update(task, completed=done, item=item[-40:])

    try:
        yield update
    finally:
        if task is not None:
            bar.stop()
