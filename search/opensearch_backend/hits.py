"""Hits of the OpenSearch backend: their order, syndicated-copy collapsing, clusters and snippets.

Collapsing (``collapse=on``) is the Whoosh backend's, copy for copy
(:meth:`search.whoosh_backend.facets.FacetTables.collapsed`): of each cluster's
copies that pass a request's filters only the earliest stands for the story
(earliest dated, undated last; the copy whose id names the cluster first among
equal dates; then index order), and every count — the total, each facet, the
date counts, co-occurrence, the export — counts stories.  OpenSearch's own
``collapse`` cannot give that: it groups hits only, picks by the sort, and
leaves aggregations alone.  So the clustered articles matching the query and
the common filters are read first (ids, clusters, dates and entity terms from
doc values, a handful in a collection of copies), and for every filter
context the counts use (the main one, and each with one OR group or one
exclusion left out, for disjunctive counts) the copies that do not stand for
their story are left out by id (:class:`CollapsedFilters`).

Snippets and highlighting are the project's own engine-free marking
(:mod:`search.whoosh_backend.snippets`) applied to the stored text, so both
backends give the same snippets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Hit, SearchRequest
from ..whoosh_backend import schema as S
from ..whoosh_backend.export import export_row
from ..whoosh_backend.snippets import snippet
from .query import MATCH_ALL, RequestFilters, value_terms

# The stored fields a hit (and an exported row) is made of.
HIT_SOURCE = [S.ID, S.PATH, S.TITLE, S.DATE, S.DATE_PRECISION, S.SOURCE, S.URL, S.ENTITIES, S.CLUSTER]
# Read per batch of clustered articles (collapsing) and copies (cluster sizes).
COPIES_PAGE = 10_000
# Bounds the reading of clustered articles: past this many pages of them, a bug or an index
# made of nothing but copies; the search says so rather than looping on.
MAX_COPY_PAGES = 100
# A hit's "also in N other copies (sources ...)": copies read for their sources, and sources named.
COPY_SOURCES_READ = 20
COPY_SOURCES_SHOWN = 5
_NO_DATE = 10 ** 9  # sorts after every date_num


@dataclass(frozen=True)
class Copy:
    """One clustered article, as collapsing needs it."""

    id: str
    cluster: str
    date_num: int
    indexed_num: int
    terms: frozenset[str]

    def copy_order(self) -> tuple:
        # FacetTables._copy_order: earliest dated (undated last), the cluster's own id first, then index order.
        return (self.date_num or _NO_DATE, self.id != self.cluster, self.indexed_num, self.id)


def copy_fields() -> list[str]:
    return [S.ID, S.CLUSTER, S.DATE_NUM, S.INDEXED_NUM, S.ENTITY]


def as_copy(hit: dict) -> Copy:
    f = hit.get("fields") or {}

    def one(name, default):
        values = f.get(name) or [default]
        return values[0]

    return Copy(one(S.ID, hit["_id"]), one(S.CLUSTER, ""), int(one(S.DATE_NUM, 0)), int(one(S.INDEXED_NUM, 0)),
                frozenset(f.get(S.ENTITY) or ()))


def scan(client, index: str, query: dict, fields: list[str], source=False) -> list[dict]:
    """Every hit of *query* (sorted by id, read :data:`COPIES_PAGE` at a time with search_after)."""
    out: list[dict] = []
    after = None
    for _ in range(MAX_COPY_PAGES):
        body: dict = {"query": query, "size": COPIES_PAGE, "_source": source, "docvalue_fields": fields,
                      "sort": [{S.ID: "asc"}], "track_total_hits": False}
        if after is not None:
            body["search_after"] = after
        hits = client.search(index=index, body=body)["hits"]["hits"]
        out += hits
        if len(hits) < COPIES_PAGE:
            return out
        after = hits[-1]["sort"]
    raise RuntimeError(f"more than {MAX_COPY_PAGES * COPIES_PAGE} clustered articles match: not collapsed")


@dataclass(frozen=True)
class CollapsedFilters(RequestFilters):
    """:class:`~.query.RequestFilters` that also leave out, in every context, the copies that do
    not stand for their story there (see the module docstring).

    *copies* are the clustered articles matching the query and the common filters.
    """

    copies: tuple[Copy, ...] = ()
    _hidden: dict = field(default_factory=dict, compare=False, repr=False)

    def _passes(self, c: Copy, without_group: str | None, without_excluded: str | None) -> bool:
        for type_, values in self.selection.groups.items():
            if type_ != without_group and not c.terms & _terms_of(values):
                return False
        for value in self.selection.excluded:
            if value != without_excluded and c.terms & _terms_of((value,)):
                return False
        return True

    def hidden(self, without_group: str | None = None, without_excluded: str | None = None) -> list[str]:
        """The ids of the copies that pass this context but do not stand for their story in it."""
        key = (without_group, without_excluded)
        found = self._hidden.get(key)
        if found is None:
            first: dict[str, Copy] = {}
            passing = [c for c in self.copies if self._passes(c, without_group, without_excluded)]
            for c in passing:
                best = first.get(c.cluster)
                if best is None or c.copy_order() < best.copy_order():
                    first[c.cluster] = c
            found = sorted(c.id for c in passing if first[c.cluster] is not c)
            self._hidden[key] = found
        return found

    def context(self, without_group: str | None = None, without_excluded: str | None = None) -> dict:
        base = super().context(without_group, without_excluded)
        hidden = self.hidden(without_group, without_excluded)
        if not hidden:
            return base
        body: dict = {"must_not": [{"ids": {"values": hidden}}]}
        if base != MATCH_ALL:
            body["filter"] = [base]
        return {"bool": body}

    def post_filter(self) -> dict | None:
        if not self.groups and not self.excluded and not self.hidden():
            return None
        return self.context()


def _terms_of(values) -> frozenset[str]:
    return frozenset(t for v in values for t in value_terms(v))


def collapsed(client, index: str, filters: RequestFilters, text_query: dict | None) -> RequestFilters:
    """*filters*, collapsing copies (unchanged when no clustered article matches)."""
    query = {"bool": {"filter": [filters.main_query(text_query), {"exists": {"field": S.CLUSTER}}]}}
    copies = tuple(as_copy(h) for h in scan(client, index, query, copy_fields()))
    if not copies:
        return filters
    return CollapsedFilters(filters.selection, filters.common, filters.groups, filters.excluded, copies)


def sort_of(req: SearchRequest, parsed) -> tuple[list, bool]:
    """``(sort, scored)`` of a request's hits: relevance best first (no query: newest), newest or
    oldest by date with undated last; equal keys in index order (then id, so the order is total)."""
    sort = req.sort if parsed is not None or req.sort != "relevance" else "newest"
    tail = [{S.INDEXED_NUM: "asc"}, {S.ID: "asc"}]
    if sort == "relevance":
        return [{"_score": "desc"}, *tail], True
    # The ISO date keyword sorts as date_num does ("2024-05" before "2024-05-06"); undated has none.
    order = "desc" if sort == "newest" else "asc"
    return [{S.DATE: {"order": order, "missing": "_last"}}, *tail], False


def cluster_refs(client, index: str, sources: list[dict], with_sources: bool) -> dict[str, dict]:
    """Each listed hit's ``{"id", "size"[, "sources"]}`` by hit id (size 1 and its own id: no copies)."""
    clusters = sorted({s[S.CLUSTER] for s in sources if s.get(S.CLUSTER)})
    members: dict[str, list[tuple[tuple, str, str]]] = {}
    if clusters:
        hits = scan(client, index, {"terms": {S.CLUSTER: clusters}}, copy_fields(),
                    source=[S.SOURCE] if with_sources else False)
        for h in hits:
            c = as_copy(h)
            members.setdefault(c.cluster, []).append((c.copy_order(), c.id, (h.get("_source") or {}).get(S.SOURCE)))
    out = {}
    for s in sources:
        aid, cluster = s[S.ID], s.get(S.CLUSTER)
        copies = sorted(members.get(cluster, [])) if cluster else []
        if not copies:
            ref: dict = {"id": aid, "size": 1}
        else:
            ref = {"id": cluster, "size": len(copies)}
        if with_sources:
            found: dict[str, None] = {}
            if len(copies) > 1:
                for _, _, source in [m for m in copies if m[1] != aid][:COPY_SOURCES_READ]:
                    if source:
                        found[source] = None
            ref["sources"] = list(found)[:COPY_SOURCES_SHOWN]
        out[aid] = ref
    return out


def make_hit(src: dict, cluster: dict, parsed) -> Hit:
    row = export_row(src, cluster)
    return Hit(snippet=snippet(src.get(S.BODY) or "", parsed), **row)


__all__ = ["CollapsedFilters", "HIT_SOURCE", "cluster_refs", "collapsed", "make_hit", "scan",
           "sort_of"]
