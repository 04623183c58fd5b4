"""The OpenSearch search backend: :class:`OpenSearchBackend`, the read side of the collection
the OpenSearch writer (:mod:`.writer`) builds, behind :class:`search.api.SearchBackend`.

A request goes through the pieces the parity test (``tests/opensearch/test_query_parity.py``)
holds equal to the Whoosh backend: the query is parsed and its cost checked by
:mod:`search.querysyntax` (the same refusals), the values it names are looked
up on the cluster (their types) and in the resolver state of ``{prefix}-meta``
(merged spellings, :mod:`.state`), its filters and text query are translated
(:mod:`.query`) and its facets counted by aggregations, retried until exact
(:mod:`.aggs`).  Collapsing syndicated copies, the hits' order and clusters,
and snippets are :mod:`.hits`; export and date counts :mod:`.export`;
more-like-this, co-occurrence and did-you-mean :mod:`.related`.

Errors: a cluster that cannot be reached (or refuses the credentials) is
:class:`~search.errors.BackendUnavailable` (:func:`.client.translate_errors`),
a collection never indexed :class:`~search.errors.IndexNotFound`, a query the
cluster refuses (too many clauses, say) :class:`~search.errors.InvalidParameter`
on ``q``, a search past the time budget :class:`~search.errors.QueryTimeout`.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import IndexNotFound, InvalidParameter, QueryTimeout
from ..model import ArticleView, EntitySummary, FacetValuesPage, FacetValuesRequest, SearchRequest, SearchResult
from ..querysyntax import check_cost, make_parser, parse_query
from ..whoosh_backend import schema as S
from ..whoosh_backend.articles import HIGHLIGHT_CHARS, article_view
from ..whoosh_backend.snippets import highlight
from . import mapping as M
from .aggs import facet_values_aggs, parse_aggs, parse_facet_values, search_aggs
from .client import make_client, translate_errors
from .export import Export
from .guard import guarded
from .hits import HIT_SOURCE, cluster_refs, collapsed, make_hit, sort_of
from .query import RequestFilters, ValueTypes, parse_types, request_filters, search_body, translate, types_request
from .related import Related
from .state import MetaReader

if TYPE_CHECKING:
    from ..settings import Settings

# Rounds of a search whose facet counts are not yet exact (see .aggs): each grows the sizes
# fourfold, so this is far more than a collection needs; past it the search fails loudly.
MAX_FACET_ROUNDS = 10
# How deep from + size paging reaches: OpenSearch's default index.max_result_window.
MAX_RESULT_WINDOW = 10_000
# Every value of a type, for the entity listing and co-occurrence: the first size asked.
ALL_VALUES = 10_000


@dataclass
class Prepared:
    """A request made ready to search: parsed, checked, its values resolved, its filters built."""

    req: SearchRequest
    parsed: object
    notice: str | None
    text: dict | None  # the translated text query (None: every document)
    resolver: ValueTypes
    filters: RequestFilters

    def body(self) -> dict:
        return search_body(self.parsed, self.filters)


class OpenSearchBackend(Export, Related):
    """Searches the OpenSearch collection *settings* name (``{prefix}-articles``).  Safe to share
    between threads (the client is); :meth:`open` pins the concrete index for one web request.

    :raises IndexNotFound: when no indexing run has committed the collection yet.
    :raises BackendUnavailable: when the cluster cannot be reached.
    """

    def __init__(self, settings: Settings, client=None):
        self.settings = settings
        self.limits = settings.limits
        self.prefix = settings.opensearch_prefix
        self.alias = M.alias_name(self.prefix)
        self.client = client or make_client(settings)
        self._meta = MetaReader(self.client, self.prefix)
        self._parser = make_parser()
        self._index = self.alias  # a view from open(): the concrete index
        self._pinned_state = None
        with translate_errors(settings):
            if not self.client.indices.exists_alias(name=self.alias):
                raise IndexNotFound(self._missing())

    def _missing(self) -> str:
        return (f"no newsfacet collection {self.prefix!r} in OpenSearch at {self.settings.opensearch_url}: "
                "run 'newsfacet index FOLDER' with NEWSFACET_BACKEND=opensearch first")

    # -- plumbing --------------------------------------------------------

    @guarded
    def open(self) -> OpenSearchBackend:
        """A view on the concrete index the alias names now and the entity state saved now, for a
        series of calls that must agree (one web request); :meth:`close` it."""
        view = copy.copy(self)
        view._index = self._meta.concrete(self.alias)
        view._pinned_state = self._meta.entity_state()
        return view

    def close(self) -> None:
        """End a view (nothing is held); on the backend itself, close the client's connections."""
        if self._index == self.alias:
            transport = getattr(self.client, "transport", None)
            if transport is not None:
                transport.close()

    def __enter__(self) -> OpenSearchBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _entity_state(self):
        return self._pinned_state if self._pinned_state is not None else self._meta.entity_state()

    @guarded
    def generation(self) -> int:
        """A number that changes with every commit of the collection (see :mod:`.state`)."""
        return self._meta.generation(self._index)

    def _search(self, body: dict, **params) -> dict:
        answer = self.client.search(index=self._index, body=body, params=params or None)
        if answer.get("timed_out"):
            raise QueryTimeout("The search took too long; try fewer wildcards or phrases.")
        return answer

    def _timeout(self) -> str:
        return f"{int(self.limits.timeout * 1000)}ms"

    # -- preparing a request ---------------------------------------------

    def _resolver(self, named) -> ValueTypes:
        """Value types of *named* (and of the values their merged spellings mean), from the cluster."""
        state = self._entity_state()
        types: dict[str, str] = {}
        if named:
            types = parse_types(self._search(types_request(named)))
            resolver = ValueTypes(types, state.spelling_values)
            canonical = [c for c in (resolver.canonical(v) for v in named) if c not in types]
            if canonical:
                types.update(parse_types(self._search(types_request(canonical))))
        return ValueTypes(types, state.spelling_values)

    def _prepare(self, req: SearchRequest) -> Prepared:
        """Parse and check *req*, resolve its values, build its filters (collapsing copies when asked).

        :raises InvalidParameter: for a query over the cost limits.
        """
        parsed, notice = parse_query(self._parser, req.q)
        check_cost(parsed, self.limits)
        resolver = self._resolver(req.entities + req.entities_any + req.entities_not)
        filters = request_filters(req, resolver)
        text = None if parsed is None else translate(parsed)
        if req.collapse == "on":
            filters = collapsed(self.client, self._index, filters, text)
        return Prepared(req, parsed, notice, text, resolver, filters)

    # -- searching -------------------------------------------------------

    @guarded
    def search(self, req: SearchRequest) -> SearchResult:
        """Run *req*: total, one page of hits, facets, suggestion.

        :raises InvalidParameter: for a query over the cost limits.
        :raises QueryTimeout: when the cluster runs past the time budget.
        """
        started = time.perf_counter()
        # OpenSearch pages by from + size only this far (index.max_result_window): a page past it is
        # answered when it is past the last hit too (empty, as on Whoosh), refused otherwise.
        beyond = req.page * req.per_page > MAX_RESULT_WINDOW
        p = self._prepare(req)
        sort, scored = sort_of(req, p.parsed)
        body = p.body()
        body.update(size=req.per_page, sort=sort, _source={"includes": [*HIT_SOURCE, S.BODY]},
                    timeout=self._timeout(), aggs=search_aggs(req, p.filters, p.resolver.type_of))
        if beyond:
            body["size"] = 0
        else:
            body["from"] = (req.page - 1) * req.per_page
        params = {"search_type": "dfs_query_then_fetch"} if scored else {}
        answer = self._search(body, **params)
        facets = parse_aggs(answer, req, p.filters, p.resolver.type_of)
        rounds = 1
        while facets.retry is not None:
            rounds += 1
            if rounds > MAX_FACET_ROUNDS:
                raise RuntimeError(f"facet counts not exact after {MAX_FACET_ROUNDS} rounds: {req}")
            again = p.body()
            again.update(size=0, timeout=self._timeout(),
                         aggs=search_aggs(req, p.filters, p.resolver.type_of, facets.retry))
            facets = parse_aggs(self._search(again), req, p.filters, p.resolver.type_of, facets.retry)
        total = int(answer["hits"]["total"]["value"])
        if beyond and total > (req.page - 1) * req.per_page:
            raise InvalidParameter("page", f"pages reach only the first {MAX_RESULT_WINDOW} hits on OpenSearch; "
                                           "narrow the search or export the whole result set")
        sources = [h["_source"] for h in answer["hits"]["hits"]]
        refs = cluster_refs(self.client, self._index, sources, with_sources=True)
        hits = [make_hit(src, refs[src[S.ID]], p.parsed) for src in sources]
        hidden = p.filters.hidden() if hasattr(p.filters, "hidden") else []
        suggestion = self._suggest(req, p) if total == 0 and p.parsed is not None else None
        return SearchResult(request=req, total=total, hits=hits, facets=facets.facets, suggestion=suggestion,
                            notice=p.notice, elapsed_ms=(time.perf_counter() - started) * 1000,
                            copies=total + len(hidden))

    @guarded
    def facet_values(self, req: FacetValuesRequest) -> FacetValuesPage:
        """One type's values for a search, counted as :meth:`search` counts its facets,
        narrowed by ``contains`` (any merged spelling), sorted by count or name, paged."""
        p = self._prepare(req.search)
        spellings = self._entity_state().value_spellings
        size = ALL_VALUES
        for _ in range(MAX_FACET_ROUNDS):
            body = p.body()
            body.update(size=0, timeout=self._timeout(),
                        aggs=facet_values_aggs(req.type, p.filters, p.resolver.type_of, size))
            got = parse_facet_values(self._search(body), req.type, p.filters, p.resolver.type_of, req.contains,
                                     req.sort, req.page, req.per_page, spellings, size)
            if got.retry is None:
                return FacetValuesPage(request=req, total_values=got.total_values, values=got.values)
            size = got.retry
        raise RuntimeError(f"facet values not exact after {MAX_FACET_ROUNDS} rounds: {req}")

    def _all_entity_counts(self, query: dict, context: dict) -> dict[str, int]:
        """``entity`` term -> articles of *query* passing *context*, every term, exactly."""
        size = ALL_VALUES
        for _ in range(MAX_FACET_ROUNDS):
            body = {"size": 0, "query": query, "track_total_hits": False, "aggs": {"in": {
                "filter": context, "aggs": {"values": {"terms": {
                    "field": S.ENTITY, "size": size, "shard_size": size, "min_doc_count": 1}}}}}}
            terms = self._search(body)["aggregations"]["in"]["values"]
            if terms["doc_count_error_upper_bound"] == 0 and terms["sum_other_doc_count"] == 0:
                return {b["key"]: int(b["doc_count"]) for b in terms["buckets"]}
            size = max(size * 4, len(terms["buckets"]) + int(terms["sum_other_doc_count"]))
        raise RuntimeError(f"entity counts not exact after {MAX_FACET_ROUNDS} rounds")

    # -- single articles -------------------------------------------------

    def highlight(self, body: str, q: str, limit: int = HIGHLIGHT_CHARS) -> str:
        """*body* as safe HTML with the terms of query *q* marked in its first *limit* characters
        (the project's own marking, as the Whoosh backend's: the same marks on both)."""
        parsed, _ = parse_query(self._parser, q)
        return highlight(body, parsed, limit)

    def _stored(self, doc_id: str, includes=None) -> dict | None:
        """The stored fields of article *doc_id*, or None (a search, not a realtime get: nothing
        of a run is visible before its commit's refresh)."""
        body: dict = {"query": {"ids": {"values": [doc_id]}}, "size": 1}
        if includes is not None:
            body["_source"] = {"includes": includes}
        hits = self._search(body)["hits"]["hits"]
        return hits[0]["_source"] if hits else None

    @guarded
    def document(self, doc_id: str) -> ArticleView | None:
        """The article with id *doc_id*, or None."""
        f = self._stored(doc_id)
        return article_view(f) if f else None

    @guarded
    def entities(self, type_: str | None = None) -> list[EntitySummary]:
        """Every entity value with its type, article count and merged spellings."""
        from ..aliases import load_aliases
        from ..resolution import EntityResolver  # only the CLI listing needs it

        state = self._entity_state().state
        spellings = EntityResolver(load_aliases(None), state=state).spellings() if state else {}
        counts = self._all_entity_counts({"match_all": {}}, {"match_all": {}})
        out = []
        for term, n in counts.items():
            value, t = S.split_entity_term(term)
            if type_ and t != type_:
                continue
            out.append(EntitySummary(value, t, n, sorted(set(spellings.get(value, [value])))))
        out.sort(key=lambda e: (-e.count, e.value.casefold()))
        return out

    @guarded
    def count(self) -> int:
        """Articles in the collection."""
        return int(self.client.count(index=self._index)["count"])


__all__ = ["OpenSearchBackend"]
