"""newsfacet requests as OpenSearch query DSL: the text query and the filters.

The text query is parsed once, engine-free (:func:`search.querysyntax.parse_query`,
the same parser, notices and cost check as the Whoosh backend), and its tree
of ``whoosh.query`` objects is translated here node by node — never passed
through as a query string.  The words in the tree are already analysed by
the Whoosh schema's analyzers, which the index's ``newsfacet_text`` analyzer
reproduces token for token (:mod:`.analysis`), so ``term`` queries on those
tokens match the same documents:

==================  ============================================================
Whoosh node         OpenSearch
==================  ============================================================
``Term``            ``term`` on the field (title's boost 2 carried over); a
                    numeric field's encoded text decoded to its number
``Phrase``          ``span_near`` of ``span_term`` (``in_order``), see below
``Prefix``          ``prefix``
``Wildcard``        ``wildcard`` (``*`` and ``?``; a backslash is literal, as
                    in Whoosh, so it is escaped)
``TermRange``       ``range`` (only on the keyword ``date``: the cost check
                    refuses every other)
``And``             ``bool.must``; ``Not`` children become ``must_not``
``Or``              ``bool.should`` with ``minimum_should_match: 1``
``Not``             ``bool.must_not`` beside ``match_all``
``AndNot``          ``bool.must`` + ``bool.must_not``
``AndMaybe``        ``bool.must`` + ``bool.should`` (optional: scoring only)
``Every``           ``match_all`` (Whoosh's evaluator reads ``title:*`` as
                    every live document, whatever the field)
``NullQuery``       ``match_none``
==================  ============================================================

Anything else raises :class:`UntranslatableQuery`.  A bool with only
``must_not`` gets an explicit ``match_all``: Lucene's pure-negative boolean
matches nothing, where Whoosh (and newsfacet) read ``NOT x`` as everything
but *x*.

Phrases: Whoosh's phrase (:func:`search.whoosh_backend.evaluator._phrase_docs`)
wants each word within ``slop`` positions after the one before (slop 1:
adjacent).  Lucene's ordered ``span_near`` counts the positions *between*
spans, so a two-word phrase is ``span_near`` with ``slop - 1``, the same
matches.  A longer phrase with ``slop > 1`` is nested left to right
(``((a b) c)``), which bounds each gap as Whoosh does; Lucene's ordered spans
take the earliest next word, so a document where only a later repeat of a
middle word leaves room for the next one is missed (``a b b _ c`` for
``"a b c"~2``).  Plain phrases (slop 1, the only kind without ``~N``) are
exact.

The filters (:func:`request_filters`) are those of
:meth:`search.whoosh_backend.matching.Matching._filters`, clause for clause:
common filters (date, day range, indexed-after, required entities, cluster)
go into the main query's ``filter``; the OR groups and the excluded values go
into the ``post_filter``, so that the facet aggregations (:mod:`.aggs`) can
leave one of them out for disjunctive counts.

One search, put together (``tests/opensearch/test_query_parity.py`` does this)::

    parsed, notice = parse_query(parser, req.q)       # search.querysyntax
    check_cost(parsed, limits)                         # the same refusals as Whoosh
    named = req.entities + req.entities_any + req.entities_not
    types = parse_types(search(types_request(named)))  # which values exist, and their type
    resolver = ValueTypes(types, spellings)            # + the resolver state's merged spellings
    # (look the canonical values of merged spellings up the same way)
    filters = request_filters(req, resolver)
    body = search_body(parsed, filters) | {"aggs": aggs.search_aggs(req, filters, resolver.type_of)}
    facets = aggs.parse_aggs(search(body), req, filters, resolver.type_of)
    # facets.retry set: search again with aggs.search_aggs(..., sizes=facets.retry)

Left to the service (:mod:`.service`):

* a wildcard expanding past its allowance: Whoosh searches the most
  frequent terms and says so, ``prefix``/``wildcard`` match every term
  (a known difference: the OpenSearch service gives no such notice);
* syndicated-copy collapsing (``collapse=on`` on an index with copies):
  Whoosh keeps one copy per cluster before counting; the service leaves the
  other copies out by id in every filter context
  (:class:`.hits.CollapsedFilters`), so its counts are stories too.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from whoosh import query as Q

from ..aliases import alias_key
from ..document import ENTITY_TYPES
from ..model import UNDATED, SearchRequest
from ..whoosh_backend import schema as S
from ..whoosh_backend.facets import EntitySelection, select_entities

MATCH_ALL: dict = {"match_all": {}}
MATCH_NONE: dict = {"match_none": {}}


class UntranslatableQuery(ValueError):
    """A parsed query node with no OpenSearch translation (a bug: the parser made something new)."""


# -- the text query ---------------------------------------------------------------


def translate(parsed) -> dict:
    """The OpenSearch query of a parsed query tree (``None``, an empty query: every document).

    :raises UntranslatableQuery: for a node type this module does not know.
    """
    if parsed is None:
        return dict(MATCH_ALL)
    return _node(parsed)


def _boosted(body: dict, boost: float) -> dict:
    if boost != 1.0:
        body["boost"] = float(boost)
    return body


@functools.lru_cache(maxsize=1)
def _schema():
    return S.schema()


def _term_value(fieldname: str, text):
    """A Term's text as the index holds it: a numeric field's sortable bytes are its number."""
    if isinstance(text, bytes):
        field = _schema()[fieldname] if fieldname in _schema() else None
        if field is not None and hasattr(field, "from_bytes"):
            return field.from_bytes(text)
        return text.decode("utf-8")
    return text


def _escape_wildcard(pattern: str) -> str:
    # Whoosh's glob knows only * and ?; OpenSearch's also reads \ as an escape.
    return pattern.replace("\\", "\\\\")


def _phrase(q: Q.Phrase) -> dict:
    words = list(q.words)
    if not words:
        return dict(MATCH_NONE)  # Whoosh: the intersection of no terms is empty
    if len(words) == 1:
        return {"term": {q.fieldname: _boosted({"value": words[0]}, q.boost)}}
    gap = max(0, int(q.slop) - 1)
    spans = [{"span_term": {q.fieldname: word}} for word in words]
    if gap == 0 or len(words) == 2:
        return {"span_near": _boosted({"clauses": spans, "slop": gap, "in_order": True}, q.boost)}
    # Each word within slop of the one before: nest, left to right (module docstring).
    near = {"span_near": {"clauses": spans[:2], "slop": gap, "in_order": True}}
    for span in spans[2:]:
        near = {"span_near": {"clauses": [near, span], "slop": gap, "in_order": True}}
    _boosted(near["span_near"], q.boost)
    return near


def _bool(must=(), should=(), must_not=(), boost: float = 1.0) -> dict:
    body: dict = {}
    must = list(must)
    if must_not and not must:
        must = [dict(MATCH_ALL)]  # "NOT x": everything but x
    if must:
        body["must"] = must
    if should:
        body["should"] = list(should)
        if not must:
            body["minimum_should_match"] = 1
    if must_not:
        body["must_not"] = list(must_not)
    return {"bool": _boosted(body, boost)}


def _node(q) -> dict:
    boost = getattr(q, "boost", 1.0)
    if q is Q.NullQuery or isinstance(q, Q.NullQuery.__class__):
        return dict(MATCH_NONE)
    if type(q) is Q.Term:  # exactly: a subclass (a variation, a fuzzy term) means more
        return {"term": {q.fieldname: _boosted({"value": _term_value(q.fieldname, q.text)}, boost)}}
    if isinstance(q, Q.Phrase):
        return _phrase(q)
    if isinstance(q, Q.Prefix):
        return {"prefix": {q.fieldname: _boosted({"value": q.text}, boost)}}
    if isinstance(q, Q.Wildcard):
        return {"wildcard": {q.fieldname: _boosted({"value": _escape_wildcard(q.text)}, boost)}}
    if isinstance(q, Q.TermRange):
        bounds: dict = {}
        if q.start is not None:
            bounds["gt" if q.startexcl else "gte"] = q.start
        if q.end is not None:
            bounds["lt" if q.endexcl else "lte"] = q.end
        return {"range": {q.fieldname: _boosted(bounds, boost)}}
    if isinstance(q, Q.Every):
        return {"match_all": _boosted({}, boost)}
    if isinstance(q, Q.And):
        positives = [_node(s) for s in q.subqueries if not isinstance(s, Q.Not)]
        negatives = [_node(s.query) for s in q.subqueries if isinstance(s, Q.Not)]
        return _bool(must=positives, must_not=negatives, boost=boost)
    if isinstance(q, Q.Or):
        if getattr(q, "minmatch", 0) or getattr(q, "scale", None):
            raise UntranslatableQuery(f"no OpenSearch translation for an Or with minmatch or scale: {q!r}")
        return _bool(should=[_node(s) for s in q.subqueries], boost=boost)
    if isinstance(q, Q.Not):
        return _bool(must_not=[_node(q.query)], boost=boost)
    if isinstance(q, Q.AndNot):
        return _bool(must=[_node(q.a)], must_not=[_node(q.b)], boost=boost)
    if isinstance(q, Q.AndMaybe):
        return _bool(must=[_node(q.a)], should=[_node(q.b)], boost=boost)
    raise UntranslatableQuery(f"no OpenSearch translation for {type(q).__name__}: {q!r}")


# -- the filters ------------------------------------------------------------------


class Resolver(Protocol):
    """What the filters need to know of the index's entity values
    (:class:`~search.whoosh_backend.facets.FacetTables` is one)."""

    def canonical(self, value: str) -> str:
        """The facet value *value* names: itself, or the value its spelling was merged into."""

    def type_of(self, value: str) -> str | None:
        """The type of facet value *value*, None if no article has it."""


@dataclass(frozen=True)
class ValueTypes:
    """A :class:`Resolver` from plain dicts: value -> type (see :func:`types_request`), and
    spelling key (:func:`search.aliases.alias_key`) -> canonical value of merged spellings."""

    types: dict[str, str]
    spellings: dict[str, str] | None = None

    def canonical(self, value: str) -> str:
        if value in self.types or not self.spellings:
            return value
        return self.spellings.get(alias_key(value), value)

    def type_of(self, value: str) -> str | None:
        return self.types.get(value)


def value_terms(value: str) -> list[str]:
    """The ``entity`` terms of *value* under every type: a filter on a value means it under
    any type it was given, as Whoosh's ``by_value`` does."""
    return [S.entity_term(value, type_) for type_ in ENTITY_TYPES]


