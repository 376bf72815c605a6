"""Cover pages and 摘要 read into sidecar fields: real PDFs in several layouts, and the sample covers."""

import unicodedata
from datetime import date
from pathlib import Path

import pytest

from tripkb.meta.cover import people, read_cover
from tripkb.meta.sidecar import read_sidecar, to_json
from tripkb.meta.vocab import Vocabulary
from tripkb.text.extract import extract
from tripkb.text.normalise import display_form

REPO = Path(__file__).resolve().parent.parent
VOCAB = Vocabulary.load()

ABSTRACT_PAGE = ("摘要\n\u3000\u3000第73屆國際圖書館協會聯盟年會暨世界圖書館與資訊大會（World Library and "
                 "Information Congress，WLIC）於南非德班舉行。職奉派出席，參加國家圖書館組與海報展。\n\n"
                 "關鍵詞：國際圖書館協會聯盟；WLIC；南非；德班；識字教育")


def cover_of(pdf_maker, tmp_path, pages, title=None, name="r.pdf"):
    got = extract(pdf_maker(tmp_path / name, pages, title=title))
    return read_cover(got.pages, VOCAB, got.info_title, got.info_author).record()


def test_labels_with_full_width_colons_and_names_on_the_next_line(pdf_maker, tmp_path):
    cover = ("出國報告（出國類別：開會）\n參加2007年國際圖書館協會聯盟（IFLA）年會報告\n\n"
             "服務機關：國家圖書館\n姓名職稱：王小明 編輯\n\u3000\u3000\u3000\u3000\u3000李大同 助理編輯\n"
             "派赴國家：南非\n出國期間：民國96年8月17日至96年8月25日\n報告日期：民國96年10月30日")
    found = cover_of(pdf_maker, tmp_path, [cover, ABSTRACT_PAGE])
    assert found == {
        "type": "report", "title": "參加2007年國際圖書館協會聯盟(IFLA)年會報告",
        "authors": ["王小明", "李大同"], "institution": "國家圖書館", "category": "開會",
        "events": ["IFLA"], "countries": ["南非"],
        "trip": {"start": date(2007, 8, 17), "end": date(2007, 8, 25)},
        "report_date": date(2007, 10, 30),
        "keywords": ["國際圖書館協會聯盟", "WLIC", "南非", "德班", "識字教育"],
        "abstract": "第73屆國際圖書館協會聯盟年會暨世界圖書館與資訊大會(World Library and Information "
                    "Congress,WLIC)於南非德班舉行。職奉派出席,參加國家圖書館組與海報展。",
    }


def test_label_and_value_on_separate_lines(pdf_maker, tmp_path):
    cover = ("出國報告（出國類別：考察）\n2003年美國圖書館學會暨加拿大圖書館學會聯合年會出國報告\n\n"
             "服務機關\n臺北市立圖書館\n姓名職稱\n吳佩珊 編輯\n派赴國家\n加拿大（多倫多）\n"
             "出國期間\n民國92年6月18日至92年6月27日\n報告日期\n民國92年8月15日")
    found = cover_of(pdf_maker, tmp_path, [cover])
    assert found["title"] == "2003年美國圖書館學會暨加拿大圖書館學會聯合年會出國報告"  # ends in 出國報告, still a title
    assert (found["institution"], found["authors"], found["countries"], found["category"]) == \
        ("臺北市立圖書館", ["吳佩珊"], ["加拿大"], "考察")
    assert found["trip"] == {"start": date(2003, 6, 18), "end": date(2003, 6, 27)}
    assert found["report_date"] == date(2003, 8, 15)


