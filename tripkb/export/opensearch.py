"""The path to a cluster: OpenSearch/Elasticsearch bulk data, index mapping and query translation.

A cluster has no jieba with tripkb's dictionary and no character bigrams that
fold Traditional into Simplified, so tripkb analyses the text itself and
sends tokens. Each searchable field is exported twice, as the index has it:
``title`` (jieba words) and ``title_g`` (bigrams), as space-separated tokens.
Tokens that tripkb puts at the same position (a word and the shorter words
inside it; a bigram and a run's edge character) travel joined by ``|`` and a
``pattern_capture`` filter splits them back at one position, so phrase
queries line up exactly as in tripkb. :func:`query_dsl` turns a tripkb query
and filters into the equivalent query DSL over these fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import QueryError, UsageError
from ..fsutil import open_atomic, write_text_atomic
from ..index.analysis import gram_tokens, word_tokens
from ..index.schema import GRAM_SUFFIX, KEYWORD_FIELDS, LIST_FIELDS, NUMBER_FIELDS, TEXT_FIELDS, text_values
from ..meta.vocab import Vocabulary
from ..query.search import Filters, parse
from ..query.selection import Selected

INDEX = "tripkb"
SAME_POSITION = "|"
BULK_FILE = "bulk.ndjson"
MAPPING_FILE = "mapping.json"
#: Long enough for any token group tripkb makes; the whitespace tokenizer would cut at 255.
MAX_TOKEN_LENGTH = 4096


def token_string(tokens: Iterable[tuple[str, int, int, int]]) -> str:
    """tripkb's ``(token, position, start, end)`` stream as text a whitespace tokenizer reads back."""
    groups: dict[int, list[str]] = {}
    for text, pos, _start, _end in tokens:
        group = groups.setdefault(pos, [])
        if text not in group:
            group.append(text)
    return " ".join(SAME_POSITION.join(groups[pos]) for pos in sorted(groups))


def document(item: Selected, vocab: Vocabulary | None = None) -> dict[str, Any]:
    """The source document of one record: pre-analysed text, exact-match fields, and what to display."""
    record = item.record
    doc: dict[str, Any] = {}
    for name, folded in text_values(record, item.stored.text).items():
        doc[name] = token_string(word_tokens(folded))
        doc[name + GRAM_SUFFIX] = token_string(gram_tokens(folded))
    for name in KEYWORD_FIELDS:
        if record.get(name):
            doc[name] = str(record[name])
    for name in LIST_FIELDS:
        if record.get(name):
            doc[name] = [v.lower() for v in record[name]] if name == "events" else list(record[name])
    for name in NUMBER_FIELDS:
        if isinstance(record.get(name), int):
            doc[name] = record[name]
    if record.get("institution"):  # as the index has it, for --sector in query_dsl
        doc["sector"] = (vocab or Vocabulary.load()).sector(record["institution"])
    doc["display"] = {"record": record, "file": item.stored.file,
                      "pages": item.stored.pages() if item.stored.file else []}
    return doc


def bulk_lines(items: Sequence[Selected], index: str = INDEX, vocab: Vocabulary | None = None) -> Iterator[str]:
    """Action line, then document, for each record (the ``_bulk`` API's NDJSON)."""
    for item in items:
        yield json.dumps({"index": {"_index": index, "_id": item.id}}, ensure_ascii=False)
        yield json.dumps(document(item, vocab), ensure_ascii=False)


def mapping() -> dict[str, Any]:
    """The body of ``PUT /tripkb``: analysis settings and a strict mapping of every exported field."""
    text = {"type": "text", "analyzer": "tripkb_tokens", "search_analyzer": "tripkb_query"}
    properties: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        properties[name] = dict(text)
        properties[name + GRAM_SUFFIX] = dict(text)
    for name in KEYWORD_FIELDS + LIST_FIELDS + ("sector",):
        properties[name] = {"type": "keyword"}
    for name in NUMBER_FIELDS:
        properties[name] = {"type": "integer"}
    properties["display"] = {"type": "object", "enabled": False}
    return {
        "settings": {"analysis": {
            "tokenizer": {"tripkb_whitespace": {"type": "whitespace", "max_token_length": MAX_TOKEN_LENGTH}},
            "filter": {"tripkb_same_position": {"type": "pattern_capture", "preserve_original": False,
                                                "patterns": [f"([^{SAME_POSITION}]+)"]}},
            "analyzer": {
                "tripkb_tokens": {"type": "custom", "tokenizer": "tripkb_whitespace",
                                  "filter": ["tripkb_same_position"]},
                "tripkb_query": {"type": "custom", "tokenizer": "tripkb_whitespace"},
            },
        }},
        "mappings": {"dynamic": "strict", "properties": properties},
    }


