"""A query battery: realistic queries, as librarians type them, each with the ids it must give.

The KB is the shipped sample (``corpus/``) plus generated reports shaped like real ones
(cover page, 摘要, body) holding what people search for: hyphenated terms, romanised names,
questions, punctuated terms, exam codes. ``tests/test_query_battery.py`` runs it, and
``bench/query_battery.py`` prints its pass count.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

COVER = ("出國報告（出國類別：{category}）\n{title}\n服務機關：{institution}\n姓名職稱：{author} 編輯\n"
         "派赴國家：{country}\n出國期間：民國{roc}年8月17日至{roc}年8月25日\n報告日期：民國{roc}年10月1日")

#: id → (sidecar fields, body pages after the cover)
GENERATED: dict[str, tuple[dict, list[str]]] = {
    "GEN0001": ({"title": "赴美國哈佛燕京圖書館研習數位典藏與詮釋資料交換報告", "institution": "國家圖書館",
                 "authors": ["Yu-Ting Chen"], "countries": ["美國"], "year": 2012, "category": "研究"},
                ["摘要\n本次赴Harvard-Yenching Library研習，了解OAI-PMH協定的資料收割與UTF-8編碼轉換。",
                 "研習內容\n館方以apt-get安裝收割程式，並說明self-checkout自助借書設備。什麼是RDA？"
                 "RDA是新的編目規則。我國國家應及早規劃編目規則的轉換。",
                 "建議\n建議本館推動e-book服務，並以C++撰寫轉檔工具。"]),
    "GEN0002": ({"title": "參加2014年美國圖書館學會年會報告", "institution": "臺北市立圖書館",
                 "authors": ["Ming-Hsien Lai"], "countries": ["美國"], "year": 2014, "category": "開會",
                 "events": ["ALA"]},
                ["摘要\n本次赴U.S.參加年會，參觀書展與電子書（book）平台。國家的政策應重視閱讀。",
                 "心得\n大會討論C語言與程式教育，以及圖書館的自助服務。"]),
    "GEN0003": ({"title": "警察人員赴日本考察圖書館安全管理報告", "institution": "國立臺灣圖書館",
                 "authors": ["陳大文"], "countries": ["日本"], "year": 2016, "category": "考察"},
                ["摘要\n本團由警察人員與館員組成，考察日本圖書館的安全管理與何謂控制下交付之實務。",
                 "考試資訊\n相關國家考試代碼為50150-50550，請考生依規定報名。請說明各館之規定。"]
                + [f"附錄{n}\n圖書館安全管理檢核表第{n}頁。" for n in range(1, 8)]),
    # an id of no report-id shape, and a title with the mainland name of the country
    "TsaiBologna2016": ({"title": "赴意大利波隆那兒童書展考察報告", "institution": "國立臺灣圖書館",
                         "authors": ["蔡佳玲"], "countries": ["義大利"], "year": 2016, "category": "考察"},
                        ["摘要\n本次赴義大利波隆那參觀兒童書展，了解歐洲童書出版與插畫家交流。",
                         "心得\n波隆那書展的插畫家牆值得本館兒童室參考。"]),
}


def build(root: Path, make_pdf: Callable) -> Path:
    """The battery's KB under ``root``: the sample corpus and the generated reports (not indexed yet)."""
    kb = root / "kb"
    shutil.copytree(REPO / "corpus", kb / "corpus")
    for doc_id, (fields, pages) in GENERATED.items():
        roc = fields["year"] - 1911
        cover = COVER.format(category=fields["category"], title=fields["title"], institution=fields["institution"],
                             author="、".join(fields["authors"]), country="、".join(fields["countries"]), roc=roc)
        make_pdf(kb / "corpus" / f"{doc_id}.pdf", [cover, *pages])
        lines = [f"id: {doc_id}", "type: report", f"file: {doc_id}.pdf"]
        for key, value in fields.items():
            lines.append(f"{key}: [{', '.join(value)}]" if isinstance(value, list) else f"{key}: {value}")
        (kb / "corpus" / f"{doc_id}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return kb


ALA = {"C09601160", "C09601649", "EX0920001", "EX0970003", "EX1040001", "GEN0002"}
IFLA = {"EX0900001", "EX0950001", "EX0960001", "EX0970001", "EX0980003", "EX1010001", "EX1020001"}
NCL = {"C09601649", "EX0900001", "EX0950001", "EX0960001", "EX0970001", "EX0980001", "EX0980003",
       "EX1010001", "EX1080001", "GEN0001"}
TPL = {"C09601160", "EX0920001", "EX0970003", "EX1040001", "GEN0002"}
USA = {"C09601160", "C09601649", "EX0900001", "EX0970002", "EX0970003", "EX1040001", "EX1080001",
       "GEN0001", "GEN0002"}

#: (category, query, check, ids). check: "first" — the ids, in that order, lead the hits;
#: "top" — the first hit is one of the ids; "has" — every id is among the hits; "all" — the hits
#: are exactly the ids; "none" — no hit; "lacks" — none of the ids is a hit.
QUERIES: list[tuple[str, str, str, set[str] | list[str]]] = [
    # hyphens inside words are text
    ("hyphen", "OAI-PMH", "all", {"GEN0001", "EX0990001"}),
    ("hyphen", "UTF-8", "all", {"GEN0001"}),
    ("hyphen", "apt-get", "all", {"GEN0001"}),
    ("hyphen", "self-checkout", "all", {"GEN0001", "EX0970003"}),
    ("hyphen", "Harvard-Yenching", "all", {"GEN0001", "EX0900001"}),
    ("hyphen", "Yu-Ting Chen", "first", ["GEN0001", "EX0990001"]),
    ("hyphen", "Ming-Hsien Lai", "first", ["GEN0002", "EX0990001"]),
    ("hyphen", "50150-50550", "all", {"GEN0003"}),
    ("hyphen", "e-book", "all", {"GEN0001"}),
    ("hyphen", "年會 -ALA", "lacks", ALA),
    ("hyphen", "-ALA 年會", "lacks", ALA),
    ("hyphen", "IFLA -德班 海報展", "lacks", {"EX0960001"}),
    # questions: ？ and ? are text
    ("question", "什麼是RDA？", "all", {"GEN0001"}),
    ("question", "什麼是RDA?", "all", {"GEN0001"}),
    ("question", "何謂控制下交付？", "all", {"GEN0003"}),
    ("question", "何謂控制下交付", "all", {"GEN0003"}),
    # operators are read before CJK spacing is removed
    ("operators", "country:美國 海報展", "has", {"EX0970002", "EX0970003"}),
    ("operators", "海報展 country:美國", "has", {"EX0970002", "EX0970003"}),
    ("operators", "NOT 德班 海報展", "lacks", {"EX0960001"}),
    ("operators", "NOT 德班 海報展", "has", {"EX0970003"}),
    ("operators", "德班 OR 首爾", "has", {"EX0960001", "EX0950001"}),
    ("operators", "Title:年會 country:南非", "all", {"EX0960001"}),
    ("operators", "TITLE:年會 COUNTRY:南非", "all", {"EX0960001"}),
    ("operators", "year:2007..2008 org:IFLA", "all", {"EX0960001", "EX0970001"}),
    ("operators", "year:[2007 TO 2008] org:IFLA", "all", {"EX0960001", "EX0970001"}),
    ("operators", "year:2009 org:IFLA", "all", {"EX0980003"}),
    ("operators", "org:ALA year:2014", "all", {"GEN0002"}),
    ("operators", "institution:國圖 year:2012", "all", {"EX1010001", "GEN0001"}),
    ("operators", "ifla OR ala", "has", IFLA | ALA),
    # punctuated terms
    ("punctuated", "C++", "all", {"GEN0001"}),
    ("punctuated", '"C++"', "all", {"GEN0001"}),
    ("punctuated", "U.S.", "top", {"GEN0002"}),
    ("punctuated", "ASIS&T", "top", {"EX0980004"}),
    # known items: ids, titles, authors
    ("known", "C09601649", "first", ["C09601649"]),
    ("known", "c09601649", "first", ["C09601649"]),
    ("known", "ex0960001", "first", ["EX0960001"]),
    ("known", "GEN0003", "first", ["GEN0003"]),
    ("known", "EX096*", "all", {"EX0960001", "EX0960003"}),
    ("known", "id:c0960*", "all", {"C09601160", "C09601649"}),
    ("known", "id:ex1*", "all", {"EX1010001", "EX1020001", "EX1040001", "EX1080001"}),
    ("known", "參加 2007 年美國圖書館學會年會報告", "first", ["C09601649"]),
    ("known", "參加2007年美國圖書館學會年會報告", "first", ["C09601649"]),
    ("known", "參加2007年國際圖書館協會聯盟（IFLA）年會報告", "first", ["EX0960001"]),
    ("known", "參加2007年國際圖書館協會聯盟IFLA年會報告", "first", ["EX0960001"]),
    ("known", "Aggregating Metadata from Taiwan's Digital Archives: Lessons from a Union Catalogue", "first",
     ["EX0990001"]),
    ("known", "Aggregating Metadata from Taiwans Digital Archives Lessons from a Union Catalogue", "first",
     ["EX0990001"]),
    ("known", "A Library in the Subway", "first", ["EX0970003"]),
    ("known", "日本公共圖書館營運與兒童閱讀服務考察報告", "first", ["EX0940001"]),
    ("known", "中小學圖書館與公共圖書館的閱讀推廣合作", "first", ["EX0960003"]),
    ("known", "公共圖書館數位參考服務之現況調查", "first", ["EX0920002"]),
    ("known", "TsaiBologna2016", "first", ["TsaiBologna2016"]),
    ("known", "tsaibologna2016", "first", ["TsaiBologna2016"]),
    ("known", "TSAIBOLOGNA2016", "first", ["TsaiBologna2016"]),
    ("known", "tsaiBologna*", "all", {"TsaiBologna2016"}),
    ("known", "id:TSAIBOLOGNA2016", "all", {"TsaiBologna2016"}),
    ("known", "A Library in the Subway Taipei Public Librarys SelfService Intelligent Library", "first",
     ["EX0970003"]),
    ("known", "a library in the subway taipei public librarys selfservice intelligent library", "first",
     ["EX0970003"]),
    ("known", "參加2009年國際圖書館協會聯盟年會（意大利米蘭）報告", "first", ["EX0980003"]),
    ("known", "參加2009年國際圖書館協會聯盟年會意大利米蘭報告", "first", ["EX0980003"]),
    ("known", "赴義大利波隆那兒童書展考察報告", "first", ["TsaiBologna2016"]),
    ("known", "王文陸", "first", ["C09601649"]),
    ("known", "楊宣勤", "first", ["C09601160"]),
    ("known", "周美惠", "first", ["EX0980003"]),
    ("known", "羅文彬", "first", ["EX1080001"]),
    ("known", "黃嘉玲", "has", {"EX0980002", "EX0980004"}),
    ("known", "陳大文", "first", ["GEN0003"]),
    # metadata as free text
    ("metadata", "ALA", "has", ALA),
    ("metadata", "美國圖書館學會", "has", ALA - {"GEN0002"}),
    ("metadata", "IFLA", "has", IFLA),
    ("metadata", "國際圖聯", "has", IFLA),
    ("metadata", "WLIC", "has", IFLA),
    ("metadata", "臺北", "has", TPL),
    ("metadata", "台北", "has", TPL),
    ("metadata", "USA", "has", USA),
    ("metadata", "美国", "has", USA),
    ("metadata", "Quebec", "lacks", {"EX0960001"}),
    ("metadata", "Québec", "has", {"EX0920001", "EX0970001", "EX0980004"}),
    ("metadata", "Quebec", "has", {"EX0920001", "EX0970001", "EX0980004"}),
    ("metadata", "意大利", "all", {"EX0980003", "TsaiBologna2016"}),
    ("metadata", "Italy", "all", {"EX0980003", "TsaiBologna2016"}),
    ("metadata", "南非共和國", "all", {"EX0960001"}),
    ("metadata", "South Africa", "has", {"EX0960001"}),
    ("metadata", "Seoul", "has", {"EX0950001"}),
    ("metadata", "漢城", "has", {"EX0950001"}),
    ("metadata", "首爾", "has", {"EX0950001"}),
    ("metadata", "Helsinki", "has", {"EX1010001"}),
    ("metadata", "國圖", "first", ["C09601649"]),
    ("metadata", "國圖", "has", NCL),
    ("metadata", "北市圖", "has", TPL),
    ("metadata", "NCL", "has", NCL),
    ("metadata", "國資圖", "has", {"EX1020001"}),
    ("metadata", "國立臺中圖書館", "has", {"EX0940001", "EX1020001"}),
    ("metadata", "MLA", "top", {"EX0970002"}),
    ("metadata", "CEAL", "top", {"EX1080001"}),
    ("metadata", "新加坡", "top", {"EX1020001"}),
    # literal first
    ("ranking", "國家應", "first", ["GEN0001"]),
    ("ranking", "之規定", "first", ["GEN0003"]),
    ("ranking", "請說明", "first", ["GEN0003"]),
    ("ranking", "館協", "has", IFLA),
    ("ranking", "ala年會", "top", ALA),
    # both scripts, literal recall
    ("script", "圖書館學會", "has", {"EX0920001", "EX0970002"}),
    ("script", "图书馆学会", "has", {"EX0920001", "EX0970002"}),
    ("script", "數位典藏", "has", {"GEN0001"}),
    ("script", "数位典藏", "has", {"GEN0001"}),
    ("script", "警察人員", "all", {"GEN0003"}),
    ("script", "警察人员", "all", {"GEN0003"}),
    ("script", '"美國圖書館學會"', "has", {"EX0920001", "EX1040001", "GEN0002"}),
    ("script", "Intelligent Library", "top", {"EX0970003"}),
    ("script", "國 家 圖 書 館", "has", {"EX1010001"}),
    ("script", "SelfService", "all", {"EX0970003"}),
    ("script", "意大利米蘭", "all", {"EX0980003"}),
    ("script", "義大利波隆那", "all", {"TsaiBologna2016"}),
    ("script", "意大利波隆那", "all", {"TsaiBologna2016"}),
    ("script", '"義大利波隆那"', "all", {"TsaiBologna2016"}),
    ("script", "年會 海報展", "has", {"EX0970002"}),
    # nothing matches, and no note is needed
    ("none", "量子電腦", "none", set()),
    ("none", "國際圖書館協曾聯盟", "none", set()),
    ("none", "IFAL", "none", set()),
    ("none", "Intelligant Library", "none", set()),
    ("none", "警察人圓", "none", set()),
    ("none", '"conference annual meeting"', "none", set()),
]


def check(kb, category: str, query: str, kind: str, expected) -> str | None:
    """None when the query gives what it must, else what it gave."""
    from tripkb.query.search import search

    result = search(kb, query, limit=100, fresh=False)
    got = [h.id for h in result.hits]
    ok = {"first": lambda: got[:len(expected)] == list(expected),
          "top": lambda: bool(got) and got[0] in expected,
          "has": lambda: set(expected) <= set(got),
          "all": lambda: set(got) == set(expected),
          "none": lambda: not got,
          "lacks": lambda: bool(got) and not set(expected) & set(got)}[kind]()
    return None if ok else f"[{category}] {query!r} ({kind} {sorted(expected)}): got {got[:12]}"


def run(kb) -> tuple[int, list[str]]:
    """(passed, failures) over the whole battery."""
    failures = [f for f in (check(kb, *entry) for entry in QUERIES) if f]
    return len(QUERIES) - len(failures), failures
