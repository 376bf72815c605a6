"""The vocabulary files: reading, checking and the entries they hold.

Shipped files and a KB's own files share one format, so one strict reader
serves both; a typo in a KB file (``alias:`` for ``aliases:``) is an error
naming the file and key rather than a name silently not recognised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from tripkb.errors import MetadataError
from tripkb.fsutil import read_regular
from tripkb.meta.sidecar import load_yaml, safe_loader


@dataclass(frozen=True)
class Org:
    """An organisation or conference series, known by its code."""

    code: str
    name: str = ""
    kind: str = ""  # "organisation" or "conference"
    zh: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    succeeded_by: str | None = None  # ECDL continues as TPDL …
    succeeded_in: int | None = None  # … from 2011

    def names(self) -> tuple[str, ...]:
        return (self.code, self.name, *self.zh, *self.aliases)

    def extended(self, other: Org) -> Org:
        """This entry with what a later file adds or changes."""
        return replace(
            self,
            name=other.name or self.name,
            kind=other.kind or self.kind,
            zh=_union(self.zh, other.zh),
            aliases=_union(self.aliases, other.aliases),
            succeeded_by=other.succeeded_by or self.succeeded_by,
            succeeded_in=other.succeeded_in or self.succeeded_in,
        )


@dataclass(frozen=True)
class Country:
    """A country or territory; ``name`` is the Traditional Chinese one tripkb stores."""

    name: str
    region: str | None = None
    iso: str = ""
    en: str = ""
    zh_hans: str = ""
    aliases: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        return (self.name, self.iso, self.en, self.zh_hans, *self.aliases)

    def extended(self, other: Country) -> Country:
        extra = (other.name,) if other.name != self.name else ()
        return replace(
            self,
            region=other.region or self.region,
            iso=other.iso or self.iso,
            en=other.en or self.en,
            zh_hans=other.zh_hans or self.zh_hans,
            aliases=_union(self.aliases, extra + other.aliases),
        )


@dataclass(frozen=True)
class FormerName:
    """A name an institution had until ``renamed_in`` (the first year under the next)."""

    name: str
    renamed_in: int
    aliases: tuple[str, ...] = ()


#: The sectors an institution can be declared in (``sector:``); the library sector is
#: libraries, library-school departments and library associations (and archives).
SECTORS = ("library", "other")


@dataclass(frozen=True)
class Institution:
    """A reporting institution under its current name, with the names it had before."""

    name: str
    en: str = ""
    aliases: tuple[str, ...] = ()
    former: tuple[FormerName, ...] = ()
    sector: str = ""  # one of SECTORS when declared; else the name decides (Vocabulary.sector)

    def spellings(self) -> list[tuple[str, tuple[str, ...]]]:
        """Each name it has had, current first, with the other ways of writing it."""
        current = (self.name, (self.name, self.en, *self.aliases))
        return [current] + [(f.name, (f.name, *f.aliases)) for f in self.former]

    def names_in(self, year: int) -> list[str]:
        """The names in use in ``year``: several only just before a merger."""
        names = []
        for f in self.former:
            since = max((g.renamed_in for g in self.former if g.renamed_in < f.renamed_in),
                        default=None)
            if (since is None or since <= year) and year < f.renamed_in:
                names.append(f.name)
        if year >= max((f.renamed_in for f in self.former), default=year):
            names.append(self.name)
        return names

    def extended(self, other: Institution) -> Institution:
        extra = (other.name,) if other.name != self.name else ()
        former = {f.name: f for f in self.former}
        for f in other.former:
            old = former.get(f.name)
            former[f.name] = replace(f, aliases=_union(old.aliases, f.aliases)) if old else f
        return replace(
            self,
            en=other.en or self.en,
            aliases=_union(self.aliases, extra + other.aliases),
            former=tuple(sorted(former.values(), key=lambda f: f.renamed_in)),
            sector=other.sector or self.sector,
        )


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a + b))


def shipped(name: str) -> tuple[str, Any]:
    """A shipped data file's label for messages and its parsed content."""
    source = resources.files("tripkb") / "data" / name
    label = f"tripkb/data/{name}"
    if not isinstance(source, Path):  # inside a zip: no stamp to trust a copy by
        return label, _load(source.read_text(encoding="utf-8"), label)
    return label, _parsed_via_copy(source, label)


