"""Benchmark: import a generated 60,000-row catalogue into an empty KB and index it.

    python bench/import_csv_bench.py [--rows 60000] [--dir DIR] [--keep]

Rows look like the government catalogue's: a 20–40 character title, a 摘要 of
~360 characters (a templated paragraph, twice), five keywords, two people, ROC
dates, and an organisation, destination, institution and category drawn from
short lists. Prints the time to check, write and index the rows, the time of
the syncs the import runs before and after, and the total, each with the CPU
time of this process and of its worker processes (on a machine shared with other
work the wall times swing, the CPU times much less), the workers' user and
system time, and the peak memory of this process and of the largest worker.

Run it again soon after a run that deleted its folder and file creation costs
several times more (ext4 without a journal skips inodes freed in the last minute
or so when it makes new ones): use ``--keep``, or wait, between runs.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

from tripkb.ingest import catalogue
from tripkb.kb import KnowledgeBase

ORGS = ["國際圖書館協會聯盟", "美國圖書館學會", "美國醫學圖書館學會", "東亞圖書館協會", "亞洲數位圖書館國際會議"]
PLACES = ["美國", "日本", "南非", "義大利米蘭", "加拿大", "新加坡", "芬蘭、瑞典", "韓國", "巴西", "中國大陸"]
INSTITUTIONS = ["國家圖書館", "臺北市立圖書館", "國立臺中圖書館", "國立臺灣大學圖書館", "國立公共資訊圖書館"]
CATEGORIES = ["開會", "考察", "訪問", "研究", "進修"]
NAMES = "王文陸 彭慰 林靜宜 周建宏 吳佩珊 陳淑芬 黃志豪 李雅婷 許雅雯 張家豪 蔡宜君 劉建國".split()
WORDS = ("圖書館 數位典藏 閱讀推廣 資訊素養 館藏發展 書目控制 開放近用 古籍保護 青少年服務 "
         "電子書 法定送存 讀者空間 參考服務 詮釋資料 聯合目錄 館際合作 兒童閱讀 社區發展").split()


def row(n: int, rng: random.Random) -> list[str]:
    roc = rng.randint(85, 112)
    month, day = rng.randint(1, 12), rng.randint(1, 8)
    org = rng.choice(ORGS)
    words = rng.sample(WORDS, 5)
    abstract = (f"本次出國參加{roc + 1911}年{org}年會，" + "，".join(
        f"參加{w}相關場次並與各國館員交流{rng.choice(WORDS)}的經驗" for w in words)
        + "。本報告記述會議經過，說明重要議題，並就本館業務提出建議。") * 2
    return [f"C{roc:03d}{n:05d}", f"參加{roc + 1911}年{org}年會暨{words[0]}參訪報告",
            rng.choice(INSTITUTIONS), rng.choice(CATEGORIES), rng.choice(PLACES),
            f"{roc}年{month}月{day}日至{roc}年{month}月{day + 7}日", f"{roc}/{month:02d}/{day + 20:02d}",
            "；".join(words), abstract, "、".join(rng.sample(NAMES, 2))]


def clocks() -> tuple[float, float, float]:
    """Wall time, CPU time of this process, CPU time of its finished worker processes."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), own.ru_utime + own.ru_stime, workers.ru_utime + workers.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true",
                        help="leave the work folder (deleting 60,000 files slows the next run's file creation)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tripkb-bench-", dir=args.dir))
    try:
        source = work / "catalogue.csv"
        rng = random.Random(7)
        with source.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["系統識別號", "報告名稱", "服務機關", "出國類別", "前往地區", "出國期間",
                             "報告日期", "關鍵詞", "摘要", "出國人員"])
            writer.writerows(row(n, rng) for n in range(args.rows))
        kb = KnowledgeBase.locate(work / "kb", create=True)
        spent = []
        real_sync = catalogue.sync_locked

        def timed_sync(*a, **k):
            start = clocks()
            try:
                return real_sync(*a, **k)
            finally:
                spent.append([b - a for a, b in zip(start, clocks())])

        catalogue.sync_locked = timed_sync
        start = clocks()
        report = catalogue.import_csv(kb, source)
        total = [b - a for a, b in zip(start, clocks())]
        syncs = [sum(column) for column in zip(*spent)]
        print(f"{args.rows} rows ({source.stat().st_size / 1e6:.1f} MB CSV): "
              f"{report.added} added, {len(report.problems)} refused")
        print(f"{'':34}{'wall':>8}{'CPU main':>10}{'workers':>9}")
        for label, figures in (("check, write and index the rows:", [t - i for t, i in zip(total, syncs)]),
                               ("sync before and after:", syncs), ("total:", total)):
            print(f"{label:34}" + "".join(f"{x:{w}.1f} s" for x, w in zip(figures, (6, 8, 7))))
        own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        print(f"CPU of the workers: {workers.ru_utime:.1f} s user, {workers.ru_stime:.1f} s system "
              f"({1000 * workers.ru_utime / args.rows:.2f} and {1000 * workers.ru_stime / args.rows:.2f} ms a row)")
        print(f"peak memory: {own.ru_maxrss / 1024:.0f} MiB this process, "
              f"{workers.ru_maxrss / 1024:.0f} MiB the largest worker")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
