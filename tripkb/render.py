"""Rich rendering of library results for the terminal. Only the CLI imports this."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text


out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

HIGHLIGHT = "bold black on yellow"

#: What a terminal may act on rather than show: C0 and C1 controls (ESC starts sequences that
#: set the clipboard, clear the screen or retitle the window), DEL, and the bidi controls that
#: reorder the text around them.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_CONTROLS}]")
_UNSAFE_LINE = re.compile(f"[{_CONTROLS}\n]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: Any, lines: bool = False) -> str:
    """``text`` fit for a terminal: every control character shown as a visible escape (\\x1b).

    Titles, snippets, file names and messages come from documents and sidecars
    that anyone may have written. ``lines`` keeps line breaks (page text); else
    they are escaped too, so that one item stays one line. Names that are not
    valid UTF-8 are shown with escapes too.
    """
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    return (_UNSAFE if lines else _UNSAFE_LINE).sub(_escape, text)


def terminal_text(data: bytes) -> None:
    """An export's bytes shown on a terminal: line breaks kept, every other control escaped."""
    sys.stdout.write(safe(data.decode("utf-8", "backslashreplace"), lines=True))
    sys.stdout.flush()


def plain_lines(lines: list[str]) -> None:
    """Text on stdout as given (no markup, no wrapping, controls escaped), one item a line."""
    sys.stdout.write("".join(safe(line) + "\n" for line in lines))


def export_summary(count: int, what: str, where: str | None) -> None:
    """On stderr, so that an export to standard output stays clean."""
    noun = "document" if count == 1 else "documents"
    err.print(Text(f"Exported {count} {noun} ({what})" + (f" to {safe(where)}." if where else ".")), soft_wrap=True)


def print_csv(text: str) -> None:
    sys.stdout.write(text)


def _line(label: str, style: str, message: str) -> None:
    """One unwrapped line on stderr, so scripts and grep see the whole message.

    File names that are not valid UTF-8, and control characters, are shown with escapes.
    """
    message = safe(message)
    if err.is_terminal:
        err.print(Text(label, style=style) + Text(message), soft_wrap=True)
    else:
        sys.stderr.write(f"{label}{message}\n")


def error(message: str) -> None:
    _line("Error: ", "bold red", message)


def warning(message: str) -> None:
    _line("Warning: ", "yellow", message)


#: Around a highlight when the output is not a terminal (a pipe, a file): colour is lost there.
MARKS = ("«", "»")
#: A hit's page list shows this many pages, then how many more.
MAX_PAGES = 5


def _marked(text: str, spans: list[tuple[int, int]], style: str = "") -> Text:
    """``text`` made safe with the spans highlighted: each piece is escaped on its own, so
    the spans still fit however the escapes lengthen the text. In colour on a terminal;
    elsewhere (a pipe, a file) between :data:`MARKS`, since colour is lost there."""
    marks = ("", "") if out.is_terminal else MARKS
    t = Text(style=style)
    at = 0
    for start, end in sorted(spans):
        if start < at:
            continue
        t.append(safe(text[at:start]))
        t.append(marks[0] + safe(text[start:end]) + marks[1], style=HIGHLIGHT if out.is_terminal else "")
        at = end
    t.append(safe(text[at:]))
    return t


def _pages(pages: list[int]) -> str:
    """p. 2, 3, 4, 5, 6 … and 245 more"""
    shown = ", ".join(map(str, pages[:MAX_PAGES]))
    return f"p. {shown} … and {len(pages) - MAX_PAGES} more" if len(pages) > MAX_PAGES else f"p. {shown}"


