from pathlib import Path

import pytest

from tripkb.errors import MetadataError, TripkbError
from tripkb.meta.vocab import Vocabulary

APPENDIX = ["IFLA", "ALA", "SLA", "ASIST", "CDNLAO", "CONSAL", "ALISE", "AAS", "IASL", "CALA",
            "MLA", "APLAP", "ECDL", "ICADL", "ISSI", "JCDL", "LIDA", "ICML"]


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.load()


def write(root: Path, name: str, text: str) -> Path:
    path = root / "vocab" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# Shipped data

def test_shipped_data_is_loaded_once(vocab):
    assert Vocabulary.load() is vocab
    assert Vocabulary.load(None) is vocab


def test_kb_without_vocab_files_uses_shipped(tmp_path, vocab):
    assert Vocabulary.load(tmp_path) is vocab


def test_orgs_cover_the_appendix_plus_ceal_and_tpdl(vocab):
    codes = [org.code for org in vocab.orgs]
    assert set(APPENDIX) | {"CEAL", "TPDL"} == set(codes)
    for org in vocab.orgs:
        assert org.name and org.zh and org.kind in ("organisation", "conference"), org.code


def test_ecdl_continues_as_tpdl(vocab):
    ecdl = vocab.org("ECDL")
    assert (ecdl.succeeded_by, ecdl.succeeded_in) == ("TPDL", 2011)
    assert vocab.org_code("TPDL") == "TPDL"
    assert vocab.org_code("EDLC") == "ECDL"
    assert vocab.org_code("European Digital Library Conference") == "ECDL"


# org_code

@pytest.mark.parametrize("name, code", [
    ("IFLA", "IFLA"), ("ifla", "IFLA"), (" IFLA ", "IFLA"), ("ＩＦＬＡ", "IFLA"),
    ("國際圖書館協會聯盟", "IFLA"), ("国际图书馆协会联盟", "IFLA"), ("國際圖書館學會聯合會", "IFLA"),
    ("World Library and Information Congress", "IFLA"), ("world library and  information congress", "IFLA"),
    ("WLIC", "IFLA"), ("IFLA WLIC", "IFLA"),
    ("美國圖書館學會", "ALA"), ("美國圖書館協會", "ALA"), ("美国图书馆学会", "ALA"),
    ("American Library Association", "ALA"),
    ("ASIS&T", "ASIST"), ("ASIS＆T", "ASIST"), ("asist", "ASIST"),
    ("American Society for Information Science and Technology", "ASIST"),
    ("Association for Information Science and Technology", "ASIST"), ("美國資訊科學與技術學會", "ASIST"),
    ("Council on East Asian Libraries", "CEAL"), ("東亞圖書館協會", "CEAL"),
    ("美國醫學圖書館學會", "MLA"), ("Medical Library Association", "MLA"),
    ("亞洲及大洋洲國家圖書館館長會議", "CDNLAO"), ("國際醫學圖書館會議", "ICML"),
    ("美國專門圖書館協會", "SLA"), ("東南亞圖書館館員大會", "CONSAL"), ("美國圖書資訊學教育學會", "ALISE"),
    ("亞洲研究學會", "AAS"), ("國際學校圖書館事業學會", "IASL"), ("美國華人圖書館員協會", "CALA"),
    ("亞太國會圖書館館長協會", "APLAP"), ("國際圖書館协會聯盟", "IFLA"),
])
def test_org_code(vocab, name, code):
    assert vocab.org_code(name) == code


@pytest.mark.parametrize("name", ["", "Library", "圖書館", "中華民國圖書館學會", "ALAS", "Modern Language"])
def test_org_code_unknown(vocab, name):
    assert vocab.org_code(name) is None


# detect_orgs

