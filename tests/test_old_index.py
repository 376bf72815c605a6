"""A knowledge base indexed before the modules moved into subpackages still opens and searches."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO, tripkb_env

#: One record, indexed by the code before the restructure (its schema pickled as tripkb.analysis
#: and tripkb.postings classes); made with 'tripkb reindex' and committed as it was written.
BEFORE = Path(__file__).parent / "fixtures" / "kb-before-restructure"

#: The CLI with only this checkout's modules: an editable install of another checkout (which
#: may still have tripkb/analysis.py) would otherwise answer for a module this one lacks.
THIS_CHECKOUT_ONLY = ("import sys; sys.meta_path[:] = [f for f in sys.meta_path if 'Editable' not in "
                      "getattr(f, '__name__', type(f).__name__)]; sys.argv[0] = 'tripkb'; "
                      "from tripkb.cli import main; main()")


def test_an_index_written_before_the_restructure_opens_and_searches(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(BEFORE, kb)
    [toc] = (kb / "index").glob("_tripkb_*.toc")
    assert b"tripkb.analysis" in toc.read_bytes() and b"tripkb.postings" in toc.read_bytes()
    found = subprocess.run([sys.executable, "-c", THIS_CHECKOUT_ONLY, "--kb", str(kb), "search", "海報展", "--json"],
                           env=tripkb_env(PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=300)
    assert found.returncode == 0, found.stderr
    assert [hit["id"] for hit in json.loads(found.stdout)["hits"]] == ["C09601649"]
