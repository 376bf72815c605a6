"""The route table kept in the user's cache: read back exactly as jieba's dictionary makes it,
named for the dictionaries it was made from, made again when the file is damaged."""

import subprocess
import sys
from pathlib import Path

from tripkb.index import route_cache
from tripkb.index.analysis import route_table, segmenter, table_of

ROOT = Path(__file__).resolve().parent.parent


def test_the_kept_table_reads_back_as_jiebas_dictionary_makes_it(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    made = table_of(segmenter())
    route_cache.save_table("k", made)
    assert (tmp_path / "tripkb" / "route-k.bin").is_file()
    kept = route_cache.load_table("k")
    assert kept == made
    route, _ = kept
    assert route["国际图书馆协会联盟"] is not None  # a word of the domain dictionary (in the match form)
    assert route["国际图书馆协"] is None  # only the beginning of words


def test_a_damaged_or_missing_file_is_no_table(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert route_cache.load_table("none") is None
    route_cache.save_table("k", ({"圖書": -9.5, "圖": None, "館": -11.0}, -20.0))
    path = tmp_path / "tripkb" / "route-k.bin"
    whole = path.read_bytes()
    assert route_cache.load_table("k") == ({"圖書": -9.5, "圖": None, "館": -11.0}, -20.0)
    for damaged in (whole[:-3], whole + b"x", b"not a table", whole.replace("圖書".encode(), b"\xff\xfe\xfd\xfc\xfb\xfa")):
        path.write_bytes(damaged)
        assert route_cache.load_table("k") is None, damaged[:40]


def test_the_key_follows_the_domain_dictionary(monkeypatch):
    key = route_cache.table_key()
    assert key == route_cache.table_key()
    monkeypatch.setattr(route_cache, "FORMAT", b"tripkb route table 0\n")
    assert route_cache.table_key() != key


def test_a_process_reads_the_kept_table_and_cuts_as_jieba_does(tmp_path):
    """The first process makes the file; the next reads it instead of jieba's dictionary (jieba is
    not even imported) and cuts the same words."""
    code = ("import sys; from tripkb.index.analysis import segment, route_table; route_table(); "
            "print('|'.join(w for w, _, _ in segment('參加國際圖書館協會聯盟年會的圖書館員')), 'jieba' in sys.modules)")
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert list((tmp_path / "tripkb").glob("route-*.bin"))
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    words = [w for w, _, _ in table_cut("參加國際圖書館協會聯盟年會的圖書館員")]
    assert first.stdout.split() == ["|".join(words), "True"]
    assert second.stdout.split() == ["|".join(words), "False"]


def table_cut(run):
    return segmenter().tokenize(run, HMM=False)


def test_the_table_in_use_is_jiebas():
    assert route_table() == table_of(segmenter())