@pytest.mark.parametrize("text, codes", [
    ("參加 2007 年美國圖書館學會年會報告", ["ALA"]),
    ("WLIC 2009", ["IFLA"]),
    ("IFLA/ALA", ["IFLA", "ALA"]),
    ("ALA、IFLA 與 ALA", ["ALA", "IFLA"]),
    ("參加2009年IFLA年會", ["IFLA"]),
    ("IFLA2009 WLIC", ["IFLA"]),
    ("出席CALA年會", ["CALA"]),
    ("CALA and ALA", ["CALA", "ALA"]),
    ("ALAS and CALAS", []),
    ("HTML5 and MLAB", []),
    ("HTML 與 MLA 海報", ["MLA"]),
    ("a la carte, ala mode", []),
    ("參加ASIS＆T年會", ["ASIST"]),
    ("国际图书馆协会联盟大会", ["IFLA"]),
    ("World Library and\nInformation Congress: 75th IFLA", ["IFLA"]),
    ("國際圖書\n館協會聯盟", ["IFLA"]),
    ("東亞圖書館協會（CEAL）與亞洲研究學會（AAS）聯合年會", ["CEAL", "AAS"]),
    ("ECDL 2010; TPDL 2011", ["ECDL", "TPDL"]),
    ("中華民國圖書館學會年會", []),
    ("中華民國圖書資訊學教育學會", []),
    ("", []),
])
def test_detect_orgs(vocab, text, codes):
    assert vocab.detect_orgs(text) == codes


# Countries and regions

def test_regions_in_order(vocab):
    assert vocab.regions == ("美加地區", "亞洲地區", "歐洲地區", "非洲地區", "大洋洲", "中南美洲")


def test_every_country_of_iso_3166(vocab):
    countries = {vocab.canonical_country(code) for code in
                 ["US", "CA", "MX", "BR", "AR", "ZA", "EG", "NG", "FR", "DE", "RU", "JP", "CN", "IN",
                  "AU", "NZ", "FJ", "TW", "HK", "MO", "XK"]}
    assert None not in countries and len(countries) == 21


@pytest.mark.parametrize("name, canonical, region", [
    ("美國", "美國", "美加地區"), ("USA", "美國", "美加地區"), ("美国", "美國", "美加地區"),
    ("U.S.A.", "美國", "美加地區"), ("United States of America", "美國", "美加地區"),
    ("united states", "美國", "美加地區"), ("加拿大", "加拿大", "美加地區"), ("Canada", "加拿大", "美加地區"),
    ("日本", "日本", "亞洲地區"), ("中國大陸", "中國大陸", "亞洲地區"), ("大陸", "中國大陸", "亞洲地區"),
    ("中国", "中國大陸", "亞洲地區"), ("香港", "香港", "亞洲地區"), ("澳門", "澳門", "亞洲地區"),
    ("新加坡", "新加坡", "亞洲地區"), ("馬來西亞", "馬來西亞", "亞洲地區"), ("南韓", "韓國", "亞洲地區"),
    ("韓國", "韓國", "亞洲地區"), ("韩国", "韓國", "亞洲地區"), ("South Korea", "韓國", "亞洲地區"),
    ("以色列", "以色列", "亞洲地區"), ("Saudi Arabia", "沙烏地阿拉伯", "亞洲地區"),
    ("英國", "英國", "歐洲地區"), ("英国", "英國", "歐洲地區"), ("UK", "英國", "歐洲地區"),
    ("義大利", "義大利", "歐洲地區"), ("意大利", "義大利", "歐洲地區"), ("Italy", "義大利", "歐洲地區"),
    ("南非", "南非", "非洲地區"), ("South Africa", "南非", "非洲地區"), ("埃及", "埃及", "非洲地區"),
    ("澳洲", "澳洲", "大洋洲"), ("澳大利亞", "澳洲", "大洋洲"), ("澳大利亚", "澳洲", "大洋洲"),
    ("紐西蘭", "紐西蘭", "大洋洲"), ("新西兰", "紐西蘭", "大洋洲"), ("New Zealand", "紐西蘭", "大洋洲"),
    ("墨西哥", "墨西哥", "中南美洲"), ("巴西", "巴西", "中南美洲"), ("古巴", "古巴", "中南美洲"),
    ("Guatemala", "瓜地馬拉", "中南美洲"), ("危地马拉", "瓜地馬拉", "中南美洲"),
    ("臺灣", "臺灣", "亞洲地區"), ("台灣", "臺灣", "亞洲地區"),
])
def test_country_and_region(vocab, name, canonical, region):
    assert vocab.canonical_country(name) == canonical
    assert vocab.region_for_country(name) == region


