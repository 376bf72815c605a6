"""The YAML sidecar: read it safely, check its types, derive what it implies, write it back.

A sidecar is the human-editable truth about one document (docs/contracts.md §2). Reading
never drops a key: unknown keys are kept and reported as warnings. Every error
names the file, the key and what was expected.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from collections.abc import Callable
from typing import Any


from ..errors import DateError, MetadataError
from ..fsutil import NO_LINKS, Refused, read_regular, write_text_atomic

TYPES = ("report", "paper", "poster", "slides", "other")

#: Sidecar keys in the order they are written.
KEYS = (
    "id", "type", "title", "authors", "institution", "category", "events", "countries",
    "region", "trip", "report_date", "year", "keywords", "abstract", "participants",
    "language", "source", "file", "sha256", "pages", "sections", "ocr", "extracted",
)
LIST_KEYS = ("authors", "events", "countries", "keywords")
TEXT_KEYS = ("id", "title", "institution", "category", "region", "abstract", "language", "source")
#: A sidecar larger than this many KB is refused unread: a record is a few KB.
MAX_SIDECAR_KB = int(os.environ.get("TRIPKB_MAX_SIDECAR_KB", "1024"))
_LIST_SPLIT = re.compile(r"\s*[、,，;；]\s*")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: The largest number a sidecar may hold: what every JSON reader and OpenSearch's ``long`` take.
MAX_NUMBER = 2**63 - 1
#: The largest count of pages or participants (the index holds them in 32 bits).
MAX_COUNT = 2**31 - 1
#: How deeply lists and mappings may nest in a sidecar.
MAX_DEPTH = 64


# YAML is loaded only when a sidecar or vocabulary file is read or written: a lookup
# reads neither (the shipped vocabulary comes from a JSON copy), and yaml costs it time.
@lru_cache(maxsize=1)
def safe_loader() -> type:
    """libyaml's safe loader where PyYAML has it: parses seven times faster than the pure-Python one."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=1)
def _loader() -> type:
    """:func:`safe_loader` for sidecars (a catalogue makes 60,000 of them), dates kept as text
    so that :mod:`tripkb.meta.dates` reads them: an impossible date (2007-02-30) then gets
    the same precise message as 民國96年2月30日."""
    class Loader(safe_loader()):  # type: ignore[misc]
        pass

    Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_yaml_str)
    return Loader


def yaml_ready() -> None:
    """Make the sidecar reader and writer in this process (see :func:`tripkb.ingest.worker_segments.before_fork`)."""
    _loader()
    _dumper()


@lru_cache(maxsize=1)
def _dumper() -> type:
    """libyaml's safe dumper, never writing anchors and aliases: a value used twice is written
    twice, as a person editing the sidecar expects (and, tracking no objects, it is faster)."""
    import yaml

    class Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return Dumper


def read_sidecar(path: Path, derived: bool = True) -> tuple[dict[str, Any], list[str]]:
    """Load and check one sidecar; return (normalised record, warnings).

    With ``derived=False`` the record holds only what the file says, so that a
    caller filling it in can tell a person's year from one implied by the trip.
    """
    data, lines = load_sidecar(path)
    return normalise(data, str(path), lines, derived)


