"""The OpenSearch translation, without a cluster: golden query DSL for parsed queries and
requests, and answers (made up here, shaped as OpenSearch gives them) turned into facets.

Whether the DSL finds what the Whoosh backend finds is checked on a real
cluster in ``tests/opensearch/test_query_parity.py``; here each shape is
pinned, so a change to the translation shows as a diff of plain dicts.
"""

from __future__ import annotations

import datetime as dt

import pytest

from search.errors import InvalidParameter
from search.limits import QueryLimits
from search.model import SearchRequest
from search.opensearch_backend.aggs import FacetSizes, parse_aggs, search_aggs
from search.opensearch_backend.query import (
    UntranslatableQuery,
    ValueTypes,
    parse_types,
    request_filters,
    search_body,
    translate,
    types_request,
)
from search.querysyntax import FALLBACK_NOTICE, check_cost, make_parser, parse_query


@pytest.fixture(scope="module")
def parser():
    return make_parser()


def t(field: str, value, boost: float | None = None) -> dict:
    body = {"value": value}
    if boost is not None:
        body["boost"] = boost
    return {"term": {field: body}}


def either(*clauses, boost: float | None = None) -> dict:
    body = {"should": list(clauses), "minimum_should_match": 1}
    if boost is not None:
        body["boost"] = boost
    return {"bool": body}


def word(text: str) -> dict:
    """An unfielded word: title (boost 2) or body."""
    return either(t("title", text, 2.0), t("body", text))


def near(field: str, words, slop: int = 0, boost: float | None = None) -> dict:
    body = {"clauses": [{"span_term": {field: w}} for w in words], "slop": slop, "in_order": True}
    if boost is not None:
        body["boost"] = boost
    return {"span_near": body}


MATCH_ALL = {"match_all": {}}

QUERIES = [
    ("putin", word("putin"), None),
    # analysed as the schema does: lower-cased, folded, stemmed
    ("Estimates Tromsø", {"bool": {"must": [word("estim"), word("tromso")]}}, None),
    ('"prime minister"', either(near("title", ["prime", "minist"], 0, 2.0), near("body", ["prime", "minist"])),
     None),
    # Whoosh's slop 3 (each word within 3 of the one before) is Lucene's 2 positions between
    ('"oil prices"~3', either(near("title", ["oil", "price"], 2, 2.0), near("body", ["oil", "price"], 2)), None),
    ('"a b c"~2', either(
        {"span_near": {"clauses": [near("title", ["a", "b"], 1), {"span_term": {"title": "c"}}], "slop": 1,
                       "in_order": True, "boost": 2.0}},
        {"span_near": {"clauses": [near("body", ["a", "b"], 1), {"span_term": {"body": "c"}}], "slop": 1,
                       "in_order": True}}), None),
    ("oil OR gold", either(t("title", "oil", 2.0), t("body", "oil"), t("title", "gold", 2.0), t("body", "gold")),
     None),
    ("oil -crude", {"bool": {"must": [word("oil")], "must_not": [word("crude")]}}, None),
    ("oil NOT crude", {"bool": {"must": [word("oil")], "must_not": [word("crude")]}}, None),
    # NOT alone is everything but: Lucene's pure-negative bool would match nothing
    ("NOT oil", {"bool": {"must": [MATCH_ALL], "must_not": [word("oil")]}}, None),
    ("+oil prices", {"bool": {"must": [word("oil")], "should": [word("price")]}}, None),
    ("oil^3", either(t("title", "oil", 2.0), t("body", "oil"), boost=3.0), None),
    ("title:oil", t("title", "oil"), None),
    ("title:(bank OR trade)", either(t("title", "bank"), t("title", "trade")), None),
    ("estim*", either({"prefix": {"title": {"value": "estim", "boost": 2.0}}},
                      {"prefix": {"body": {"value": "estim"}}}), None),
    ("pu?in", either({"wildcard": {"title": {"value": "pu?in", "boost": 2.0}}},
                     {"wildcard": {"body": {"value": "pu?in"}}}), None),
    ("path:a\\b*c", {"wildcard": {"path": {"value": "a\\\\b*c"}}}, None),
    ("title:*", MATCH_ALL, None),
    ("date:[2023-01 TO 2023-06]", {"range": {"date": {"gte": "2023-01", "lte": "2023-06"}}}, None),
    ("date:{2023-01 TO 2023-06}", {"range": {"date": {"gt": "2023-01", "lt": "2023-06"}}}, None),
    ("date_num:20231026", t("date_num", 20231026), None),
    ('entity:"person:Vladimir Putin"', t("entity", "person:Vladimir Putin"), None),
    ("oil AND (gold OR NOT crude)", {"bool": {"must": [word("oil"), either(
        t("title", "gold", 2.0), t("body", "gold"), {"bool": {"must": [MATCH_ALL], "must_not": [word("crude")]}})]}},
     None),
    # the fallback notices: the same words as the Whoosh backend searches
    ('"unbalanced quote', {"bool": {"must": [word("unbalanc"), word("quot")]}},
     "An unmatched quotation mark was ignored."),
    ("(oil", word("oil"), "Unbalanced parentheses were ignored."),
    ("-oil", word("oil"), FALLBACK_NOTICE),
]


