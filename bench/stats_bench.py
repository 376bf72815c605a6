"""Benchmark: `stats --by institution --by year` over 60,000 metadata-only records.

Builds (once; reused with --kb DIR) a KB of synthetic sidecars with varied
institutions (in several spellings), years, countries, events and categories,
indexes it, then times the summary in-process and as a whole CLI process.
The issue's target is about a second. Run from the repository root:

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
from tripkb.query.stats import stats  # noqa: E402

INSTITUTIONS = ["國家圖書館", "國圖", "國立臺中圖書館", "國立公共資訊圖書館", "臺北市立圖書館", "台北市立圖書館",
                "國立臺灣圖書館", "國立臺灣大學圖書館", "國立政治大學圖書館", "國立成功大學圖書館",
                "高雄市立圖書館", "國史館", "故宮博物院", "教育部", "文化部", "國家發展委員會",
                "行政院主計總處", "交通部", "經濟部", "衛生福利部"] + [f"某縣立機關{n}" for n in range(60)]
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

    result = stats(kb, ["institution", "year"])
    print(f"{result.total} documents, {len(result.order[0])} institutions × {len(result.order[1])} years")
    inproc = timed(lambda: stats(kb, ["institution", "year"]), args.repeat)
    print(f"in-process stats(by=[institution, year]): best {min(inproc):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in inproc)})")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    command = [sys.executable, "-m", "tripkb", "--kb", str(root), "stats", "--by", "institution", "--by", "year"]
    cli = timed(lambda: subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL), args.repeat)
    print(f"CLI process `tripkb stats --by institution --by year`: best {min(cli):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in cli)})")
    print(f"KB kept at {root}")


if __name__ == "__main__":
    main()
