"""The domain vocabulary: organisations, countries and regions, institutions, categories.

Trip reports name the same thing many ways (IFLA, WLIC, 國際圖書館協會聯盟,
国际图书馆协会联盟; 美國, USA, 美国; 國立臺中圖書館 before 2013), and the
statistics are only right when they all count as one.  Shipped data lives in
``tripkb/data``; a KB may add to it in ``<KB>/vocab/``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from tripkb.errors import MetadataError
from tripkb.meta.fold_names import fold_key, fold_text, simplify
from tripkb.meta.vocab_files import (SECTORS, Country, FormerName, Institution, Org, kb_file, read_categories,
                                     read_countries, read_institutions, read_orgs, shipped)

KB_VOCAB_DIR = "vocab"
KB_VOCAB_FILES = ("orgs.yaml", "countries.yaml", "institutions.yaml")

_ACRONYM = re.compile(r"[A-Z][A-Z0-9&]+")
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")
# Between the countries of a list: punctuation (after NFKC), then spaces and conjunctions.
_COUNTRY_LIST_SEP = re.compile(r"[、,;/|()\[\]【】「」『』:]+")
_COUNTRY_GAP = re.compile(r"[\s及与與和暨跟&+]+")
# A name in the library sector (圖書館, 圖書館學, 圖書資訊, 檔案, and the mainland's 图书情报 and
# 图书信息), read in Simplified lower case; Latin names by Library, Libraries, Librarians, Archives.
_LIBRARY_NAME = re.compile(r"图书馆|图书资讯|图书信息|图书情报|档案|(?<![a-z])librar|(?<![a-z])archives(?![a-z])")


class _Names:
    """Folded names → what they name; a name may not name two different things."""

    def __init__(self, keys: dict[str, str] | None = None):
        self.keys: dict[str, str] = dict(keys or {})

    def add(self, names: tuple[str, ...], target: str, label: str, key: str) -> None:
        for name in names:
            if not name:
                continue
            other = self.keys.setdefault(fold_key(name), target)
            if other != target:
                raise MetadataError(label, f"'{name}' already names {other}", key=key)


class Vocabulary:
    """Lookups from any way of writing a name to the canonical one.

    Every lookup is case-, width- and Traditional/Simplified-blind (臺 = 台 = 台).
    Build one with :meth:`load`.
    """

    def __init__(self, regions: list[str], categories: list[str]):
        self._regions = tuple(regions)
        self._categories = tuple(categories)
        self._category_keys = {fold_key(c): c for c in categories}
        self._orgs: dict[str, Org] = {}
        self._org_names = _Names()
        self._countries: dict[str, Country] = {}
        self._country_names = _Names()
        self._not_countries: tuple[str, ...] = ()
        self._institutions: dict[str, Institution] = {}
        self._institution_names = _Names()
        self._spellings: dict[str, str] = {}  # folded name → the name it spells
        self._org_pattern: re.Pattern[str] | None = None
        self._country_pattern: _ByFirst | None = None

    @classmethod
    def load(cls, kb_root: Path | None = None) -> Vocabulary:
        """The shipped vocabulary, extended by the KB's ``vocab/*.yaml`` files if any.

        Raises MetadataError naming the file for a malformed file or a name that
        would mean two things.
        """
        base = _shipped()
        if kb_root is None:
            return base
        files = [Path(kb_root) / KB_VOCAB_DIR / name for name in KB_VOCAB_FILES]
        present = [path for path in files if path.is_file()]
        if not present:
            return base
        # One command reads the vocabulary in several places (filters, query, known items);
        # the files are read once while they stay as they are.
        stamp = tuple((str(path), st.st_mtime_ns, st.st_size) for path, st in ((p, p.lstat()) for p in present))
        if stamp not in _KB_VOCABULARIES:
            vocab = base._copy()
            for path in present:
                vocab._add(path.name, str(path), kb_file(path))
            _KB_VOCABULARIES.clear()  # the last KB's only: a long session sees its edits
            _KB_VOCABULARIES[stamp] = vocab
        return _KB_VOCABULARIES[stamp]

    # Organisations and conferences

    def org_code(self, name: str) -> str | None:
        """The canonical code for any code, name or alias of an organisation."""
        return self._org_names.keys.get(fold_key(name))

    def org(self, name: str) -> Org | None:
        """The organisation any of whose names is ``name``."""
        code = self.org_code(name)
        return self._orgs[code] if code else None

    @property
    def orgs(self) -> tuple[Org, ...]:
        return tuple(self._orgs.values())

    def org_pattern(self) -> re.Pattern[str]:
        """One pattern for every organisation's names, made when first needed (a lookup needs none)."""
        if self._org_pattern is None:
            names = {n for org in self._orgs.values() for n in org.names() if n}
            self._org_pattern = _alternation(names, acronyms_exact=True)
        return self._org_pattern

    def detect_orgs(self, text: str) -> list[str]:
        """Codes of the organisations a title, keyword list or abstract mentions, in order.

        Latin names match as whole words (CALA does not contain ALA, HTML not MLA),
        and all-capital ones only in capitals, so prose such as "ala" is not read as ALA.
        """
        found: list[str] = []
        for m in self.org_pattern().finditer(fold_text(text)):
            code = self._org_names.keys[fold_key(m.group())]
            if code not in found:
                found.append(code)
        return found

    # Countries and regions

    @property
    def regions(self) -> tuple[str, ...]:
        """The regions, in the order the seed paper's tables use."""
        return self._regions

    def canonical_country(self, name: str) -> str | None:
        """The Traditional Chinese name (美國) for any name of a country (USA, 美国)."""
        return self._country_names.keys.get(fold_key(name))

    def country(self, name: str) -> Country | None:
        canonical = self.canonical_country(name)
        return self._countries[canonical] if canonical else None

    def region_for_country(self, name: str) -> str | None:
        found = self.country(name)
        return found.region if found else None

    def country_name_pairs(self) -> list[tuple[str, str]]:
        """Each country's Taiwan and mainland names (義大利, 意大利), for the countries that have both:
        two spellings of one name, unlike an alias, which may name a place in the country."""
        return [(c.name, c.zh_hans) for c in self._countries.values() if c.zh_hans]

    def countries_from_text(self, text: str) -> list[str]:
        """Canonical names of the countries a 派赴國家 field lists, in order.

        Items are separated by 、,，/ ; brackets, spaces or 及/與/和; an item may
        go on with a place after the country (南非德班 → 南非, 美國紐約 → 美國).
        """
        if self._country_pattern is None:
            names = {n for c in self._countries.values() for n in c.names() if n}
            self._country_pattern = _ByFirst(names | set(self._not_countries))
        found: list[str] = []
        for piece in _COUNTRY_LIST_SEP.split(simplify(text)):
            pos = 0
            while pos < len(piece):
                gap = _COUNTRY_GAP.match(piece, pos)
                if gap:
                    pos = gap.end()
                    continue
                m = self._country_pattern.match(piece, pos)
                name = self._country_names.keys.get(fold_key(m.group())) if m else None
                if name and name not in found:
                    found.append(name)
                gap = _COUNTRY_GAP.search(piece, m.end() if m else pos)
                pos = gap.end() if gap else len(piece)
        return found

    # Institutions

    def canonical_institution(self, name: str, year: int | None = None,
                              historical: bool = False) -> str:
        """The institution's current name for any of its names, past or present.

        With ``historical``, the name it bore in ``year`` instead (國立臺中圖書館 for
        2009, 國立公共資訊圖書館 for 2015), or without a year the name as written,
        spelled canonically. Before a merger the current name stands for the merged
        whole unless ``name`` named one of them. Unknown names come back stripped.
        """
        key = fold_key(name)
        target = self._institution_names.keys.get(key)
        if target is None:
            return name.strip()
        institution = self._institutions[target]
        if not historical:
            return institution.name
        written = self._spellings[key]
        if year is None:
            return written
        in_use = institution.names_in(year)
        if written in in_use:
            return written
        return in_use[0] if len(in_use) == 1 else institution.name

    def known_institution(self, name: str) -> str | None:
        """The current name of the institution ``name`` names, None for a name not known."""
        target = self._institution_names.keys.get(fold_key(name))
        return self._institutions[target].name if target else None

    def all_names(self) -> list[str]:
        """Every name of every organisation, country and institution, as written."""
        return list(dict.fromkeys(n for kind in ("org", "country", "institution") for n in self.names_of(kind)))

    def names_of(self, kind: str) -> list[str]:
        """Every name of every thing of ``kind`` (org, country or institution), as written."""
        things = {"org": self._orgs, "country": self._countries}.get(kind)
        if things is not None:
            names = [n for thing in things.values() for n in thing.names()]
        else:
            names = [n for inst in self._institutions.values() for _, spelled in inst.spellings() for n in spelled]
        return [n for n in dict.fromkeys(names) if n]

    def folded_names(self) -> dict[str, tuple[str, str]]:
        """Every known name's fold key → (kind, canonical value): kind is org, country or institution."""
        out: dict[str, tuple[str, str]] = {}
        for kind, names in (("institution", self._institution_names), ("country", self._country_names),
                            ("org", self._org_names)):
            for key, target in names.keys.items():
                out[key] = (kind, self._institutions[target].name if kind == "institution" else target)
        return out

    def sector(self, name: str) -> str:
        """The sector of the institution ``name`` names: as its vocabulary entry declares it,
        else ``library`` when one of its names (current, English, or ``name`` itself for an
        institution not known) is a library's, archive's or library school's, else ``other``."""
        target = self._institution_names.keys.get(fold_key(name))
        institution = self._institutions[target] if target else None
        if institution is not None and institution.sector:
            return institution.sector
        names = (institution.name, institution.en) if institution else (name,)
        return SECTORS[0] if any(_LIBRARY_NAME.search(simplify(n).casefold()) for n in names if n) else SECTORS[1]

    def institution_names(self) -> tuple[str, ...]:
        """Every name of every known institution, longest first (to find one inside running text)."""
        names = {name for inst in self._institutions.values() for _, spelled in inst.spellings()
                 for name in spelled if name}
        return tuple(sorted(names, key=lambda n: (-len(n), n)))

    # Categories

    @property
    def categories(self) -> tuple[str, ...]:
        """The 出國類別, in the government's order."""
        return self._categories

    def canonical_category(self, name: str) -> str | None:
        return self._category_keys.get(fold_key(name))

    def is_category(self, name: str) -> bool:
        return self.canonical_category(name) is not None

    # Building

    def _copy(self) -> Vocabulary:
        other = Vocabulary(list(self._regions), list(self._categories))
        other._orgs = dict(self._orgs)
        other._org_names = _Names(self._org_names.keys)
        other._countries = dict(self._countries)
        other._country_names = _Names(self._country_names.keys)
        other._not_countries = self._not_countries
        other._institutions = dict(self._institutions)
        other._institution_names = _Names(self._institution_names.keys)
        other._spellings = dict(self._spellings)
        return other

    def _add(self, file_name: str, label: str, data: Any) -> None:
        """Add one vocabulary file's entries, extending those already known."""
        if file_name == "orgs.yaml":
            for i, org in enumerate(read_orgs(label, data)):
                self._add_org(org, label, f"orgs[{i}]")
        elif file_name == "countries.yaml":
            regions, countries, not_countries = read_countries(label, data)
            if regions and tuple(regions) != self._regions:
                raise MetadataError(label, f"the regions are fixed: {', '.join(self._regions)}",
                                    key="regions")
            for i, country in enumerate(countries):
                self._add_country(country, label, f"countries[{i}]")
            self._not_countries += tuple(not_countries)
        else:
            for i, institution in enumerate(read_institutions(label, data)):
                self._add_institution(institution, label, f"institutions[{i}]")

    def _add_org(self, org: Org, label: str, key: str) -> None:
        existing = self._orgs.get(org.code)
        merged = existing.extended(org) if existing else org
        self._org_names.add(merged.names(), merged.code, label, key)
        self._orgs[merged.code] = merged

    def _add_country(self, country: Country, label: str, key: str) -> None:
        if country.region is not None and country.region not in self._regions:
            raise MetadataError(label, f"expected one of {', '.join(self._regions)}",
                                key=f"{key}.region")
        target = self._country_names.keys.get(fold_key(country.name))
        merged = self._countries[target].extended(country) if target else country
        self._country_names.add(merged.names(), merged.name, label, key)
        self._countries[merged.name] = merged

    def _add_institution(self, institution: Institution, label: str, key: str) -> None:
        target = self._institution_names.keys.get(fold_key(institution.name))
        if target:
            existing = self._institutions[target]
            written = self._spellings[fold_key(institution.name)]
            if written != existing.name:  # an entry for a former name extends that name
                former = next(f for f in existing.former if f.name == written)
                institution = Institution(existing.name, former=(
                    FormerName(written, former.renamed_in, (institution.name, *institution.aliases)),
                    *institution.former), sector=institution.sector)
            institution = existing.extended(institution)
        for spelled, names in institution.spellings():
            self._institution_names.add(names, institution.name, label, key)
            for name in names:
                if name:
                    self._spellings.setdefault(fold_key(name), spelled)
        self._institutions[institution.name] = institution


