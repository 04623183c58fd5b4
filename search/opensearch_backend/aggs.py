"""The facet aggregations of one search, and their answer as newsfacet's facet values.

A search body is the main query (text query + common filters), a
``post_filter`` holding the OR groups and exclusions (:mod:`.query`), and
the aggregations built here, which run over the main query's matches and
each apply the filters they count under:

* per entity type, a ``filter`` aggregation holding every OR group but that
  type's own, and every exclusion — the disjunctive counts of
  :func:`search.whoosh_backend.facets.entity_facet` — with under it a
  ``terms`` aggregation on ``entity`` restricted to the type
  (``include: "person:.*"``), and a ``filters`` aggregation for the values
  the request names (always listed, even at count 0);
* per excluded value, a ``filter`` aggregation with every filter but that
  exclusion, and the value: what dropping the exclusion would bring back;
* ``date``: a ``filter`` aggregation with every filter, its ``doc_count``
  the total, with a ``terms`` aggregation on ``date_path`` at the level below
  the date filter (years and ``undated`` at the top, ``2023-MM`` under a
  year, ``2023-10-DD`` under a month) — exactly ``date_facet``'s buckets,
  since ``date_path`` holds the same parts ``date_num`` encodes.

A facet page (:class:`search.model.FacetValuesRequest`) needs every value of
its type, counted the same way (:func:`facet_values_aggs`), then filters
(``contains``), sorts and pages them as
:func:`search.whoosh_backend.facets.facet_value_page` does
(:func:`parse_facet_values`).

Exact counts.  A ``terms`` aggregation over several shards takes each shard's
``shard_size`` best terms and sums them, so a count can miss a shard's
share.  The answer says when: ``doc_count_error_upper_bound`` is 0 only if
no shard had to leave a term out, and then every count is exact (checked on
the 2.19 test cluster: the bound is given for this order, ``_count`` then
``_key``, and is above 0 when a shard's list was cut).  The first
``shard_size`` is :data:`SHARD_SIZE_FACTOR` times the size (at least
:data:`MIN_SHARD_SIZE`);
:func:`parse_aggs` checks the bound of every type and returns bigger sizes
for the types that need them (the caller runs the search again with them).

The same goes for ties: Whoosh lists the ``facet_limit`` most frequent
values of a type and breaks equal counts alphabetically (case-folded),
where OpenSearch breaks them by term bytes.  When the last value returned
has the count of the last value to be listed, more values of that count may
sort before it: :func:`parse_aggs` asks for enough more to hold every value
of that count (``sum_other_doc_count`` bounds how many there can be), rather
than guess, so a search takes at most one more round for ties (and one per
fourfold ``shard_size`` for exactness, which a shard size of at least
:data:`MIN_SHARD_SIZE` values makes rare).  Asking for
``facet_limit`` × :data:`SIZE_FACTOR` + :data:`SIZE_MARGIN` values at first
keeps that second round for limits that fall inside a long run of equal
counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..document import ENTITY_TYPES
from ..model import UNDATED, DateFilter, FacetValue, SearchRequest
from ..whoosh_backend import schema as S
from ..whoosh_backend.facets import EntitySelection, contains_key
from .query import RequestFilters, has_values

ENTITY_PREFIX = "entity:"  # aggregation "entity:person" ...
EXCLUDED_PREFIX = "excluded:"  # aggregation "excluded:0" ... (values in selection.excluded order)
DATE_AGG = "date"
SHARD_SIZE_FACTOR = 10
MIN_SHARD_SIZE = 1000
GROWTH = 4
SIZE_FACTOR = 2
SIZE_MARGIN = 10
# More date buckets than any level has (years since year 1, 12 months, 31 days).
DATE_BUCKETS = 10_000


@dataclass(frozen=True)
class FacetSizes:
    """How many values to ask of each type's ``terms`` aggregation: ``type -> (size, shard_size)``."""

    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)

    @staticmethod
    def initial(limit: int) -> tuple[int, int]:
        size = max(1, limit * SIZE_FACTOR + SIZE_MARGIN)
        return size, max(MIN_SHARD_SIZE, size * SHARD_SIZE_FACTOR)

    def of(self, type_: str, limit: int) -> tuple[int, int]:
        return self.sizes.get(type_) or self.initial(limit)


