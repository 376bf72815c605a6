"""Fill sidecar fields from the document, and refresh them later, without ever overriding a person.

The rule, which the sidecar itself records: every value tripkb writes is
listed under ``extracted:`` with a fingerprint of that value::

    extracted: {title: 1a2b3c4d, authors: 5e6f7a8b, year: 9c0d1e2f}

A field is tripkb's while its value still has that fingerprint, and a later
extraction (``tripkb meta extract``) may then replace it. A field that is not
listed, or whose value no longer matches its fingerprint because a person
edited it, is the person's: it is never overwritten, and its stale entry is
dropped. To keep a value tripkb wrote without editing it, delete its entry
from ``extracted``; to hand a field back to tripkb, delete the field.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .sidecar import KEYS, derive, to_json

#: Fields a later extraction may refresh while they are still tripkb's.
REFRESHABLE = ("type", "title", "authors", "institution", "category", "events", "countries",
               "trip", "report_date", "keywords", "abstract", "participants")
#: Fields implied by others: recomputed when what implies them is refreshed.
DERIVED = ("year", "region", "participants")


def fingerprint(value: Any) -> str:
    """Eight hex digits that change whenever the value does (dates compared as ISO text)."""
    text = json.dumps(to_json(value), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def owned(record: dict[str, Any]) -> set[str]:
    """The fields tripkb wrote and no person has changed since."""
    marks = record.get("extracted") or {}
    return {key for key, mark in marks.items() if key in record and fingerprint(record[key]) == mark}


def fill(record: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """``record`` (as the sidecar says it, not derived) with ``found`` wherever that is allowed.

    A missing field is filled; a field still tripkb's is refreshed (or kept when
    nothing is found for it now); a person's field is left alone. ``id`` is only
    ever filled, never replaced: other records may refer to it.
    """
    mine = owned(record)
    out = {k: v for k, v in record.items() if not (k in mine and k in DERIVED)}
    written: set[str] = set()
    for key, value in found.items():
        refresh = key in REFRESHABLE and key in mine
        if key not in out or refresh:
            out[key] = value
            if key != "id":
                written.add(key)
    before = set(out)
    derive(out)
    written |= set(out) - before
    marks = {key: mark for key, mark in (record.get("extracted") or {}).items() if key in mine}
    marks.update((key, fingerprint(out[key])) for key in written)
    out.pop("extracted", None)
    if marks:
        out["extracted"] = {key: marks[key] for key in KEYS if key in marks}
    return {k: out[k] for k in KEYS if k in out} | {k: v for k, v in out.items() if k not in KEYS}