#: A KB's vocabulary by the stamps of its files (see :meth:`Vocabulary.load`).
_KB_VOCABULARIES: dict[tuple, Vocabulary] = {}


@lru_cache(maxsize=1)
def _shipped() -> Vocabulary:
    """The vocabulary shipped with tripkb, read once per process."""
    countries_label, countries = shipped("countries.yaml")
    regions = read_countries(countries_label, countries)[0]
    vocab = Vocabulary(regions, read_categories(*shipped("categories.yaml")))
    vocab._add("countries.yaml", countries_label, countries)
    for name in ("orgs.yaml", "institutions.yaml"):
        vocab._add(name, *shipped(name))
    return vocab


class _ByFirst:
    """Names matched where a text's item starts, each first character's names compiled into one
    pattern when first needed: all 1,268 country names in one pattern took 80 ms to compile in
    every worker of an ingest, for covers that name a country or two."""

    def __init__(self, names: set[str]):
        self._names: dict[str, set[str]] = {}
        for name in {fold_text(n) for n in names}:
            for c in {name[0], name[0].lower(), name[0].upper()}:
                self._names.setdefault(c, set()).add(name)
        self._patterns: dict[str, re.Pattern[str]] = {}

    def match(self, text: str, pos: int) -> re.Match[str] | None:
        """The longest name at ``pos``, as :func:`_alternation`'s pattern of all names matches it."""
        first = text[pos:pos + 1]
        pattern = self._patterns.get(first)
        if pattern is None:
            if first not in self._names:
                return None
            pattern = self._patterns[first] = _alternation(self._names[first], acronyms_exact=False)
        return pattern.match(text, pos)


def _alternation(names: set[str], acronyms_exact: bool) -> re.Pattern[str]:
    """One pattern for all names, longest first, Latin ones bounded as whole words.

    With ``acronyms_exact``, all-capital names (IFLA, ASIS&T) match only in capitals.
    """
    alternatives = []
    firsts: set[str] = set()
    for name in sorted({fold_text(n) for n in names}, key=lambda n: (-len(n), n)):
        firsts |= {name[0], name[0].lower(), name[0].upper()}
        body = r"\s+".join(re.escape(word) for word in name.split())
        if not (acronyms_exact and _ACRONYM.fullmatch(name)):
            body = f"(?i:{body})"
        if _ASCII_ALNUM.match(name[0]):
            body = r"(?<![A-Za-z])" + body
        if _ASCII_ALNUM.match(name[-1]):
            body += r"(?![A-Za-z])"
        alternatives.append(body)
    # Python's re tries every alternative at every position; a look-ahead for the
    # possible first characters skips most positions at once.
    first = "".join(sorted(re.escape(c) for c in firsts))
    return re.compile(f"(?=[{first}])(?:{'|'.join(alternatives)})")
