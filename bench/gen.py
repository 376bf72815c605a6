"""Generate realistic synthetic trip reports (公務出國報告) as PDFs, with YAML sidecars.

Every report is different: its cover page (title, institution, traveller,
country, ROC dates), its abstract and its body pages are drawn from pools of
organisations, cities, institutions, topics and English phrases, sentences of
the sample corpus (``sample/src``) and a long tail of ordinary words from
jieba's dictionary (converted to Traditional characters), so the index sees a
realistic, Zipf-like vocabulary rather than one text repeated.

Speed: loading the CJK font into fpdf2 costs ~0.2 s, laying out a page with
``multi_cell`` ~5 ms. So reports are rendered in batches: one FPDF document
per batch (one font load), lines pre-wrapped and placed with ``text()``
(~0.2 ms a page), then split into one PDF per report with pypdf. Subsetting
the font when the batch is written costs ~1 s, so a report costs ~80 ms
of one core; batches run in parallel. Files are cached: a rerun only makes
the reports that are missing.
"""

from __future__ import annotations

import io
import os
import random
import re
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
#: Bump when the generated text or layout changes: it names the cache folder.
GEN_VERSION = 1
ROOT = Path(__file__).resolve().parent.parent

ORGS = [  # (Chinese name, code, what its meetings are called)
    ("國際圖書館協會聯盟", "IFLA", "World Library and Information Congress"),
    ("美國圖書館學會", "ALA", "ALA Annual Conference"),
    ("國際數位圖書館會議", "ICADL", "International Conference on Asia-Pacific Digital Libraries"),
    ("國際學校圖書館協會", "IASL", "IASL Annual Conference"),
    ("美國醫學圖書館學會", "MLA", "MLA Annual Meeting"),
    ("美國專門圖書館協會", "SLA", "SLA Annual Conference"),
    ("國際檔案理事會", "ICA", "International Congress on Archives"),
    ("太平洋鄰里協會", "PNC", "PNC Annual Conference"),
    ("美國資訊科學與技術學會", "ASIS&T", "ASIS&T Annual Meeting"),
    ("東亞圖書館協會", "CEAL", "CEAL Annual Meeting"),
    ("國際博物館協會", "ICOM", "ICOM General Conference"),
    ("國際標準書號總部", "ISBN", "International ISBN Agency Annual Meeting"),
    ("大洋洲國家圖書館館長會議", "CDNLAO", "Conference of Directors of National Libraries in Asia and Oceania"),
    ("聯合數位圖書館會議", "JCDL", "Joint Conference on Digital Libraries"),
]
PLACES = [  # (city, country)
    ("舊金山", "美國"), ("華盛頓", "美國"), ("芝加哥", "美國"), ("波士頓", "美國"), ("安那翰", "美國"),
    ("紐奧良", "美國"), ("西雅圖", "美國"), ("首爾", "韓國"), ("東京", "日本"), ("京都", "日本"),
    ("新加坡", "新加坡"), ("布里斯本", "澳大利亞"), ("雪梨", "澳大利亞"), ("德班", "南非"),
    ("開普敦", "南非"), ("魁北克", "加拿大"), ("多倫多", "加拿大"), ("柏林", "德國"), ("奧斯陸", "挪威"),
    ("米蘭", "義大利"), ("曼谷", "泰國"), ("北京", "中國大陸"), ("上海", "中國大陸"), ("吉隆坡", "馬來西亞"),
    ("海牙", "荷蘭"), ("倫敦", "英國"), ("巴黎", "法國"), ("里約熱內盧", "巴西"), ("哥德堡", "瑞典"),
    ("赫爾辛基", "芬蘭"), ("都柏林", "愛爾蘭"), ("奧克蘭", "紐西蘭"), ("河內", "越南"), ("新德里", "印度"),
]
INSTITUTIONS = [
    "國家圖書館", "臺北市立圖書館", "國立臺灣圖書館", "國立公共資訊圖書館", "國立故宮博物院", "國史館",
    "國立臺灣大學圖書館", "國立政治大學圖書館", "教育部", "國立中央大學", "國立臺灣師範大學",
    "國立中興大學圖書館", "高雄市立圖書館", "檔案管理局", "行政院研究發展考核委員會", "國立成功大學圖書館",
    "國立清華大學圖書館", "國立交通大學圖書館", "新北市立圖書館", "國立臺灣歷史博物館", "國立自然科學博物館",
]
TOPICS = [
    "數位典藏", "資訊素養", "開放取用", "館藏發展", "參考服務", "編目規範", "詮釋資料", "機構典藏",
    "電子資源管理", "閱讀推廣", "兒童閱讀", "數位學習", "古籍修復", "讀者服務", "圖書館建築", "行動服務",
    "雲端運算", "資料探勘", "鏈結資料", "學術傳播", "著作權", "長期保存", "漢學研究", "知識管理",
    "資訊檢索", "書目控制", "館際合作", "多元文化服務", "終身學習", "數位落差", "研究資料管理", "使用者經驗",
]
ENGLISH = [
    "annual conference", "open access", "digital library", "information literacy", "linked data",
    "institutional repository", "metadata standards", "RDA", "FRBR", "Dublin Core", "discovery service",
    "e-books", "makerspace", "user experience", "World Digital Library", "keynote speech", "poster session",
    "research data management", "digital preservation", "reference services", "learning commons",
    "OCLC WorldCat", "Europeana", "Library of Congress", "big data", "mobile services", "MARC 21",
    "collection development", "cloud computing", "data curation",
]
ENGLISH_SENTENCES = [
    "The session on {en} drew more than {k} participants from {c} countries.",
    "Speakers agreed that {en} should be part of every library's strategic plan.",
    "In the {en} track, the panel discussed how libraries can measure their impact.",
    "The keynote, titled \"{en} and the future of libraries\", was well received.",
]
CATEGORIES = ["開會", "開會", "開會", "考察", "研究", "訪問", "進修"]
SURNAMES = "王李張劉陳楊黃趙吳周徐孫馬朱胡郭何高林羅鄭梁謝宋唐許韓馮鄧曹彭曾蕭田董潘袁蔡蔣余杜葉程蘇魏呂丁任沈姚盧姜崔鍾譚陸汪范金石廖賈夏韋傅方白鄒孟熊秦邱江尹薛閻段雷侯龍史黎賀顧毛郝龔邵萬錢嚴覃武戴莫孔向湯"
GIVEN = "文明華建國志宏俊傑淑芬美玲雅婷怡君家豪冠宇佳穎承恩書豪宗翰子軒欣怡詩涵思妤柏翰品妍彥廷慧敏秀英麗娟心怡偉誠"
JOBS = ["編輯", "編纂", "助理編輯", "主任", "組長", "館長", "副館長", "研究員", "助理研究員", "專員", "科長", "教授"]
ORDINALS = "一二三四五六七八九十"
SECTIONS = ["壹、目的", "貳、過程", "參、心得", "肆、建議", "伍、附錄"]

