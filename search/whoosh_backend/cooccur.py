"""Co-occurrence ("appears with"): the values that appear with one value in a result set.

The co-occurrence part of :class:`~.service.WhooshBackend` (``/api/cooccur``
and the search page's "Appears with" panel).  It is the facet counting of
:mod:`.facets` twice over: the entity counts of the result set AND the value
(one boolean gather and one ``bincount`` over the posting arrays) give each
value's ``count``, and the entity counts of the result set itself give the
number of articles with each value, from which ``expected`` and ``lift``
follow.  Matching is the search's own (:meth:`~.service.WhooshBackend._matched`:
the same filters, cost limits and time budget).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import InvalidParameter
from ..model import (
    DEFAULT_COOCCUR_LIMIT,
    Cooccurrence,
    CooccurValue,
    SearchRequest,
    cooccurrence_value,
)
from .facets import FacetTables, load_spelling_values
from .integrity import guarded
from .store import ENTITY_STATE_FILE


class Cooccur:
    """The co-occurrence part of :class:`~.service.WhooshBackend`."""

    @guarded
    def cooccurrence(self, req: SearchRequest, with_value: str,
                     limit: int = DEFAULT_COOCCUR_LIMIT) -> Cooccurrence:
        """The values appearing with *with_value* in the result set of *req* (see
        :meth:`search.api.SearchBackend.cooccurrence`)."""
        asked = cooccurrence_value(with_value, limit)
        with self._searcher() as searcher:
            tables = self._facet_tables(searcher)
            self._load_spellings(tables, (asked, *req.entities))
            value = tables.canonical(asked)
            tids = tables.by_value.get(value)
            if not tids:
                raise InvalidParameter("with", f"no article has the entity {asked!r}")
            # The value's own requirement left out: within a search for it, everything would appear
            # with it exactly as often as chance.
            own = dataclasses.replace(req, entities=tuple(v for v in req.entities if tables.canonical(v) != value))
            m = self._matched(searcher, own)
            docs = m.filters.select(m.qdocs)
            total = int(len(docs))
            mask = tables.mask(docs)
            both = mask & _docs_with(tables, tids)
            with_count = int(both.sum())
            values: list[CooccurValue] = []
            if with_count:
                together = tables.entity_counts(both)
                alone = tables.entity_counts(mask)
                skipped = list(tids) + [t for v in m.filters.selection.required for t in tables.by_value.get(v, [])]
                together[np.asarray(skipped, dtype=np.int64)] = 0
                idx = np.flatnonzero(together)
                # Equal counts: a higher lift is a rarer value (lift = count × total / (with_count × its count)),
                # so the order is exact in whole numbers.
                idx = idx[np.lexsort((tables.name_rank[idx], alone[idx], -together[idx]))][:limit]
                for tid in idx:
                    count, n = int(together[tid]), int(alone[tid])
                    name, type_ = tables.terms[tid]
                    values.append({"value": name, "type": type_, "count": count,
                                   "expected": with_count * n / total, "lift": count * total / (with_count * n)})
        return Cooccurrence(request=req, value=value, type=tables.terms[tids[0]][1], count=with_count,
                            total=total, limit=limit, values=values)

    def _load_spellings(self, tables: FacetTables, named) -> None:
        """Read the merged spellings once, when a named value is not itself a facet value."""
        if tables.spelling_values is None and any(v not in tables.by_value for v in named):
            tables.spelling_values = load_spelling_values(self.index_dir / ENTITY_STATE_FILE)


def _docs_with(tables: FacetTables, tids) -> np.ndarray:
    """The documents having any of term ids *tids*, as a boolean array."""
    out = np.zeros(tables.doc_count_all, dtype=bool)
    out[tables.post_doc[np.isin(tables.post_term, np.asarray(tids, dtype=np.int32))]] = True
    return out


__all__ = ["Cooccur"]