def test_every_region_is_reachable(vocab):
    reached = {vocab.region_for_country(n) for n in ["美國", "日本", "法國", "南非", "澳洲", "巴西"]}
    assert reached == set(vocab.regions)


def test_country_details(vocab):
    usa = vocab.country("USA")
    assert (usa.name, usa.iso, usa.en, usa.zh_hans) == ("美國", "US", "United States", "美国")


@pytest.mark.parametrize("name", ["", "Atlantis", "紐約", "歐洲", "America"])
def test_unknown_country(vocab, name):
    assert vocab.canonical_country(name) is None
    assert vocab.region_for_country(name) is None


@pytest.mark.parametrize("text, countries", [
    ("美國、加拿大", ["美國", "加拿大"]),
    ("美國，加拿大", ["美國", "加拿大"]),
    ("美國,加拿大/英國", ["美國", "加拿大", "英國"]),
    ("美國 加拿大", ["美國", "加拿大"]),
    ("美國及加拿大", ["美國", "加拿大"]),
    ("紐西蘭與澳洲", ["紐西蘭", "澳洲"]),
    ("南非德班", ["南非"]),
    ("美國(紐約)、加拿大（多倫多）", ["美國", "加拿大"]),
    ("美國紐約、美國華盛頓", ["美國"]),
    ("义大利米兰", ["義大利"]),
    ("USA, Canada", ["美國", "加拿大"]),
    ("Durban, South Africa", ["南非"]),
    ("USA and Canada", ["美國", "加拿大"]),
    ("安地卡及巴布達", ["安地卡及巴布達"]),
    ("美國馬利蘭州", ["美國"]),
    ("馬利蘭州", []),
    ("Albuquerque, New Mexico", []),
    ("印度尼西亞雅加達", ["印尼"]),
    ("中國大陸北京", ["中國大陸"]),
    ("", []),
    ("歐洲", []),
])
def test_countries_from_text(vocab, text, countries):
    assert vocab.countries_from_text(text) == countries


# Institutions

@pytest.mark.parametrize("name, canonical", [
    ("國家圖書館", "國家圖書館"), ("國圖", "國家圖書館"), ("National Central Library", "國家圖書館"),
    ("NCL", "國家圖書館"), ("國立中央圖書館", "國家圖書館"),
    ("國立臺中圖書館", "國立公共資訊圖書館"), ("國立台中圖書館", "國立公共資訊圖書館"),
    ("National Library of Public Information", "國立公共資訊圖書館"),
    ("臺北市立圖書館", "臺北市立圖書館"), ("台北市立圖書館", "臺北市立圖書館"), ("北市圖", "臺北市立圖書館"),
    ("Taipei Public Library", "臺北市立圖書館"), ("臺大圖書館", "國立臺灣大學圖書館"),
    ("台大圖書館", "國立臺灣大學圖書館"), ("政大圖書館", "國立政治大學圖書館"), ("政大", "國立政治大學"),
    ("国家图书馆", "國家圖書館"), (" 國家圖書館 ", "國家圖書館"),
])
def test_canonical_institution(vocab, name, canonical):
    assert vocab.canonical_institution(name) == canonical


def test_unknown_institution_is_kept(vocab):
    assert vocab.canonical_institution("  某某鄉立圖書館 ") == "某某鄉立圖書館"
    assert vocab.canonical_institution("  某某鄉立圖書館 ", 2009, historical=True) == "某某鄉立圖書館"