TEMPLATES = [
    "{org}第{n}屆年會於{city}舉行，本館派員參加並發表論文，主題為「{topic}」。",
    "本次會議共有來自{c}個國家、{k}餘位代表與會，討論{topic}及{topic2}等議題。",
    "在「{en}」場次中，{person}介紹{inst}推動{topic}的經驗，並說明未來三年的計畫。",
    "參訪{city}的{host}時，該館館長說明其{topic}策略，並展示{en}系統的實際運作。",
    "建議本館未來持續關注{topic}之發展，並與{code}等國際組織加強合作。",
    "第{ord}場分組討論以{topic}為題，與會者就{topic2}交換意見，氣氛熱烈。",
    "{month}月{day}日上午參加{code}的{en}，下午參觀海報展，蒐集{topic}相關資料。",
    "講者指出，{topic}與{topic2}密切相關，圖書館應從{w1}、{w2}與{w3}三方面著手。",
    "會中亦論及{w1}、{w2}以及{w3}等課題，對我國推動{topic}頗具參考價值。",
    "{host}近年致力於{w1}與{w2}，其{topic}服務每年使用人次超過{k}萬。",
    "本館與{inst}已於{year}年簽訂合作備忘錄，未來將在{topic}方面持續{w1}。",
    "此行獲得{w1}的第一手資料，返國後將撰寫專文並於館內{w2}分享。",
]
HOSTS = ["國會圖書館", "國立圖書館", "市立圖書館", "大學圖書館", "公共圖書館總館", "國家檔案館", "數位典藏中心",
         "兒童圖書館", "醫學圖書館", "科技資訊中心"]


