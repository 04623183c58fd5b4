"""OR within a type (``entity_any``), NOT (``entity_not``) and disjunctive facet counts, for every backend.

Expectations come from the seeds' known entities (which article names whom)
and from laws any engine must obey, stated through single-value searches:

* an OR group is the union of its values, groups and ``entity`` intersect,
  an exclusion subtracts;
* the count of a value of a type with an OR group is the total of the same
  search with that value in place of the group (Solr's tag/exclude); of any
  other value, the total with the value added as an ``entity`` filter;
* an excluded value counts what dropping its exclusion brings back.
"""

from __future__ import annotations

import dataclasses

import pytest

from search.api import SearchBackend, SearchRequest

from .test_backend_contract import MARZOUK, everything

LAVROV = "Sergey Lavrov"
PUTIN = "Vladimir Putin"


def ids(backend: SearchBackend, **kw) -> set[str]:
    return {h.id for h in everything(backend, **kw)}


def facets(backend: SearchBackend, **kw) -> dict[str, dict]:
    return {f["value"]: f for f in backend.search(SearchRequest(facet_limit=1000, **kw)).facets["entity"]}


# -- OR, AND, NOT as sets ---------------------------------------------------------------------------


def test_an_or_group_is_the_union_of_its_values(seeds):
    lavrov, putin = ids(seeds, entities=(LAVROV,)), ids(seeds, entities=(PUTIN,))
    assert len(lavrov) == len(putin) == 2 and not lavrov & putin
    either = ids(seeds, entities_any=(LAVROV, PUTIN))
    assert either == lavrov | putin and len(either) == 4


def test_or_groups_of_types_and_with_each_other_and_with_entity(seeds):
    people = ids(seeds, entities=(LAVROV,)) | ids(seeds, entities=(PUTIN,))
    places = ids(seeds, entities=("Moscow",)) | ids(seeds, entities=("Jenin",))
    grouped = ids(seeds, entities_any=(LAVROV, PUTIN, "Moscow", "Jenin"))
    assert grouped == people & places and len(grouped) == 4
    assert ids(seeds, entities_any=(LAVROV, PUTIN, "Moscow"), entities=(MARZOUK,)) == (
        people & ids(seeds, entities=("Moscow",)) & ids(seeds, entities=(MARZOUK,)))
    assert len(ids(seeds, entities_any=(LAVROV, PUTIN, "Moscow"), entities=(MARZOUK,))) == 3


def test_an_excluded_value_is_subtracted(seeds):
    everyone = ids(seeds)
    moscow = ids(seeds, entities=("Moscow",))
    assert ids(seeds, entities_not=("Moscow",)) == everyone - moscow
    assert len(everyone - moscow) == 1
    assert ids(seeds, entities_any=(LAVROV, PUTIN), entities_not=("Moscow", "Gaza")) == (
        (ids(seeds, entities=(LAVROV,)) | ids(seeds, entities=(PUTIN,))) - moscow - ids(seeds, entities=("Gaza",)))


def test_merged_spellings_name_their_value_in_or_and_not(seeds):
    assert ids(seeds, entities_any=("Lavrov", "Putin")) == ids(seeds, entities_any=(LAVROV, PUTIN))
    assert ids(seeds, entities_not=("Abu Marzouq",)) == ids(seeds) - ids(seeds, entities=(MARZOUK,))
    result = seeds.search(SearchRequest(entities_any=("Lavrov",), entities_not=("Abu Marzouq",)))
    assert result.total == 1
    listed = {f["value"]: f for f in result.facets["entity"]}
    assert listed[LAVROV]["mode"] == "any" and listed[MARZOUK]["mode"] == "not"


def test_unknown_values(seeds):
    # Alone, an unknown OR value matches nothing (as an unknown entity filter); beside known
    # values it adds nothing to their group; an unknown exclusion excludes nothing.
    assert seeds.search(SearchRequest(entities_any=("No Such Entity",))).total == 0
    assert ids(seeds, entities_any=(LAVROV, "No Such Entity")) == ids(seeds, entities=(LAVROV,))
    assert ids(seeds, entities_any=(LAVROV, "Moscow", "No Such Entity")) == ids(seeds, entities=(LAVROV, "Moscow"))
    assert ids(seeds, entities_not=("No Such Entity",)) == ids(seeds)
    nothing = seeds.search(SearchRequest(entities_any=("No Such Entity",), facet_limit=1000))
    assert all(f["count"] == 0 for f in nothing.facets["entity"])


# -- disjunctive counts -----------------------------------------------------------------------------


