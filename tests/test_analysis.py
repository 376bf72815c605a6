"""Tokenisers: ordinal positions, bigrams for recall, domain words for ranking."""

from pathlib import Path

from tripkb.index.analysis import gram_tokens, runs, segment, segmenter, table_of, word_tokens
from tripkb.text.normalise import match_form, query_form

from reports import ALA_2008, IFLA_2007, MAINLAND_PAPER

SAMPLE = Path(__file__).resolve().parent.parent / "sample" / "src"


def texts(tokens):
    return [t for t, *_ in tokens]


def test_word_positions_are_ordinals_not_character_offsets():
    tokens = list(word_tokens(query_form("參加國際圖書館協會聯盟年會"), query=True))
    assert [p for _, p, _, _ in tokens] == list(range(len(tokens)))
    assert texts(tokens) == ["参加", "国际图书馆协会联盟", "年会"]


def test_domain_dictionary_keeps_traditional_terms_whole():
    words = texts(word_tokens(query_form("臺北市立圖書館舉辦海報展，介紹資訊素養"), query=True))
    for word in ("台北市立图书馆", "海报展", "资讯素养"):
        assert word in words


def test_documents_also_index_the_words_inside_long_words():
    doc = texts(word_tokens(query_form("美國圖書館學會年會")))
    assert {"美国图书馆学会", "图书馆", "美国", "学会", "年会"} <= set(doc)


def test_bigrams_and_latin_words():
    grams = list(gram_tokens(query_form("圖書館 ASIS&T 年會")))
    assert texts(grams) == ["图", "图书", "书馆", "馆", "asis", "t", "年", "年会", "会"]
    # the unigrams at a run's edges share the edge bigram's position
    assert [p for _, p, _, _ in grams] == [0, 0, 1, 1, 2, 3, 4, 4, 4]


def cuts_a_latin_word(text: str, i: int, j: int) -> bool:
    def latin(k: int) -> bool:
        return 0 <= k < len(text) and text[k].isascii() and text[k].isalnum()

    return (latin(i - 1) and latin(i)) or (latin(j - 1) and latin(j))


def test_query_bigrams_of_any_substring_appear_consecutively_in_the_document():
    """The literal guarantee at its root: any substring (Latin words whole) is a gram phrase."""
    doc = query_form("本館同仁出席國際圖書館協會聯盟(IFLA)於南非德班舉行之年會,並參觀 Library of Congress。")
    positions = {}
    for text, pos, *_ in gram_tokens(doc):
        positions.setdefault(text, set()).add(pos)
    for i in range(len(doc)):
        for j in range(i + 2, min(len(doc), i + 12) + 1):
            query = list(gram_tokens(doc[i:j], query=True))
            if len(query) < 2 or cuts_a_latin_word(doc, i, j):
                continue
            starts = positions.get(query[0][0], set())
            assert any(all(p + k in positions.get(t, set()) for k, (t, *_) in enumerate(query))
                       for p in starts), doc[i:j]


def test_a_cjk_run_continues_across_a_line_break():
    text = query_form("國際圖書\n館協會")
    grams = list(gram_tokens(text, query=True))
    assert texts(grams) == ["国际", "际图", "图书", "书馆", "馆协", "协会"]
    assert grams[3][2:] == (3, 6)  # 书馆 spans the break: offsets are in the original text
    assert texts(word_tokens(text, query=True)) == ["国际图书馆协会"]  # one dictionary word


def test_compact_positions_round_trip():
    from tripkb.index.postings import CompactPositions, varints

    fmt = CompactPositions()
    for positions in ([0], [5], [200], [4095], [4096], [70000], [0, 1], [9, 300], [130, 16383], [130, 16384],
                      [5, 40000], [0, 1, 2], [3, 130, 131, 20000, 2_000_000], list(range(0, 40000, 7))):
        encoded = fmt.encode(positions)
        assert encoded == varints([len(positions)] + [b - a for a, b in zip([0] + positions, positions)])
        assert fmt.decode_positions(encoded) == positions
        assert fmt.decode_frequency(encoded) == len(positions)
    assert len(fmt.encode([7])) == 2


def test_segment_cuts_every_run_as_jieba_does():
    """The one-pass route gives jieba's own cut, ties and unknown characters included."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(SAMPLE.glob("*.txt"))]
    texts += IFLA_2007 + ALA_2008 + MAINLAND_PAPER + [
        "圖書館圖書館學會會議", "的的的的", "龘靐齉爩", "研究生命起源", "結婚的和尚未結婚的",
        "日本の図書館", "㐀㐁圖書", "鿐鿑圖書館", "한국도서관협회"]
    cjk = [run for text in texts for kind, run, _ in runs(match_form(text)) if kind == "cjk"]
    assert len(cjk) > 1000
    seg = segmenter()
    for run in cjk:
        assert segment(run) == list(seg.tokenize(run, HMM=False)), run


def test_segment_breaks_a_tie_as_jieba_does(tmp_path):
    """甲|乙丙 and 甲乙|丙 score exactly the same here: jieba takes the longer first word."""
    import jieba

    words = tmp_path / "dict.txt"
    words.write_text("甲 1\n甲乙 1\n乙丙 1\n丙 1\n", encoding="utf-8")
    seg = jieba.Tokenizer(str(words))
    seg.tmp_dir = str(tmp_path)
    table = table_of(seg)
    for run in ("甲乙丙", "丙甲乙丙甲"):
        assert segment(run, table) == list(seg.tokenize(run, HMM=False))
    assert [w for w, _, _ in segment("甲乙丙", table)] == ["甲乙", "丙"]