@pytest.mark.parametrize("name, year, expected", [
    ("國立臺中圖書館", 2009, "國立臺中圖書館"),
    ("國立臺中圖書館", 2015, "國立公共資訊圖書館"),
    ("國立公共資訊圖書館", 2009, "國立臺中圖書館"),
    ("國立公共資訊圖書館", 2013, "國立公共資訊圖書館"),
    ("國立台中圖書館", 2012, "國立臺中圖書館"),
    ("國立公共資訊圖書館", 1990, "臺灣省立臺中圖書館"),
    ("國家圖書館", 1990, "國立中央圖書館"),
    ("國立中央圖書館", 2009, "國家圖書館"),
    ("NCL", 1995, "國立中央圖書館"),
    ("NCL", 1996, "國家圖書館"),
    ("國立交通大學圖書館", 2015, "國立交通大學圖書館"),
    ("國立陽明大學圖書館", 2015, "國立陽明大學圖書館"),
    ("國立陽明交通大學圖書館", 2015, "國立陽明交通大學圖書館"),
    ("國立交通大學圖書館", 2022, "國立陽明交通大學圖書館"),
    ("臺北市立圖書館", 1990, "臺北市立圖書館"),
])
def test_historical_institution(vocab, name, year, expected):
    assert vocab.canonical_institution(name, year, historical=True) == expected


def test_historical_without_year_keeps_the_name_as_written(vocab):
    assert vocab.canonical_institution("國立台中圖書館", historical=True) == "國立臺中圖書館"
    assert vocab.canonical_institution("國圖", historical=True) == "國家圖書館"
    # the default counts both names as one, whatever the year
    assert vocab.canonical_institution("國立臺中圖書館", 2009) == "國立公共資訊圖書館"


# Categories

def test_categories(vocab):
    assert vocab.categories == ("考察", "進修", "研究", "實習", "視察", "訪問", "開會", "談判", "其他")
    assert all(vocab.is_category(c) for c in vocab.categories)
    assert vocab.is_category("开会") and vocab.canonical_category(" 开会 ") == "開會"
    assert not vocab.is_category("旅遊") and not vocab.is_category("")


# KB extension files

def test_kb_files_extend_the_shipped_vocabulary(tmp_path, vocab):
    write(tmp_path, "orgs.yaml", """
orgs:
  - code: IFLA
    aliases: [國際圖協聯]
  - code: nafsa
    name: "NAFSA: Association of International Educators"
    kind: organisation
    zh: [美洲教育者年會]
""")
    write(tmp_path, "countries.yaml", """
countries:
  - name: 美國
    aliases: [花旗國]
  - name: 南極洲
    region: 大洋洲
""")
    write(tmp_path, "institutions.yaml", """
institutions:
  - name: 國立臺中圖書館
    aliases: [臺中國立圖書館]
  - name: 某某大學圖書館
    aliases: [某大圖書館]
    former:
      - name: 某某學院圖書館
        renamed_in: 2000
""")
    kb = Vocabulary.load(tmp_path)
    assert kb.org_code("國際圖協聯") == "IFLA"
    assert kb.detect_orgs("國際圖協聯年會與NAFSA") == ["IFLA", "NAFSA"]
    assert kb.org_code("美洲教育者年會") == "NAFSA"
    assert kb.org_code("WLIC") == "IFLA"
    assert kb.canonical_country("花旗國") == "美國"
    assert kb.region_for_country("南極洲") == "大洋洲"
    assert kb.canonical_institution("臺中國立圖書館") == "國立公共資訊圖書館"
    assert kb.canonical_institution("臺中國立圖書館", 2010, historical=True) == "國立臺中圖書館"
    assert kb.canonical_institution("某大圖書館") == "某某大學圖書館"
    assert kb.canonical_institution("某某學院圖書館", 1999, historical=True) == "某某學院圖書館"
    # the shipped vocabulary is untouched
    assert vocab.org_code("國際圖協聯") is None and vocab.canonical_country("花旗國") is None
    assert Vocabulary.load() is vocab


def test_malformed_kb_file_names_the_file(tmp_path):
    path = write(tmp_path, "orgs.yaml", "orgs:\n  - code: IFLA\n    aliases: [unclosed\n")
    with pytest.raises(MetadataError) as err:
        Vocabulary.load(tmp_path)
    assert str(path) in str(err.value) and "YAML" in str(err.value)
    assert isinstance(err.value, TripkbError)


