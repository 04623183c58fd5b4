"""Co-occurrence through the protocol, for every backend: ``cooccurrence(req, with_value, limit)``.

Stated through :meth:`SearchBackend.search`, which the rest of the contract pins down:

* the result set is the search's matches with the value's own ``entity`` filter left out
  (``total``), and ``count`` is how many of them have the value;
* each listed value's ``count`` is the total of that search with both values required, and
  every value with such articles is listed (up to the limit) but the value itself and the
  values the search requires;
* ``expected`` = count of the value × count of the other value / total, ``lift`` = count / expected;
* the order is count, then lift, then name; ``limit`` cuts it;
* a merged spelling means its canonical value; an unknown value or a bad limit is refused.
"""

from __future__ import annotations

import dataclasses

import pytest

from search.api import MAX_COOCCUR_LIMIT, InvalidParameter, SearchBackend, SearchRequest

from .test_backend_contract import MARZOUK

CASES = [
    ({}, "Hamas"),
    ({}, MARZOUK),
    ({"entities": ("Hamas",)}, "Hamas"),
    ({"entities": (MARZOUK, "Hamas")}, MARZOUK),
    ({"q": "Moscow"}, "Hamas"),
    ({"entities_not": ("Moscow",)}, "Hamas"),
    ({"entities_any": ("Sergey Lavrov", "Vladimir Putin")}, "Hamas"),
    ({"date": "2023"}, "Hamas"),
    ({"date": "undated"}, MARZOUK),
    ({"q": "nosuchwordanywhere"}, "Hamas"),
]


def total(backend: SearchBackend, req: SearchRequest, *values: str) -> int:
    return backend.search(dataclasses.replace(req, entities=req.entities + values, per_page=1)).total


@pytest.mark.parametrize("kw,value", CASES, ids=repr)
def test_cooccurrence_counts_are_the_searches_for_both(seeds: SearchBackend, kw, value):
    req = SearchRequest(**kw)
    own = dataclasses.replace(req, entities=tuple(v for v in req.entities if v != value))
    answer = seeds.cooccurrence(req, value, MAX_COOCCUR_LIMIT)
    assert answer.value == value and answer.type in ("person", "org", "place", "other")
    assert answer.total == total(seeds, own)
    assert answer.count == total(seeds, own, value)
    # Every value found with it in the result set, as the search with it required lists them.
    both = seeds.search(dataclasses.replace(own, entities=own.entities + (value,), facet_limit=1000, per_page=1))
    expected_values = {f["value"] for f in both.facets["entity"]
                       if f["value"] != value and f["value"] not in req.entities + req.entities_not
                       and f["count"] and total(seeds, own, value, f["value"])}
    assert {v["value"] for v in answer.values} == expected_values
    for v in answer.values:
        assert set(v) == {"value", "type", "count", "expected", "lift"}
        assert v["count"] == total(seeds, own, value, v["value"]) > 0
        alone = total(seeds, own, v["value"])
        assert v["expected"] == answer.count * alone / answer.total
        assert v["lift"] == pytest.approx(v["count"] / v["expected"], rel=1e-12)
        assert v["lift"] == v["count"] * answer.total / (answer.count * alone)
    keys = [(-v["count"], -v["lift"], v["value"].casefold(), v["type"]) for v in answer.values]
    assert keys == sorted(keys)
    if not answer.count:
        assert answer.values == []


def test_the_values_own_filter_is_left_out_and_limit_cuts_the_order(seeds):
    alone = seeds.cooccurrence(SearchRequest(), "Hamas", 200)
    within = seeds.cooccurrence(SearchRequest(entities=("Hamas",)), "Hamas", 200)
    assert (within.total, within.count, within.values) == (alone.total, alone.count, alone.values)
    assert len(alone.values) > 3
    assert seeds.cooccurrence(SearchRequest(), "Hamas", 3).values == alone.values[:3]
    assert seeds.cooccurrence(SearchRequest(), "Hamas").values == alone.values[:20]
    # Another required value is in every article of the result set: not listed.
    other = seeds.cooccurrence(SearchRequest(entities=("Hamas", MARZOUK)), "Hamas", 200)
    assert MARZOUK not in {v["value"] for v in other.values}
    assert other.count == other.total


def test_a_merged_spelling_means_its_value(seeds):
    spelling = next(s for r in seeds.entities("person") if r.value == MARZOUK for s in r.spellings if s != MARZOUK)
    by_spelling = seeds.cooccurrence(SearchRequest(), spelling, 200)
    by_value = seeds.cooccurrence(SearchRequest(), MARZOUK, 200)
    assert by_spelling.value == MARZOUK
    assert by_spelling.values == by_value.values and by_spelling.count == by_value.count
    # An entity filter on the spelling is the value's own filter too.
    assert seeds.cooccurrence(SearchRequest(entities=(spelling,)), MARZOUK, 200).values == by_value.values


@pytest.mark.parametrize("value", ["", "   ", "No Such Entity Anywhere"])
def test_an_unknown_or_empty_value_is_refused(seeds, value):
    with pytest.raises(InvalidParameter) as caught:
        seeds.cooccurrence(SearchRequest(), value)
    assert caught.value.parameter == "with"


@pytest.mark.parametrize("limit", [0, -1, MAX_COOCCUR_LIMIT + 1, True, "5"])
def test_a_limit_out_of_range_is_refused(seeds, limit):
    with pytest.raises(InvalidParameter) as caught:
        seeds.cooccurrence(SearchRequest(), "Hamas", limit)
    assert caught.value.parameter == "limit"


def test_a_bad_query_is_refused_as_search_refuses_it(seeds):
    with pytest.raises(InvalidParameter):
        seeds.cooccurrence(SearchRequest(q="title:[a TO z]"), "Hamas")