def test_or_values_are_counted_without_their_own_group(seeds):
    listed = facets(seeds, entities_any=(LAVROV, PUTIN))
    # People: counted as if no person were chosen (the person group left out) ...
    assert listed[LAVROV] == {"value": LAVROV, "type": "person", "count": 2, "selected": False, "mode": "any"}
    assert listed[PUTIN] == {"value": PUTIN, "type": "person", "count": 2, "selected": False, "mode": "any"}
    assert listed[MARZOUK] == {"value": MARZOUK, "type": "person", "count": 4, "selected": False}
    assert listed["Mikhail Bogdanov"]["count"] == 2
    # ... places and organisations over the four matches.
    assert listed["Jerusalem"]["count"] == 4 and listed["Moscow"]["count"] == 3
    assert listed["Russia"]["count"] == 3 and listed["West Bank"]["count"] == 2
    assert listed["Hamas"] == {"value": "Hamas", "type": "org", "count": 4, "selected": False}


def test_each_type_is_counted_with_the_other_types_groups(seeds):
    listed = facets(seeds, entities_any=(LAVROV, PUTIN, "Moscow"))
    # People over the Moscow articles (the place group kept, the person group left out).
    assert listed[LAVROV]["count"] == 1 and listed[PUTIN]["count"] == 2 and listed[MARZOUK]["count"] == 4
    # Places over the articles naming Lavrov or Putin (the person group kept).
    assert listed["Moscow"] == {"value": "Moscow", "type": "place", "count": 3, "selected": False, "mode": "any"}
    assert listed["Gaza"]["count"] == 2 and listed["Jenin"]["count"] == 1
    # Organisations (no group) over the three matches.
    result = seeds.search(SearchRequest(entities_any=(LAVROV, PUTIN, "Moscow")))
    assert result.total == 3
    assert listed["Hamas"]["count"] == 3 and listed["Kremlin"]["count"] == 2
    # The date facet uses every filter.
    assert sum(f["count"] for f in result.facets["date"]) == 3


def test_excluded_values_are_listed_with_what_they_exclude(seeds):
    listed = facets(seeds, entities_not=("Moscow",))
    assert listed["Moscow"] == {"value": "Moscow", "type": "place", "count": 4, "selected": False, "mode": "not"}
    assert listed["Hamas"]["count"] == 1
    narrowed = facets(seeds, entities_any=(LAVROV,), entities_not=("Moscow",))
    assert narrowed["Moscow"]["count"] == 1  # of the two Lavrov articles, one names Moscow
    assert narrowed[LAVROV]["count"] == 1  # the person group left out, the exclusion kept


def test_required_values_keep_selected_true_and_no_mode(seeds):
    listed = facets(seeds, entities=(MARZOUK,), entities_any=(LAVROV, PUTIN))
    assert listed[MARZOUK] == {"value": MARZOUK, "type": "person", "count": 4, "selected": True}
    assert listed[LAVROV]["count"] == 1 and listed[PUTIN]["count"] == 2


def test_named_values_are_listed_past_the_limit(seeds):
    entries = seeds.search(SearchRequest(facet_limit=1, entities_any=("Jenin",), entities_not=("Xi Jinping",)))
    listed = {f["value"]: f for f in entries.facets["entity"]}
    assert listed["Jenin"]["mode"] == "any" and listed["Xi Jinping"] == {
        "value": "Xi Jinping", "type": "person", "count": 0, "selected": False, "mode": "not"}


# -- the laws, over many combinations ---------------------------------------------------------------


COMBINATIONS = [
    {"entities_any": (LAVROV, PUTIN)},
    {"entities_any": (LAVROV, "Moscow", "Gaza")},
    {"entities_any": ("Hamas", "Kremlin", "Jenin", "Beijing"), "entities": ("Dmitry Peskov",)},
    {"entities_not": ("Moscow", "Lior Haiat")},
    {"entities_any": ("Ismail Haniyeh", PUTIN), "entities_not": ("Gaza",)},
    {"entities_any": ("Kremlin", "Reuters", "Jerusalem"), "entities_not": ("China",), "q": "Hamas"},
    {"entities_any": (MARZOUK,), "date": "undated"},
]


@pytest.mark.parametrize("kw", COMBINATIONS)
def test_counts_obey_the_disjunctive_laws(seeds, kw):
    req = SearchRequest(facet_limit=1000, **kw)
    result = seeds.search(req)
    assert result.total == len(ids(seeds, **kw))
    types = {v: f["type"] for v, f in facets(seeds).items()}
    for f in result.facets["entity"]:
        assert f["count"] == law_count(seeds, req, f["value"], f["type"], types), f


def law_count(backend: SearchBackend, req: SearchRequest, value: str, type_: str, types: dict[str, str]) -> int:
    """A facet value's count stated through totals of other searches."""
    base = dataclasses.replace(req, page=1, per_page=1)
    if value in req.entities_not:
        dropped = dataclasses.replace(base, entities_not=tuple(v for v in req.entities_not if v != value))
        return backend.search(dropped).total - backend.search(base).total
    others = tuple(v for v in req.entities_any if types.get(v) != type_)
    if len(others) < len(req.entities_any):  # the type has an OR group: the value in its place
        return backend.search(dataclasses.replace(base, entities_any=others + (value,))).total
    return backend.search(dataclasses.replace(base, entities=req.entities + (value,))).total