def search_result(result, shown_query: str) -> None:
    if not result.hits:
        out.print(Text(f"No documents match {safe(shown_query)}."))
        if result.suggestions:
            out.print(Text("Did you mean: ") + Text(" · ".join(map(safe, result.suggestions)), style="bold")
                      + Text("?"))
        for note in result.notes:
            out.print(Text(f"Note: {safe(note)}", style="yellow"))
        return
    more = f" (showing {len(result.hits)})" if result.total > len(result.hits) else ""
    noun = "document matches" if result.total == 1 else "documents match"
    out.print(Text(f"{result.total} {noun} ") + Text(safe(shown_query), style="bold") + Text(more))
    for note in result.notes:
        out.print(Text(f"Note: {safe(note)}", style="yellow"))
    for n, hit in enumerate(result.hits, 1):
        out.print()
        out.print(Text(f"{n:>2}. ", style="bold") + _marked(hit.title, hit.title_spans, "bold"))
        rec = hit.record
        facts = [hit.institution, str(hit.year) if hit.year else None, hit.type,
                 "、".join(map(str, rec.get("countries", []))) or None,
                 " ".join(map(str, rec.get("events", []))) or None]
        out.print(Text("    " + " · ".join(safe(f) for f in facts if f), style="cyan")
                  + Text(f"  [{safe(hit.id)}]", style="dim"))
        where = _pages(hit.pages) if hit.pages else ("metadata only" if not hit.file else "")
        line = Text("    ")
        if where:
            line += Text(where + "  ", style="green")
        line += _marked(hit.snippet, hit.snippet_spans)
        out.print(line)
        if hit.words_only:
            out.print(Text("    only the separate words of " + "、".join(map(safe, hit.words_only)) + ", not as written",
                           style="yellow"))


def record(doc, first_page: str) -> None:
    rec = doc.record
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rec.items():
        if key == "extracted" and isinstance(value, dict):  # which fields, not their fingerprints
            value = ", ".join(value) + " (read from the document)"
        elif key == "sections" and isinstance(value, list):  # a person's outline, shown in full below
            value = "、".join(f"{s.get('name')} p. {s.get('page')}" for s in value if isinstance(s, dict)) \
                or "none (the sidecar says the document has no outline)"
        elif isinstance(value, list):
            value = "、".join(map(str, value))
        elif isinstance(value, dict):
            value = " – ".join(str(v) for v in value.values())
        table.add_row(Text(safe(key)), Text(safe(value)))  # Text: a title's [bold] is shown, not obeyed
    out.print(table)
    if doc.file:
        out.print()
        out.print(Text("Page 1" if doc.paged else "Text", style="bold underline"))
        out.print(Text(safe(first_page, lines=True) if first_page else "(no text on this page)"))


def outline(sections, given: bool = False) -> None:
    """A document's sections with their pages, after its record; ``given``: as its sidecar lists them."""
    if not sections:
        return
    out.print()
    out.print(Text("Sections", style="bold underline") + Text(" (as the sidecar lists them)" if given else ""))
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(style="green", no_wrap=True)
    table.add_column(overflow="fold")
    for s in sections:
        pages = f"p. {s.start_page}" if s.start_page == s.end_page else f"p. {s.start_page}–{s.end_page}"
        table.add_row(s.name, pages, Text(safe(s.heading)))
    out.print(table)


def section_texts(texts) -> None:
    """The text of the sections asked for, each under its heading, with page numbers."""
    for n, item in enumerate(texts):
        if n:
            out.print()
        s = item.section
        out.print(Text(safe(s.heading), style="bold underline") + Text(f"  ({s.name})", style="cyan"))
        for page, text in item.parts:
            out.print(Text(f"p. {page}", style="green"))
            out.print(Text(safe(text.strip(), lines=True)))


def similar_result(result) -> None:
    """Reports like one, best first, each with why it was chosen."""
    if not result.similar:
        out.print(Text(f"No reports like {safe(result.id)} were found."))
        return
    out.print(Text("Reports like ") + Text(safe(result.title), style="bold")
              + Text(f"  [{safe(result.id)}]", style="dim"))
    for n, item in enumerate(result.similar, 1):
        out.print()
        out.print(Text(f"{n:>2}. ", style="bold") + Text(safe(item.title), style="bold")
                  + Text(f"  [{safe(item.id)}]", style="dim"))
        facts = [item.institution, str(item.year) if item.year else None]
        if any(facts):
            out.print(Text("    " + " · ".join(safe(f) for f in facts if f), style="cyan"))
        out.print(Text("    " + "; ".join(map(safe, item.reasons)), style="green"))


