"""Many lookups in a row (``tripkb shell``): one line at a time, the index kept open between them.

A line is what follows ``tripkb search`` on the command line, typed as is: the query in
its own syntax ("quotes", OR, -word, field:word) and the same filter options
(``--org IFLA --since 2005``, ``--limit 5``). A line starting with ':' is a command of
the shell (:help, :quit). The terminal side (prompt, history, keys) is the CLI's.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..kb import KnowledgeBase
from .search import FIELD_ALIASES, QUERY_FIELDS, Filters, SearchResult, check_year, prepare_query, search_in

#: The options a line may hold: those of ``tripkb search`` that narrow or size the result.
FILTER_OPTIONS = ("--type", "--institution", "--org", "--country", "--region", "--category", "--sector",
                  "--since", "--until", "--section")
#: The filters whose value is a text, given as is to :class:`Filters`.
TEXT_FILTERS = FILTER_OPTIONS[:7]
LIMIT_OPTIONS = ("--limit", "-n")
COMMANDS = {":help": "what a line may hold", ":quit": "leave the shell (also Ctrl-D)"}
#: An option's value names a thing of this kind in the vocabulary; so does a query field.
NAME_KINDS = {"--org": "org", "--country": "country", "--institution": "institution",
              "org:": "org", "event:": "org", "events:": "org", "country:": "country",
              "countries:": "country", "institution:": "institution"}
_TOKEN = re.compile(r'"[^"]*"?|\S+')


@dataclass
class Line:
    """One line typed: a query with its filters and limit, or a shell command (``:quit``)."""

    query: str = ""
    filters: Filters = field(default_factory=Filters)
    limit: int = 10
    command: str | None = None


def parse_line(text: str, limit: int = 10) -> Line | None:
    """The line as a query and filters (None for a blank line), or a :class:`UsageError`.

    Words and "quoted phrases" are the query as written; a known option takes the next
    word (or ``--org=IFLA``) as its value, quotes removed. A query word that starts with
    '-' (-IFLA) stays a query word, as on the command line.
    """
    text = text.strip()
    if not text:
        return None
    if text.startswith(":"):
        command = text.split()[0].lower()
        if command in (":q", ":exit"):
            command = ":quit"
        if command not in COMMANDS:
            raise UsageError(f"unknown command {command}; commands are {', '.join(COMMANDS)}")
        return Line(command=command)
    words: list[str] = []
    values: dict[str, str] = {}
    tokens = iter(_TOKEN.findall(text))
    for token in tokens:
        name, equals, value = token.partition("=")
        if name not in FILTER_OPTIONS + LIMIT_OPTIONS:
            words.append(token)
            continue
        if not equals:
            value = next(tokens, "")
        value = value.strip('"')
        if not value:
            raise UsageError(f"{name} needs a value, e.g. {_EXAMPLES.get(name, name + ' 5')}")
        values["--limit" if name == "-n" else name] = value
    filters = Filters(**{name[2:]: value for name, value in values.items() if name in TEXT_FILTERS},
                      since=_year(values, "--since"), until=_year(values, "--until"),
                      section=values.get("--section"))
    if "--limit" in values:
        limit = _number(values["--limit"], "--limit")
    query = " ".join(words)
    if not query:
        raise UsageError("give a word or phrase to search for, e.g. 年會 --org IFLA")
    return Line(query=query, filters=filters, limit=limit)


_EXAMPLES = {"--org": "--org IFLA", "--country": "--country 美國", "--since": "--since 2005",
             "--until": "--until 2010", "--institution": "--institution 國家圖書館", "--type": "--type report",
             "--section": "--section 建議", "--sector": "--sector library", "--region": "--region 歐洲地區", "--category": "--category 開會"}


def _number(value: str, name: str) -> int:
    if not re.fullmatch(r"\d{1,9}", value):
        raise UsageError(f"{name} needs a whole number, not {value!r}")
    return int(value)


def _year(values: dict[str, str], name: str) -> int | None:
    if name not in values:
        return None
    return check_year(_number(values[name], name), f"{name} {values[name]}")


def completions(vocab, before_cursor: str) -> list[str]:
    """What the word being typed may become, given the line up to the cursor.

    After ``--org``, ``--country`` or ``--institution`` (or in ``org:``, ``country:``,
    ``institution:``): the names the vocabulary knows of that kind; a word starting
    with '--': the options; a word of Latin letters: the query's field names (``title:``).
    Names are offered whole, so one with a space comes in quotes.
    """
    tokens = before_cursor.split(" ")
    word = tokens[-1]
    previous = next((t for t in reversed(tokens[:-1]) if t), "") if len(tokens) > 1 else ""
    field, colon, rest = word.partition(":")
    if previous in NAME_KINDS and not word.startswith("-"):
        return _starting(vocab.names_of(NAME_KINDS[previous]), word.strip('"'), quote=True)
    if colon and f"{field.lower()}:" in NAME_KINDS:
        return [f"{field}:{n}" for n in _starting(vocab.names_of(NAME_KINDS[f"{field.lower()}:"]), rest)
                if " " not in n]
    if word.startswith("-") and len(word) > 1:
        return [o for o in FILTER_OPTIONS + LIMIT_OPTIONS if o.startswith(word)]
    if word.startswith(":"):
        return [c for c in COMMANDS if c.startswith(word)]
    if word and re.fullmatch(r"[A-Za-z_]+", word):
        fields = dict.fromkeys(QUERY_FIELDS + tuple(FIELD_ALIASES))
        return [f"{f}:" for f in fields if f.startswith(word.lower())]
    return []


def _starting(names: list[str], typed: str, quote: bool = False) -> list[str]:
    """The names that start with ``typed`` (case-blind), then those that contain it."""
    low = typed.casefold()
    first = [n for n in names if n.casefold().startswith(low)]
    inside = [n for n in names if low and low in n.casefold() and n not in first]
    return [f'"{n}"' if quote and " " in n else n for n in first + inside]


HISTORY_FILE = "shell_history"


def history_file() -> Path:
    """The shell's history (:func:`tripkb.fsutil.user_data_dir`), made if missing, readable by
    the user alone, never through a link: a :class:`UsageError` if it cannot be used so."""
    from ..fsutil import user_data_dir

    try:
        path = user_data_dir() / HISTORY_FILE
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600))
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise OSError(f"{path} is not a regular file")
    except OSError as exc:
        raise UsageError(f"the history is not kept: {exc.strerror or exc}"
                         + (f" ({exc.filename})" if exc.filename else "")) from None
    return path


class Session:
    """Lookups on one knowledge base, the index searcher kept open while the index is unchanged.

    Before each lookup the corpus is compared with the index as ``tripkb search`` does
    (a sidecar edited since the last line is searched as it now reads); the searcher is
    reopened only when the index has a new generation.
    """

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self._searcher = None

    def search(self, line: Line, progress=None) -> SearchResult:
        from ..index.freshness import refresh

        text, filters, filter_q = prepare_query(self.kb, line.query, line.filters, line.limit)
        synced = refresh(self.kb, progress)
        result = search_in(self._current(), self.kb, text, filters, filter_q, line.limit)
        result.problems = synced.problems if synced else []
        return result

    def vocabulary(self):
        from ..meta.vocab import Vocabulary

        return Vocabulary.load(self.kb.root)

    def _current(self):
        from ..index.schema import lengths_in_memory, open_index

        if self._searcher is not None and not self._searcher.up_to_date():
            self.close()
        if self._searcher is None:
            self._searcher = open_index(self.kb.index_dir).searcher()
            lengths_in_memory(self._searcher)
        return self._searcher

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
