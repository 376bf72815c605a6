"""Analysis done in the reading processes: the same postings as Whoosh's own, and the same index."""

import pickle

from tripkb.index.postings import Analysed
from tripkb.index.schema import TEXT_FIELDS, create_index, document_fields, schema
from tripkb.text.normalise import match_form

from reports import ALA_2008, IFLA_2007, MAINLAND_PAPER

TEXTS = [match_form(t) for t in IFLA_2007 + ALA_2008 + MAINLAND_PAPER] + [
    "aa 呵呵 哈哈哈 a1 b2", "國際圖書\n館協會", "x", "。，", "美國圖書館學會年會美國圖書館學會年會",
    "館館 館 館館館", "日本の図書館と한국도서관", "㐀㐁圖書 鿐鿑", "IFLA 2009 年會" * 80]


def test_postings_are_whoosh_word_values():
    """Each format's postings are what Whoosh makes of the text through the analyser's tokens."""
    spec = schema()
    for name in spec.names():
        field = spec[name]
        if not hasattr(field.format, "postings"):
            continue
        for text in TEXTS:
            ours = sorted(field.format.postings(text, field.analyzer))
            whoosh = sorted(field.format.word_values(text, field.analyzer, mode="index"))
            assert ours == whoosh, (name, text)


def test_analysed_text_pickles_with_its_postings():
    value = Analysed("图书馆", [("图书", 1, 1.0, b"\x01\x00")])
    back = pickle.loads(pickle.dumps(value))
    assert type(back) is Analysed and back == "图书馆" and back.postings == value.postings


def index_contents(ix) -> dict:
    """Every posting of every field (docnum, weight, encoded value) and every field length."""
    with ix.reader() as reader:
        postings = {(field, term): [(m.id(), m.weight(), m.value()) for m in _all(reader.postings(field, term))]
                    for field, term in reader.all_terms()}
        lengths = {(field, doc): reader.doc_field_length(doc, field)
                   for field in list(TEXT_FIELDS) + [f + "_g" for f in TEXT_FIELDS]
                   for doc in reader.all_doc_ids()}
    return {"postings": postings, "lengths": lengths}


def _all(matcher):
    while matcher.is_active():
        yield matcher
        matcher.next()


def test_an_analysed_document_indexes_as_its_plain_text(tmp_path):
    """Postings computed ahead (in a worker) give the very index that plain strings give."""
    record = {"id": "EX0960001", "type": "report", "title": "參加2007年國際圖書館協會聯盟（IFLA）年會報告",
              "authors": ["王小明", "陳美麗"], "keywords": ["數位典藏", "書目控制"],
              "abstract": "本館同仁出席於南非德班舉行之年會，並於海報展介紹臺灣數位典藏成果。",
              "institution": "國家圖書館", "events": ["IFLA"], "countries": ["南非"], "year": 2007}
    docs = [document_fields("a.yaml", "s1", record, "corpus/a.pdf", IFLA_2007),
            document_fields("b.pdf", "s2", {"id": "b", "title": "ALA"}, "corpus/b.pdf", ALA_2008 + MAINLAND_PAPER)]
    analysed = [name for name, value in docs[0].items() if isinstance(value, Analysed)]
    assert len(analysed) == 2 * len(TEXT_FIELDS)
    contents = []
    for label, plain in (("analysed", False), ("plain", True)):
        ix = create_index(tmp_path / label)
        with ix.writer() as writer:
            for doc in docs:
                writer.add_document(**{k: str(v) if plain and isinstance(v, Analysed) else v
                                       for k, v in doc.items()})
        contents.append(index_contents(ix))
    assert contents[0]["postings"] and contents[0] == contents[1]


def test_a_body_analysed_where_it_was_read_is_used_only_for_its_own_pages():
    from tripkb.index.schema import PAGE_BREAK, body_fields

    body = body_fields(IFLA_2007)
    doc = document_fields("a.pdf", "s", {"id": "a"}, "corpus/a.pdf", IFLA_2007, body=body)
    assert doc["body"] is body["body"] and doc["body_g"] is body["body_g"]
    # pages changed since (OCR put text in): the stale body is not used
    doc = document_fields("a.pdf", "s", {"id": "a"}, "corpus/a.pdf", ALA_2008, body=body)
    assert doc["body"] == match_form(PAGE_BREAK.join(ALA_2008)) and doc["body"] is not body["body"]
    assert sorted(doc["body_g"].postings) == sorted(body_fields(ALA_2008)["body_g"].postings)


def test_counts_and_positions_are_the_tokens_gathered():
    """Each analyser's one-pass counts and positions equal its tokens gathered by term, whatever
    format asks (the schema asks words for counts and grams for positions)."""
    from collections import Counter

    from tripkb.index.analysis import grams_analyzer, words_analyzer

    for analyzer in (words_analyzer(), grams_analyzer()):
        for text in TEXTS:
            tokens = list(analyzer.tokens(text))
            positions: dict[str, list[int]] = {}
            for term, pos, _, _ in tokens:
                positions.setdefault(term, []).append(pos)
            assert analyzer.positions(text) == positions, (analyzer.kind, text)
            assert analyzer.counts(text) == Counter(term for term, *_ in tokens), (analyzer.kind, text)