def brief(result) -> None:
    """The trip brief on one screen."""
    if not result.trips:
        out.print(Text("No reports match."))
        return
    out.print(Text(result.summary(), style="bold"))
    out.print()
    out.print(Text("Trips, newest first", style="bold underline"))
    table = _table()
    for name in ("year", "institution", "travellers", "destination", "report"):
        table.add_column(name, overflow="fold")
    for t in result.trips:
        table.add_row(str(t.year or ""), Text(safe(t.institution or "")), Text(safe("、".join(t.travellers))),
                      Text(safe("、".join(t.destination))), Text(safe(t.title)) + Text(f" [{safe(t.id)}]", style="dim"))
    out.print(table)
    out.print()
    out.print(Text("Who went (people to ask)", style="bold underline"))
    for inst, people in result.travellers.items():
        out.print(Text(f"  {safe(inst)}: ", style="cyan") + Text(safe("、".join(f"{n} ({c})" for n, c in people))))
    out.print()
    out.print(Text("Institutions visited", style="bold underline") + Text(f" ({result.visited_from()})", style="dim"))
    out.print(Text("  " + (safe("、".join(f"{n} ({c})" for n, c in result.visited)) or "(none named)")))
    out.print()
    out.print(Text("Recommendations, newest first", style="bold underline")
              + Text(f" ({result.recommendations_from()})", style="dim"))
    for r in result.recommendations:
        out.print(Text(f"  • {safe(r.text)} ") + Text(f"[{safe(r.id)} p. {r.page}]", style="dim"))
    if not result.recommendations:
        out.print(Text("  (no 建議 sections among these reports)"))
    out.print()
    out.print(Text("Characteristic terms", style="bold underline"))
    out.print(Text("  " + (safe("、".join(result.terms)) or "(none)")))


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
    if report.segments > 1:
        parts.append(f"index in {report.segments} segments")
    out.print("Ingest: " + ", ".join(parts) + ".")
    for path in report.added:
        out.print(Text(f"  + {safe(path)}"))


def sync_summary(report) -> None:
    out.print(f"Index: {report.added} added, {report.updated} updated, {report.removed} removed, "
              f"{report.unchanged} unchanged.")