@pytest.mark.parametrize(("q", "dsl", "notice"), QUERIES, ids=[q for q, _, _ in QUERIES])
def test_query_dsl(parser, q, dsl, notice):
    parsed, said = parse_query(parser, q)
    assert said == notice
    assert translate(parsed) == dsl


def test_empty_query_is_every_document(parser):
    assert parse_query(parser, "   ") == (None, None)
    assert translate(None) == MATCH_ALL
    filters = request_filters(SearchRequest(), ValueTypes({}))
    assert search_body(None, filters) == {"query": MATCH_ALL, "track_total_hits": True}


def test_cost_limits_are_the_shared_ones(parser):
    limits = QueryLimits(max_query_terms=3)
    with pytest.raises(InvalidParameter, match="only on the date"):
        check_cost(parse_query(parser, "title:[a TO c]")[0], limits)
    with pytest.raises(InvalidParameter, match="limit is 3"):
        check_cost(parse_query(parser, "a b c d")[0], limits)
    assert check_cost(parse_query(parser, "a* b*")[0], QueryLimits()) == (512, True)
    assert check_cost(parse_query(parser, "a b")[0], QueryLimits()) == (512, False)


def test_unknown_node_is_refused():
    from whoosh import query as Q

    with pytest.raises(UntranslatableQuery, match="FuzzyTerm"):
        translate(Q.FuzzyTerm("body", "oil"))
    with pytest.raises(UntranslatableQuery, match="minmatch"):
        translate(Q.Or([Q.Term("body", "a"), Q.Term("body", "b")], minmatch=2))


# -- requests ------------------------------------------------------------------------

TYPES = ValueTypes(
    {"Vladimir Putin": "person", "Joe Biden": "person", "Hamas": "org", "Gaza": "place", "Kyiv": "place",
     "Reuters": "org"},
    {"putin": "Vladimir Putin"},  # a merged spelling's key -> its value
)


def terms(*values: str) -> dict:
    types = ("person", "org", "place", "other")
    return {"terms": {"entity": [f"{ty}:{v}" for v in values for ty in types]}}