@dataclass
class Report:
    """One synthetic report: what its sidecar says and the text of each page."""

    stem: str
    meta: dict
    pages: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def font_chars() -> frozenset[str]:
    """Characters the CJK font can draw (rare ones are left out of the word pool)."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(FONT), fontNumber=0, lazy=True)
    return frozenset(chr(c) for c in font.getBestCmap())


@lru_cache(maxsize=1)
def tail_words() -> tuple[str, ...]:
    """~35,000 ordinary words of jieba's dictionary (frequency ≥ 50), in Traditional characters.

    Only words made of the ~2,000 characters of the 5,000 most frequent words
    are kept: a real report uses a couple of thousand distinct characters, and
    the embedded font subset (whose size drives PDF parsing cost) stays realistic.
    """
    import jieba
    import opencc

    path = Path(jieba.__file__).parent / "dict.txt"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word, freq, *_ = line.split()
        if re.fullmatch(r"[\u4e00-\u9fff]+", word):
            rows.append((int(freq), word))
    rows.sort(reverse=True)
    convert = opencc.OpenCC("s2twp").convert
    common = set(convert("".join(w for _, w in rows[:5000]))) & font_chars()
    words = [w for f, w in rows if 2 <= len(w) <= 4 and f >= 50]
    converted = convert("\n".join(words)).split("\n")
    return tuple(sorted({w for w in converted if all(c in common for c in w)}))


@lru_cache(maxsize=1)
def sample_sentences() -> tuple[str, ...]:
    """Sentences of the sample corpus's text sources (realistic prose), if present."""
    out: list[str] = []
    for path in sorted((ROOT / "sample" / "src").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            for sentence in re.findall(r"[^。！？]+[。！？]", line.strip().lstrip("\u3000")):
                sentence = sentence.strip("\u3000 ")
                if len(sentence) >= 12 and not sentence.startswith(("出國", "服務機關", "派赴")):
                    out.append(sentence)
    return tuple(out)


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(2))


def _sentence(rng: random.Random, ctx: dict) -> str:
    """One sentence: a filled template, a sample-corpus sentence, or an English one."""
    roll = rng.random()
    words = tail_words()
    if roll < 0.08:
        return rng.choice(ENGLISH_SENTENCES).format(en=rng.choice(ENGLISH), k=rng.randint(50, 900),
                                                    c=rng.randint(5, 60)) + " "
    sentences = sample_sentences()
    if roll < 0.40 and sentences:
        return rng.choice(sentences)
    return rng.choice(TEMPLATES).format(
        org=ctx["org"], code=ctx["code"], n=rng.randint(30, 80), city=rng.choice(PLACES)[0],
        topic=rng.choice(TOPICS), topic2=rng.choice(TOPICS), en=rng.choice(ENGLISH),
        person=_person(rng) + rng.choice(["教授", "館長", "博士", "研究員"]),
        inst=rng.choice(INSTITUTIONS), host=ctx["city"] + rng.choice(HOSTS), c=rng.randint(5, 120),
        k=rng.randint(3, 3000), ord=rng.choice(ORDINALS), month=ctx["month"], day=rng.randint(1, 28),
        year=ctx["year"] - rng.randint(1, 8), w1=rng.choice(words), w2=rng.choice(words),
        w3=rng.choice(words))


def _paragraphs(rng: random.Random, ctx: dict, chars: int) -> list[str]:
    """Paragraphs totalling about ``chars`` characters."""
    paras: list[str] = []
    total = 0
    while total < chars:
        para = "\u3000\u3000" + "".join(_sentence(rng, ctx) for _ in range(rng.randint(2, 5)))
        paras.append(para)
        total += len(para)
    return paras


