"""The grouped segment writer makes the same index as Whoosh's own writer, posting for posting."""

from __future__ import annotations

import pickle
from array import array

from whoosh.writing import SegmentWriter

from tripkb.index import segment_writer as segwriter
from tripkb.index.schema import create_index, document_fields, length_bytes as schema_length_bytes
from tripkb.index.segment_writer import GroupedWriter
from tripkb.text.normalise import match_form

ABSTRACTS = [
    "本次出國參加國際圖書館協會聯盟（IFLA）年會，與各國館員交流數位典藏與閱讀推廣的經驗。",
    "參訪美國國會圖書館及哈佛燕京圖書館，了解古籍保護、詮釋資料與開放近用的作法。",
    "出席 ASIS&T 2009 Annual Meeting，報告臺灣學位論文加值系統的建置成果。",
    "本报告记述会议经过，说明重要议题，并就本馆业务提出建议。",
]


def record(n: int) -> dict:
    # Long abstracts give some terms more than one 128-posting block; the n-th
    # document repeats its text n % 4 + 1 times so frequencies and lengths vary.
    return {"id": f"C{n:05d}", "type": "report", "year": 1999 + n % 20,
            "title": f"參加民國{88 + n % 20}年國際圖書館協會聯盟年會報告（第{n}號）",
            "keywords": ["數位典藏", "閱讀推廣", f"主題{n % 7}"],
            "authors": ["王文陸", "林靜宜"][: 1 + n % 2],
            "abstract": ABSTRACTS[n % 4] * (n % 4 + 1),
            "institution": ["國家圖書館", "國立臺中圖書館"][n % 2], "countries": ["美國", "日本"][: 1 + n % 2]}


def fields(n: int) -> dict:
    return document_fields(f"C{n:05d}.yaml", f"C{n:05d}.yaml:{n}.1:-", record(n), None,
                           [f"第{n}頁：國家圖書館館藏發展政策與館際合作。"] * (1 + n % 3))


def build(path, writer_class, limitmb: float, batches, deletions) -> object:
    ix = create_index(path)
    for numbers in batches:
        writer = writer_class(ix, limitmb=limitmb)
        for n in numbers:
            boost = {"_boost": 1.5} if n % 50 == 0 else {}  # a boosted document goes Whoosh's way in ours too
            writer.update_document(**fields(n), **boost)
        for n in deletions.get(numbers[0], ()):
            writer.delete_by_term("key", f"C{n:05d}.yaml")
        writer.commit(optimize=numbers is batches[-1])  # the last commit merges every segment
    return ix


def dump(ix) -> dict:
    """Every term's postings and term statistics, the stored fields and the lengths of each document."""
    out: dict = {}
    with ix.reader() as reader:
        for fieldname, btext in reader.all_terms():
            info = reader.term_info(fieldname, btext)
            m = reader.postings(fieldname, btext)
            postings = []
            while m.is_active():
                postings.append((m.id(), m.weight(), m.value(), m.block_max_weight(),
                                 m.block_min_length(), m.block_max_length()))
                m.next()
            out[fieldname, btext] = (info.weight(), info.doc_frequency(), info.min_length(),
                                     info.max_length(), info.max_weight(), postings)
        out["stored"] = [reader.stored_fields(d) for d in reader.all_doc_ids()]
        out["lengths"] = [[reader.doc_field_length(d, f) for f in ix.schema.scorable_names()]
                          for d in reader.all_doc_ids()]
    return out


def test_grouped_writer_writes_what_whoosh_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(segwriter, "CHUNK_ITEMS", 30)  # runs of many chunks, read back a chunk at a time
    batches = [list(range(0, 300)), list(range(300, 420)), list(range(100, 160))]  # the last re-adds 60
    deletions = {300: range(0, 20)}
    theirs = build(tmp_path / "whoosh", SegmentWriter, 64, batches, deletions)
    # A pool bound of a tenth of a megabyte spills sorted runs to disk every few documents.
    ours = build(tmp_path / "grouped", GroupedWriter, 0.1, batches, deletions)
    expected, got = dump(theirs), dump(ours)
    assert len(got["stored"]) == 400 and any(len(v[5]) > 128 for k, v in got.items() if k not in ("stored", "lengths"))
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == expected[key], key


def test_spilled_runs_are_removed_after_the_commit(tmp_path):
    ix = create_index(tmp_path / "index")
    writer = GroupedWriter(ix, limitmb=0.05)
    for n in range(100):
        writer.add_document(**fields(n))
    assert len(writer.pool.runs) > 3
    runs = list(writer.pool.runs)
    writer.commit()
    assert not any(__import__("os").path.exists(run) for run in runs)
    with ix.searcher() as s:
        assert s.doc_count() == 100