def _parsed_via_copy(source: Path, label: str) -> Any:
    """The YAML's content, from a JSON copy in the user's cache while the file is unchanged
    (its size and modification time, :func:`_via_copy`)."""
    import zlib

    info = source.stat()
    return _via_copy(f"{source.stem}-{zlib.crc32(str(source).encode()):08x}.json",
                     [str(source), info.st_size, info.st_mtime_ns],
                     lambda: _load(source.read_text(encoding="utf-8"), label))


def _via_copy(name: str, stamp: list, parse: Callable[[], Any]) -> Any:
    """What ``parse`` gives, from a JSON copy ``name`` in the user's cache while ``stamp`` is unchanged.

    Every lookup needs the vocabulary, and libyaml parses the files many times slower
    than json reads the same content (and loading yaml itself costs a lookup time).
    A file whose content JSON cannot hold as YAML gave it (dates, keys that are not
    texts) is not copied.
    """
    import json

    from tripkb.fsutil import user_cache_dir, write_text_atomic

    copy = None
    try:
        copy = user_cache_dir() / "vocab" / name
        saved = json.loads(copy.read_text(encoding="utf-8"))
        if saved["stamp"] == stamp:
            return saved["data"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    data = parse()
    if copy is not None:
        try:
            text = json.dumps({"stamp": stamp, "data": data}, ensure_ascii=False)
            if json.loads(text)["data"] == data:
                copy.parent.mkdir(exist_ok=True)
                write_text_atomic(copy, text, durable=False)
        except (OSError, TypeError, ValueError):  # a read-only cache: parsed again next time
            pass
    return data


def kb_file(path: Path) -> Any:
    """A KB vocabulary file's parsed content (None when empty), from a JSON copy while the
    file's content is the same (its length and CRC-32 with its path: :func:`_via_copy`)."""
    import zlib

    try:
        raw = read_regular(path)  # a link was refused with the KB (kb.refuse_linked_parts)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MetadataError(str(path), f"cannot read the file ({exc})") from None
    where = str(Path(path).absolute())
    return _via_copy(f"kb-{path.stem}-{zlib.crc32(where.encode()):08x}.json", [where, len(raw), zlib.crc32(raw)],
                     lambda: _load(text, str(path)))


def _load(text: str, label: str) -> Any:
    return load_yaml(text, label, safe_loader())


class _Reader:
    """Checks one file's content against the expected shape, naming what is wrong."""

    def __init__(self, label: str, data: Any, section: str, allowed: set[str]):
        self.label = label
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise MetadataError(label, f"expected a mapping with the key '{section}'")
        unknown = set(data) - allowed - {section}
        if unknown:
            raise MetadataError(label, f"unknown key (expected {', '.join(sorted(allowed | {section}))})",
                                key=str(sorted(unknown, key=str)[0]))
        self.data = data

    def entries(self, section: str, required: str, optional: set[str]) -> list[tuple[str, dict]]:
        """The section's entries with where each is (orgs[3]), checked for their keys."""
        checked = []
        for i, item in enumerate(self.list_of(self.data.get(section) or [], section, dict)):
            where = f"{section}[{i}]"
            unknown = set(item) - optional - {required}
            if unknown:
                raise MetadataError(self.label, f"unknown key (expected {', '.join(sorted(optional | {required}))})",
                                    key=f"{where}.{sorted(unknown, key=str)[0]}")
            if not isinstance(item.get(required), str) or not item[required].strip():
                raise MetadataError(self.label, "required, a non-empty text", key=f"{where}.{required}")
            checked.append((where, item))
        return checked

    def list_of(self, value: Any, key: str, kind: type) -> list:
        """A list of ``kind`` (a lone text counts as a list of one), stripped."""
        if isinstance(value, str) and kind is str:
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
            what = "mappings" if kind is dict else "texts"
            raise MetadataError(self.label, f"expected a list of {what}", key=key)
        return [v.strip() for v in value] if kind is str else value

    def text(self, item: dict, key: str, where: str) -> str:
        value = item.get(key, "")
        if value is None:
            return ""
        if not isinstance(value, str):
            raise MetadataError(self.label, "expected a text", key=f"{where}.{key}")
        return value.strip()

    def strings(self, item: dict, key: str, where: str) -> tuple[str, ...]:
        return tuple(s for s in self.list_of(item.get(key) or [], f"{where}.{key}", str) if s)

    def year(self, value: Any, key: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not 1000 <= value <= 9999:
            raise MetadataError(self.label, "expected a 4-digit year", key=key)
        return value


def read_orgs(label: str, data: Any) -> list[Org]:
    r = _Reader(label, data, "orgs", set())
    orgs = []
    for where, item in r.entries("orgs", "code", {"name", "kind", "zh", "aliases", "succeeded_by"}):
        kind = r.text(item, "kind", where)
        if kind not in ("", "organisation", "conference"):
            raise MetadataError(label, "expected organisation or conference", key=f"{where}.kind")
        successor, since = None, None
        if item.get("succeeded_by") is not None:
            succ = item["succeeded_by"]
            if not isinstance(succ, dict) or set(succ) != {"code", "year"} or not isinstance(succ["code"], str):
                raise MetadataError(label, "expected {code: CODE, year: YEAR}", key=f"{where}.succeeded_by")
            successor = succ["code"].strip().upper()
            since = r.year(succ["year"], f"{where}.succeeded_by.year")
        orgs.append(Org(
            code=item["code"].strip().upper(),
            name=r.text(item, "name", where),
            kind=kind,
            zh=r.strings(item, "zh", where),
            aliases=r.strings(item, "aliases", where),
            succeeded_by=successor,
            succeeded_in=since,
        ))
    return orgs


def read_countries(label: str, data: Any) -> tuple[list[str], list[Country], list[str]]:
    """Regions (shipped file only), countries, and place names that are not countries."""
    r = _Reader(label, data, "countries", {"regions", "not_countries"})
    regions = list(r.list_of(r.data.get("regions") or [], "regions", str))
    blockers = list(r.list_of(r.data.get("not_countries") or [], "not_countries", str))
    countries = []
    for where, item in r.entries("countries", "name", {"region", "iso", "en", "zh_hans", "aliases"}):
        countries.append(Country(
            name=item["name"].strip(),
            region=r.text(item, "region", where) or None,
            iso=r.text(item, "iso", where).upper(),
            en=r.text(item, "en", where),
            zh_hans=r.text(item, "zh_hans", where),
            aliases=r.strings(item, "aliases", where),
        ))
    return regions, countries, blockers


def read_institutions(label: str, data: Any) -> list[Institution]:
    r = _Reader(label, data, "institutions", set())
    institutions = []
    for where, item in r.entries("institutions", "name", {"en", "aliases", "former", "sector"}):
        sector = r.text(item, "sector", where)
        if sector not in ("", *SECTORS):
            raise MetadataError(label, f"expected {' or '.join(SECTORS)}", key=f"{where}.sector")
        former = []
        for j, f in enumerate(r.list_of(item.get("former") or [], f"{where}.former", dict)):
            fwhere = f"{where}.former[{j}]"
            if set(f) - {"name", "renamed_in", "aliases"} or not isinstance(f.get("name"), str):
                raise MetadataError(label, "expected name, renamed_in and optional aliases", key=fwhere)
            former.append(FormerName(f["name"].strip(), r.year(f.get("renamed_in"), f"{fwhere}.renamed_in"),
                                     r.strings(f, "aliases", fwhere)))
        institutions.append(Institution(
            name=item["name"].strip(),
            en=r.text(item, "en", where),
            aliases=r.strings(item, "aliases", where),
            former=tuple(sorted(former, key=lambda f: f.renamed_in)),
            sector=sector,
        ))
    return institutions


def read_categories(label: str, data: Any) -> list[str]:
    r = _Reader(label, data, "categories", set())
    return list(r.list_of(r.data.get("categories") or [], "categories", str))
