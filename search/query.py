"""The query service: plain requests in, plain results out.

:class:`QueryService` is the only thing the web layer and the CLI talk to.
It takes a :class:`SearchRequest` and returns a :class:`SearchResult` built
of dataclasses, lists, strings and numbers — no Whoosh objects — so another
engine could stand behind the same interface.

Counting: the total and every facet count come from the full set of
matching document numbers (``Searcher.docs_for_query``), never from
``len()`` of a results object, which undercounts for unscored or
``optimize=False`` searches.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import datetime as dt
import functools
import html
import json
import logging
import re
import threading
import time
import traceback
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rapidfuzz import process as rf_process
from rapidfuzz.distance import OSA
from whoosh import query as Q
from whoosh.lang import stemmer_for_language
from whoosh.qparser import MultifieldParser, PlusMinusPlugin
from whoosh.searching import Searcher

from . import schema as S
from .errors import IndexDamaged, InvalidParameter, QuerySyntaxError, QueryTimeout, SearchError
from .facets import FacetTables, date_facet, entity_facet
from .fast import PostingCache, Unsupported, checked, evaluate, term_ids
from .integrity import diagnose, release_leaked_files
from .limits import NO_DEADLINE, Deadline, QueryLimits
from .store import ENTITY_STATE_FILE, open_index, open_searcher, open_segment_reader, tables_path
from .textnorm import fold, normalize_text

SORTS = ("relevance", "newest", "oldest")
MAX_PER_PAGE = 100
MAX_FACET_LIMIT = 1000
MAX_QUERY_CHARS = 2000
SNIPPET_CHARS = 240
# A query of more words than this is "costly" and waits for the costly-query slot.
COSTLY_TERMS = 16
# "Did you mean" walks the lexicon once per unknown word, at a cost that grows
# with the word's length: a query of many unknown or very long words gets no
# suggestion instead of seconds of lookups.
MAX_SUGGEST_WORDS = 4
MAX_SUGGEST_WORD_CHARS = 24
# Up to this many articles the spelling vocabulary is read on the spot (a
# fraction of a second); above, in the background.
VOCABULARY_INLINE_DOCS = 100_000
# Stored articles kept in memory for rendering hits (a few KB each).
STORED_CACHE_DOCS = 5000
# More-like-this reads this much of an article, and remembers the terms of this many.
SIMILAR_CHARS = 20_000
KEY_TERMS_CACHE_DOCS = 2000
# Query terms are marked in this much of an article's page.
HIGHLIGHT_CHARS = 200_000
# Facet tables kept in memory: the newest commit's, and the one before for
# requests still finishing on it while threads move over.
KEPT_GENERATIONS = 2
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _select_sort(name: str) -> str:
    if name not in SORTS:
        raise InvalidParameter("sort", f"sort must be one of {', '.join(SORTS)}, not {name!r}")
    return name


def parse_date_filter(value: str) -> str:
    """Validate a date filter: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ``undated``."""
    if value == S.UNDATED:
        return value
    m = _DATE_RE.match(value)
    if not m:
        raise InvalidParameter("date", f"date must be YYYY, YYYY-MM, YYYY-MM-DD or 'undated', not {value!r}")
    year, month, day = (int(g) if g else None for g in m.groups())
    try:
        dt.date(year, month or 1, day or 1)
    except ValueError:
        raise InvalidParameter("date", f"{value!r} is not a real date") from None
    return value


def parse_day(value: str, parameter: str) -> dt.date:
    """Validate a ``YYYY-MM-DD`` range bound."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(parameter, f"{parameter} must be a date as YYYY-MM-DD, not {value!r}") from None


