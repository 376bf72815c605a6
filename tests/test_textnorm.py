"""Normalisation: what is stored, what is matched, and that offsets line up."""

from tripkb.text.normalise import display_form, match_form, query_form


def test_spaces_between_cjk_characters_are_removed():
    assert display_form("稻 作 病 蟲 害 防 治") == "稻作病蟲害防治"
    # a line break inside a CJK run stays (one "\n") for display; analysis reads across it
    assert display_form("參 \n\n加國際圖書館\n協會聯盟年會") == "參\n加國際圖書館\n協會聯盟年會"


def test_spaces_between_latin_words_are_kept():
    assert display_form("annual   conference\nof  IFLA") == "annual conference\nof IFLA"
    assert display_form("參加 IFLA 年會") == "參加 IFLA 年會"


def test_nfkc_folds_full_width_forms():
    assert display_form("ＩＦＬＡ２００７年會") == "IFLA2007年會"
    assert display_form("（國家圖書館）") == "(國家圖書館)"


def test_match_form_is_script_blind_and_lower_case():
    assert match_form("國際圖書館協會聯盟") == "国际图书馆协会联盟"
    assert match_form("臺北") == match_form("台北") == "台北"
    assert match_form("ASIS&T Annual Meeting") == "asis&t annual meeting"


def test_match_form_keeps_every_offset():
    text = display_form("參加2007年美國圖書館學會（ALA）年會，於臺北報告。İstanbul ﬁles")
    folded = match_form(text)
    assert len(folded) == len(text)
    i = folded.index("美国图书馆学会")
    assert text[i:i + 7] == "美國圖書館學會"


def test_query_form_applies_both():
    assert query_form("ＡＬＡ 年 會") == "ala 年会"


def test_shipped_table_is_openccs_character_conversion():
    """tripkb/data/t2s.tsv must equal what scripts/make_t2s_table.py makes from OpenCC."""
    import importlib.util
    import sys

    import pytest

    pytest.importorskip("opencc")
    from conftest import REPO
    from tripkb.text.normalise import t2s_table

    spec = importlib.util.spec_from_file_location("make_t2s_table", REPO / "scripts" / "make_t2s_table.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_t2s_table"] = module
    spec.loader.exec_module(module)
    assert {chr(k): v for k, v in t2s_table().items()} == module.table()


def test_nfkc_is_unicodedatas():
    """The full-width fast path gives what the normaliser gives, combining marks and all."""
    import random
    import unicodedata

    from tripkb.text.normalise import nfkc

    cases = ["Ｅ\u0301", "ｶﾞｷﾞ", "\u3000全形　空白", "\uf900\uf901", "ﬁ①㍻", "ａ\u0308ｂ", "，。；：（）",
             "ＩＦＬＡ\u3000２００９年會", "\uff5f\uff60￥￠", "本次出國參加２００９年國際圖書館協會聯盟（ＩＦＬＡ）年會。"]
    rng = random.Random(1)
    ranges = [(0x20, 0x7F), (0x300, 0x370), (0x1100, 0x1176), (0x3000, 0x3040), (0x4E00, 0x4E40),
              (0xF900, 0xF910), (0xFF00, 0xFFF0)]
    chars = [chr(c) for start, end in ranges for c in range(start, end)]
    cases += ["".join(rng.choice(chars) for _ in range(rng.randint(1, 12))) for _ in range(20000)]
    for text in cases:
        assert nfkc(text) == unicodedata.normalize("NFKC", text), repr(text)


def test_a_long_text_is_normalised_as_a_short_one():
    """Past LONG_TEXT characters the tables are lists: the forms are the same, characters past
    the basic plane (𠀋, 𡃁 …) and full-width punctuation included."""
    import unicodedata

    from tripkb.text.normalise import LONG_TEXT, nfkc, t2s_table

    sentence = "本次出國參加２００９年國際圖書館協會聯盟（ＩＦＬＡ）年會，於民國98年8月赴義大利米蘭。\u3000"
    rare = "".join(chr(c) for c in sorted(t2s_table()) if c > 0xFFFF)[:50]
    text = (sentence + rare + "ｶﾞ\u0301ﬁ") * (LONG_TEXT // len(sentence) + 2)
    assert len(text) > LONG_TEXT and len(sentence) < LONG_TEXT
    assert nfkc(text) == unicodedata.normalize("NFKC", text)
    pieces = [text[i:i + LONG_TEXT // 2] for i in range(0, len(text), LONG_TEXT // 2)]
    assert match_form(text) == "".join(match_form(p) for p in pieces) != text.lower()
    assert match_form(rare) != rare and match_form(rare * 100) == match_form(rare) * 100
