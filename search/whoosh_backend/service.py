"""The Whoosh search backend: plain requests in, plain results out.

:class:`WhooshBackend` implements :class:`search.api.SearchBackend` over one
index folder.  It takes a :class:`~search.model.SearchRequest` and returns
a :class:`~search.model.SearchResult` of dataclasses, strings and numbers —
no Whoosh objects — so another engine can stand behind the same interface.
This module holds its plumbing (searchers per thread, per-generation
caches) and :meth:`WhooshBackend.search`; matching, single articles and
spelling are its mixins (:mod:`.matching`, :mod:`.articles`, :mod:`.spelling`),
whole result sets for export another (:mod:`.export`), and co-occurrence
another (:mod:`.cooccur`).

Counting: the total and every facet count come from the full set of
matching document numbers, never from ``len()`` of a Whoosh results
object, which undercounts for unscored or ``optimize=False`` searches.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import threading
import time
import traceback
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import IndexDamaged
from ..limits import NO_DEADLINE, Deadline, QueryLimits
from ..model import FacetValuesPage, FacetValuesRequest, Hit, SearchRequest, SearchResult
from ..querysyntax import make_parser
from . import schema as S
from .articles import Articles
from .cooccur import Cooccur
from .evaluator import PostingCache
from .export import Export
from .facets import (
    FacetTables,
    build_contains_keys,
    date_facet,
    entity_facet,
    facet_value_page,
    load_value_spellings,
)
from .integrity import diagnose, guarded, release_leaked_files
from .matching import Filters, Matching
from .snippets import SNIPPET_CHARS, snippet
from .spelling import Spelling
from .store import ENTITY_STATE_FILE, generation_of, open_index, open_searcher, tables_path

# Stored articles kept in memory for rendering hits (a few KB each).
STORED_CACHE_DOCS = 5000
# A hit's "also in N other copies (sources ...)": copies read for their sources, and sources named.
COPY_SOURCES_READ = 20
COPY_SOURCES_SHOWN = 5
# Facet tables kept in memory: the newest commit's, and the one before for
# requests still finishing on it while threads move over.
KEPT_GENERATIONS = 2
# The latest commit is found by listing the index folder, three times a web request and
# under load ~7 % of a server's samples.  The folder changes with every commit (a new
# table of contents is renamed into it), so while its modification time is the one seen
# at the last listing the answer is the same: the listing is skipped.  Only trusted when
# that listing started at least this long after the folder last changed, so a commit in
# the same timestamp tick as that change cannot hide behind an unchanged time.
GENERATION_MTIME_MARGIN_NS = 2_000_000_000

log = logging.getLogger("newsfacet")


@dataclass
class _Matched:
    """What matching a request leaves for counting: the query's own matches and the filters."""

    parsed: object
    notice: str | None
    tables: FacetTables
    qdocs: np.ndarray  # the query's matches, before any filter
    qscores: np.ndarray | None  # aligned with qdocs; None on the Whoosh path
    filters: Filters


def _close_all(searchers: list, lock: threading.Lock) -> None:
    with lock:
        for searcher in searchers:
            searcher.close()
        searchers.clear()