def write(items: Sequence[Selected], folder: Path, vocab: Vocabulary | None = None,
          index: str = INDEX) -> tuple[Path, Path]:
    """Write ``bulk.ndjson`` and ``mapping.json`` into ``folder`` (made if missing)."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--output {folder} is a file; --format opensearch writes two files "
                         f"({BULK_FILE}, {MAPPING_FILE}) into a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    bulk, mapping_file = folder / BULK_FILE, folder / MAPPING_FILE
    with open_atomic(bulk) as out:
        for line in bulk_lines(items, index, vocab or Vocabulary.load()):
            out.write(line.encode("utf-8") + b"\n")
    write_text_atomic(mapping_file, json.dumps(mapping(), ensure_ascii=False, indent=2) + "\n")
    return bulk, mapping_file


# --- the same queries on the cluster --------------------------------------------------------------


def query_dsl(text: str | None = None, filters: Filters | None = None) -> dict[str, Any]:
    """The ``_search`` body that asks the cluster what ``tripkb search TEXT`` with ``filters`` asks."""
    from whoosh import query as Q

    wanted = parse(text).query if text is not None else Q.Every()
    clause: dict[str, Any] = {"must": [_dsl(wanted)]}
    filter_q = (filters or Filters()).query()
    if filter_q is not None:
        clause["filter"] = [_dsl(filter_q)]
    return {"query": {"bool": clause}}


def _boosted(body: dict[str, Any], boost: float) -> dict[str, Any]:
    if boost != 1.0:
        body["boost"] = boost
    return body


def _field_boost(field: str) -> float:
    return TEXT_FIELDS.get(field.removesuffix(GRAM_SUFFIX), 1.0)


def _dsl(q) -> dict[str, Any]:
    """One Whoosh query node as OpenSearch query DSL (the subset tripkb's parser produces)."""
    from whoosh import query as Q

    boost = getattr(q, "boost", 1.0)
    if isinstance(q, Q.Every):
        return {"match_all": {}}
    if isinstance(q, Q.WrappingQuery):  # tripkb's literal-first ranking (see literal.Plus): the match is the child's
        return _dsl(q.child)
    if isinstance(q, Q.Not):
        return {"bool": {"must_not": [_dsl(q.query)]}}
    if isinstance(q, Q.AndNot):
        return {"bool": {"must": [_dsl(q.a)], "must_not": [_dsl(q.b)]}}
    if isinstance(q, Q.AndMaybe):
        return {"bool": {"must": [_dsl(q.a)], "should": [_dsl(q.b)]}}
    if isinstance(q, Q.And):
        return {"bool": _boosted({"must": [_dsl(k) for k in q.subqueries]}, boost)}
    if isinstance(q, Q.Or):
        return {"bool": _boosted({"should": [_dsl(k) for k in q.subqueries], "minimum_should_match": 1}, boost)}
    if isinstance(q, Q.NumericRange):
        bounds = {("gt" if q.startexcl else "gte"): q.start, ("lt" if q.endexcl else "lte"): q.end}
        return {"range": {q.fieldname: {k: v for k, v in bounds.items() if v is not None}}}
    field = getattr(q, "fieldname", None)
    weight = boost * _field_boost(field or "")
    if isinstance(q, Q.Term):
        return {"term": {field: _boosted({"value": q.text}, weight)}}
    if isinstance(q, Q.Phrase):
        return {"match_phrase": {field: _boosted({"query": " ".join(q.words)}, weight)}}
    if isinstance(q, Q.Prefix):
        return {"prefix": {field: _boosted({"value": q.text}, weight)}}
    if isinstance(q, Q.Wildcard):
        return {"wildcard": {field: _boosted({"value": q.text}, weight)}}
    raise QueryError(f"this query cannot be sent to OpenSearch: {q}")
