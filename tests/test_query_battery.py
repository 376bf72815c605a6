"""The query battery (tests/battery.py) over the sample KB and generated real-shaped reports."""

import pytest

import battery
from tripkb.index.sync import sync
from tripkb.kb import KnowledgeBase


@pytest.fixture(scope="module")
def battery_kb(tmp_path_factory) -> KnowledgeBase:
    from conftest import make_pdf

    kb = KnowledgeBase(battery.build(tmp_path_factory.mktemp("battery"), make_pdf))
    sync(kb)
    return kb


def test_the_battery_has_over_a_hundred_queries():
    assert len(battery.QUERIES) >= 100


@pytest.mark.parametrize("entry", battery.QUERIES, ids=[f"{c}:{q}" for c, q, *_ in battery.QUERIES])
def test_query(battery_kb, entry):
    assert battery.check(battery_kb, *entry) is None