@pytest.mark.parametrize("name, text, key", [
    ("orgs.yaml", "- code: IFLA\n", None),
    ("orgs.yaml", "orgs:\n  - name: no code\n", "orgs[0].code"),
    ("orgs.yaml", "orgs:\n  - code: IFLA\n    alias: [x]\n", "orgs[0].alias"),
    ("orgs.yaml", "orgs:\n  - code: IFLA\n    aliases: 3\n", "orgs[0].aliases"),
    ("orgs.yaml", "orgs:\n  - code: X\n    kind: party\n", "orgs[0].kind"),
    ("orgs.yaml", "orgs:\n  - code: XYZ\n    aliases: [ALA]\n", "orgs[0]"),
    ("countries.yaml", "countries:\n  - name: 火星\n    region: 太空\n", "countries[0].region"),
    ("countries.yaml", "regions: [北極]\n", "regions"),
    ("institutions.yaml", "institutions:\n  - name: X\n    former:\n      - name: Y\n", "institutions[0].former[0].renamed_in"),
    ("institutions.yaml", "institutions: 國家圖書館\n", "institutions"),
])
def test_bad_kb_file_names_file_and_key(tmp_path, name, text, key):
    path = write(tmp_path, name, text)
    with pytest.raises(MetadataError) as err:
        Vocabulary.load(tmp_path)
    assert err.value.path == str(path)
    assert err.value.key == key


def test_empty_kb_file_is_fine(tmp_path, vocab):
    write(tmp_path, "orgs.yaml", "")
    assert Vocabulary.load(tmp_path).org_code("IFLA") == "IFLA"


def test_every_org_name_is_detected_as_its_org(vocab):
    for org in vocab.orgs:
        for name in org.names():
            assert vocab.detect_orgs(f"參加{name}年會") == [org.code], name


def test_every_country_name_is_read_from_a_list(vocab):
    for canonical in ["美國", "南非", "日本", "法國", "澳洲", "巴西", "韓國", "中國大陸", "英國"]:
        for name in vocab.country(canonical).names():
            assert vocab.countries_from_text(f"{name}、南極洲") == [canonical, "南極洲"], name
            assert vocab.countries_from_text(name) == [canonical], name


def test_country_names_matched_a_first_character_at_a_time_as_by_one_pattern(vocab):
    """Each first character's names compiled on their own match what one pattern of all the names
    matches, at every position of every name written in the ways covers write them."""
    from tripkb.meta.fold_names import fold_text
    from tripkb.meta.vocab import _alternation, _ByFirst

    names = {n for c in vocab._countries.values() for n in c.names() if n} | set(vocab._not_countries)
    whole, by_first = _alternation(names, acronyms_exact=False), _ByFirst(names)
    texts = [fold_text(f"{before}{name}{after}") for name in sorted(names)
             for before, after in [("", ""), ("x", ""), ("", "s"), (" ", "紐約"), ("", "  Islands"), ("Ü", "")]]
    texts += [t.upper() for t in texts[::7]] + [t.lower() for t in texts[3::7]] + ["美國紐約、日本東京", "United  States及Japan"]
    matched = 0
    for text in texts:
        for pos in range(len(text) + 1):
            one, two = whole.match(text, pos), by_first.match(text, pos)
            assert (one and one.span()) == (two and two.span()), (text, pos)
            matched += one is not None
    assert matched > len(names)


def test_a_kb_vocabulary_is_read_once_and_again_after_an_edit(tmp_path):
    """One command reads the KB's vocabulary in several places; a long session sees its edits."""
    (tmp_path / "vocab").mkdir()
    names = tmp_path / "vocab" / "institutions.yaml"
    names.write_text("institutions:\n  - name: 國史館\n    sector: library\n", encoding="utf-8")
    first = Vocabulary.load(tmp_path)
    assert Vocabulary.load(tmp_path) is first and first.sector("國史館") == "library"
    names.write_text("institutions:\n  - name: 國史館\n    sector: other\n", encoding="utf-8")
    assert Vocabulary.load(tmp_path).sector("國史館") == "other"