def test_writing_a_merge_frees_the_pool_instead_of_growing_it(tmp_path):
    """A term both pooled and in a merged segment once made the pool's list take every merged
    posting and keep them to the end of the commit: 3 GB for a merge of 3,000 PDFs."""
    pool = segwriter.GroupedPool(str(tmp_path), 64)
    pool.add(("body", "圖書".encode(), 0, 1.0, b"\x01\x05"))
    pooled = pool.terms["body"]["圖書".encode()]
    segment = iter([("body", "圖書".encode(), [7, 2.0, b"\x02\x01\x03"])])
    written = list(segwriter.merged([pool.iter_terms(), segment]))
    assert written == [("body", "圖書".encode(), [0, 1.0, b"\x01\x05", 7, 2.0, b"\x02\x01\x03"])]
    assert pooled == [0, 1.0, b"\x01\x05"] and pool.terms == {}


def test_postings_blocks_are_pickled_with_protocol_4(tmp_path):
    """Whoosh pickles with protocol 2, which made blocks three times the size and eight times the work."""
    import zlib

    ix = create_index(tmp_path / "index")
    writer = GroupedWriter(ix)
    for n in range(200):
        writer.add_document(**fields(n))
    writer.commit()
    with ix.reader() as reader:
        matcher = reader.postings("abstract_g", match_form("圖書").encode())
        raw = matcher._postfile.get(matcher._dataoffset, matcher._nextoffset - matcher._dataoffset)
        assert zlib.decompress(raw)[:2] == b"\x80\x04"
        assert len(list(matcher.all_ids())) == 100 and reader.stored_fields(7)["key"] == "C00007.yaml"
        assert matcher._compression == 3


def test_a_short_block_is_stored_uncompressed(tmp_path):
    ix = create_index(tmp_path / "index")
    writer = GroupedWriter(ix)
    writer.add_document(**document_fields("R.yaml", "R.yaml:1.1:-", record(1), None, ["罕見詞，" * 80]))
    writer.add_document(**fields(2))
    writer.commit()
    with ix.reader() as reader:
        lone = reader.postings("key", b"R.yaml")  # one posting, no value: zlib would only lengthen it
        assert lone._compression == 0 and list(lone.all_ids()) == [0]
        many = reader.postings("body_g", match_form("罕見").encode())  # one document, eighty positions
        assert many._compression == 3 and many.value_as("positions") == list(range(0, 160, 2))
        both = reader.postings("title_g", match_form("聯盟").encode())  # two documents, a position each
        assert both._compression == 0 and list(both.all_ids()) == [0, 1]


def whoosh_write_terms(fieldwriter, schema, perdoc, terms) -> None:
    """The reference: grouped postings written through Whoosh's own field and postings writers
    (``start_term``, ``finish_term``), a block at a time."""
    from whoosh.util.numeric import byte_to_length

    table = [0] + [byte_to_length(b) for b in range(1, 256)]
    lastfield = None
    lengths: bytes | None = None
    compression = None
    for fieldname, btext, flat in terms:
        if fieldname != lastfield:
            if lastfield is not None:
                fieldwriter.finish_field()
            fieldwriter.start_field(fieldname, schema[fieldname])
            lengths = schema_length_bytes(perdoc, fieldname) if perdoc is not None else None
            lastfield = fieldname
        docnums, weights, values = flat[0::3], flat[1::3], flat[2::3]
        fieldwriter.start_term(btext)
        writer = fieldwriter._postwriter
        if compression is None:
            compression = writer._compression
        limit = writer._blocklimit
        for start in range(0, len(docnums), limit):
            if start:
                writer._write_block()
            ids = docnums[start:start + limit]
            writer._ids = array("I", ids)
            writer._weights = array("f", weights[start:start + limit])
            writer._maxweight = max(0, max(writer._weights))
            writer._values = [v for v in values[start:start + limit] if v]
            if lengths is not None:
                known = [table[lengths[d]] for d in ids if lengths[d]]
                if known:
                    writer._minlength, writer._maxlength = min(known), max(known)
            # A short block is stored uncompressed (its pickle as Whoosh's minifiers make it).
            raw = pickle.dumps((writer._mini_ids(), writer._mini_weights(), writer._mini_values()), 4)
            writer._compression = compression if len(raw) > segwriter.RAW_UP_TO else 0
        fieldwriter.finish_term()
    if lastfield is not None:
        fieldwriter.finish_field()


def test_postings_and_terms_are_the_bytes_whooshs_writers_write(tmp_path, monkeypatch):
    """Blocks of one posting and of several (terms in more than 128 documents), compressed and not,
    weights of 1 and others, values and none: the files are Whoosh's to the byte."""
    def segment_files(folder, write) -> dict[str, bytes]:
        monkeypatch.setattr(segwriter, "write_terms", write)
        ix = create_index(folder)
        writer = GroupedWriter(ix, compound=False)  # the segment's files apart, named by their kind
        for n in range(300):
            writer.add_document(**fields(n))
        writer.commit()
        return {p.suffix: p.read_bytes() for p in folder.iterdir() if p.suffix in (".trm", ".pst")}

    ours = segment_files(tmp_path / "ours", segwriter.write_terms)
    theirs = segment_files(tmp_path / "theirs", whoosh_write_terms)
    assert ours.keys() == {".trm", ".pst"} and ours == theirs