def has_values(values: Iterable[str]) -> dict:
    """Documents having at least one of *values* (under any type)."""
    terms = [t for v in values for t in value_terms(v)]
    return {"terms": {S.ENTITY: terms}} if terms else dict(MATCH_NONE)


def types_request(values: Iterable[str]) -> dict:
    """A search body asking which types *values* have in the index (answer: :func:`parse_types`)."""
    terms = sorted({t for v in values for t in value_terms(v)})
    return {"size": 0, "track_total_hits": False, "query": {"terms": {S.ENTITY: terms}} if terms else MATCH_NONE,
            "aggs": {"types": {"terms": {"field": S.ENTITY, "include": terms, "size": max(1, len(terms))}}}}


def parse_types(response: dict) -> dict[str, str]:
    """Value -> type from the answer to :func:`types_request`: of several types the first in
    term order, as Whoosh's ``FacetTables.type_of`` takes the first term id."""
    out: dict[str, str] = {}
    buckets = ((response.get("aggregations") or {}).get("types") or {}).get("buckets") or []
    for key in sorted(b["key"] for b in buckets if b.get("doc_count", 0) > 0):
        value, type_ = S.split_entity_term(key)
        out.setdefault(value, type_)
    return out


def entity_selection(req: SearchRequest, resolver: Resolver) -> EntitySelection:
    """The request's entity filters as facet values, as the Whoosh backend reads them
    (:func:`search.whoosh_backend.facets.select_entities`)."""
    return select_entities(resolver, req.entities, req.entities_any, req.entities_not)


