"""Print the query battery's pass count (tests/battery.py): realistic queries over the sample KB
and generated real-shaped reports, each with the ids it must give.

    python bench/query_battery.py [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verbose", action="store_true", help="print each failing query")
    args = ap.parse_args()
    import battery
    from conftest import make_pdf
    from tripkb.index.sync import sync
    from tripkb.kb import KnowledgeBase

    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(battery.build(Path(tmp), make_pdf))
        sync(kb)
        passed, failures = battery.run(kb)
    for failure in failures if args.verbose else []:
        print(failure)
    print(f"query battery: {passed}/{len(battery.QUERIES)} passed")


if __name__ == "__main__":
    main()