def _type_regex(type_: str) -> str:
    # Lucene's regular expression operators, escaped (a type is a plain word: none, in practice).
    return re.sub(r'([.?+*|{}\[\]()"\\#@&<>~])', r"\\\1", type_) + ":.*"


def _named_of_type(selection: EntitySelection, type_of, type_: str) -> list[str]:
    return [v for v in selection.values() if type_of(v) == type_]


def _date_include(date: DateFilter | None) -> str:
    if date is None or date.level == UNDATED:
        return f"[0-9]+|{UNDATED}"
    return f"{date.value}-[0-9]+"  # the value is YYYY or YYYY-MM (DateFilter.parse): nothing to escape


def _type_agg(type_: str, filters: RequestFilters, type_of, size: int, shard_size: int) -> dict:
    """The filter aggregation counting *type_*'s values (its own OR group left out)."""
    inner: dict = {"values": {"terms": {
        "field": S.ENTITY, "include": _type_regex(type_), "size": size, "shard_size": max(size, shard_size),
        "min_doc_count": 1, "order": [{"_count": "desc"}, {"_key": "asc"}]}}}
    named = _named_of_type(filters.selection, type_of, type_)
    if named:
        inner["named"] = {"filters": {"filters": {
            v: {"term": {S.ENTITY: S.entity_term(v, type_)}} for v in named}}}
    return {"filter": filters.context(without_group=type_), "aggs": inner}


def _excluded_aggs(filters: RequestFilters) -> dict:
    return {f"{EXCLUDED_PREFIX}{i}": {"filter": {"bool": {"filter": [
        filters.context(without_excluded=value), has_values([value])]}}}
        for i, value in enumerate(filters.selection.excluded)}


def search_aggs(req: SearchRequest, filters: RequestFilters, type_of, sizes: FacetSizes | None = None,
                types=ENTITY_TYPES) -> dict:
    """The ``aggs`` of a search for *req* (see the module docstring).

    *type_of* gives a value's type (the resolver of :func:`.query.request_filters`);
    *sizes* those :func:`parse_aggs` asked for, if it did.
    """
    sizes = sizes or FacetSizes()
    aggs: dict = {ENTITY_PREFIX + type_: _type_agg(type_, filters, type_of, *sizes.of(type_, req.facet_limit))
                  for type_ in types}
    aggs.update(_excluded_aggs(filters))
    aggs[DATE_AGG] = {"filter": filters.context(), "aggs": {"values": {"terms": {
        "field": S.DATE_PATH, "include": _date_include(req.date), "size": DATE_BUCKETS,
        "shard_size": DATE_BUCKETS, "order": {"_key": "asc"}}}}}
    return aggs


def _entry(value: str, type_: str, count: int, selection: EntitySelection) -> FacetValue:
    # As search.whoosh_backend.facets._entry builds it, key for key.
    entry: FacetValue = {"value": value, "type": type_, "count": count, "selected": value in selection.required}
    if selection.groups or selection.excluded:
        mode = selection.mode(value)
        if mode:
            entry["mode"] = mode
    return entry


def _name_key(value: str) -> tuple[str, str]:
    # Whoosh's name_rank within one type: case-folded, then term order (code points).
    return value.casefold(), value


@dataclass
class ParsedFacets:
    """What :func:`parse_aggs` made of an answer: the facets, or the sizes to ask again with."""

    facets: dict[str, list[FacetValue]]
    total: int  # the matches passing every filter (the date aggregation's doc_count)
    retry: FacetSizes | None = None  # not None: counts were not exact or ties not settled; search again