def test_common_filters_in_the_query_groups_and_exclusions_in_the_post_filter(parser):
    req = SearchRequest(q="oil", entities=("Hamas",), entities_any=("Gaza", "Kyiv", "Putin"),
                        entities_not=("Reuters",), date="2023-10", date_from=dt.date(2023, 10, 1),
                        date_to=dt.date(2023, 10, 20), indexed_after=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                        cluster="abc")
    filters = request_filters(req, TYPES)
    assert filters.selection.groups == {"place": ("Gaza", "Kyiv"), "person": ("Vladimir Putin",)}
    body = search_body(parse_query(parser, req.q)[0], filters)
    assert body == {
        "query": {"bool": {"filter": [
            {"term": {"date_path": "2023-10"}},
            # a range from the first of a month takes the month-precise dates too (_range_bounds)
            {"range": {"date_num": {"gte": 20231000, "lte": 20231020}}},
            {"range": {"indexed_num": {"gt": 1704067200000}}},
            terms("Hamas"),
            {"bool": {"should": [{"term": {"cluster": "abc"}}, {"term": {"id": "abc"}}], "minimum_should_match": 1}},
        ], "must": [word("oil")]}},
        "track_total_hits": True,
        "post_filter": {"bool": {"filter": [terms("Gaza", "Kyiv"), terms("Vladimir Putin")],
                                 "must_not": [terms("Reuters")]}},
    }


@pytest.mark.parametrize(("date", "clause"), [
    ("2023", {"term": {"date_path": "2023"}}),
    ("2023-10-26", {"term": {"date_path": "2023-10-26"}}),
    ("undated", {"term": {"date_path": "undated"}}),
])
def test_date_filter_levels(date, clause):
    assert request_filters(SearchRequest(date=date), TYPES).main_query(None) == {"bool": {"filter": [clause]}}


@pytest.mark.parametrize(("lo", "hi", "bounds"), [
    (dt.date(2023, 1, 1), None, {"gte": 20230000}),  # open above, and the year-only dates of 2023
    (None, dt.date(2023, 6, 30), {"gte": 1, "lte": 20230630}),  # never the undated (0)
    (dt.date(2023, 3, 5), dt.date(2023, 3, 5), {"gte": 20230305, "lte": 20230305}),
])
def test_day_ranges_have_whooshs_bounds(lo, hi, bounds):
    req = SearchRequest(date_from=lo, date_to=hi)
    assert request_filters(req, TYPES).common == ({"range": {"date_num": bounds}},)


def test_unknown_values():
    # entity_any values no article has: alone, a group matching nothing; beside a known one, nothing added
    alone = request_filters(SearchRequest(entities_any=("Nobody",)), TYPES)
    assert alone.groups == {"": terms("Nobody")}
    mixed = request_filters(SearchRequest(entities_any=("Nobody", "Gaza")), TYPES)
    assert mixed.groups == {"place": terms("Gaza")}


def test_types_lookup():
    body = types_request(["Gaza"])
    assert body["aggs"]["types"]["terms"]["include"] == [
        "org:Gaza", "other:Gaza", "person:Gaza", "place:Gaza"]
    answer = {"aggregations": {"types": {"buckets": [{"key": "place:Gaza", "doc_count": 3},
                                                     {"key": "org:Gaza", "doc_count": 1}]}}}
    assert parse_types(answer) == {"Gaza": "org"}  # the first in term order, as Whoosh's type_of


# -- aggregations --------------------------------------------------------------------