def date_range_bounds(lo: dt.date | None, hi: dt.date | None) -> tuple[int, int | None]:
    """Inclusive ``date_num`` bounds of a day range: the Whoosh backend's own
    (:func:`search.whoosh_backend.matching._range_bounds`)."""
    from ..whoosh_backend.matching import _range_bounds

    return _range_bounds(lo, hi)


def date_clauses(req: SearchRequest) -> list[dict]:
    """The date filter, day range and indexed-after filter of *req* as filter clauses."""
    out: list[dict] = []
    if req.date is not None:
        # date_path holds "2023", "2023-10", "2023-10-26" (as precise as the date) or "undated":
        # Whoosh's date_num arithmetic (dn // 10000 == year and dated, ...) term for term.
        out.append({"term": {S.DATE_PATH: UNDATED if req.date.level == UNDATED else req.date.value}})
    if req.date_from or req.date_to:
        lo, hi = date_range_bounds(req.date_from, req.date_to)
        bounds = {"gte": lo} if hi is None else {"gte": lo, "lte": hi}
        out.append({"range": {S.DATE_NUM: bounds}})
    if req.indexed_after is not None:
        out.append({"range": {S.INDEXED_NUM: {"gt": int(req.indexed_after.timestamp() * 1000)}}})
    return out