def _entity_values(type_: str, agg: dict, limit: int, selection: EntitySelection, named: list[str],
                   excluded_counts: dict[str, int], size: int, shard_size: int):
    """The listed values of one type, and the (size, shard_size) to retry with (None: settled)."""
    terms = agg["values"]
    buckets = terms["buckets"]
    counts = {S.split_entity_term(b["key"])[0]: int(b["doc_count"]) for b in buckets}
    named_counts = {v: int(b["doc_count"]) for v, b in ((agg.get("named") or {}).get("buckets") or {}).items()}
    # (Indexed, not .get: an answer without the bound must not pass for an exact one.)
    if terms["doc_count_error_upper_bound"] != 0:
        return None, (size, shard_size * GROWTH)
    # An excluded value's count is what dropping its exclusion brings back (it competes for the limit).
    candidates = dict(counts)
    for value, n in excluded_counts.items():
        if value in named:
            candidates[value] = n
    candidates = {v: n for v, n in candidates.items() if n > 0}
    top = sorted(candidates, key=lambda v: (-candidates[v], *_name_key(v)))[:limit]
    truncated = len(buckets) >= size and terms["sum_other_doc_count"] > 0
    if truncated and limit > 0:
        # Values not returned count at most the last returned; if that ties with the limit-th, settle it.
        boundary = candidates[top[-1]] if len(top) == limit else 0
        if boundary <= int(buckets[-1]["doc_count"]):
            # The values left out count sum_other_doc_count together (exact, as no shard left
            # any out) and none more than the boundary, so at most sum // boundary of them tie
            # with it: with those and one more asked for, the next answer settles the limit.
            more = int(terms["sum_other_doc_count"]) // max(1, boundary) + 1
            wanted = len(buckets) + more
            return None, (wanted, max(shard_size, wanted * SHARD_SIZE_FACTOR))
    listed = {v: candidates[v] for v in top}
    for value in named:
        if value not in listed:
            listed[value] = excluded_counts.get(value, named_counts.get(value, counts.get(value, 0)))
    return [_entry(v, type_, n, selection) for v, n in listed.items()], None


def date_values(date: DateFilter | None, agg: dict) -> list[FacetValue]:
    """``date_facet``'s buckets from the date aggregation: in date order, ``undated`` last."""
    if date is not None and date.level == "day":
        return [{"value": date.value, "count": int(agg["doc_count"]), "selected": True}]
    buckets = {b["key"]: int(b["doc_count"]) for b in agg["values"]["buckets"] if b["doc_count"] > 0}
    undated = buckets.pop(UNDATED, 0)
    out: list[FacetValue] = [{"value": k, "count": n, "selected": False} for k, n in sorted(buckets.items())]
    if undated and (date is None or date.level == UNDATED):
        out.append({"value": UNDATED, "count": undated, "selected": date is not None})
    return out


def parse_aggs(response: dict, req: SearchRequest, filters: RequestFilters, type_of,
               sizes: FacetSizes | None = None, types=ENTITY_TYPES) -> ParsedFacets:
    """The facets of a search answer, as the Whoosh backend's ``entity`` and ``date`` facets.

    When a type's counts were not provably exact or its limit fell in a run
    of equal counts, ``retry`` holds the sizes to search again with
    (:func:`search_aggs`); the facets are then incomplete.
    """
    sizes = sizes or FacetSizes()
    aggs = response["aggregations"]
    selection = filters.selection
    excluded_counts = {value: int(aggs[f"{EXCLUDED_PREFIX}{i}"]["doc_count"])
                       for i, value in enumerate(selection.excluded)}
    entity: list[FacetValue] = []
    retry: dict[str, tuple[int, int]] = {}
    for type_ in types:
        size, shard_size = sizes.of(type_, req.facet_limit)
        named = _named_of_type(selection, type_of, type_)
        values, again = _entity_values(type_, aggs[ENTITY_PREFIX + type_], req.facet_limit, selection, named,
                                       {v: n for v, n in excluded_counts.items() if type_of(v) == type_},
                                       size, shard_size)
        if again is not None:
            retry[type_] = again
        else:
            entity += values
    entity.sort(key=lambda d: (-d["count"], d["value"].casefold(), d["type"], d["value"]))
    date = date_values(req.date, aggs[DATE_AGG])
    next_sizes = FacetSizes({**sizes.sizes, **retry}) if retry else None
    return ParsedFacets({"entity": entity, "date": date}, int(aggs[DATE_AGG]["doc_count"]), next_sizes)