@dataclass(frozen=True)
class SearchRequest:
    """What the user asked for; every field has the default a blank form has.

    :param q: query in Whoosh syntax (AND by default, "phrases", OR, NOT,
        ``-term``, ``title:``, wildcards); empty browses everything.
    :param entities: entity values that must all be present.
    :param date: ``YYYY`` | ``YYYY-MM`` | ``YYYY-MM-DD`` | ``undated``.
    :param date_from, date_to: inclusive day bounds.
    :param sort: one of :data:`SORTS`; relevance with an empty query means newest.
    """

    q: str = ""
    entities: tuple[str, ...] = ()
    date: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    facet_limit: int = 20
    # Only articles indexed after this moment (saved searches' "new since last visit").
    indexed_after: dt.datetime | None = None

    def __post_init__(self) -> None:
        _select_sort(self.sort)
        if self.date is not None:
            parse_date_filter(self.date)
        if not 1 <= self.page <= 100_000:
            raise InvalidParameter("page", "page must be a whole number from 1 to 100000")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidParameter("per_page", f"per_page must be a whole number from 1 to {MAX_PER_PAGE}")
        if not 1 <= self.facet_limit <= MAX_FACET_LIMIT:
            raise InvalidParameter("facet_limit", f"facet_limit must be a whole number from 1 to {MAX_FACET_LIMIT}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidParameter("from", "from must not be later than to")
        if len(self.q) > MAX_QUERY_CHARS:
            raise InvalidParameter("q", f"the query is longer than {MAX_QUERY_CHARS} characters")

    def as_dict(self) -> dict:
        """Normalised parameters under their public names."""
        return {
            "q": self.q,
            "entity": list(self.entities),
            "date": self.date,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "sort": self.sort,
            "page": self.page,
            "per_page": self.per_page,
            "facet_limit": self.facet_limit,
        }


@dataclass
class Hit:
    id: str
    path: str
    title: str
    date: str | None
    date_precision: str
    source: str | None
    url: str | None
    snippet: str
    entities: list[dict]


@dataclass
class SearchResult:
    """The answer to a :class:`SearchRequest`.

    ``snippet`` strings are HTML: matched terms in ``<mark>``, all else escaped.
    ``notice`` explains a query that had to be read leniently.
    """

    request: SearchRequest
    total: int
    hits: list[Hit]
    facets: dict[str, list[dict]]
    suggestion: str | None = None
    notice: str | None = None
    elapsed_ms: float = 0.0

    def as_dict(self) -> dict:
        return {
            "query": self.request.as_dict(),
            "total": self.total,
            "page": self.request.page,
            "per_page": self.request.per_page,
            # Shallow copies: dataclasses.asdict deep-copies every entity dict and
            # took ~3 ms of an API request on its own.
            "hits": [dict(vars(h)) for h in self.hits],
            "facets": self.facets,
            "suggestion": self.suggestion,
            "notice": self.notice,
        }


@dataclass
class ArticleView:
    """One stored article, for the article page and ``/api/doc``."""

    id: str
    path: str
    title: str
    body: str
    date: str | None
    date_precision: str
    date_evidence: str
    source: str | None
    url: str | None
    entities: list[dict]
    captions: list[str] = field(default_factory=list)
    dateline: str | None = None
    meta: dict = field(default_factory=dict)
    indexed_at: str | None = None

    def as_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class EntitySummary:
    value: str
    type: str
    count: int
    spellings: list[str]


log = logging.getLogger("newsfacet")


def _generation(reader) -> int:
    """The commit a reader sees; an empty index's reader says None, which would not compare."""
    gen = reader.generation()
    return -1 if gen is None else gen


def _guarded(method):
    """Turn a read that fails on a damaged index file into :class:`IndexDamaged`.

    Whoosh reports a truncated or corrupt file as whatever its decoder
    tripped on.  On such an error the index is checked; if a file is
    damaged, the error names it (logged with its traceback once per file),
    otherwise the original error goes on, since it is not damage.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except SearchError:
            raise
        except Exception as exc:
            damage = self._diagnose(exc)
            if damage is None:
                raise
        # Outside the except block, so nothing holds the failed reader's frames.
        release_leaked_files()
        raise damage

    return wrapper


def _close_all(searchers: list, lock: threading.Lock) -> None:
    with lock:
        for searcher in searchers:
            searcher.close()
        searchers.clear()


def _nearest(word: str, vocabulary: list[str], reader) -> str | None:
    """The indexed word closest to *word* (at most two edits, a transposition
    counting as one; one edit for short words), the most frequent on a tie."""
    limit = 1 if len(word) <= 4 else 2
    matches = rf_process.extract(word, vocabulary, scorer=OSA.distance, score_cutoff=limit, limit=None)
    if not matches:
        return None
    best = min(matches, key=lambda m: (m[1], -reader.doc_frequency(S.WORDS, m[0]), m[0]))
    return best[0]


class QueryService:
    """Searches one index folder.  Safe to share between threads.

    Each call opens a searcher on the latest commit, so a running ``newsfacet
    index`` becomes visible without a restart; the facet arrays are built once
    per index generation and shared.  :meth:`open` pins one searcher for a
    series of calls (a web request) until :meth:`close`.
    """

    def __init__(self, index_dir: Path | str, limits: QueryLimits | None = None):
        self.index_dir = Path(index_dir)
        self.limits = limits or QueryLimits.from_env()
        self._ix = open_index(self.index_dir)
        self._shared = {"lock": threading.Lock(), "tables": {}, "building": {}, "costly": threading.Semaphore(1),
                        "local": threading.local(), "open": []}
        self._parser = self._make_parser()
        self._pinned = None
        self._damaged: IndexDamaged | None = None
        # Searchers hold open files; close them when the service goes away.
        self._finalizer = weakref.finalize(self, _close_all, self._shared["open"], self._shared["lock"])

    # -- plumbing --------------------------------------------------------

    def _make_parser(self):
        parser = MultifieldParser(list(S.DEFAULT_FIELDS), self._ix.schema, fieldboosts=S.FIELD_BOOSTS)
        parser.add_plugin(PlusMinusPlugin())
        return parser

    def open(self) -> QueryService:
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

    @_guarded
    def _guarded_searcher(self):
        return self._current_searcher()

    def close(self) -> None:
        """End a session from :meth:`open`; on the service itself, close every searcher."""
        if self._pinned is not None:
            # The pinned searcher is this thread's shared one; it stays open for reuse.
            self._pinned = None
        else:
            self._finalizer()

    def __enter__(self) -> QueryService:
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
            if searcher is not None and searcher.up_to_date():
                return searcher
        except Exception:  # noqa: BLE001 - cannot tell: try to open the latest, below
            pass
        try:
            fresh = open_searcher(self._ix)
        except Exception as exc:
            if searcher is None:
                raise
            log.warning("cannot open the latest commit of %s (%s: %s); answering from generation %s",
                        self.index_dir, type(exc).__name__, exc, _generation(searcher.reader()))
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
        gen = _generation(searcher.reader())
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

    def parse(self, q: str) -> tuple[Q.Query | None, str | None]:
        """Parse *q*; on a syntax problem read it as plain words and say so."""
        text = normalize_text(q).replace("\n", " ").strip()
        if not text:
            return None, None
        notice = None
        if text.count('"') % 2:
            text = text.replace('"', " ")
            notice = "An unmatched quotation mark was ignored."
        if text.count("(") != text.count(")"):
            text = text.replace("(", " ").replace(")", " ")
            notice = "Unbalanced parentheses were ignored."
        try:
            parsed = self._parser.parse(text)
        except Exception:  # whoosh raises assorted errors on odd input
            parsed = None
        if parsed is None or parsed is Q.NullQuery and re.search(r"\w", text):
            # Lower case: Whoosh reads AND / OR / NOT / TO as operators only in capitals.
            plain = " ".join(w.lower() for w in re.findall(r"\w+", text))
            notice = "The query could not be read as search syntax; searched for its words instead."
            try:
                parsed = self._parser.parse(plain) if plain else None
            except Exception as exc:
                raise QuerySyntaxError(f"could not read the query {q!r}: {exc}") from exc
        if parsed is Q.NullQuery:
            parsed = None
        return parsed, notice

    def _filter_query(self, req: SearchRequest, tables: FacetTables) -> Q.Query | None:
        parts: list[Q.Query] = []
        for value in req.entities:
            tids = tables.by_value.get(value, [])
            terms = [Q.Term(S.ENTITY, S.entity_term(value, tables.terms[t][1])) for t in tids]
            parts.append(Q.Or(terms) if len(terms) > 1 else (terms[0] if terms else Q.NullQuery))
        if req.date:
            parts.append(Q.Term(S.DATE_PATH, req.date))
        if req.indexed_after is not None:
            parts.append(Q.NumericRange(S.INDEXED_NUM, int(req.indexed_after.timestamp() * 1000) + 1, None))
        if req.date_from or req.date_to:
            lo, hi = _range_bounds(req.date_from, req.date_to)
            # Lower bound always explicit: Whoosh mishandles open lower bounds on unsigned NUMERIC fields.
            parts.append(Q.NumericRange(S.DATE_NUM, lo, hi))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else Q.And(parts)

    def _posting_cache(self, searcher, tables: FacetTables, deadline: Deadline = NO_DEADLINE):
        gen = _generation(searcher.reader())
        lock = self._shared["lock"]
        with lock:
            cached = self._shared.get("postings")
            if cached is None or cached.generation != gen:
                cached = PostingCache(gen, tables.live, tables.lengths)
                self._shared["postings"] = cached
        return cached.bind(searcher, self.limits, deadline)

    def _check_cost(self, parsed) -> tuple[int, bool]:
        """Refuse a query that is too costly by its shape.

        Returns each wildcard's expansion allowance, and whether the query is
        *costly* (wildcards, ranges, phrases or many words): costly queries
        are evaluated one at a time, so however many arrive together they
        share one core's worth of time and plain searches keep theirs.

        Ranges exist only on the date (``date:[2023-01 TO 2023-06]``); a range
        over a text field would expand to most of its vocabulary.  The
        words, phrases and wildcards of a query are counted against
        ``max_query_terms``, and its wildcards share ``max_query_expansion``.
        """
        if parsed is None:
            return self.limits.max_expansion, False
        leaves = 0
        multi = 0
        phrases = False
        for node in parsed.leaves():
            if isinstance(node, (Q.TermRange, Q.NumericRange, Q.DateRange)) and node.fieldname != S.DATE:
                raise InvalidParameter(
                    "q", f"Ranges work only on the date field, as in date:[2023-01-01 TO 2023-06-30]; "
                    f"the field {node.fieldname!r} has none.")
            if isinstance(node, (Q.Prefix, Q.Wildcard, Q.TermRange)) and node.fieldname != S.DATE:
                # (The date's vocabulary is a few thousand days: expanding it costs nothing.)
                multi += 1
            if isinstance(node, Q.Phrase):
                phrases = True
                leaves += len(node.words)
            else:
                leaves += 1
        # The parser repeats each unfielded word for title and body: count what the user typed.
        typed = max(1, leaves // len(S.DEFAULT_FIELDS)) if leaves > 1 else leaves
        if typed > self.limits.max_query_terms:
            raise InvalidParameter(
                "q", f"The query has about {typed} words and wildcards; the limit is {self.limits.max_query_terms}.")
        costly = bool(multi) or phrases or typed > COSTLY_TERMS
        if not multi:
            return self.limits.max_expansion, costly
        return max(16, min(self.limits.max_expansion, self.limits.max_query_expansion // multi)), costly

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

    def _filter_mask(self, req: SearchRequest, tables: FacetTables, postings) -> np.ndarray | None:
        """Documents passing the entity, date and range filters, as a boolean array."""
        mask = None

        def narrow(m: np.ndarray) -> None:
            nonlocal mask
            mask = m if mask is None else (mask & m)

        for value in req.entities:
            m = np.zeros(tables.doc_count_all, dtype=bool)
            for tid in tables.by_value.get(value, []):
                m[term_ids(postings, S.ENTITY, S.entity_term(value, tables.terms[tid][1]))] = True
            narrow(m)
        dn = tables.date_num
        if req.date == S.UNDATED:
            narrow(dn == 0)
        elif req.date:
            parts = [int(p) for p in req.date.split("-")]
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

    @_guarded
    def search(self, req: SearchRequest) -> SearchResult:
        """Run *req*: total, one page of hits, facets, suggestion.

        :raises InvalidParameter: for a query over the cost limits (:class:`QueryLimits`).
        :raises QueryTimeout: when matching runs past the time budget.
        """
        started = time.perf_counter()
        deadline = Deadline(self.limits.timeout)
        parsed, notice = self.parse(req.q)
        allowance, costly = self._check_cost(parsed)
        with self._searcher() as searcher:
            tables = self._facet_tables(searcher)
            postings = self._posting_cache(searcher, tables, deadline)
            postings.expansion_cap = allowance
            postings.yield_gil = costly
            with self._admitted(costly, deadline):
                try:
                    docnums, scores, capped = self._match_fast(req, parsed, tables, postings)
                except Unsupported:
                    docnums = self._match_whoosh(searcher, req, parsed, tables, deadline)
                    scores, capped = None, False
            if capped:
                notice = f"A wildcard matched too many words; the {allowance} most frequent were searched."
            total = int(len(docnums))
            mask = tables.mask(docnums)
            page_docs = self._page(searcher, req, parsed, docnums, scores, tables)
            hits = [self._hit(searcher, d, parsed) for d in page_docs]
            facets = {
                "entity": entity_facet(tables, mask, req.entities, req.facet_limit),
                "date": date_facet(tables, mask, req.date),
            }
            suggestion = self._suggest(searcher, req, parsed) if total == 0 and parsed is not None else None
        return SearchResult(
            request=req,
            total=total,
            hits=hits,
            facets=facets,
            suggestion=suggestion,
            notice=notice,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

    def _match_fast(self, req, parsed, tables: FacetTables, postings):
        """Matching documents and their scores from posting arrays (raises Unsupported)."""
        if parsed is None:
            docnums = np.flatnonzero(tables.live).astype(np.int64)
            scores = None
            capped = False
        else:
            ev = evaluate(parsed, postings)
            docnums, scores, capped = ev.ids, ev.scores, ev.capped
        mask = self._filter_mask(req, tables, postings)
        if mask is not None and len(docnums):
            keep = mask[docnums]
            docnums = docnums[keep]
            scores = scores[keep] if scores is not None else None
        return docnums, scores, capped

    def _match_whoosh(self, searcher, req, parsed, tables: FacetTables, deadline: Deadline) -> np.ndarray:
        """The slow path for query shapes the array evaluator does not handle."""
        filt = self._filter_query(req, tables)
        base = parsed if parsed is not None else Q.Every()
        combined = base if filt is None else Q.And([base, filt])
        docnums = np.fromiter(checked(searcher.docs_for_query(combined), deadline), dtype=np.int64)
        if len(docnums):
            docnums = np.unique(docnums[tables.live[docnums]])
        return docnums

    def _page(self, searcher, req: SearchRequest, parsed, docnums: np.ndarray, scores, tables: FacetTables):
        start = (req.page - 1) * req.per_page
        end = start + req.per_page
        if start >= len(docnums):
            return []
        sort = req.sort if parsed is not None or req.sort != "relevance" else "newest"
        if sort == "relevance":
            if scores is None:
                filt = self._filter_query(req, tables)
                results = searcher.search(parsed, filter=filt, limit=end)
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

    def _stored(self, searcher, docnum: int) -> dict:
        """Stored fields of a document, from a small per-generation cache.

        Reading and unpickling a stored article is the largest cost of
        rendering a page of hits; popular articles recur across queries.
        """
        key = (_generation(searcher.reader()), docnum)
        lock = self._shared["lock"]
        with lock:
            cache = self._shared.setdefault("stored", OrderedDict())
            fields = cache.get(key)
            if fields is not None:
                cache.move_to_end(key)
                return fields
        fields = searcher.stored_fields(docnum)
        with lock:
            cache[key] = fields
            while len(cache) > STORED_CACHE_DOCS:
                cache.popitem(last=False)
        return fields

    def _hit(self, searcher, docnum: int, parsed) -> Hit:
        f = self._stored(searcher, docnum)
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
        )

    def snippet(self, body: str, parsed, chars: int = SNIPPET_CHARS) -> str:
        """A passage of *body* around the query's terms, as safe HTML (terms in ``<mark>``)."""
        terms = self._body_terms(parsed)
        if terms:
            out = make_snippet(body, terms, chars)
            if out:
                return out
        lead = body[:chars]
        if len(body) > chars:
            lead = lead.rsplit(" ", 1)[0] + " …"
        return html.escape(lead, quote=False)

    def highlight_body(self, body: str, q: str, limit: int = HIGHLIGHT_CHARS) -> str:
        """*body* as safe HTML with the terms of query *q* marked in its first *limit* characters.

        Past *limit* the text is only escaped: marking is linear, but a page
        of a million characters has no use for marks past what anyone reads.
        """
        parsed, _ = self.parse(q)
        terms = self._body_terms(parsed)
        if not terms:
            return html.escape(body, quote=False)
        return mark_terms(body[:limit], terms) + html.escape(body[limit:], quote=False)

    @staticmethod
    def _body_terms(parsed) -> frozenset:
        if parsed is None:
            return frozenset()
        out = set()
        for fieldname, text in parsed.iter_all_terms():
            if fieldname in (S.BODY, S.TITLE):
                out.add(text.decode("utf-8") if isinstance(text, bytes) else text)
        return frozenset(out)

    def _suggest(self, searcher, req: SearchRequest, parsed) -> str | None:
        """A corrected query string when some word is unknown and a near one gives results."""
        reader = searcher.reader()
        vocabulary = None
        changed = False
        lookups = 0
        out = []
        for token in re.split(r"(\W+)", normalize_text(req.q)):
            if not token or not re.match(r"\w", token) or token in ("AND", "OR", "NOT"):
                out.append(token)
                continue
            word = token.lower()
            if reader.frequency(S.WORDS, word) == 0 and len(word) <= MAX_SUGGEST_WORD_CHARS:
                lookups += 1
                if lookups > MAX_SUGGEST_WORDS:
                    return None
                if vocabulary is None:
                    vocabulary = self._vocabulary(searcher)
                    if vocabulary is None:  # still being read for a large new commit
                        return None
                near = _nearest(word, vocabulary, reader)
                if near:
                    out.append(near)
                    changed = True
                    continue
            out.append(token)
        if not changed:
            return None
        candidate = "".join(out)
        parsed2, _ = self.parse(candidate)
        if parsed2 is None or not any(True for _ in searcher.docs_for_query(parsed2)):
            return None
        return candidate

    def _vocabulary(self, searcher) -> list[str] | None:
        """Every indexed word of this commit, for spelling suggestions.

        Whoosh's own corrector walks the lexicon in Python for each word:
        0.5-0.9 s a word on Reuters.  A plain list scanned by rapidfuzz takes
        milliseconds; reading it costs a lexicon pass, so on a large index it
        is read in the background and suggestions start once it is there.
        """
        gen = _generation(searcher.reader())
        shared = self._shared
        with shared["lock"]:
            held = shared.get("vocabulary")
            if held is not None and held[0] == gen:
                return held[1]
            if shared.get("vocabulary_building") == gen:
                return None
            shared["vocabulary_building"] = gen

        def read(reader) -> None:
            try:
                words = list(reader.field_terms(S.WORDS))
                with shared["lock"]:
                    shared["vocabulary"] = (gen, words)
            finally:
                with shared["lock"]:
                    shared["vocabulary_building"] = None

        if searcher.reader().doc_count_all() <= VOCABULARY_INLINE_DOCS:
            read(searcher.reader())
            return shared["vocabulary"][1]
        reader = self._ix.reader()  # its own reader: this thread's searcher is not shareable

        def read_and_close() -> None:
            try:
                if _generation(reader) == gen:
                    read(reader)
            finally:
                reader.close()

        threading.Thread(target=read_and_close, name="newsfacet-vocabulary", daemon=True).start()
        return None

    # -- single articles ---------------------------------------------------

    def document(self, doc_id: str) -> ArticleView | None:
        """The article with id *doc_id*, or None.

        On a damaged index the article is still found when its own segment
        is readable (:class:`IndexDamaged` only when it is not there).
        """
        try:
            f = self._stored_document(doc_id)
        except IndexDamaged as damage:
            f = self._document_from_healthy_segments(doc_id, damage)
        if not f:
            return None
        return ArticleView(
            id=f[S.ID],
            path=f[S.PATH],
            title=f[S.TITLE],
            body=f[S.BODY],
            date=f.get(S.DATE) or None,
            date_precision=f.get(S.DATE_PRECISION) or "none",
            date_evidence=f.get(S.DATE_EVIDENCE) or "",
            source=f.get(S.SOURCE) or None,
            url=f.get(S.URL) or None,
            entities=json.loads(f.get(S.ENTITIES) or "[]"),
            captions=json.loads(f.get(S.CAPTIONS) or "[]"),
            dateline=f.get(S.DATELINE) or None,
            meta=json.loads(f.get(S.META) or "{}"),
            indexed_at=f.get(S.INDEXED_AT),
        )

    @_guarded
    def _stored_document(self, doc_id: str) -> dict | None:
        with self._searcher() as searcher:
            return searcher.document(**{S.ID: doc_id})

    def _document_from_healthy_segments(self, doc_id: str, damage: IndexDamaged) -> dict | None:
        """Look *doc_id* up segment by segment, skipping the ones that cannot be read."""
        try:
            toc = self._ix._read_toc()
        except Exception:  # noqa: BLE001 - the table of contents itself is gone
            raise damage from None
        for segment in toc.segments:
            try:
                with Searcher(open_segment_reader(self._ix.storage, toc.schema, segment)) as searcher:
                    found = searcher.document(**{S.ID: doc_id})
            except Exception:  # noqa: BLE001 - this is (one of) the damaged segment(s)
                found = None
            if found is None:
                continue
            release_leaked_files()
            return found
        release_leaked_files()
        raise damage

    @_guarded
    def similar(self, doc_id: str, limit: int = 5) -> list[Hit]:
        """Articles most like *doc_id* by their distinctive body terms."""
        with self._searcher() as searcher:
            docnum = searcher.document_number(**{S.ID: doc_id})
            if docnum is None:
                return []
            keys = self._key_terms(searcher, docnum)
            if not keys:
                return []
            q = Q.Or([Q.Term(S.BODY, word, boost=weight) for word, weight in keys])
            results = searcher.search(q, limit=limit + 1)
            return [self._hit(searcher, hit.docnum, None) for hit in results if hit.docnum != docnum][:limit]

    def _key_terms(self, searcher, docnum: int) -> list[tuple[str, float]]:
        """An article's most distinctive body terms, from its first :data:`SIMILAR_CHARS`
        characters, kept per generation (the lead of a story says what it is about)."""
        key = (_generation(searcher.reader()), docnum)
        lock = self._shared["lock"]
        with lock:
            cache = self._shared.setdefault("key_terms", OrderedDict())
            keys = cache.get(key)
        if keys is None:
            body = self._stored(searcher, docnum)[S.BODY]
            keys = searcher.key_terms_from_text(S.BODY, body[:SIMILAR_CHARS], numterms=12)
            with lock:
                cache[key] = keys
                while len(cache) > KEY_TERMS_CACHE_DOCS:
                    cache.popitem(last=False)
        return keys

    @_guarded
    def entities(self, type_: str | None = None) -> list[EntitySummary]:
        """Every entity value with its type, document count and merged spellings."""
        from .aliases import load_aliases
        from .resolution import EntityResolver  # only the CLI listing needs it

        spellings: dict[str, list[str]] = {}
        state_path = self.index_dir / ENTITY_STATE_FILE
        if state_path.exists():
            state = json.loads(state_path.read_text(encoding="utf-8"))
            spellings = EntityResolver(load_aliases(None), state=state).spellings()
        with self._searcher() as searcher:
            tables = self._facet_tables(searcher)
            counts = tables.all_entity_counts()
        out = []
        for tid, (value, t) in enumerate(tables.terms):
            if type_ and t != type_:
                continue
            out.append(EntitySummary(value, t, int(counts[tid]), sorted(set(spellings.get(value, [value])))))
        out.sort(key=lambda e: (-e.count, e.value.casefold()))
        return out

    @_guarded
    def doc_count(self) -> int:
        with self._searcher() as searcher:
            return searcher.doc_count()


# Snippets come from the region of the first match; analysing a whole long
# article for a passage costs more than the rest of the query.
SNIPPET_WINDOW = 600
_WORD = re.compile(S.TOKEN_PATTERN)
_STEM = stemmer_for_language("en")
_STEMS: dict[str, str] = {}


def _stem(word: str) -> str:
    """A word as the index analyzer reduces it: lower case, folded, stemmed."""
    low = word.lower()
    stem = _STEMS.get(low)
    if stem is None:
        stem = _STEM(low if low.isascii() else fold(low))
        if len(_STEMS) < 200_000:
            _STEMS[low] = stem
    return stem


def make_snippet(body: str, terms: frozenset, chars: int = SNIPPET_CHARS) -> str | None:
    """The *chars*-long passage of *body* with the most matched words, as safe HTML.

    Words are compared as the index compares them (folded and stemmed), so a
    query ``estimates`` marks ``estimated``; everything but ``<mark>`` is escaped.
    """
    window = _around_first_match(body, terms)
    offset = body.find(window) if window is not body else 0
    spans = [(m.start(), m.end()) for m in _WORD.finditer(window) if _stem(m.group()) in terms]
    if not spans:
        return None
    # The best start: the match whose next `chars` characters hold most matches.
    ends = [e for _, e in spans]
    best, best_count = spans[0][0], 0
    for i, (start, _) in enumerate(spans):
        count = bisect.bisect_right(ends, start + chars - 40) - i
        if count > best_count:
            best, best_count = start, count
    frag_start = max(0, best - 40)
    if frag_start:
        space = window.rfind(" ", 0, frag_start)
        frag_start = space + 1 if space >= 0 else frag_start
    frag_end = min(len(window), frag_start + chars)
    if frag_end < len(window):
        space = window.rfind(" ", frag_start, frag_end)
        frag_end = space if space > frag_start else frag_end
    out = []
    pos = frag_start
    for start, end in spans:
        if start < frag_start or end > frag_end:
            continue
        out.append(html.escape(window[pos:start], quote=False))
        out.append(f"<mark>{html.escape(window[start:end], quote=False)}</mark>")
        pos = end
    out.append(html.escape(window[pos:frag_end], quote=False))
    text = "".join(out).strip()
    if offset + frag_start > 0:
        text = "… " + text
    if offset + frag_end < len(body):
        text += " …"
    return text


def mark_terms(text: str, terms: frozenset) -> str:
    """*text* as safe HTML with every word whose stem is in *terms* in ``<mark>``."""
    out = []
    pos = 0
    for m in _WORD.finditer(text):
        if _stem(m.group()) in terms:
            out.append(html.escape(text[pos:m.start()], quote=False))
            out.append(f"<mark>{html.escape(m.group(), quote=False)}</mark>")
            pos = m.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def _around_first_match(body: str, terms: frozenset) -> str:
    """A slice of *body* starting a little before the earliest occurrence of any term's stem."""
    if len(body) <= SNIPPET_WINDOW:
        return body
    folded = body.lower()
    starts = [i for i in (folded.find(t[:4]) for t in terms if t) if i >= 0]
    start = max(0, min(starts) - 200) if starts else 0
    if start:
        start = body.rfind(" ", 0, start) + 1
    return body[start : start + SNIPPET_WINDOW]


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


__all__ = [
    "SORTS",
    "ArticleView",
    "EntitySummary",
    "Hit",
    "QueryService",
    "SearchError",
    "SearchRequest",
    "SearchResult",
    "parse_date_filter",
    "parse_day",
]
