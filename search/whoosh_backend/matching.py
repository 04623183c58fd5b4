"""From a request to the matching documents: parsing, cost limits, filters, order.

Queries are parsed and checked for cost by :mod:`search.querysyntax` (shared with
the OpenSearch backend; the limits are :class:`~search.limits.QueryLimits`),
and evaluated over posting arrays
(:mod:`.evaluator`) with the entity and date filters as boolean masks; the
rare shapes the evaluator does not handle fall back to Whoosh's matchers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass

import numpy as np
from whoosh import query as Q

from ..errors import QueryTimeout
from ..limits import Deadline
from ..model import SearchRequest
from ..querysyntax import check_cost, parse_query
from . import schema as S
from .evaluator import Unsupported, checked, evaluate, term_ids
from .facets import EntitySelection, FacetTables, load_spelling_values
from .store import ENTITY_STATE_FILE

# Parsed queries kept per service (query trees are never modified once parsed): a search page
# parses its query several times (matching, snippets, titles, co-occurrence) and popular
# queries recur, while Whoosh's parser takes about half a millisecond a query.
PARSED_CACHE_QUERIES = 2000


@dataclass
class Filters:
    """A request's filters as boolean arrays over document numbers.

    A document passes when it passes *common* (date, range, indexed-after and
    every ``entity`` value), every OR group (it has at least one value of
    each), and has none of the *excluded* values.  :meth:`select` can leave
    out one OR group (disjunctive counts) or one exclusion.
    """

    selection: EntitySelection
    common: np.ndarray | None  # None: no such filter
    groups: dict[str, np.ndarray]  # type -> documents with a value of its OR group
    excluded: dict[str, np.ndarray]  # excluded value -> documents having it
    # Set when results collapse syndicated copies: of each cluster's copies that
    # pass, only the earliest does (:meth:`FacetTables.collapsed`).
    collapse: FacetTables | None = None

    def select(self, docnums: np.ndarray, without_group: str | None = None,
               without_excluded: str | None = None) -> np.ndarray:
        """The documents of *docnums* that pass, leaving out the named group or exclusion."""
        keep = self.passing(docnums, without_group, without_excluded)
        return docnums if keep is None else docnums[keep]

    def passing(self, docnums: np.ndarray, without_group: str | None = None,
                without_excluded: str | None = None, collapse: bool = True) -> np.ndarray | None:
        """Which of *docnums* pass, as a boolean array aligned with it (None: all of them);
        with *collapse* false, every copy of a story that passes the filters does."""
        keep = None
        parts = [self.common] if self.common is not None else []
        parts += [m for t, m in self.groups.items() if t != without_group]
        for m in parts:
            keep = m[docnums] if keep is None else keep & m[docnums]
        for value, m in self.excluded.items():
            if value != without_excluded:
                keep = ~m[docnums] if keep is None else keep & ~m[docnums]
        if collapse and self.collapse is not None:
            passed = docnums if keep is None else docnums[keep]
            stories = self.collapse.collapsed(passed)
            if keep is None:
                keep = stories
            else:
                keep = keep.copy()
                keep[np.flatnonzero(keep)[~stories]] = False
        return keep


class Matching:
    """The matching part of :class:`~.service.WhooshBackend`."""

    def parse(self, q: str) -> tuple[Q.Query | None, str | None]:
        """Parse *q*; on a syntax problem read it as plain words and say so
        (:func:`search.querysyntax.parse_query`, shared with the OpenSearch backend)."""
        return self._remembered("parsed", q, PARSED_CACHE_QUERIES, lambda: parse_query(self._parser, q))

    def _check_cost(self, parsed) -> tuple[int, bool]:
        """Refuse a query that is too costly by its shape; ``(wildcard allowance, costly)``
        (:func:`search.querysyntax.check_cost`, shared with the OpenSearch backend)."""
        return check_cost(parsed, self.limits)

    @contextlib.contextmanager
    def _admitted(self, costly: bool, deadline: Deadline):
        """Hold the one costly-query slot while a costly query runs (a no-op for the others)."""
        if not costly:
            yield
            return
        slot = self._shared["costly"]
        if not slot.acquire(timeout=max(0.0, deadline.remaining())):
            raise QueryTimeout(
                "The server is busy with other costly searches (wildcards, phrases or many words); "
                "try again in a moment.")
        try:
            yield
        finally:
            slot.release()

    def _selection(self, req: SearchRequest, tables: FacetTables) -> EntitySelection:
        """The request's entity filters as facet values: a merged spelling means its canonical value."""
        named = req.entities + req.entities_any + req.entities_not
        if tables.spelling_values is None and any(v not in tables.by_value for v in named):
            tables.spelling_values = load_spelling_values(self.index_dir / ENTITY_STATE_FILE)
        return tables.selection(req.entities, req.entities_any, req.entities_not)

    def _value_docs(self, value: str, tables: FacetTables, postings) -> np.ndarray:
        """The documents having facet value *value*, as a boolean array (none for an unknown value)."""
        m = np.zeros(tables.doc_count_all, dtype=bool)
        for tid in tables.by_value.get(value, []):
            m[term_ids(postings, S.ENTITY, S.entity_term(value, tables.terms[tid][1]))] = True
        return m

    def _filters(self, req: SearchRequest, tables: FacetTables, postings) -> Filters:
        """The request's filters as boolean arrays over document numbers."""
        selection = self._selection(req, tables)
        common = self._date_mask(req, tables)
        for value in selection.required:
            m = self._value_docs(value, tables, postings)
            common = m if common is None else common & m
        groups = {}
        for type_, values in selection.groups.items():
            m = np.zeros(tables.doc_count_all, dtype=bool)
            for value in values:
                m |= self._value_docs(value, tables, postings)
            groups[type_] = m
        excluded = {value: self._value_docs(value, tables, postings) for value in selection.excluded}
        if req.cluster:
            m = self._cluster_docs(req.cluster, tables, postings)
            common = m if common is None else common & m
        collapse = tables if req.collapse == "on" and tables.cluster_names else None
        return Filters(selection, common, groups, excluded, collapse)

    def _cluster_docs(self, cluster_id: str, tables: FacetTables, postings) -> np.ndarray:
        """The copies of cluster *cluster_id*, as a boolean array; an article
        without copies is a cluster of one under its own id."""
        index = tables.cluster_index(cluster_id)
        if index >= 0:
            return tables.cluster == index
        m = np.zeros(tables.doc_count_all, dtype=bool)
        m[term_ids(postings, S.ID, cluster_id)] = True
        return m

    def _date_mask(self, req: SearchRequest, tables: FacetTables) -> np.ndarray | None:
        """Documents passing the date, range and indexed-after filters, as a boolean array."""
        mask = None

        def narrow(m: np.ndarray) -> None:
            nonlocal mask
            mask = m if mask is None else (mask & m)

        dn = tables.date_num
        if req.date and req.date.level == "undated":
            narrow(dn == 0)
        elif req.date:
            parts = req.date.parts
            if len(parts) == 1:
                narrow((dn // 10000 == parts[0]) & (dn > 0))
            elif len(parts) == 2:
                narrow(dn // 100 == parts[0] * 100 + parts[1])
            else:
                narrow(dn == parts[0] * 10000 + parts[1] * 100 + parts[2])
        if req.date_from or req.date_to:
            lo, hi = _range_bounds(req.date_from, req.date_to)
            narrow((dn >= lo) & (dn <= hi) if hi is not None else dn >= lo)
        if req.indexed_after is not None:
            narrow(tables.indexed_num > int(req.indexed_after.timestamp() * 1000))
        return mask

    def _match_fast(self, parsed, tables: FacetTables, postings):
        """Documents matching the query alone and their scores, from posting arrays (raises Unsupported)."""
        if parsed is None:
            return np.flatnonzero(tables.live).astype(np.int64), None, False
        ev = evaluate(parsed, postings)
        return ev.ids, ev.scores, ev.capped

    def _match_whoosh(self, searcher, parsed, tables: FacetTables, deadline: Deadline) -> np.ndarray:
        """The slow path for query shapes the array evaluator does not handle (the query alone)."""
        docnums = np.fromiter(checked(searcher.docs_for_query(parsed), deadline), dtype=np.int64)
        if len(docnums):
            docnums = np.unique(docnums[tables.live[docnums]])
        return docnums

    def _query_matches(self, searcher, parsed, tables: FacetTables, postings, deadline: Deadline):
        """``(documents, scores or None, capped)`` of the query alone, before any filter."""
        try:
            return self._match_fast(parsed, tables, postings)
        except Unsupported:
            return self._match_whoosh(searcher, parsed, tables, deadline), None, False

    def _facet_counts(self, tables: FacetTables, filters: Filters, qdocs: np.ndarray,
                      types=None) -> tuple[dict[str, np.ndarray], dict[str, int]]:
        """Entity counts per type (disjunctive for a type with an OR group) and each excluded
        value's count (what dropping its exclusion brings back), for *types* (default: all)."""
        types = list(tables.by_type) if types is None else list(types)
        full = None
        counts: dict[str, np.ndarray] = {}
        for type_ in types:
            if type_ in filters.groups:
                counts[type_] = tables.entity_counts(tables.mask(filters.select(qdocs, without_group=type_)))
            else:
                if full is None:
                    full = tables.entity_counts(tables.mask(filters.select(qdocs)))
                counts[type_] = full
        wanted = set(types)
        excluded_counts = {}
        for value, docs in filters.excluded.items():
            if tables.type_of(value) in wanted:
                excluded_counts[value] = int(docs[filters.select(qdocs, without_excluded=value)].sum())
        return counts, excluded_counts

    def _page(self, searcher, req: SearchRequest, parsed, docnums: np.ndarray, scores, tables: FacetTables):
        start = (req.page - 1) * req.per_page
        end = start + req.per_page
        if start >= len(docnums):
            return []
        sort = req.sort if parsed is not None or req.sort != "relevance" else "newest"
        if sort == "relevance":
            if scores is None:
                # The Whoosh path: let Whoosh rank the documents that passed the filters.
                results = searcher.search(parsed, filter={int(d) for d in docnums}, limit=end)
                return [hit.docnum for hit in results[start:end]]
            # Best first; equal scores in index order, so pages never overlap.
            if len(docnums) > end * 4:
                top = np.argpartition(-scores, end - 1)[:end]
                cut = scores[top].min()
                top = np.flatnonzero(scores >= cut)
            else:
                top = np.arange(len(docnums))
            order = top[np.lexsort((docnums[top], -scores[top]))]
            return [int(d) for d in docnums[order[start:end]]]
        keys = tables.date_num[docnums]
        if sort == "newest":
            # Undated last; among equals, index order keeps the page stable.
            order = np.lexsort((docnums, keys == 0, -keys.astype(np.int64)))
        else:
            order = np.lexsort((docnums, keys, keys == 0))
        return [int(d) for d in docnums[order[start:end]]]


def _range_bounds(lo: dt.date | None, hi: dt.date | None) -> tuple[int, int | None]:
    """Inclusive ``date_num`` bounds for a day range (``None``: open above).

    A range that starts on the first of a month (or of a year) also takes
    articles dated only to that month (or year), whose keys end in zeros.
    """
    low = 1
    if lo is not None:
        month = 0 if lo.month == 1 and lo.day == 1 else lo.month
        low = lo.year * 10000 + month * 100 + (0 if lo.day == 1 else lo.day)
        low = max(low, 1)
    # An open upper bound stays None: a far-future sentinel such as 99991231
    # makes Whoosh's unsigned 32-bit range match every document.
    high = None if hi is None else hi.year * 10000 + hi.month * 100 + hi.day
    return low, high
