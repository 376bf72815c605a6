"""The installed command, run for real in a subprocess, as the README's quick start does."""

import json
import shutil
import subprocess
import sys

from conftest import REPO, tripkb_env


def tripkb(*args, cwd, env=None):
    exe = shutil.which("tripkb")
    cmd = [exe, *args] if exe else [sys.executable, "-m", "tripkb", *args]
    return subprocess.run(cmd, cwd=cwd, env=env or tripkb_env(), capture_output=True, text=True,
                          encoding="utf-8", timeout=300)


def test_quick_start_on_a_copy_of_the_sample(tmp_path):
    kb = tmp_path / "sample"
    shutil.copytree(REPO / "corpus", kb / "corpus")
    first = tripkb("search", "國際圖書館協會聯盟", "--org", "IFLA", "--since", "2005", cwd=kb)
    assert first.returncode == 0, first.stderr
    assert "documents match 國際圖書館協會聯盟" in first.stdout
    assert (kb / "index").is_dir()

    def index_files() -> list[str]:
        return sorted(p.name for p in (kb / "index").iterdir() if p.name != "stamps.json")

    stamp = index_files()

    as_json = tripkb("search", "美國圖書館學會", "--json", "--limit", "50", cwd=tmp_path,
                     env=tripkb_env(TRIPKB_HOME=str(kb)))
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    ids = {h["id"] for h in data["hits"]}
    assert "C09601649" in ids and data["total"] == len(ids) >= 3
    assert index_files() == stamp  # nothing was rebuilt (stamps.json is a copy searches keep)

    bad = tripkb("search", "", cwd=kb)
    assert bad.returncode == 2
    assert bad.stderr == "Error: the query is empty: give a word or phrase to search for, e.g. 年會\n"
    assert "Traceback" not in bad.stderr


def test_module_entry_point_and_help(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tripkb", "--help"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert result.returncode == 0
    for command in ("ingest", "search", "show", "reindex"):
        assert command in result.stdout