def make_report(index: int, seed: int, pages_min: int, pages_max: int) -> Report:
    """The ``index``-th report of the corpus given by ``seed``: deterministic."""
    rng = random.Random(f"{seed}:{index}")
    org, code, meeting = rng.choice(ORGS)
    city, country = rng.choice(PLACES)
    year = rng.randint(1999, 2016)
    roc = year - 1911
    month, day = rng.randint(1, 11), rng.randint(1, 20)
    length = rng.randint(4, 10)
    category = rng.choice(CATEGORIES)
    institution = rng.choice(INSTITUTIONS)
    authors = [_person(rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
    topic = rng.choice(TOPICS)
    title = rng.choice([
        f"參加{year}年{org}（{code}）年會報告",
        f"出席{year}年{meeting}暨參訪{city}圖書館報告",
        f"赴{country}考察{topic}業務出國報告",
        f"參加第{rng.randint(10, 80)}屆{org}研討會並發表論文「{topic}之研究」",
    ])
    ctx = {"org": org, "code": code, "city": city, "month": month, "year": year}
    cover = "\n".join([
        f"出國報告（出國類別：{category}）", title, "",
        f"服務機關：{institution}",
        f"姓名職稱：{'、'.join(a + ' ' + rng.choice(JOBS) for a in authors)}",
        f"派赴國家：{country}",
        f"出國期間：民國{roc}年{month}月{day}日至{roc}年{month}月{day + length}日",
        f"報告日期：民國{roc}年{month + 1}月{rng.randint(1, 28)}日",
    ])
    keywords = [org, code, topic, rng.choice(TOPICS), city]
    abstract = ("摘要\n" + "\n".join(_paragraphs(rng, ctx, rng.randint(250, 400)))
                + "\n\n關鍵詞：" + "；".join(keywords))
    pages = [cover, abstract]
    n_pages = rng.randint(pages_min, pages_max)
    per_section = max(1, (n_pages - 2) // len(SECTIONS) + 1)
    for p in range(n_pages - 2):
        paras = _paragraphs(rng, ctx, rng.randint(300, 800))
        if p % per_section == 0:
            paras.insert(0, SECTIONS[min(p // per_section, len(SECTIONS) - 1)])
        pages.append("\n".join(paras))
    pages = pages[:n_pages]
    meta = {"id": f"BENCH{seed:02d}{index:06d}", "type": "report", "title": title, "authors": authors,
            "institution": institution, "category": category, "events": [code], "countries": [country],
            "year": year, "language": "zh-Hant"}
    return Report(stem=f"rep{index:06d}", meta=meta, pages=pages)


def _width(ch: str) -> float:
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.52


def wrap(paragraph: str, width: float = 44.0) -> list[str]:
    """Lines of at most ``width`` CJK-character widths; Latin words are not split."""
    lines: list[str] = []
    line, used = "", 0.0
    for token in re.findall(r"[A-Za-z0-9&'\".,:;!?()\-]+ ?| |.", paragraph):
        w = sum(_width(c) for c in token)
        if used + w > width and line.strip():
            lines.append(line.rstrip())
            line, used = "", 0.0
            token = token.lstrip()
        line += token
        used += w
    if line.strip():
        lines.append(line.rstrip())
    return lines


def render_batch(reports: list[Report], folder: Path) -> int:
    """Write one PDF (and sidecar) per report; one font load for the whole batch."""
    import pypdf
    import yaml
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("wqy", fname=str(FONT))
    spans: list[tuple[int, int]] = []
    for report in reports:
        first = pdf.pages_count
        for page in report.pages:
            pdf.add_page()
            y = 22.0
            for n, para in enumerate(page.split("\n")):
                size = 16 if (n < 2 and page is report.pages[0]) else 11
                pdf.set_font("wqy", size=size)
                for line in wrap(para, 44.0 * 11 / size):
                    if y > 285:
                        break
                    pdf.text(15, y, line)
                    y += size * 0.6
                y += 2.0
        spans.append((first, pdf.pages_count))
    reader = pypdf.PdfReader(io.BytesIO(bytes(pdf.output())))
    for report, (start, end) in zip(reports, spans):
        writer = pypdf.PdfWriter()
        for page in reader.pages[start:end]:
            writer.add_page(page)
        if int(report.meta["id"][-6:]) % 3:  # like real files, some carry a title in /Info
            writer.add_metadata({"/Title": report.meta["title"], "/Producer": "tripkb bench"})
        tmp = folder / f".{report.stem}.pdf.tmp"
        with tmp.open("wb") as fh:
            writer.write(fh)
        (folder / f"{report.stem}.yaml").write_text(
            yaml.safe_dump(report.meta, allow_unicode=True, sort_keys=False), encoding="utf-8")
        os.replace(tmp, folder / f"{report.stem}.pdf")
    return len(reports)


def _render_indices(args: tuple[list[int], int, int, int, str]) -> int:
    indices, seed, pages_min, pages_max, folder = args
    return render_batch([make_report(i, seed, pages_min, pages_max) for i in indices], Path(folder))


def cache_folder(workdir: Path, seed: int, pages_min: int, pages_max: int) -> Path:
    return workdir / "pdfs" / f"g{GEN_VERSION}-s{seed}-p{pages_min}-{pages_max}"


def generate(n: int, seed: int, pages_min: int, pages_max: int, workdir: Path,
             jobs: int = 2, batch: int = 25) -> tuple[Path, int]:
    """Make sure reports 0..n-1 exist in the cache; return (folder, how many were made now)."""
    folder = cache_folder(workdir, seed, pages_min, pages_max)
    folder.mkdir(parents=True, exist_ok=True)
    missing = [i for i in range(n) if not (folder / f"rep{i:06d}.pdf").exists()]
    chunks = [missing[k:k + batch] for k in range(0, len(missing), batch)]
    work = [(chunk, seed, pages_min, pages_max, str(folder)) for chunk in chunks]
    if jobs > 1 and len(work) > 1:
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_render_indices, work))
    else:
        for item in work:
            _render_indices(item)
    return folder, len(missing)


def source_folder(cache: Path, n: int, dest: Path) -> list[Path]:
    """A fresh folder with exactly reports 0..n-1 (hard links into the cache); their PDFs."""
    import shutil

    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    pdfs = []
    for i in range(n):
        for suffix in (".pdf", ".yaml"):
            src = cache / f"rep{i:06d}{suffix}"
            try:
                os.link(src, dest / src.name)
            except OSError:
                shutil.copy2(src, dest / src.name)
        pdfs.append(dest / f"rep{i:06d}.pdf")
    return pdfs


def iter_titles(folder: Path, stems: Iterable[str]) -> Iterable[dict]:
    """The sidecars of the given reports (used to pick rare query words)."""
    import yaml

    for stem in stems:
        yield yaml.safe_load((folder / f"{stem}.yaml").read_text(encoding="utf-8"))