def cluster_clause(cluster_id: str) -> dict:
    """The copies of cluster *cluster_id*; an id that names no cluster is the article of that id.

    Whoosh: the cluster's copies if it is one, else the article with that id.
    A cluster's id is the id of its earliest copy, itself in the cluster, so
    "cluster = id or id = id" is both cases at once.
    """
    return {"bool": {"should": [{"term": {S.CLUSTER: cluster_id}}, {"term": {S.ID: cluster_id}}],
                     "minimum_should_match": 1}}


@dataclass(frozen=True)
class RequestFilters:
    """A request's filters as clauses: :class:`search.whoosh_backend.matching.Filters` for OpenSearch.

    A document passes when it passes every *common* clause, every OR group
    (one of its values) and has none of the *excluded* values.
    """

    selection: EntitySelection
    common: tuple[dict, ...]  # in the main query's filter: apply to hits and every count
    groups: dict[str, dict]  # type -> documents with a value of its OR group
    excluded: dict[str, dict]  # excluded value -> documents having it

    def main_query(self, query: dict | None) -> dict:
        """The search's ``query``: the text query (None: every document) filtered by the common clauses."""
        if not self.common:
            return query or dict(MATCH_ALL)
        body: dict = {"filter": list(self.common)}
        if query is not None and query != MATCH_ALL:
            body["must"] = [query]
        return {"bool": body}

    def context(self, without_group: str | None = None, without_excluded: str | None = None) -> dict:
        """The OR groups and exclusions as one filter, leaving out the named group or exclusion
        (:meth:`search.whoosh_backend.matching.Filters.select`'s arguments)."""
        groups = [clause for type_, clause in self.groups.items() if type_ != without_group]
        excluded = [clause for value, clause in self.excluded.items() if value != without_excluded]
        if not groups and not excluded:
            return dict(MATCH_ALL)
        body: dict = {"filter": groups} if groups else {}
        if excluded:
            body["must_not"] = excluded
        return {"bool": body}

    def post_filter(self) -> dict | None:
        """The search's ``post_filter`` (None: none): hits pass every group and exclusion,
        the aggregations see the main query's matches and apply them themselves."""
        return None if not self.groups and not self.excluded else self.context()


def request_filters(req: SearchRequest, resolver: Resolver) -> RequestFilters:
    """*req*'s filters as OpenSearch clauses (see :class:`RequestFilters`)."""
    selection = entity_selection(req, resolver)
    common = date_clauses(req)
    common += [has_values([value]) for value in selection.required]
    if req.cluster:
        common.append(cluster_clause(req.cluster))
    groups = {type_: has_values(values) for type_, values in selection.groups.items()}
    excluded = {value: has_values([value]) for value in selection.excluded}
    return RequestFilters(selection, tuple(common), groups, excluded)


def search_body(parsed, filters: RequestFilters) -> dict:
    """``query`` and ``post_filter`` of a search, with an exact total (aggregations: :mod:`.aggs`)."""
    text = None if parsed is None else translate(parsed)
    body: dict = {"query": filters.main_query(text), "track_total_hits": True}
    post = filters.post_filter()
    if post is not None:
        body["post_filter"] = post
    return body


__all__ = [
    "MATCH_ALL",
    "MATCH_NONE",
    "RequestFilters",
    "Resolver",
    "UntranslatableQuery",
    "ValueTypes",
    "cluster_clause",
    "date_clauses",
    "date_range_bounds",
    "entity_selection",
    "has_values",
    "parse_types",
    "request_filters",
    "search_body",
    "translate",
    "types_request",
    "value_terms",
]