# -- one type's values, paged (the facet pages) --------------------------------------

# Values asked for at first on a facet page: every value of the type is needed (the page
# says how many there are, and sorts them all), so this is a guess that is corrected once.
ALL_VALUES = 10_000


def facet_values_aggs(type_: str, filters: RequestFilters, type_of, size: int = ALL_VALUES) -> dict:
    """The ``aggs`` of a facet page of *type_* (:class:`search.model.FacetValuesRequest`):
    every value of the type, counted as :func:`search_aggs` counts them."""
    aggs = {ENTITY_PREFIX + type_: _type_agg(type_, filters, type_of, size, size * SHARD_SIZE_FACTOR)}
    aggs.update(_excluded_aggs(filters))
    return aggs


@dataclass
class ParsedValues:
    """What :func:`parse_facet_values` made of an answer: ``(values in all, this page's values)``,
    or the size to ask again with (``retry``)."""

    total_values: int
    values: list[FacetValue]
    retry: int | None = None


def parse_facet_values(response: dict, type_: str, filters: RequestFilters, type_of, contains: str, sort: str,
                       page: int, per_page: int, spellings: dict[str, list[str]] | None = None,
                       size: int = ALL_VALUES) -> ParsedValues:
    """One page of *type_*'s values: :func:`search.whoosh_backend.facets.facet_value_page` over the answer.

    The values are those with a count and those the filters name; *contains*
    keeps the values whose value or a merged spelling (*spellings*: value ->
    its spellings) holds it, compared by :func:`~search.whoosh_backend.facets.contains_key`.
    """
    aggs = response["aggregations"]
    agg = aggs[ENTITY_PREFIX + type_]
    terms = agg["values"]
    if terms["doc_count_error_upper_bound"] != 0:
        return ParsedValues(0, [], size * GROWTH)
    if terms["sum_other_doc_count"] > 0:
        # Each value left out counts at least 1: that many more holds them all.
        return ParsedValues(0, [], len(terms["buckets"]) + int(terms["sum_other_doc_count"]))
    selection = filters.selection
    counts = {S.split_entity_term(b["key"])[0]: int(b["doc_count"]) for b in terms["buckets"]}
    named = _named_of_type(selection, type_of, type_)
    named_counts = {v: int(b["doc_count"]) for v, b in ((agg.get("named") or {}).get("buckets") or {}).items()}
    for i, value in enumerate(selection.excluded):
        if type_of(value) == type_:
            counts[value] = int(aggs[f"{EXCLUDED_PREFIX}{i}"]["doc_count"])
    for value in named:
        counts.setdefault(value, named_counts.get(value, 0))
    keep = [v for v, n in counts.items() if n > 0 or v in named]
    needle = contains_key(contains) if contains else ""
    if needle:
        spellings = spellings or {}
        keep = [v for v in keep if any(needle in contains_key(s) for s in (v, *spellings.get(v, ())))]
    if sort == "count":
        keep.sort(key=lambda v: (-counts[v], *_name_key(v)))
    else:
        keep.sort(key=_name_key)
    start = (page - 1) * per_page
    return ParsedValues(len(keep), [_entry(v, type_, counts[v], selection) for v in keep[start:start + per_page]])


__all__ = ["ALL_VALUES", "DATE_AGG", "FacetSizes", "ParsedFacets", "ParsedValues", "date_values",
           "facet_values_aggs", "parse_aggs", "parse_facet_values", "search_aggs"]
