"""The shipped sample KB, indexed once per test module, for the tests of exports and citations."""

from __future__ import annotations

import shutil

import pytest

from tripkb.kb import KnowledgeBase
from tripkb.meta.sidecar import read_sidecar, to_json
from tripkb.query.selection import select

from conftest import REPO


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """(the selected items, the sidecar of each by id): every record of the sample."""
    root = tmp_path_factory.mktemp("sample")
    shutil.copytree(REPO / "corpus", root / "corpus")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("TRIPKB_HOME", raising=False)
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
        selection = select(KnowledgeBase(root))
    assert selection.problems == []
    sidecars = {item.id: to_json(read_sidecar(item.sidecar)[0]) for item in selection.items}
    return selection.items, sidecars
