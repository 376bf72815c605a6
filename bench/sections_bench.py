"""Benchmark: how well report sections are recognised (name and start page), on the sample and generated reports.

Each generated report has a known outline, drawn at random: a numbering style (壹、 一、
第一章 1. or none with colons), section titles in the variants reports use (考察目的, 會議過程,
心得與建議, 建議事項, 附件 …), numbered points inside sections, sometimes a table of contents,
and English papers. A fifth of the reports have no outline at all: anything found in them is
counted as invented. The sample's outlines are those tests/test_sections.py checks. Prints
the share of sections found with the right name and start page, and the sections invented.

With ``--cost-reports N`` it also times recognition on N of bench.py's generated reports
(gen.py, 10-20 pages; cached in ``--workdir``), in one process, document by document beside
the work ingest does on each page anyway (extracting the text, building the index fields),
which is the yardstick: recognition's share of that work is what it adds to ingest.
Run from the repository root:

    python bench/sections_bench.py [--n 40] [--seed 1] [--cost-reports 60]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tripkb.text.extract import read  # noqa: E402
from tripkb.text.sections import find_sections  # noqa: E402

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
STYLES = {
    "upper": ["壹、", "貳、", "參、", "肆、", "伍、", "陸、"],
    "chinese": ["一、", "二、", "三、", "四、", "五、", "六、"],
    "chapter": ["第一章 ", "第二章 ", "第三章 ", "第四章 ", "第五章 ", "第六章 "],
    "arabic": ["1. ", "2. ", "3. ", "4. ", "5. ", "6. "],
}
TITLES = {
    "目的": ["目的", "考察目的", "訪問目的", "出國目的"],
    "過程": ["過程", "會議過程", "考察行程", "參訪過程", "訪問過程"],
    "心得": ["心得", "參訪心得", "考察心得"],
    "建議": ["建議", "建議事項"],
    "心得及建議": ["心得及建議", "心得與建議"],
    "附錄": ["附錄", "附件"],
}
SENTENCES = ["本次出席年會，參加國家圖書館組及編目組的公開會議，並與各國同道交流。",
             "各國圖書館重視數位典藏與長期保存，並以開放授權提供古籍影像。",
             "參觀市立圖書館總館與分館，了解其多元文化服務與青少年空間規劃。",
             "館方說明電子書送存、授權借閱模式與出版社的疑慮。",
             "本館宜持續派員參加，並將簡報與資料上傳網站分享同仁參考。"]
POINTS = ["（一）", "（二）", "（三）", "一、", "二、", "三、"]
ENGLISH = [("摘要", "Abstract"), ("前言", "1 Introduction"), (None, "2 Method"), (None, "3 Results"),
           ("結論", "4 Conclusion"), ("參考文獻", "References")]


def paragraph(rng: random.Random) -> str:
    return "\n".join(rng.choice(POINTS[:3]) + rng.choice(SENTENCES) if rng.random() < 0.4 else rng.choice(SENTENCES)
                     for _ in range(rng.randint(2, 7)))


def outline_report(rng: random.Random) -> tuple[list[str], list[tuple[str, int]]]:
    """Pages of a report with a known outline, and that outline as (name, start page)."""
    style = rng.choice(list(STYLES) + ["colon"])
    names = ["目的", "過程"] + (["心得及建議"] if rng.random() < 0.5 else ["心得", "建議"])
    if rng.random() < 0.4:
        names.append("附錄")
    pages = ["出國報告（出國類別：開會）\n參加年會報告\n服務機關：國家圖書館\n姓名職稱：王小明編輯"]
    expected = []
    if rng.random() < 0.7:
        pages.append("提要\n" if rng.random() < 0.2 else "摘要\n")
        pages[-1] += paragraph(rng)
        expected.append(("摘要", len(pages)))
    if style != "colon" and rng.random() < 0.3:
        pages.append("目次\n" + "\n".join(f"{STYLES[style][i]}{n}........{i + 1}" for i, n in enumerate(names)))
    current = ""
    for i, name in enumerate(names):
        if current and rng.random() < 0.5:
            pages.append(current)
            current = ""
        title = rng.choice(TITLES[name])
        heading = f"{title}：" if style == "colon" else STYLES[style][i] + title
        current += ("\n" if current else "") + heading + "\n" + paragraph(rng)
        expected.append((name, len(pages) + 1))
        if rng.random() < 0.3:
            pages.append(current)
            current = paragraph(rng)
    pages.append(current)
    return pages, expected


def english_report(rng: random.Random) -> tuple[list[str], list[tuple[str, int]]]:
    pages, expected, current = [], [], "Aggregating Metadata from Digital Archives"
    body = "The union catalogue harvested records and measured their completeness over many fields."
    for name, heading in ENGLISH:
        if rng.random() < 0.4:
            pages.append(current)
            current = ""
        current += ("\n" if current else "") + heading + "\n" + "\n".join([body] * rng.randint(1, 4))
        if name:
            expected.append((name, len(pages) + 1))
    pages.append(current)
    return pages, expected


def plain_report(rng: random.Random) -> tuple[list[str], list[tuple[str, int]]]:
    """A document without an outline: a paper's prose, a slide deck, minutes with numbered points."""
    kind = rng.randrange(3)
    if kind == 0:
        return [paragraph(rng).replace("（", "").replace("）", "") for _ in range(rng.randint(1, 4))], []
    if kind == 1:
        return ["\n".join("• " + rng.choice(SENTENCES) for _ in range(5)) for _ in range(3)], []
    return ["會議紀錄\n" + "\n".join(f"{POINTS[3 + i]}{rng.choice(SENTENCES)}" for i in range(3))], []