def test_aggregations_leave_out_their_own_group_and_exclusion():
    req = SearchRequest(entities_any=("Gaza", "Kyiv"), entities_not=("Reuters",), facet_limit=5)
    filters = request_filters(req, TYPES)
    aggs = search_aggs(req, filters, TYPES.type_of, types=("place", "org"))
    values = {"terms": {"field": "entity", "include": "place:.*", "size": 20, "shard_size": 1000,
                        "min_doc_count": 1, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
    assert aggs["entity:place"] == {
        "filter": {"bool": {"must_not": [terms("Reuters")]}},  # without the place group
        "aggs": {"values": values, "named": {"filters": {"filters": {
            "Gaza": {"term": {"entity": "place:Gaza"}}, "Kyiv": {"term": {"entity": "place:Kyiv"}}}}}},
    }
    assert aggs["entity:org"]["filter"] == {"bool": {"filter": [terms("Gaza", "Kyiv")],
                                                     "must_not": [terms("Reuters")]}}
    assert aggs["excluded:0"] == {"filter": {"bool": {"filter": [
        {"bool": {"filter": [terms("Gaza", "Kyiv")]}}, terms("Reuters")]}}}
    assert aggs["date"]["filter"] == filters.post_filter()
    assert aggs["date"]["aggs"]["values"]["terms"]["include"] == "[0-9]+|undated"


@pytest.mark.parametrize(("date", "include"), [("2023", "2023-[0-9]+"), ("2023-10", "2023-10-[0-9]+"),
                                               ("undated", "[0-9]+|undated")])
def test_date_facet_is_one_level_down(date, include):
    req = SearchRequest(date=date)
    aggs = search_aggs(req, request_filters(req, TYPES), TYPES.type_of)
    assert aggs["date"]["aggs"]["values"]["terms"]["include"] == include


def bucket(key: str, count: int) -> dict:
    return {"key": key, "doc_count": count}


def answer(place_buckets, *, other=0, error=0, named=None, excluded=(), date_buckets=(), total=10) -> dict:
    place = {"doc_count": total, "values": {"buckets": place_buckets, "sum_other_doc_count": other,
                                            "doc_count_error_upper_bound": error}}
    if named is not None:
        place["named"] = {"buckets": {v: {"doc_count": n} for v, n in named.items()}}
    aggs = {"entity:place": place, "date": {"doc_count": total, "values": {"buckets": list(date_buckets)}}}
    for i, n in enumerate(excluded):
        aggs[f"excluded:{i}"] = {"doc_count": n}
    return {"aggregations": aggs}


def facets_of(req, response, sizes=None):
    filters = request_filters(req, TYPES)
    return parse_aggs(response, req, filters, TYPES.type_of, sizes, types=("place",))


def test_values_most_frequent_first_ties_alphabetical_case_folded():
    req = SearchRequest(facet_limit=3)
    got = facets_of(req, answer([bucket("place:Oslo", 5), bucket("place:Bergen", 2), bucket("place:Aarhus", 1),
                                 bucket("place:aalborg", 1)]))
    assert got.retry is None
    # OpenSearch breaks the tie at 1 by bytes (Aarhus before aalborg), Whoosh case-folded (aalborg first)
    assert [(v["value"], v["count"]) for v in got.facets["entity"]] == [("Oslo", 5), ("Bergen", 2), ("aalborg", 1)]
    assert got.facets["entity"][0] == {"value": "Oslo", "type": "place", "count": 5, "selected": False}


def test_a_tie_at_the_limit_asks_for_more():
    req = SearchRequest(facet_limit=2)
    sizes = FacetSizes({"place": (3, 1000)})
    first = facets_of(req, answer([bucket("place:Oslo", 5), bucket("place:Bergen", 2), bucket("place:Aarhus", 2)],
                                  other=5), sizes)
    # the 5 articles' worth of values left out hold at most 5 // 2 values of count 2: ask for those and one more
    assert first.retry == FacetSizes({"place": (6, 1000)})
    # with more values back, the tie is settled: "Aarhus" and "aalborg" tie with "Bergen" at 2
    again = facets_of(req, answer([bucket("place:Oslo", 5), bucket("place:Aarhus", 2), bucket("place:Bergen", 2),
                                   bucket("place:aalborg", 2), bucket("place:Tromsø", 1)]), first.retry)
    assert again.retry is None
    assert [v["value"] for v in again.facets["entity"]] == ["Oslo", "aalborg"]


def test_no_retry_when_the_next_value_counts_less():
    req = SearchRequest(facet_limit=2)
    got = facets_of(req, answer([bucket("place:Oslo", 5), bucket("place:Bergen", 3), bucket("place:Aarhus", 2)],
                                other=7), FacetSizes({"place": (3, 1000)}))
    assert got.retry is None
    assert [v["value"] for v in got.facets["entity"]] == ["Oslo", "Bergen"]


def test_inexact_counts_ask_for_a_bigger_shard_size():
    req = SearchRequest(facet_limit=2)
    got = facets_of(req, answer([bucket("place:Oslo", 5)], error=1))
    assert got.retry == FacetSizes({"place": (14, 4000)})  # the first size: 2 x 2 + 10


def test_named_values_are_listed_and_excluded_ones_count_what_they_would_bring_back():
    req = SearchRequest(entities=("Oslo",), entities_any=("Kyiv",), entities_not=("Gaza",), facet_limit=1)
    types = ValueTypes({"Oslo": "place", "Kyiv": "place", "Gaza": "place"})
    filters = request_filters(req, types)
    response = answer([bucket("place:Oslo", 4), bucket("place:Kyiv", 1)], named={"Oslo": 4, "Kyiv": 1, "Gaza": 0},
                      excluded=[9])
    got = parse_aggs(response, req, filters, types.type_of, types=("place",))
    assert got.facets["entity"] == [
        # Gaza's 9 wins the one place: it competes for the limit, as in Whoosh's entity_facet
        {"value": "Gaza", "type": "place", "count": 9, "selected": False, "mode": "not"},
        {"value": "Oslo", "type": "place", "count": 4, "selected": True},
        {"value": "Kyiv", "type": "place", "count": 1, "selected": False, "mode": "any"},
    ]


@pytest.mark.parametrize(("date", "buckets", "expected"), [
    (None, [bucket("2022", 3), bucket("2023", 4), bucket("undated", 2)],
     [("2022", 3, False), ("2023", 4, False), ("undated", 2, False)]),
    ("undated", [bucket("undated", 2)], [("undated", 2, True)]),
    ("2023", [bucket("2023-01", 1), bucket("2023-10", 3)], [("2023-01", 1, False), ("2023-10", 3, False)]),
    ("2023-10-26", [], [("2023-10-26", 10, True)]),  # the day itself, counting every match
])
def test_date_values(date, buckets, expected):
    got = facets_of(SearchRequest(date=date), answer([], date_buckets=buckets))
    assert [(v["value"], v["count"], v["selected"]) for v in got.facets["date"]] == expected
    assert got.total == 10


def test_facet_page_asks_for_every_value_then_sorts_and_pages_them():
    from search.opensearch_backend.aggs import facet_values_aggs, parse_facet_values

    req = SearchRequest(entities_not=("Gaza",))
    types = ValueTypes({"Gaza": "place", "Oslo": "place"})
    filters = request_filters(req, types)
    aggs = facet_values_aggs("place", filters, types.type_of, size=2)
    assert aggs["entity:place"]["aggs"]["values"]["terms"]["size"] == 2
    assert set(aggs) == {"entity:place", "excluded:0"}

    def page(buckets, other, **kw):
        response = {"aggregations": {
            "entity:place": {"values": {"buckets": buckets, "sum_other_doc_count": other,
                                        "doc_count_error_upper_bound": 0},
                             "named": {"buckets": {"Gaza": {"doc_count": 0}}}},
            "excluded:0": {"doc_count": 4}}}
        args = {"contains": "", "sort": "count", "page": 1, "per_page": 2, "spellings": None, "size": 2} | kw
        return parse_facet_values(response, "place", filters, types.type_of, **args)

    # two values back, three articles' worth left out: at most three more values
    assert page([bucket("place:Oslo", 5), bucket("place:Bergen", 1)], 3).retry == 5
    everything = [bucket("place:Oslo", 5), bucket("place:Bergen", 1), bucket("place:Ålesund", 1)]
    got = page(everything, 0, size=5)
    assert got.retry is None and got.total_values == 4
    assert [(v["value"], v["count"]) for v in got.values] == [("Oslo", 5), ("Gaza", 4)]
    assert got.values[1]["mode"] == "not"
    by_name = page(everything, 0, size=5, sort="name", page=2)
    assert [v["value"] for v in by_name.values] == ["Oslo", "Ålesund"]  # casefold order: Å after O
    # contains: folded, and any merged spelling counts
    assert [v["value"] for v in page(everything, 0, size=5, contains="ales").values] == ["Ålesund"]
    assert [v["value"] for v in page(everything, 0, size=5, contains="christiania",
                                     spellings={"Oslo": ["Christiania"]}).values] == ["Oslo"]