class WhooshBackend(Matching, Articles, Spelling, Export, Cooccur):
    """Searches one index folder.  Safe to share between threads.

    Each call opens a searcher on the latest commit, so a running ``newsfacet
    index`` becomes visible without a restart; the facet arrays are built once
    per index generation and shared.  :meth:`open` pins one searcher for a
    series of calls (a web request) until :meth:`close`.
    """

    def __init__(self, index_dir: Path | str, limits: QueryLimits | None = None):
        self.index_dir = Path(index_dir)
        self.limits = limits or QueryLimits()  # the settings pass theirs (read from the environment)
        self._ix = open_index(self.index_dir)
        self._shared = {"lock": threading.Lock(), "tables": {}, "building": {}, "costly": threading.Semaphore(1),
                        "local": threading.local(), "open": []}
        self._parser = make_parser(self._ix.schema)
        self._pinned = None
        # A session's last matching, (request, _Matched): one web request matches its
        # query once, though its page also counts the timeline (``date_counts``).
        self._last_matched: tuple[SearchRequest, _Matched] | None = None
        self._damaged: IndexDamaged | None = None
        # Searchers hold open files; close them when the service goes away.
        self._finalizer = weakref.finalize(self, _close_all, self._shared["open"], self._shared["lock"])

    # -- plumbing --------------------------------------------------------

    def open(self) -> WhooshBackend:
        """A view of this service bound to one searcher on the latest commit, for a
        series of calls that must agree (one web request); :meth:`close` it."""
        session = copy.copy(self)
        try:
            session._pinned = self._guarded_searcher()
        except IndexDamaged as damage:
            # Searches will say so; single articles may still come from healthy segments.
            session._damaged = damage
        return session

    def _diagnose(self, error: BaseException) -> IndexDamaged | None:
        """Check the index after *error*; log each damaged file's first sighting with its traceback."""
        damage = diagnose(self.index_dir, error)
        if damage is not None:
            with self._shared["lock"]:
                seen = self._shared.setdefault("damage_logged", set())
                first = damage.path not in seen
                seen.add(damage.path)
            if first:
                # As text: a record holding the traceback would keep the damaged files open.
                details = getattr(error, "details", None) or "".join(traceback.format_exception(error))
                log.error("%s\n%s", damage, details.rstrip())
        return damage

    @guarded
    def _guarded_searcher(self):
        return self._current_searcher()

    def generation(self) -> int:
        """A number that changes with every commit of the index (for caches kept per commit)."""
        return self._latest_generation()

    def _latest_generation(self) -> int:
        """``self._ix.latest_generation()``, without listing the folder while it is unchanged.

        See :data:`GENERATION_MTIME_MARGIN_NS`: a listing made after the folder's
        state (device, inode, modification time) was read sees every commit made
        before that read, and any commit after it changes the modification time.
        """
        try:
            st = os.stat(self.index_dir)
        except OSError:
            return self._ix.latest_generation()
        state = (st.st_dev, st.st_ino, st.st_mtime_ns)
        memo = self._shared.get("generation_memo")
        if memo is not None and memo[0] == state:
            return memo[1]
        listed_at = time.time_ns()
        generation = self._ix.latest_generation()
        if listed_at - st.st_mtime_ns >= GENERATION_MTIME_MARGIN_NS:
            self._shared["generation_memo"] = (state, generation)
        return generation

    def close(self) -> None:
        """End a session from :meth:`open`; on the service itself, close every searcher."""
        if self._pinned is not None:
            # The pinned searcher is this thread's shared one; it stays open for reuse.
            self._pinned = None
            self._last_matched = None
        else:
            self._finalizer()

    def __enter__(self) -> WhooshBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _searcher(self):
        if self._damaged is not None:
            raise self._damaged
        if self._pinned is not None:
            return contextlib.nullcontext(self._pinned)
        return contextlib.nullcontext(self._current_searcher())

    def _current_searcher(self):
        """This thread's searcher on the latest commit, reused while the index is unchanged.

        Opening a searcher reads every segment's table of contents (several ms);
        Whoosh searchers are not safe to share between threads, so each
        thread keeps its own and replaces it when a new commit appears.  The
        old one is closed only once its successor has opened: if the index
        cannot be opened for a moment (its table of contents being replaced,
        or gone), the thread keeps answering from the commit it had.
        """
        local = self._shared["local"]
        searcher = getattr(local, "searcher", None)
        try:
            # searcher.up_to_date() is this comparison, with a listing of the folder each time.
            if searcher is not None and searcher.reader().generation() == self._latest_generation():
                return searcher
        except Exception:  # noqa: BLE001 - cannot tell: try to open the latest, below
            pass
        try:
            fresh = open_searcher(self._ix)
        except Exception as exc:
            if searcher is None:
                raise
            log.warning("cannot open the latest commit of %s (%s: %s); answering from generation %s",
                        self.index_dir, type(exc).__name__, exc, generation_of(searcher.reader()))
            fresh = None
        if fresh is None:
            release_leaked_files()
            return searcher
        opened = self._shared["open"]
        with self._shared["lock"]:
            if searcher is not None:
                searcher.close()
                if searcher in opened:
                    opened.remove(searcher)
            local.searcher = fresh
            opened.append(fresh)
        return fresh

    def _facet_tables(self, searcher) -> FacetTables:
        """The facet tables of *searcher*'s generation, loaded or built once.

        When a new commit appears, every request thread meets it at once:
        one loads or builds its tables while the others wait for that, rather
        than all building the same arrays side by side.  The previous
        generation's tables stay too, for threads still finishing on it.
        """
        gen = generation_of(searcher.reader())
        shared = self._shared
        with shared["lock"]:
            tables = shared["tables"].get(gen)
            if tables is not None:
                return tables
            pending = shared["building"].get(gen)
            if pending is None:
                pending = shared["building"][gen] = threading.Event()
                mine = True
            else:
                mine = False
        if not mine:
            pending.wait()
            with shared["lock"]:
                tables = shared["tables"].get(gen)
            if tables is not None:
                return tables
            # the builder failed: try ourselves, so the error (if any) is this request's
        try:
            tables = FacetTables.load(tables_path(self.index_dir, gen))
            if tables is None or tables.doc_count_all != searcher.reader().doc_count_all():
                tables = FacetTables.from_reader(searcher.reader())
            with shared["lock"]:
                shared["tables"][gen] = tables
                for old in sorted(shared["tables"])[:-KEPT_GENERATIONS]:
                    del shared["tables"][old]
        finally:
            if mine:
                with shared["lock"]:
                    shared["building"].pop(gen, None)
                pending.set()
        return tables

    # -- queries ---------------------------------------------------------

    def _posting_cache(self, searcher, tables: FacetTables, deadline: Deadline = NO_DEADLINE):
        gen = generation_of(searcher.reader())
        lock = self._shared["lock"]
        with lock:
            cached = self._shared.get("postings")
            if cached is None or cached.generation != gen:
                cached = PostingCache(gen, tables.live, tables.lengths)
                self._shared["postings"] = cached
        return cached.bind(searcher, self.limits, deadline)

    def _matched(self, searcher, req: SearchRequest, deadline: Deadline | None = None) -> _Matched:
        """The query's own matches and the request's filters, under the cost limits and time budget.

        :raises InvalidParameter: for a query over the cost limits (:class:`QueryLimits`).
        :raises QueryTimeout: when matching runs past the time budget (*deadline*, or one from now).
        """
        last = self._last_matched
        if self._pinned is not None and last is not None and last[0] == req:
            return last[1]
        deadline = deadline or Deadline(self.limits.timeout)
        parsed, notice = self.parse(req.q)
        allowance, costly = self._check_cost(parsed)
        tables = self._facet_tables(searcher)
        postings = self._posting_cache(searcher, tables, deadline)
        postings.expansion_cap = allowance
        postings.yield_gil = costly
        with self._admitted(costly, deadline):
            qdocs, qscores, capped = self._query_matches(searcher, parsed, tables, postings, deadline)
            filters = self._filters(req, tables, postings)
        if capped:
            notice = f"A wildcard matched too many words; the {allowance} most frequent were searched."
        matched = _Matched(parsed, notice, tables, qdocs, qscores, filters)
        if self._pinned is not None:
            self._last_matched = (req, matched)
        return matched

    @guarded
    def search(self, req: SearchRequest) -> SearchResult:
        """Run *req*: total, one page of hits, facets, suggestion.

        :raises InvalidParameter: for a query over the cost limits (:class:`QueryLimits`).
        :raises QueryTimeout: when matching runs past the time budget.
        """
        started = time.perf_counter()
        with self._searcher() as searcher:
            m = self._matched(searcher, req)
            tables, parsed = m.tables, m.parsed
            keep = m.filters.passing(m.qdocs, collapse=False)
            docnums = m.qdocs if keep is None else m.qdocs[keep]
            scores = m.qscores if keep is None or m.qscores is None else m.qscores[keep]
            copies = int(len(docnums))
            if m.filters.collapse is not None:
                stories = tables.collapsed(docnums)
                docnums = docnums[stories]
                scores = None if scores is None else scores[stories]
            total = int(len(docnums))
            page_docs = self._page(searcher, req, parsed, docnums, scores, tables)
            hits = [self._hit(searcher, d, parsed, tables) for d in page_docs]
            counts, excluded_counts = self._facet_counts(tables, m.filters, m.qdocs)
            facets = {
                "entity": entity_facet(tables, counts, m.filters.selection, req.facet_limit, excluded_counts),
                "date": date_facet(tables, tables.mask(docnums), req.date),
            }
            suggestion = self._suggest(searcher, req, parsed) if total == 0 and parsed is not None else None
        return SearchResult(
            request=req,
            total=total,
            hits=hits,
            facets=facets,
            suggestion=suggestion,
            notice=m.notice,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            copies=copies,
        )

    @guarded
    def facet_values(self, req: FacetValuesRequest) -> FacetValuesPage:
        """One type's values for a search: counted as :meth:`search` counts its facets,
        narrowed by ``contains`` (any merged spelling), sorted by count or name, paged."""
        with self._searcher() as searcher:
            m = self._matched(searcher, req.search)
            tables = m.tables
            counts, excluded_counts = self._facet_counts(tables, m.filters, m.qdocs, types=[req.type])
            if req.contains and tables.contains_keys is None:
                # Once per generation: racing threads build the same list, the last one stays.
                tables.contains_keys = build_contains_keys(
                    tables, load_value_spellings(self.index_dir / ENTITY_STATE_FILE))
            total, values = facet_value_page(tables, req.type, counts[req.type], m.filters.selection,
                                             excluded_counts, req.contains, req.sort, req.page, req.per_page)
        return FacetValuesPage(request=req, total_values=total, values=values)

    def _stored(self, searcher, docnum: int) -> dict:
        """Stored fields of a document, from a small per-generation cache.

        Reading and unpickling a stored article is the largest cost of
        rendering a page of hits; popular articles recur across queries.
        """
        return self._remembered("stored", (generation_of(searcher.reader()), docnum), STORED_CACHE_DOCS,
                                lambda: searcher.stored_fields(docnum))

    def _remembered(self, name: str, key, limit: int, make):
        """``make()``, kept in the shared cache *name* of at most *limit* entries (the least
        recently used leave first); keys carry the generation, so a commit never serves stale data."""
        lock = self._shared["lock"]
        with lock:
            cache = self._shared.setdefault(name, OrderedDict())
            value = cache.get(key)
            if value is not None:
                cache.move_to_end(key)
                return value
        value = make()
        with lock:
            cache[key] = value
            while len(cache) > limit:
                cache.popitem(last=False)
        return value

    def _hit(self, searcher, docnum: int, parsed, tables: FacetTables | None = None) -> Hit:
        f = self._stored(searcher, docnum)
        tables = tables or self._facet_tables(searcher)
        cluster = tables.cluster_ref(docnum, f[S.ID])
        cluster["sources"] = self._copy_sources(searcher, tables, docnum) if cluster["size"] > 1 else []
        return Hit(
            id=f[S.ID],
            path=f[S.PATH],
            title=f[S.TITLE],
            date=f.get(S.DATE) or None,
            date_precision=f.get(S.DATE_PRECISION) or "none",
            source=f.get(S.SOURCE) or None,
            url=f.get(S.URL) or None,
            snippet=self.snippet(f[S.BODY], parsed),
            entities=json.loads(f.get(S.ENTITIES) or "[]"),
            cluster=cluster,
        )

    def _copy_sources(self, searcher, tables: FacetTables, docnum: int) -> list[str]:
        """The sources of the other copies of *docnum*'s story, each once, earliest copies first."""
        copies = tables.copies(docnum)
        sources: dict[str, None] = {}
        for d in copies[copies != docnum][:COPY_SOURCES_READ]:
            source = self._stored(searcher, int(d)).get(S.SOURCE)
            if source:
                sources[source] = None
        return list(sources)[:COPY_SOURCES_SHOWN]

    def snippet(self, body: str, parsed, chars: int = SNIPPET_CHARS) -> str:
        """A passage of *body* around the query's terms, as safe HTML (terms in ``<mark>``)."""
        return snippet(body, parsed, chars)


__all__ = ["WhooshBackend"]