def make_pdf(path: Path, pages: list[str]) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("wqy", fname=FONT)
    pdf.set_font("wqy", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 7, text)
    pdf.output(str(path))
    return path


def score(found: list[tuple[str, int]], expected: list[tuple[str, int]]) -> tuple[int, int]:
    """(sections of ``expected`` found with the right name and start page, sections found not expected)."""
    left = list(found)
    right = 0
    for item in expected:
        if item in left:
            left.remove(item)
            right += 1
    return right, len(left)


def cost(reports: int, workdir: Path) -> None:
    """Recognition's time a page beside extraction and field building, on gen.py's reports."""
    sys.path.insert(0, str(ROOT / "bench"))
    import gen

    from tripkb.index.analysis import preload
    from tripkb.index.schema import document_fields
    from tripkb.meta.vocab import Vocabulary

    cache, _ = gen.generate(reports, 1, 10, 20, workdir)
    vocab = Vocabulary.load()
    preload()
    pages = 0
    spent = {"extract": 0.0, "fields": 0.0, "sections": 0.0}
    for path in sorted(cache.glob("rep*.pdf"))[:reports]:
        start = time.perf_counter()
        text = read(path).pages
        spent["extract"] += time.perf_counter() - start
        start = time.perf_counter()
        document_fields(path.name, "", {"id": path.stem, "title": path.stem}, None, text, vocab)
        spent["fields"] += time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(5):  # short enough to be timed a few times over
            find_sections(text)
        spent["sections"] += (time.perf_counter() - start) / 5
        pages += len(text)
    per = {k: v / pages * 1000 for k, v in spent.items()}
    work = per["extract"] + per["fields"]
    print(f"cost on {reports} generated reports ({pages} pages), ms a page: extraction {per['extract']:.2f}, "
          f"index fields {per['fields']:.2f} (recognition included), recognition {per['sections']:.3f} "
          f"= {per['sections'] / work:.1%} of extraction and index fields")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="generated reports (default 40)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cost-reports", type=int, default=0, help="time recognition on this many of gen.py's reports")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out", help="gen.py's cache (default bench/out)")
    args = parser.parse_args()
    if args.cost_reports:
        cost(args.cost_reports, args.workdir.resolve())
    from test_sections import SAMPLE

    rng = random.Random(args.seed)
    cases = [(f"sample {doc}", ROOT / "corpus" / f"{doc}.pdf", [(n, p) for n, p in outline])
             for doc, outline in SAMPLE.items()]
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.n):
            maker = [outline_report, outline_report, outline_report, english_report, plain_report][n % 5]
            pages, expected = maker(rng)
            cases.append((f"generated {n} ({maker.__name__})", make_pdf(Path(tmp) / f"{n}.pdf", pages), expected))
        total = right = invented = 0
        for label, path, expected in cases:
            found = [(s.name, s.start_page) for s in find_sections(read(path).pages)]
            ok, extra = score(found, expected)
            total, right, invented = total + len(expected), right + ok, invented + extra
            if ok < len(expected) or extra:
                print(f"  {label}: expected {expected}, found {found}", file=sys.stderr)
    print(f"documents: {len(cases)} ({len(SAMPLE)} sample, {args.n} generated)")
    print(f"sections expected: {total}")
    print(f"found with the right name and start page: {right} ({right / total:.3f})")
    print(f"sections invented (not in the outline): {invented}")


if __name__ == "__main__":
    main()
