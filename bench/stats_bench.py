"""Benchmark: `stats --by institution --by year` over 60,000 metadata-only records, whole and for the libraries.

Builds (once; reused with --kb DIR) a KB of synthetic sidecars from every kind
of agency (ministries, city governments, universities, hospitals, state firms,
and a few percent libraries, library schools and archives, in several
spellings), with years, countries, events and categories, indexes it, then
times the summary in-process and as a whole CLI process, with and without
--sector library (the seed paper's 表五 over a national catalogue). Run from
the repository root:

    python bench/stats_bench.py [--records 60000] [--kb DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tripkb.index.sync import sync  # noqa: E402
from tripkb.kb import KnowledgeBase  # noqa: E402
from tripkb.query.search import Filters  # noqa: E402
from tripkb.query.stats import stats  # noqa: E402

LIBRARIES = ["國家圖書館", "國圖", "國立臺中圖書館", "國立公共資訊圖書館", "臺北市立圖書館", "台北市立圖書館",
             "國立臺灣圖書館", "國立臺灣大學圖書館", "國立政治大學圖書館", "國立成功大學圖書館", "高雄市立圖書館",
             "臺大圖資系", "政大圖檔所", "中華民國圖書館學會", "檔案管理局", "新北市立图书馆"]
CITIES = ["臺北市", "新北市", "桃園市", "臺中市", "臺南市", "高雄市", "基隆市", "新竹縣", "苗栗縣", "彰化縣",
          "南投縣", "雲林縣", "嘉義縣", "屏東縣", "宜蘭縣", "花蓮縣", "臺東縣", "澎湖縣", "金門縣", "連江縣"]
OFFICES = ["政府", "政府教育局", "政府衛生局", "政府交通局", "政府文化局", "政府環境保護局", "政府警察局",
           "政府消防局", "政府觀光局", "政府工務局"]
AGENCIES = (["教育部", "文化部", "國史館", "故宮博物院", "國家發展委員會", "行政院主計總處", "交通部", "經濟部",
             "衛生福利部", "外交部", "國防部", "內政部", "財政部", "法務部", "勞動部", "農業部", "科技部",
             "台灣中油股份有限公司", "中國石油股份有限公司", "台灣電力股份有限公司", "中華郵政股份有限公司",
             "臺北榮民總醫院", "國立臺灣大學", "國立政治大學", "國立成功大學", "國立清華大學", "國立陽明交通大學"]
            + [city + office for city in CITIES for office in OFFICES]
            + [f"國立{name}大學" for name in ("中興", "中正", "中山", "東華", "暨南國際", "高雄", "嘉義", "宜蘭", "聯合")]
            + [f"{city}立醫院" for city in CITIES])
#: About 4% of the reports come from the library sector: in the national catalogue they are few.
INSTITUTIONS = AGENCIES * 2 + LIBRARIES
COUNTRIES = ["美國", "日本", "德國", "英國", "法國", "南非", "韓國", "新加坡", "澳大利亞", "巴西", "加拿大", "荷蘭"]
EVENTS = ["IFLA", "ALA", "SLA", "IASL", "MLA", "ASIST", "CEAL", "ICADL", "JCDL"]
CATEGORIES = ["考察", "進修", "研究", "實習", "視察", "訪問", "開會", "談判", "其他"]


def build(kb: KnowledgeBase, records: int) -> None:
    rng = random.Random(4)
    for n in range(records):
        lines = [f"id: B{n:08d}", "type: report", f"title: 第{n}號出國報告",
                 f"institution: {rng.choice(INSTITUTIONS)}", f"year: {rng.randint(1995, 2024)}",
                 f"category: {rng.choice(CATEGORIES)}",
                 f"countries: [{', '.join(rng.sample(COUNTRIES, rng.choice((1, 1, 1, 2))))}]",
                 f"participants: {rng.randint(1, 6)}"]
        if rng.random() < 0.4:
            lines.append(f"events: [{', '.join(rng.sample(EVENTS, rng.choice((1, 1, 2))))}]")
        (kb.corpus / f"b{n:06d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=60_000)
    parser.add_argument("--kb", type=Path, help="build here, or reuse the KB already here")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = args.kb or Path(tempfile.mkdtemp(prefix="tripkb-stats-bench-"))
    kb = KnowledgeBase.locate(root, create=True)
    if not any(kb.corpus.glob("*.yaml")):
        start = time.perf_counter()
        build(kb, args.records)
        print(f"wrote {args.records} sidecars in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    report = sync(kb)
    print(f"index sync: {report.added} added, {report.unchanged} unchanged in {time.perf_counter() - start:.1f} s")

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    by = ["institution", "year"]
    for label, filters, flags in (("all agencies", Filters(), []),
                                  ("--sector library", Filters(sector="library"), ["--sector", "library"])):
        result = stats(kb, by, filters)
        print(f"{label}: {result.total} documents, {len(result.order[0])} institutions × {len(result.order[1])} years")
        inproc = timed(lambda: stats(kb, by, filters), args.repeat)
        print(f"  in-process stats: best {min(inproc):.2f} s (runs: {', '.join(f'{t:.2f}' for t in inproc)})")
        command = [sys.executable, "-m", "tripkb", "--kb", str(root), "stats", *flags, "--by", "institution",
                   "--by", "year"]
        cli = timed(lambda: subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL), args.repeat)
        print(f"  CLI process `tripkb stats {' '.join(flags)} --by institution --by year`: best {min(cli):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in cli)})")
    print(f"KB kept at {root}")


if __name__ == "__main__":
    main()
