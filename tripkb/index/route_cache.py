"""The route table of jieba's dictionary, kept in the user's cache in a form that loads fast.

jieba keeps its dictionary in a marshal file whose load, with the domain
dictionary added and the route table made, was most of a short ingest
(bench/README.md). Here the table is three flat blobs (the words, the strings
that only begin words, the words' log probabilities as doubles), from which
the dict is made in C, several times faster. The file is named for what it was
made from (jieba's dictionary file, the domain dictionary, this format), so a
change to either makes a new one; a file that does not read back whole is made
again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import struct
import sys
from array import array
from importlib import resources
from pathlib import Path

from ..fsutil import user_cache_dir

#: Bumped when the file's layout or the table's meaning changes.
FORMAT = b"tripkb route table 1\n"
_HEADER = struct.Struct("<dQQQ")


def table_key() -> str:
    """A name for the table made from the dictionaries installed now, found without importing jieba."""
    digest = hashlib.sha256(FORMAT)
    spec = importlib.util.find_spec("jieba")
    folder = spec.submodule_search_locations[0] if spec and spec.submodule_search_locations else ""
    try:
        stat = os.stat(os.path.join(folder, "dict.txt"))
        digest.update(f"{folder}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    except OSError:
        digest.update(b"no jieba dictionary")
    digest.update((resources.files("tripkb") / "data" / "userdict.txt").read_bytes())
    return digest.hexdigest()[:24]


def _path(key: str) -> Path:
    return user_cache_dir() / f"route-{key}.bin"


def load_table(key: str) -> tuple[dict[str, float | None], float] | None:
    """The table kept under ``key``, or None when there is none or it does not read back whole."""
    try:
        data = _path(key).read_bytes()
    except OSError:
        return None
    start = len(FORMAT) + _HEADER.size
    if not data.startswith(FORMAT) or len(data) < start:
        return None
    unknown, words_len, prefixes_len, values_len = _HEADER.unpack_from(data, len(FORMAT))
    if start + words_len + prefixes_len + values_len != len(data) or values_len % 8:
        return None
    view = memoryview(data)
    try:
        words = str(view[start:start + words_len], "utf-8").split("\n") if words_len else []
        start += words_len
        prefixes = str(view[start:start + prefixes_len], "utf-8").split("\n") if prefixes_len else []
    except UnicodeDecodeError:
        return None
    values = array("d")
    values.frombytes(view[start + prefixes_len:])
    if sys.byteorder != "little":
        values.byteswap()
    if len(values) != len(words):
        return None
    table: dict[str, float | None] = dict(zip(words, values))
    table.update(dict.fromkeys(prefixes))
    return table, unknown


def save_table(key: str, table: tuple[dict[str, float | None], float]) -> None:
    """Keep ``table`` under ``key``, written whole and renamed in; a cache that cannot be written
    is no error (the next process makes the table again)."""
    route, unknown = table
    words = [word for word, logp in route.items() if logp is not None]
    if any("\n" in word for word in route):
        return  # cannot be kept in this layout: made again each time
    values = array("d", (route[word] for word in words))
    if sys.byteorder != "little":
        values.byteswap()
    words_blob = "\n".join(words).encode("utf-8")
    prefixes_blob = "\n".join(word for word, logp in route.items() if logp is None).encode("utf-8")
    path = _path(key)
    scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(scratch, "wb") as fh:
            fh.write(FORMAT)
            fh.write(_HEADER.pack(unknown, len(words_blob), len(prefixes_blob), len(values) * 8))
            fh.write(words_blob)
            fh.write(prefixes_blob)
            fh.write(values.tobytes())
        os.replace(scratch, path)
    except OSError:
        try:
            os.unlink(scratch)
        except OSError:
            pass