def check_result(report) -> None:
    """Problems as plain 'file:line: key: problem' lines on stdout (for editors and grep), then a summary."""
    for problem in report.problems:
        out.print(Text(safe(problem)))
    checked = _count(report.checked, "sidecar")
    if report.problems:
        out.print(f"Checked {checked}: {_count(len(report.problems), 'problem')} "
                  f"in {_count(report.files, 'file')}.")
    else:
        out.print(f"Checked {checked}: all valid.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def extract_summary(report) -> None:
    out.print(f"Extract: {_count(len(report.changed), 'sidecar')} updated, {report.unchanged} unchanged"
              + (f", {len(report.problems)} failed." if report.problems else "."))
    for path in report.changed:
        out.print(Text(f"  ~ {safe(path)}"))


def import_summary(report) -> None:
    out.print(f"Import ({report.encoding}): {_count(report.rows, 'row')}, {report.added} added, "
              f"{report.unchanged} unchanged" + (f", {report.refused} refused." if report.refused else "."))
    if report.synced:
        sync_summary(report.synced)


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
        bar.update(task, completed=done, item=escape(safe(item[-40:])))

    try:
        yield update
    finally:
        if task is not None:  # stopping a bar that never started prints a stray blank line
            bar.stop()


# Statistics

CHART_WIDTH = 80
_EIGHTHS = " ▏▎▍▌▋▊▉"
_LEVELS = "▁▂▃▄▅▆▇█"


def _label(value: Any) -> str:
    from .query.stats import UNKNOWN

    return UNKNOWN if value is None else safe(value)


def _fit(text: str, width: int) -> Text:
    """``text`` cut (with …) or padded to exactly ``width`` terminal cells."""
    t = Text(text)
    t.truncate(width, overflow="ellipsis", pad=True)
    return t


def stats_result(result) -> None:
    """A ranked table for one field, a cross-tab for two, a plain list for more."""
    out.print(Text(_stats_title(result), style="bold"))
    if not result.cells:
        return
    flipped = False
    if len(result.by) == 1:
        table = _ranked_table(result)
    elif len(result.by) == 2:
        table, flipped = _fitting_cross_tab(result)
    else:
        table = _flat_table(result)
    out.print(table)
    if flipped:
        out.print(Text(f"({result.by[1]} down, {result.by[0]} across, to fit the terminal)", style="dim"))
    _stats_notes(result)


def _stats_title(result) -> str:
    noun = result.count if result.total != 1 else result.count.rstrip("s")
    by = f" by {' × '.join(result.by)}" if result.by else ""
    return f"{result.total} {noun}{by}"


def _stats_notes(result) -> None:
    if result.overlapping:
        out.print(Text("A document with several values of a field counts under each, so cells "
                       "can add up to more than the totals.", style="dim"))
    if result.uncounted:
        out.print(Text(f"{result.uncounted} matching document(s) give no number of participants "
                       "(counted as 0).", style="yellow"))


def _table(padding: tuple[int, ...] = (0, 1)) -> Table:
    """A table ruled under the header and above the totals, nothing else."""
    return Table(box=box.HORIZONTALS, show_footer=True, show_edge=False, pad_edge=False, padding=padding)


def _ranked_table(result) -> Table:
    from .query.stats import OTHER

    (name,), margin, total = result.by, result.margins[0], result.total
    table = _table()
    table.add_column(name, footer="合計")
    table.add_column(result.count, justify="right", footer=str(total))
    table.add_column("share", justify="right", footer="100.0%" if total else "–")
    for value in result.order[0]:
        n = margin.get(value, 0)
        style = "dim" if value is None or value == OTHER else ""
        table.add_row(Text(_label(value), style=style), str(n), f"{n / total:.1%}" if total else "–")
    return table


def _fitting_cross_tab(result) -> tuple[Table, bool]:
    """The cross-tab as asked, or with the years down the rows when years across are too wide.

    Year numbers cannot wrap; names in headers can, as in the paper's 表五.
    """
    table = _cross_tab(result, flip=False)
    if result.by[1] != "year" or out.measure(table, options=out.options.update_width(10_000)).maximum <= out.width:
        return table, False
    return _cross_tab(result, flip=True), True


def _cross_tab(result, flip: bool) -> Table:
    """Rows are the first --by field, columns the second (or the reverse); both margins totalled."""
    at = (1, 0) if flip else (0, 1)
    rows, cols = (result.order[i] for i in at)
    row_margin, col_margin = (result.margins[i] for i in at)
    table = _table(padding=(0, 0))
    table.add_column(result.by[at[0]], footer="合計", no_wrap=True)
    for col in cols:
        table.add_column(Text(_label(col)), justify="right", overflow="fold", footer=str(col_margin.get(col, 0)))
    table.add_column("合計", justify="right", footer=Text(str(result.total), style="bold"))
    for row in rows:
        keys = [(col, row) if flip else (row, col) for col in cols]
        cells = [result.cells.get(key, 0) for key in keys]
        table.add_row(Text(_label(row)), *(Text(str(n), style="dim" if not n else "") for n in cells),
                      Text(str(row_margin.get(row, 0)), style="bold"))
    return table


def _flat_table(result) -> Table:
    table = _table()
    for i, name in enumerate(result.by):
        table.add_column(name, footer="合計" if i == 0 else "")
    table.add_column(result.count, justify="right", footer=str(result.total))
    for key, n in result.rows:
        table.add_row(*(Text(_label(v)) for v in key), str(n))
    return table


def stats_chart(result) -> None:
    """Bars for one field; one sparkline per value for a field × year, in 80 columns."""
    out.print(Text(_stats_title(result), style="bold"))
    if not result.cells:
        return
    width = min(out.width, CHART_WIDTH)
    if len(result.by) == 1:
        _bars(result, width)
    else:
        _trend(result, width)
    _stats_notes(result)


def _bars(result, width: int) -> None:
    margin = result.margins[0]
    values = result.order[0]
    label_w = min(24, max(cell_len(_label(v)) for v in values))
    count_w = max(len(str(n)) for n in margin.values())
    bar_w = width - label_w - count_w - 2
    peak = max(margin.values())
    for value in values:
        n = margin.get(value, 0)
        eighths = round(n / peak * bar_w * 8) if peak else 0
        full, part = divmod(max(eighths, 1 if n else 0), 8)
        bar = "█" * full + (_EIGHTHS[part] if part else "")
        line = _fit(_label(value), label_w) + " " + Text(bar.ljust(bar_w), style="cyan")
        out.print(line + " " + Text(str(n).rjust(count_w)))


def _trend(result, width: int) -> None:
    """Each value of the other field as a line over the years, scaled to its own peak."""
    year_at = result.by.index("year")
    other_at = 1 - year_at
    years = [y for y in result.order[year_at] if y is not None]
    series = [("合計", {y: result.margins[year_at].get(y, 0) for y in years}, result.total)]
    for value in result.order[other_at]:
        key = (lambda y: (value, y)) if year_at == 1 else (lambda y: (y, value))
        series.append((_label(value), {y: result.cells.get(key(y), 0) for y in years},
                       result.margins[other_at].get(value, 0)))
    label_w = min(24, max(cell_len(name) for name, _, _ in series))
    count_w = max(len(str(total)) for _, _, total in series)
    step = max(1, min(4, (width - label_w - count_w - 2) // max(1, len(years))))
    gap = " " if step > 1 else ""
    if years:
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
        out.print(Text(f"per year, {span}; each line scaled to its own peak", style="dim"))
    for name, by_year, total in series:
        peak = max(by_year.values(), default=0)
        line = _fit(name, label_w) + " "
        for y in years:
            n = by_year[y]
            mark = _LEVELS[-(-n * len(_LEVELS) // peak) - 1] if n else "·"
            line += Text(mark * (step - len(gap)), style="cyan" if n else "dim") + gap
        out.print(line + Text(str(total).rjust(count_w + 1 - len(gap)),
                              style="bold" if name == "合計" else ""))
    if len(years) > 1:
        span = step * len(years) - len(gap)
        axis = str(years[0]) + str(years[-1]).rjust(span - len(str(years[0])))
        out.print(Text(" " * (label_w + 1) + axis, style="dim"))
    undated = result.margins[year_at].get(None)
    if undated:
        out.print(Text(f"{undated} {result.count} without a year are not drawn.", style="dim"))


SHELL_PROMPT = "tripkb> "


def shell_prompt(history_file, complete: Callable[[str], list[str]]) -> Callable[[], str]:
    """The shell's line reader (prompt_toolkit, loaded only here): history kept in
    ``history_file`` (None: for this session only), Tab completes with ``complete``
    (the line up to the cursor → what the word there may become). Lines piped in are read
    as they come, without a prompt, history or editing."""
    if not sys.stdin.isatty():
        return _piped_line
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer, Completion
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    class Candidates(Completer):
        def get_completions(self, document, complete_event):
            before = document.text_before_cursor
            word = before.split(" ")[-1]
            for candidate in complete(before):
                yield Completion(candidate, start_position=-len(word), display=safe(candidate))

    history = FileHistory(str(history_file)) if history_file else InMemoryHistory()
    session = PromptSession(history=history, completer=Candidates(), complete_while_typing=False)
    return lambda: session.prompt(SHELL_PROMPT)


def _piped_line() -> str:
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line


def shell_intro(kb_root, commands: dict[str, str]) -> None:
    out.print(Text(f"Searching {safe(kb_root)}. Type a query as after 'tripkb search', "
                   f"e.g. 年會 --org IFLA --since 2005; ", style="dim")
              + Text(" ".join(commands), style="dim bold") + Text("; Tab completes names.", style="dim"))


def shell_help(options: tuple[str, ...], fields: tuple[str, ...], commands: dict[str, str]) -> None:
    out.print(Text("A line is a query, as after 'tripkb search': words, \"a phrase\", OR, -word, field:word."))
    out.print(Text("Filters: ") + Text(" ".join(options), style="bold") + Text("  (e.g. --org IFLA --since 2005)"))
    out.print(Text("Fields: ") + Text(" ".join(f"{f}:" for f in fields), style="bold"))
    for name, what in commands.items():
        out.print(Text(f"{name:7} ", style="bold") + Text(what))
    out.print(Text("Tab completes organisations, institutions and countries after --org, --institution, "
                   "--country (or org:, institution:, country:), options and field names."))
