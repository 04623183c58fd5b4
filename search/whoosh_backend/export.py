"""Whole result sets for export: every hit in the search's order, and date counts at one level.

The export part of :class:`~.service.WhooshBackend` (``/export.csv``,
``/export.jsonl``, ``/export/timeline.csv``).  Matching is the search's own
(:meth:`~.service.WhooshBackend._matched`: the same filters, cost limits and
time budget); what differs is what is read after it.  No hit is scored
again, highlighted or given a snippet: the matching document numbers are
put in the search's order once (an array of integers, 8 bytes a hit), then
their stored fields are read a batch at a time, in document order within a
batch (sequential reads), and handed out in the search's order.  Only one
batch of articles is ever in memory, so a million-row export costs what a
thousand-row one does, plus the array.

An export reads from a searcher of its own, opened for it and closed when
its iterator ends (or is dropped): a streamed response outlives the web
request that started it, and must neither use a searcher the request's
thread will replace nor hold any lock the other requests need.  The shared
locks are taken only for the moments the search itself takes them (the
facet tables, the costly-query slot while matching).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np

from ..api import DATE_LEVELS
from ..errors import InvalidParameter
from ..model import UNDATED, SearchRequest
from . import schema as S
from .integrity import guarded
from .store import open_searcher

DEFAULT_BATCH = 500
MAX_BATCH = 10_000


class Export:
    """The export part of :class:`~.service.WhooshBackend`."""

    @guarded
    def iter_hits(self, req: SearchRequest, batch_size: int = DEFAULT_BATCH) -> Iterator[dict]:
        """Every hit of *req* (its page and per_page ignored) in the search's order, as plain dicts.

        Matching happens here, at the call, so a bad request raises before a
        single hit is read; the iterator only reads stored fields.
        """
        if not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH:
            raise InvalidParameter("batch_size", f"batch_size must be a whole number from 1 to {MAX_BATCH}")
        searcher = self._export_searcher()
        try:
            order = self._ordered_matches(searcher, req)
        except BaseException:
            searcher.close()
            raise
        return HitStream(self._read_hits(searcher, order, batch_size), searcher.close, len(order))

    @guarded
    def date_counts(self, req: SearchRequest, level: str) -> list[dict]:
        """Matches of *req* per period at *level* (``year``, ``month`` or ``day``), in date order.

        Each article is counted once, under its date at *level*, or at its own
        precision when that is coarser (an article dated ``2023-10`` counts under
        ``2023-10`` at the day level); undated articles count under ``undated``,
        last.  The counts sum to the search's total.
        """
        if level not in DATE_LEVELS:
            raise InvalidParameter("level", f"level must be one of {', '.join(DATE_LEVELS)}, not {level!r}")
        with self._searcher() as searcher:
            m = self._matched(searcher, req)
            keep = m.filters.passing(m.qdocs)
            docnums = m.qdocs if keep is None else m.qdocs[keep]
            nums = m.tables.date_num[docnums].astype(np.int64)
        undated = int((nums == 0).sum())
        nums = nums[nums > 0]
        if level == "year":
            nums = nums // 10000 * 10000
        elif level == "month":
            nums = nums // 100 * 100
        keys, counts = np.unique(nums, return_counts=True)
        out = [{"value": _period(int(k)), "count": int(c)} for k, c in zip(keys, counts, strict=True)]
        if undated:
            out.append({"value": UNDATED, "count": undated})
        return out

    # -- plumbing --------------------------------------------------------

    def _export_searcher(self):
        """A searcher of the export's own on the latest commit (see the module's docstring)."""
        if self._damaged is not None:
            raise self._damaged
        return open_searcher(self._ix)

    def _ordered_matches(self, searcher, req: SearchRequest) -> np.ndarray:
        """The document numbers of every hit of *req*, in the order its pages list them.

        The same order as :meth:`~.matching.Matching._page`: relevance best
        first with equal scores in index order; newest or oldest by date with
        undated last and equals in index order; relevance without a query is
        newest.
        """
        m = self._matched(searcher, req)
        keep = m.filters.passing(m.qdocs)
        docnums = m.qdocs if keep is None else m.qdocs[keep]
        scores = m.qscores if keep is None or m.qscores is None else m.qscores[keep]
        if not len(docnums):
            return docnums
        sort = req.sort if m.parsed is not None or req.sort != "relevance" else "newest"
        if sort == "relevance":
            if scores is None:
                # The Whoosh path (rare query shapes): Whoosh ranks, as it does for a page.
                results = searcher.search(m.parsed, filter={int(d) for d in docnums}, limit=None)
                return np.fromiter((hit.docnum for hit in results), dtype=np.int64, count=len(results))
            return docnums[np.lexsort((docnums, -scores))]
        keys = m.tables.date_num[docnums]
        if sort == "newest":
            order = np.lexsort((docnums, keys == 0, -keys.astype(np.int64)))
        else:
            order = np.lexsort((docnums, keys, keys == 0))
        return docnums[order]

    def _read_hits(self, searcher, order: np.ndarray, batch_size: int) -> Iterator[dict]:
        reader = searcher.reader()
        tables = self._facet_tables(searcher)
        for start in range(0, len(order), batch_size):
            batch = [int(d) for d in order[start:start + batch_size]]
            stored = {d: self._read_stored(reader, d) for d in sorted(batch)}
            for d in batch:
                f = stored.pop(d)
                yield export_row(f, tables.cluster_ref(d, f[S.ID]))

    @guarded
    def _read_stored(self, reader, docnum: int) -> dict:
        return reader.stored_fields(docnum)


class HitStream:
    """The iterator :meth:`Export.iter_hits` returns: hit dicts, and ``total`` (how many it will give).

    It holds a searcher of its own until it is exhausted or closed; closing it
    before the first hit (a client gone before the download began) releases
    the searcher too, which a bare generator that never started would not.
    """

    def __init__(self, rows: Iterator[dict], release, total: int):
        self._rows, self._release, self.total = rows, release, total

    def __iter__(self) -> HitStream:
        return self

    def __next__(self) -> dict:
        try:
            return next(self._rows)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._rows.close()
        release, self._release = self._release, None
        if release is not None:
            release()

    def __del__(self) -> None:
        self.close()


def _period(num: int) -> str:
    """``YYYYMMDD`` (zeros for unknown parts) as the period it names: ``2023``, ``2023-10``, ``2023-10-26``."""
    year, month, day = num // 10000, num // 100 % 100, num % 100
    if not month:
        return f"{year:04d}"
    if not day:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def export_row(f: dict, cluster: dict) -> dict:
    """One exported hit from an article's stored fields (as every engine stores them): the
    fields of a search hit but the snippet."""
    return {
        "id": f[S.ID],
        "path": f[S.PATH],
        "title": f.get(S.TITLE) or "",
        "date": f.get(S.DATE) or None,
        "date_precision": f.get(S.DATE_PRECISION) or "none",
        "source": f.get(S.SOURCE) or None,
        "url": f.get(S.URL) or None,
        "entities": json.loads(f.get(S.ENTITIES) or "[]"),
        "cluster": cluster,
    }


__all__ = ["DATE_LEVELS", "DEFAULT_BATCH", "Export", "HitStream"]