def test_flattened_table_without_colons(pdf_maker, tmp_path):
    cover = ("行政院所屬各機關出國報告\n日本公共圖書館營運與兒童閱讀服務考察報告\n\n"
             "出國類別 考察\u3000\u3000出國人數 2人\n"
             "服務機關 國立臺中圖書館\u3000職稱 輔導員\u3000姓名 陳淑芬\n"
             "服務機關 國立臺中圖書館\u3000職稱 助理員\u3000姓名 黃志豪\n"
             "派赴國家 日本\u3000\u3000出國期間 94年11月6日至94年11月12日\n報告日期 95年1月10日")
    found = cover_of(pdf_maker, tmp_path, [cover])
    assert found == {
        "type": "report", "title": "日本公共圖書館營運與兒童閱讀服務考察報告",
        "authors": ["陳淑芬", "黃志豪"], "institution": "國立臺中圖書館", "category": "考察",
        "countries": ["日本"], "trip": {"start": date(2005, 11, 6), "end": date(2005, 11, 12)},
        "report_date": date(2006, 1, 10), "participants": 2,
    }


def test_ideographic_space_instead_of_a_colon(pdf_maker, tmp_path):
    cover = ("臺北市政府所屬機關出國報告\n出國類別：開會\n2015年美國圖書館學會年會暨舊金山地區公共圖書館參訪報告\n\n"
             "服務機關\u3000臺北市立圖書館\n出國人員\u3000邱怡萍（編輯）、楊子賢（助理編輯）\n前往國家\u3000美國\n"
             "出國期間\u3000中華民國104年6月24日至104年7月2日\n報告日期\u3000中華民國104年8月28日")
    found = cover_of(pdf_maker, tmp_path, [cover])
    assert found["title"] == "2015年美國圖書館學會年會暨舊金山地區公共圖書館參訪報告"
    assert (found["institution"], found["authors"], found["countries"], found["events"]) == \
        ("臺北市立圖書館", ["邱怡萍", "楊子賢"], ["美國"], ["ALA"])
    assert found["trip"] == {"start": date(2015, 6, 24), "end": date(2015, 7, 2)}


def test_values_split_across_lines(pdf_maker, tmp_path):
    long_title = "參加2008年世界圖書館與資訊大會暨國際圖書館協會聯盟第74屆年會並參訪加拿大魁北克國家圖書館與檔案館報告"
    cover = (f"出國報告（出國類別：開會）\n{long_title}\n\n服務機關：國家圖書館\n姓名職稱：許雅雯 編輯\n"
             "派赴國家/地區：美國、\n加拿大\n出國期間：97/08/08 至\n97/08/17\n報告日期：97/11/05")
    found = cover_of(pdf_maker, tmp_path, [cover])
    assert found["title"] == long_title  # wrapped by the PDF, joined again
    assert found["countries"] == ["美國", "加拿大"]
    assert found["trip"] == {"start": date(2008, 8, 8), "end": date(2008, 8, 17)}
    assert found["report_date"] == date(2008, 11, 5)


def test_unreadable_values_are_left_out(pdf_maker, tmp_path):
    cover = ("出國報告（出國類別：旅遊）\n某會議報告\n\n服務機關：國家圖書館\n姓名職稱：王小明 編輯、某某某某某某 專家\n"
             "派赴國家：某地\n出國期間：另定\n報告日期：民國96年2月30日")
    found = cover_of(pdf_maker, tmp_path, [cover])
    assert found == {"type": "report", "title": "某會議報告", "institution": "國家圖書館"}


def test_ticked_category_on_a_form(pdf_maker, tmp_path):
    cover = ("行政院及所屬各機關出國報告提要\n出國報告名稱：赴日本考察公共圖書館報告\n"
             "出國類別：□1考察 ■2進修 □3研究\n服務機關：國家圖書館\n姓名：陳小華\n"
             "出國期間：98年3月1日至98年3月31日\n出國地區：日本")
    found = cover_of(pdf_maker, tmp_path, [cover])
    assert (found["title"], found["category"], found["authors"], found["countries"]) == \
        ("赴日本考察公共圖書館報告", "進修", ["陳小華"], ["日本"])


def test_a_table_of_contents_entry_is_not_the_abstract(pdf_maker, tmp_path):
    toc = "目次\n摘要..........1\n壹、目的..........2\n貳、過程..........3"
    found = cover_of(pdf_maker, tmp_path, ["出國報告（出國類別：開會）\n某年會報告\n服務機關：國家圖書館", toc,
                                           ABSTRACT_PAGE])
    assert found["abstract"].startswith("第73屆國際圖書館協會聯盟年會")
    assert found["keywords"][0] == "國際圖書館協會聯盟"


