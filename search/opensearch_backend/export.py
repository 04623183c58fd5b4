"""Whole result sets for export on OpenSearch: every hit in the search's order, and date counts.

The export part of :class:`~.service.OpenSearchBackend`, with the Whoosh
backend's promises (:mod:`search.whoosh_backend.export`): matching happens at
the call (a bad request raises before anything is read), hits come
*batch_size* at a time in the order the search's pages list them (the same
sort, collapsed copies left out the same way), and only one batch is in
memory.  The iterator reads a point in time of its own, opened at the call:
it sees the collection as it was then whatever commits follow, does not
depend on any :meth:`~.service.OpenSearchBackend.open` view, and the point in
time is deleted when the iterator is exhausted or closed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..api import DATE_LEVELS
from ..errors import InvalidParameter
from ..model import UNDATED, SearchRequest
from ..whoosh_backend import schema as S
from ..whoosh_backend.export import DEFAULT_BATCH, MAX_BATCH, HitStream, _period, export_row
from .guard import guarded, translated
from .hits import HIT_SOURCE, cluster_refs, sort_of

# How long a point in time lives between two batches (renewed by every batch).
PIT_KEEP = "5m"
# Date buckets read per page of the composite aggregation, and pages at most (a day each:
# far more days than any collection spans).
DATE_PAGE = 10_000
MAX_DATE_PAGES = 1000


class Export:
    """The export part of :class:`~.service.OpenSearchBackend`."""

    @guarded
    def iter_hits(self, req: SearchRequest, batch_size: int = DEFAULT_BATCH) -> Iterator[dict]:
        """Every hit of *req* (its page and per_page ignored) in the search's order, as plain dicts."""
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or not 1 <= batch_size <= MAX_BATCH:
            raise InvalidParameter("batch_size", f"batch_size must be a whole number from 1 to {MAX_BATCH}")
        p = self._prepare(req)
        sort, scored = sort_of(req, p.parsed)
        pit = self.client.create_pit(index=self._index, params={"keep_alive": PIT_KEEP})["pit_id"]
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                with contextlib.suppress(Exception):
                    self.client.delete_pit(body={"pit_id": [pit]})

        body = p.body()
        body.update(size=batch_size, sort=sort, _source={"includes": HIT_SOURCE})
        params = {"search_type": "dfs_query_then_fetch"} if scored else None

        def page(after, pit_id: str) -> dict:
            query = dict(body, pit={"id": pit_id, "keep_alive": PIT_KEEP})
            if after is not None:
                query["search_after"] = after
                query["track_total_hits"] = False
            return self.client.search(body=query, params=params)

        try:
            first = page(None, pit)
        except BaseException:
            release()
            raise
        total = int(first["hits"]["total"]["value"])
        return HitStream(self._rows(first, page, batch_size), release, total)

    def _rows(self, answer: dict, page, batch_size: int) -> Iterator[dict]:
        while True:
            hits = answer["hits"]["hits"]
            sources = [h["_source"] for h in hits]
            with translated(self):
                refs = cluster_refs(self.client, self._index, sources, with_sources=False)
            for src in sources:
                yield export_row(src, refs[src[S.ID]])
            if len(hits) < batch_size:
                return
            with translated(self):
                answer = page(hits[-1]["sort"], answer.get("pit_id"))

    @guarded
    def date_counts(self, req: SearchRequest, level: str) -> list[dict]:
        """Matches of *req* per period at *level* (``year``, ``month`` or ``day``), in date order,
        each article under its own precision when coarser, ``undated`` last; they sum to the total."""
        if level not in DATE_LEVELS:
            raise InvalidParameter("level", f"level must be one of {', '.join(DATE_LEVELS)}, not {level!r}")
        p = self._prepare(req)
        counts: dict[int, int] = {}
        after = None
        for _ in range(MAX_DATE_PAGES):
            source = {"composite": {"size": DATE_PAGE, "sources": [{"d": {"terms": {"field": S.DATE_NUM}}}]}}
            if after is not None:
                source["composite"]["after"] = after
            body = p.body()
            body.pop("post_filter", None)  # the aggregation applies every filter itself
            body.update(size=0, track_total_hits=False, timeout=self._timeout(),
                        aggs={"in": {"filter": p.filters.context(), "aggs": {"dates": source}}})
            agg = self._search(body)["aggregations"]["in"]["dates"]
            for b in agg["buckets"]:
                counts[int(b["key"]["d"])] = int(b["doc_count"])
            after = agg.get("after_key")
            if len(agg["buckets"]) < DATE_PAGE or after is None:
                break
        else:
            raise RuntimeError(f"more than {MAX_DATE_PAGES * DATE_PAGE} dates: not counted")
        undated = counts.pop(0, 0)
        periods: dict[int, int] = {}
        for num, n in counts.items():
            key = num // 10000 * 10000 if level == "year" else num // 100 * 100 if level == "month" else num
            periods[key] = periods.get(key, 0) + n
        out = [{"value": _period(k), "count": n} for k, n in sorted(periods.items())]
        if undated:
            out.append({"value": UNDATED, "count": undated})
        return out


__all__ = ["Export"]