def load_sidecar(path: Path, follow: bool = False) -> tuple[dict[str, Any], dict[str, int]]:
    """The sidecar's mapping as YAML gives it, and the line of each key; unchecked.

    A link or a FIFO is refused unopened; ``follow`` reads through a link, for a
    sidecar of the user's beside a document being ingested (never one in the KB).
    Bounded whatever the file holds: one larger than :data:`MAX_SIDECAR_KB` is
    refused unread, and one with YAML anchors or aliases before they are
    expanded (nine levels of ten aliases make a billion values).
    """
    try:
        raw = read_regular(path, follow, limit=MAX_SIDECAR_KB * 1024 + 1)
    except Refused as exc:
        why = f"is a symbolic link ({NO_LINKS}; refused)" if exc.reason == "a symbolic link" else \
            "not a regular file (refused)"
        raise MetadataError(str(path), why) from None
    except OSError as exc:
        raise MetadataError(str(path), f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_SIDECAR_KB * 1024:
        raise MetadataError(str(path), f"larger than the limit of {MAX_SIDECAR_KB} KB for a sidecar "
                                       "(refused unread; set TRIPKB_MAX_SIDECAR_KB to allow more)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MetadataError(str(path), "not UTF-8 text") from None
    return parse_sidecar(text, str(path)), _key_lines(text)


def parse_sidecar(text: str, where: str) -> dict[str, Any]:
    """The mapping a sidecar's text holds, or a :class:`MetadataError` naming ``where``.

    YAML can write what no record holds and some readers choke on (a number of
    5,000 digits, an alias bomb); those are refused here, one line naming the file.
    """
    data = load_yaml(text, where, _loader())
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MetadataError(where, f"expected a mapping of keys to values, found {_kind(data)}")
    return data


def load_yaml(text: str, where: str, loader: type) -> Any:
    """``text`` read by a safe ``loader``; anything it cannot read is a :class:`MetadataError`
    naming ``where``, never a crash: besides YAML's own errors, its constructors raise
    ValueError, KeyError or IndexError on a tagged value they cannot make (``!!int abc``,
    ``!!bool maybe``, an integer of more than 4,300 digits). Anchors and aliases are refused
    before anything is built: nine levels of ten aliases make a billion values."""
    import yaml

    try:
        _refuse_aliases(text, where, loader)
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise MetadataError(where, f"not valid YAML: {problem}", line=mark.line + 1 if mark else None) from None
    except RecursionError:
        raise MetadataError(where, "not valid YAML: lists or mappings nested too deeply") from None
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        limit = sys.get_int_max_str_digits()
        problem = f"a number of more than {limit} digits" if f"({limit} digits)" in str(exc) \
            else f"a tagged value that cannot be read ({type(exc).__name__}: {exc})"
        raise MetadataError(where, f"not valid YAML: {problem}") from None


def _refuse_aliases(text: str, where: str, loader: type) -> None:
    """Refuse a YAML anchor (&name) or alias (*name) from the parser's events, before anything
    is built; only a text with '&' or '*' in it can hold one, so most sidecars skip the pass."""
    if "&" not in text and "*" not in text:
        return
    import yaml

    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise MetadataError(where, "holds a YAML anchor or alias (&name, *name), which a sidecar may "
                                           "not use: write each value out", line=event.start_mark.line + 1)


def _key_lines(text: str) -> dict[str, int]:
    """Line number of each top-level key, so errors can say file:line."""
    lines: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^([A-Za-z_][\w-]*)\s*:", line)
        if m:
            lines.setdefault(m.group(1), n)
    return lines


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number",
            bool: "true/false", set: "a set (!!set)", bytes: "binary data (!!binary)"}.get(
        type(value), type(value).__name__)


def _unfit(value: Any) -> str | None:
    """What in ``value`` no record may hold, named, or None: every value of a sidecar,
    known key or not, ends up in JSON output, the index and exports, so only what JSON
    holds is taken (plus the dates :mod:`tripkb.dates` gives)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"lists or mappings nested more than {MAX_DEPTH} deep"
        if isinstance(item, float) and not math.isfinite(item):
            return f"{'-' if item < 0 else ''}.{'nan' if math.isnan(item) else 'inf'}"
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_NUMBER:
            return f"a number larger than {MAX_NUMBER}"
        if isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif not isinstance(item, (str, int, float, type(None), dt.date)):
            return _kind(item)
    return None


def normalise(data: dict[str, Any], where: str, lines: dict[str, int] | None = None,
              derived: bool = True) -> tuple[dict[str, Any], list[str]]:
    """Check types and fill derived fields (year, region, participants); raise the first error.

    Returns a new dict: known keys in :data:`KEYS` order, then unknown keys.
    """
    record, warnings, errors = check_schema(data, where, lines, derived)
    if errors:
        raise errors[0]
    return record, warnings


def check_schema(data: dict[str, Any], where: str, lines: dict[str, int] | None = None,
                 derived: bool = True) -> tuple[dict[str, Any], list[str], list[MetadataError]]:
    """Every type error of a sidecar, not just the first, so ``meta check`` can list them all.

    Returns (normalised record without the bad keys, warnings, errors).
    """
    lines = lines or {}
    out: dict[str, Any] = {}
    errors: list[MetadataError] = []
    unfit = {key: why for key, value in data.items()
             if (type(key) is not str or type(value) is not str) and (why := _unfit([key, value]))}
    for key in KEYS:
        value = data.get(key)
        if value is None or value == "":
            continue
        try:
            fail = _failure(where, key, lines.get(key))
            if key in unfit:
                raise fail(f"expected {_EXPECTED.get(key, 'text')}, found {unfit[key]}, which no record can hold")
            out[key] = _CHECKS[key](value, fail)
        except MetadataError as exc:
            errors.append(exc)
    errors += [MetadataError(where, f"found {why}, which no record can hold", key=str(key), line=lines.get(str(key)))
               for key, why in unfit.items() if key not in KEYS]
    beyond = [s for s in out.get("sections", []) if isinstance(out.get("pages"), int) and s["page"] > out["pages"]]
    if beyond:
        errors.append(MetadataError(where, f"{beyond[0]['name']} on page {beyond[0]['page']}, but the document "
                                           f"has {out['pages']} pages", key="sections", line=lines.get("sections")))
        del out["sections"]
    warnings = [f"{where}: {key}: unknown key (kept)" for key in data if key not in KEYS and key not in unfit]
    if derived:
        derive(out)
    ordered = {k: out[k] for k in KEYS if k in out}
    ordered.update((k, v) for k, v in data.items() if k not in KEYS and k not in unfit)
    return ordered, warnings, errors


Fail = Callable[[str], MetadataError]


def _failure(where: str, key: str, line: int | None) -> Fail:
    return lambda problem: MetadataError(where, problem, key=key, line=line)


def _id(value: Any, fail: Fail) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # an id such as 1234 that YAML read as a number
    return _text(value, fail)


def _text(value: Any, fail: Fail) -> str:
    if not isinstance(value, str):
        raise fail(f"expected text, found {_kind(value)}")
    return value.strip()


def _type(value: Any, fail: Fail) -> str:
    if value not in TYPES:
        raise fail(f"expected one of {', '.join(TYPES)}, found {value!r}")
    return value


def _names(value: Any, fail: Fail) -> list[str]:
    if isinstance(value, str):
        value = [v for v in _LIST_SPLIT.split(value.strip()) if v]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool)
                                              for v in value):
        raise fail(f"expected a list of names, found {_kind(value)}")
    return [str(v).strip() for v in value if str(v).strip()]


def _trip(value: Any, fail: Fail) -> dict[str, dt.date]:
    if not isinstance(value, dict):
        raise fail(f"expected {{start: DATE, end: DATE}}, found {_kind(value)}")
    start, end = _date(value.get("start"), fail), _date(value.get("end"), fail)
    if start and end and end < start:
        raise fail(f"end {end} is before start {start}")
    return {k: v for k, v in (("start", start), ("end", end)) if v}


def _whole(value: Any, fail: Fail) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail(f"expected a whole number, found {value!r}")
    if value > MAX_COUNT:
        raise fail(f"expected a whole number, found {value} (more than {MAX_COUNT})")
    return value


def _year(value: Any, fail: Fail) -> int:
    if not 1900 <= _whole(value, fail) <= 2200:
        raise fail(f"expected a year such as 2007, found {value}")
    return value


def _file(value: Any, fail: Fail) -> str:
    if not isinstance(value, str):
        raise fail(f"expected a file name relative to corpus/, found {_kind(value)}")
    return value


def _sha256(value: Any, fail: Fail) -> str:
    if not isinstance(value, str) or not _SHA256.match(value):
        raise fail("expected 64 lower-case hexadecimal digits")
    return value


def _extracted(value: Any, fail: Fail) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
            k in KEYS and isinstance(v, str) for k, v in value.items()):
        raise fail("expected a mapping of field names to fingerprints, e.g. {title: 1a2b3c4d}")
    return dict(value)


def _ocr(value: Any, fail: Fail) -> dict[str, Any]:
    """``{engine: tesseract 5.3.0, languages: chi_tra+eng, pages: [1, 2]}``: which pages OCR read, and with what."""
    expected = "expected {engine: NAME VERSION, pages: [PAGE, ...]}"
    if not isinstance(value, dict) or not isinstance(value.get("engine"), str):
        raise fail(f"{expected}, found {_kind(value)}")
    pages = value.get("pages", [])
    if not isinstance(pages, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0
                                              for n in pages):
        raise fail(f"{expected}: pages must be a list of page numbers from 1, found {pages!r}")
    languages = value.get("languages")
    if languages is not None and not isinstance(languages, str):
        raise fail(f"{expected}: languages must be text such as chi_tra+eng, found {_kind(languages)}")
    return dict(value)


def _sections(value: Any, fail: Fail) -> list[dict[str, Any]]:
    """``[{name: 目的, page: 3}, {name: 建議, page: 9, heading: 伍、未來展望}]``: a person's outline,
    which replaces the recognised one; ``[]`` says the document has none. Names are those
    ``show`` prints (an alias such as 建議事項 or Recommendations is taken as its name), pages
    in order; ``heading``, the start of the heading's line, places a section within its page."""
    from ..text.sections import ALIASES, canonical

    expected = "expected a list of {name: SECTION, page: PAGE} in page order, e.g. [{name: 目的, page: 3}]"
    if not isinstance(value, list):
        raise fail(f"{expected}, found {_kind(value)}")
    out: list[dict[str, Any]] = []
    for n, item in enumerate(value, 1):
        if not isinstance(item, dict) or not {"name", "page"} <= set(item) <= {"name", "page", "heading"}:
            found = f"the keys {', '.join(map(str, item))}" if isinstance(item, dict) else _kind(item)
            raise fail(f"item {n}: {expected} (and, if need be, heading: TEXT), found {found}")
        name = canonical(item["name"]) if isinstance(item["name"], str) else None
        if name is None:
            raise fail(f"item {n}: unknown section {item['name']!r} (expected one of {'、'.join(ALIASES)})")
        page = item["page"]
        if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= MAX_COUNT:
            raise fail(f"item {n} ({name}): expected a page number from 1, found {page!r}")
        if out and page < out[-1]["page"]:
            raise fail(f"item {n} ({name}): page {page} comes before page {out[-1]['page']} of "
                       f"{out[-1]['name']}: list the sections in page order")
        heading = item.get("heading")
        if heading is not None and (not isinstance(heading, str) or not heading.strip() or len(heading) > 80):
            found = repr(heading) if isinstance(heading, str) else _kind(heading)
            raise fail(f"item {n} ({name}): expected the heading as written, at most 80 characters, found {found}")
        out.append({"name": name, "page": page, **({"heading": heading.strip()} if heading is not None else {})})
    return out


def _date(value: Any, fail: Fail) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise fail(f"expected a date such as 2007-06-21, found {_kind(value)}")
    from .dates import parse_date

    try:
        return parse_date(value)
    except DateError as exc:
        raise fail(str(exc)) from None


#: What a key holds, for the message about a value no record can hold.
_EXPECTED = {"authors": "a list of names", "events": "a list of names", "countries": "a list of names",
             "keywords": "a list of names", "trip": "{start: DATE, end: DATE}", "year": "a year",
             "participants": "a whole number", "pages": "a whole number", "ocr": "{engine: NAME, pages: [...]}",
             "extracted": "a mapping of field names to fingerprints",
             "sections": "a list of {name: SECTION, page: PAGE}"}

_CHECKS: dict[str, Callable[[Any, Fail], Any]] = {
    **{key: _text for key in TEXT_KEYS}, "id": _id, **{key: _names for key in LIST_KEYS},
    "type": _type, "trip": _trip, "report_date": _date, "year": _year,
    "participants": _whole, "pages": _whole, "file": _file, "sha256": _sha256,
    "ocr": _ocr, "extracted": _extracted, "sections": _sections,
}


def derive(record: dict[str, Any]) -> None:
    """Fill fields implied by others, never overwriting what is there."""
    if "year" not in record:
        start = record.get("trip", {}).get("start")
        if start:
            record["year"] = start.year
        elif record.get("report_date"):
            record["year"] = record["report_date"].year
        elif record.get("id"):
            from .dates import year_from_id

            year = year_from_id(record["id"])
            if year:
                record["year"] = year
    if "participants" not in record and record.get("authors"):
        record["participants"] = len(record["authors"])
    if "region" not in record and record.get("countries"):
        from .vocab import Vocabulary

        region = Vocabulary.load().region_for_country(record["countries"][0])
        if region:
            record["region"] = region


def to_json(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON-ready copy: dates as ISO strings."""
    def conv(v: Any) -> Any:
        if isinstance(v, (dt.date, dt.datetime)):
            return v.isoformat()
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return conv(record)


def dump(record: dict[str, Any]) -> str:
    import yaml

    return yaml.dump(record, Dumper=_dumper(), allow_unicode=True, sort_keys=False, width=1000)


def write_sidecar(path: Path, record: dict[str, Any], durable: bool = True) -> None:
    write_text_atomic(path, dump(record), durable)