def test_paper_title_and_authors_from_the_pdf_info(pdf_maker, tmp_path):
    path = pdf_maker(tmp_path / "p.pdf", ["公共圖書館數位參考服務之現況調查\n洪淑惠　李國華\n國立臺灣大學圖書資訊學系\n\n"
                                          "摘要\n本研究以問卷調查公共圖書館提供數位參考服務的情形。\n\n"
                                          "關鍵詞：數位參考服務；公共圖書館"], title="公共圖書館數位參考服務之現況調查")
    got = extract(path)
    found = read_cover(got.pages, VOCAB, got.info_title, "洪淑惠、李國華").record()
    assert found == {"title": "公共圖書館數位參考服務之現況調查", "authors": ["洪淑惠", "李國華"],
                     "keywords": ["數位參考服務", "公共圖書館"],
                     "abstract": "本研究以問卷調查公共圖書館提供數位參考服務的情形。"}
    # Without the PDF's author, 洪淑惠李國華 (the space lost in extraction) is not split by guesswork
    assert "authors" not in read_cover(got.pages, VOCAB, got.info_title).record()


def test_paper_authors_from_the_line_after_the_title(pdf_maker, tmp_path):
    pages = ["Aggregating Metadata from Taiwan's Digital Archives\nYu-Ting Chen and Ming-Hsien Lai\n"
             "Department of Library and Information Science, National Taiwan University\n\n"
             "Abstract. We harvested records with OAI-PMH and measured their completeness.\n"
             "Keywords: digital archives, metadata aggregation, OAI-PMH"]
    found = cover_of(pdf_maker, tmp_path, pages)
    assert found == {"title": "Aggregating Metadata from Taiwan's Digital Archives",
                     "authors": ["Yu-Ting Chen", "Ming-Hsien Lai"],
                     "keywords": ["digital archives", "metadata aggregation", "OAI-PMH"],
                     "abstract": "We harvested records with OAI-PMH and measured their completeness."}


@pytest.mark.parametrize("text, names", [
    ("林靜宜 編輯、周建宏 助理編輯", ["林靜宜", "周建宏"]),
    ("黃嘉玲副教授", ["黃嘉玲"]),
    ("邱怡萍（編輯）、楊子賢（助理編輯）", ["邱怡萍", "楊子賢"]),
    ("劉建國 主任兼館長", ["劉建國"]),
    ("Pei-Shan Wu, Chih-Wei Kuo", ["Pei-Shan Wu", "Chih-Wei Kuo"]),
    ("Taipei Public Library", None),
    ("洪淑惠李國華", None),  # two names run together: not split by guesswork
    ("王小明 編輯、國立臺灣大學圖書資訊學系", None),  # one piece is no name: none are kept
])
def test_people(text, names):
    assert people(display_form(text)) == names  # as cover pages read, in display form


SAMPLES = sorted(p.stem for p in (REPO / "corpus").glob("*.pdf"))
#: Where a sample's sidecar deliberately says more or less than its pages.
SAMPLE_DIFFERENCES = {
    ("EX0970002", "events"),  # the 摘要 names ICML too; the sidecar lists only the conference attended
    ("EX0990001", "keywords"),  # the sidecar adds Chinese keywords the paper does not print
}


