"""Export through the protocol, for every backend: ``iter_hits`` (the whole result set) and ``date_counts``.

Stated through :meth:`SearchBackend.search`, which the rest of the contract pins down:

* ``iter_hits`` gives exactly the hits :meth:`search` pages give, page after page, in the
  same order, with the same fields but the snippet, whatever its page, per_page and batch size;
* a bad request raises at the call, before anything is read;
* ``date_counts`` at a level counts what :meth:`search` with that period as its date filter
  counts, places the rest at their own (coarser) precision, and sums to the total.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from search.api import DATE_LEVELS, InvalidParameter, SearchBackend, SearchRequest

from .test_backend_contract import MARZOUK, everything

HIT_KEYS = {"id", "path", "title", "date", "date_precision", "source", "url", "entities", "cluster"}

REQUESTS = [
    {},
    {"sort": "oldest"},
    {"sort": "newest"},
    {"q": "Hamas"},
    {"q": "Hamas", "sort": "oldest"},
    {"q": '"Gaza Strip" -Lavrov'},
    {"q": "Moscow OR Tehran"},
    {"entities": (MARZOUK,)},
    {"entities_any": ("Sergey Lavrov", "Vladimir Putin")},
    {"entities_not": ("Moscow",)},
    {"entities_any": ("Sergey Lavrov", "Vladimir Putin"), "entities_not": ("Gaza",), "sort": "newest"},
    {"date": "undated"},
    {"date": "2023-10"},
    {"date_from": "2024-01-01"},
    {"q": "nosuchwordanywhere"},
]


def make_request(kw: dict) -> SearchRequest:
    kw = dict(kw)
    for name in ("date_from", "date_to"):
        if name in kw:
            kw[name] = dt.date.fromisoformat(kw[name])
    return SearchRequest(**kw)


def as_export(hit) -> dict:
    row = dict(vars(hit))
    row.pop("snippet")
    row["cluster"] = {k: row["cluster"][k] for k in ("id", "size")}  # exports name no copy's source
    return row


@pytest.mark.parametrize("kw", REQUESTS, ids=lambda kw: repr(kw) if kw else "everything")
def test_iter_hits_is_the_whole_result_set_in_the_search_order(seeds, kw):
    req = make_request(kw)
    expected = [as_export(h) for h in everything(seeds, **{k: getattr(req, k) for k in kw})]
    stream = seeds.iter_hits(req)
    assert stream.total == len(expected)
    got = list(stream)
    assert got == expected
    assert all(set(h) == HIT_KEYS for h in got)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 500])
def test_iter_hits_ignores_the_page_and_any_batch_size_gives_the_same(sites, batch_size):
    whole = list(sites.iter_hits(SearchRequest(sort="oldest")))
    assert len(whole) == sites.search(SearchRequest()).total > 3
    paged = SearchRequest(sort="oldest", page=3, per_page=2, facet_limit=1)
    assert list(sites.iter_hits(paged, batch_size=batch_size)) == whole


def test_iter_hits_on_a_pinned_view_outlives_the_view(seeds):
    view = seeds.open()
    stream = view.iter_hits(SearchRequest(q="Hamas"))
    first = next(stream)
    view.close()  # as a web request's teardown does before its streamed body is sent
    rest = list(stream)
    assert [first, *rest] == [as_export(h) for h in everything(seeds, q="Hamas")]


def test_iter_hits_closes_early_and_checks_the_request_at_the_call(seeds):
    stream = seeds.iter_hits(SearchRequest())
    stream.close()  # before the first hit: what it holds is released, and it ends
    assert list(stream) == []
    with pytest.raises(InvalidParameter):
        seeds.iter_hits(SearchRequest(q="title:[a TO z]"))  # a range over text: refused, before any read
    with pytest.raises(InvalidParameter):
        seeds.iter_hits(SearchRequest(), batch_size=0)


@pytest.mark.parametrize("kw", [{}, {"q": "Hamas"}, {"entities_not": ("Moscow",)}, {"date": "2023"},
                                {"date": "undated"}], ids=repr)
@pytest.mark.parametrize("level", DATE_LEVELS)
def test_date_counts_agree_with_date_filters_and_sum_to_the_total(sites: SearchBackend, kw, level):
    backend = sites
    req = SearchRequest(**kw)
    total = backend.search(req).total
    counts = backend.date_counts(req, level)
    assert sum(c["count"] for c in counts) == total
    values = [c["value"] for c in counts]
    assert len(set(values)) == len(values) and all(c["count"] > 0 for c in counts)
    if "undated" in values:
        assert values[-1] == "undated"
    dated = [v for v in values if v != "undated"]
    assert dated == sorted(dated, key=lambda v: [int(p) for p in v.split("-")] + [0, 0])
    width = {"year": 4, "month": 7, "day": 10}[level]
    for c in counts:
        assert len(c["value"]) <= width or c["value"] == "undated"
        if c["value"] == "undated" or len(c["value"]) == width:
            # A period at the level counts what filtering on it counts (when it narrows the request).
            if req.date is None:
                assert backend.search(dataclasses.replace(req, date=c["value"])).total == c["count"]
        else:
            # A coarser date: the articles of that period not dated finely enough for the level.
            finer = sum(d["count"] for d in counts if d["value"].startswith(c["value"] + "-"))
            if req.date is None:
                assert backend.search(dataclasses.replace(req, date=c["value"])).total == c["count"] + finer


def test_date_counts_refuse_another_level(seeds):
    with pytest.raises(InvalidParameter) as caught:
        seeds.date_counts(SearchRequest(), "week")
    assert caught.value.parameter == "level"
    for level in DATE_LEVELS:
        assert level in caught.value.message