def _nfkc(value):
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value)
    if isinstance(value, list):
        return [_nfkc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfkc(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("stem", SAMPLES)
def test_sample_covers_agree_with_their_sidecars(stem):
    """What the cover says equals what a person typed (compared in NFKC, as pages are)."""
    got = extract(REPO / "corpus" / f"{stem}.pdf")
    found = to_json(read_cover(got.pages, VOCAB, got.info_title, got.info_author).record())
    sidecar = _nfkc(to_json(read_sidecar(REPO / "corpus" / f"{stem}.yaml")[0]))
    assert {"title", "authors"} <= set(found)
    for key, value in found.items():
        if (stem, key) not in SAMPLE_DIFFERENCES:
            assert value == sidecar[key], key


def test_a_standard_cover_fills_every_field_of_its_sidecar():
    got = extract(REPO / "corpus" / "EX0960001.pdf")
    found = to_json(read_cover(got.pages, VOCAB).record())
    sidecar = _nfkc(to_json(read_sidecar(REPO / "corpus" / "EX0960001.yaml")[0]))
    assert found == {k: sidecar[k] for k in ("type", "title", "authors", "institution", "category", "events",
                                             "countries", "trip", "report_date", "keywords", "abstract")}


def test_pdfs_nobody_here_made_get_no_invented_fields():
    """Slides, forms and garbled text from pdf.js's test corpus: a first-line title at most."""
    from conftest import SHARED_PDFS

    pdfs = sorted(SHARED_PDFS.glob("*.pdf")) if SHARED_PDFS.is_dir() else []
    if not pdfs:
        pytest.skip(f"needs the shared real-world PDFs in {SHARED_PDFS}")
    for pdf in pdfs:
        got = extract(pdf)
        assert set(read_cover(got.pages, VOCAB, got.info_title, got.info_author).record()) <= {"title"}, pdf.name


def _summary_form(people_line: str) -> str:
    """The 公務出國報告提要 form, as the government report site prints it."""
    return ("公務出國報告提要\n系統識別號:C09800417\n頁數: 32 含附件: 否\n"
            "報告名稱: 出席第十一屆亞洲數位圖書館國際會議(ICADL 2008)\n主辦機關: 國家圖書館\n"
            "聯絡人/電話: 陳美玲/02-23619132\n"
            f"出國人員: {people_line}\n"
            "出國類別: 開會\n出國地區: 印尼\n出國期間: 民國97年12月01日 -民國97年12月05日\n"
            "報告日期: 民國98年02月10日\n分類號/目: H0/綜合(文教類) H0/綜合(文教類)\n關鍵詞: ICADL,數位圖書館\n"
            "內容摘要: 第十一屆亞洲數位圖書館國際會議於印尼峇里島舉行。")


@pytest.mark.parametrize("people_line, authors", [
    ("陳美玲國家圖書館數位知識系統組編輯", ["陳美玲"]),
    ("王文陸國家圖書館館長室編纂彭慰國家圖書館國際合作組編輯", ["王文陸", "彭慰"]),
    ("陳美玲 國家圖書館 數位知識系統組 編輯 02-23619132 林志明 國立臺灣大學圖書館 系統資訊組 組長",
     ["陳美玲", "林志明"]),
    ("歐陽志明國家圖書館館長室秘書陳美玲國家圖書館數位知識系統組編輯", ["歐陽志明", "陳美玲"]),
])
def test_the_summary_forms_people_run_together_with_institution_unit_and_title(pdf_maker, tmp_path, people_line,
                                                                               authors):
    from tripkb.meta.autofill import fill

    found = cover_of(pdf_maker, tmp_path, [_summary_form(people_line)])
    assert (found["id"], found["title"], found["institution"]) == \
        ("C09800417", "出席第十一屆亞洲數位圖書館國際會議(ICADL 2008)", "國家圖書館")
    assert (found["countries"], found["category"], found["report_date"]) == (["印尼"], "開會", date(2009, 2, 10))
    assert found["authors"] == authors
    assert fill({}, found)["participants"] == len(authors)


@pytest.mark.parametrize("people_line", [
    "陳美玲國家圖書館",  # no title after the institution
    "國家圖書館數位知識系統組編輯",  # no name before it
    "陳美玲國家圖書館數位知識系統組編輯某某某某某某國家圖書館編輯",  # no title before the second name
    "陳美玲某某單位編輯",  # an institution nobody knows
])
def test_a_people_line_that_does_not_read_as_people_gives_no_authors(pdf_maker, tmp_path, people_line):
    assert "authors" not in cover_of(pdf_maker, tmp_path, [_summary_form(people_line)])
