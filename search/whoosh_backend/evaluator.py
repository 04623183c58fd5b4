"""Query evaluation over numpy arrays, beside Whoosh's own matchers.

Whoosh walks posting lists one document at a time in Python; a query that
matches thousands of articles spends tens of milliseconds there before any
facet is counted.  This module reads each term's posting list once, block by
block, into ``(doc ids, term frequencies)`` arrays, keeps them per index
generation, and answers a parsed query tree with array operations:

* ``Term`` — BM25F exactly as Whoosh scores it (same idf, same quantised
  field lengths, same B and K1), times the query's boost;
* ``And`` / ``Or`` / ``AndNot`` / ``AndMaybe`` / ``Not`` — intersections,
  unions and differences, scores summed as Whoosh's matchers sum them;
* ``Prefix`` / ``Wildcard`` / ``TermRange`` — expanded to their terms
  through the field's :class:`~search.lexicon.Lexicon` (capped: a leading
  wildcard costs one C-speed scan of the vocabulary, not a Python walk);
* ``Phrase`` — documents from Whoosh's own phrase matcher, restricted to
  the intersection of its terms, scored as the sum of its terms;
* anything else raises :class:`Unsupported` and the caller falls back to
  Whoosh.

Tests check that the documents matched equal Whoosh's for random queries.

Cost is bounded per query (:class:`~search.limits.QueryLimits`): every read
checks the request's :class:`~search.limits.Deadline`, counts the posting
entries it touches against ``max_postings``, and wildcards share the
query's expansion allowance.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh import query as Q

from ..errors import InvalidParameter
from ..limits import NO_DEADLINE, Deadline, QueryLimits
from .lexicon import Lexicon, PatternTooComplex
from .store import leaf_postings

# Posting blocks read between two deadline checks (a block holds up to 128 ids): few, so
# that a thread past its deadline notices within milliseconds even when it gets the GIL
# only a fraction of the time; a check costs one clock read.
BLOCKS_PER_CHECK = 16
# Candidate documents whose positions are checked between two deadline checks.
PHRASE_DOCS_PER_CHECK = 64
# Posting arrays kept per generation, by total size.
CACHE_BYTES = 512 * 1024 * 1024
K1 = 1.2
B = 0.75


class Unsupported(Exception):
    """The query has a node this evaluator does not handle; use Whoosh's matchers."""


@dataclass
class Evaluation:
    ids: np.ndarray  # int64, sorted, unique
    scores: np.ndarray  # float64, aligned with ids
    capped: bool = False


def _empty() -> Evaluation:
    return Evaluation(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


class PostingCache:
    """Posting arrays and field statistics of one index generation, shared by threads.

    Whoosh searchers are not thread-safe, so the arrays are shared but every
    read goes through the calling thread's own searcher (:meth:`bind`).
    """

    def __init__(self, generation: int, live: np.ndarray, lengths: dict[str, np.ndarray] | None = None):
        self.generation = generation
        self.live = live
        self.doc_count_all = len(live)
        self._known_lengths = dict(lengths or {})
        self._lock = threading.Lock()
        self._postings: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._bytes = 0
        self._lengths: dict[str, np.ndarray] = {}
        self._avg: dict[str, float] = {}
        self._lexicons: dict[str, Lexicon] = {}
        self._lexicon_lock = threading.Lock()

    def bind(self, searcher, limits: QueryLimits | None = None, deadline: Deadline = NO_DEADLINE) -> Bound:
        """This cache read through *searcher* (of the same generation), for one query."""
        return Bound(self, searcher, limits or QueryLimits(), deadline)


class Bound:
    """A :class:`PostingCache` seen through one thread's searcher."""

    def __init__(self, cache: PostingCache, searcher, limits: QueryLimits, deadline: Deadline):
        self.cache = cache
        self.searcher = searcher
        self.reader = searcher.reader()
        self.live = cache.live
        self.doc_count_all = cache.doc_count_all
        self.limits = limits
        self.deadline = deadline
        self.postings_touched = 0
        # Terms each wildcard of this query may expand to (set by the caller
        # from the number of wildcards, so twenty of them share one allowance).
        self.expansion_cap = limits.max_expansion
        # A costly query steps aside for other threads before each posting read:
        # CPU-bound Python would otherwise hold the GIL for its whole switch interval.
        self.yield_gil = False

    def lexicon(self, field: str) -> Lexicon:
        """*field*'s vocabulary in this generation, read once and shared by every thread."""
        c = self.cache
        lex = c._lexicons.get(field)
        if lex is None:
            # One thread reads it; the others wait rather than read it again.
            with c._lexicon_lock:
                lex = c._lexicons.get(field)
                if lex is None:
                    lex = c._lexicons[field] = Lexicon.from_reader(self.reader, field)
        return lex

    def _touch(self, n: int) -> None:
        self.postings_touched += n
        if self.postings_touched > self.limits.max_postings:
            raise InvalidParameter(
                "q", f"The query reads more than {self.limits.max_postings:,} postings; "
                "use fewer or more specific words, or a filter.")

    # -- raw postings ------------------------------------------------------------

    def postings(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """``(doc ids, term frequencies)`` of a term, live documents only."""
        key = (field, text)
        c = self.cache
        with c._lock:
            hit = c._postings.get(key)
            if hit is not None:
                c._postings.move_to_end(key)
        if hit is not None:
            self._touch(len(hit[0]))
            return hit
        self.deadline.check()
        if self.yield_gil:
            time.sleep(0)
        ids, tfs = self._read(field, text)
        self._touch(len(ids))
        with c._lock:
            c._postings[key] = (ids, tfs)
            c._bytes += ids.nbytes + tfs.nbytes
            while c._bytes > CACHE_BYTES and len(c._postings) > 1:
                _, (old_ids, old_tfs) = c._postings.popitem(last=False)
                c._bytes -= old_ids.nbytes + old_tfs.nbytes
        return ids, tfs

    def _read(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        id_parts: list[np.ndarray] = []
        tf_parts: list[np.ndarray] = []
        btext = text.encode("utf-8") if isinstance(text, str) else text
        for segment, offset in self.reader.leaf_readers():
            if (field, btext) not in segment:
                continue
            matcher = leaf_postings(segment, field, btext)  # the live mask filters below
            if hasattr(matcher, "_read_ids"):
                ids, tfs = _read_blocks(matcher, self.deadline)
            else:
                ids, tfs = _read_slowly(matcher, self.deadline)
            id_parts.append(ids + offset)
            tf_parts.append(tfs)
        if not id_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids = np.concatenate(id_parts)
        tfs = np.concatenate(tf_parts)
        keep = self.live[ids]
        return ids[keep], tfs[keep]

    def phrase_ids(self, q, candidates: np.ndarray) -> np.ndarray:
        """Those of *candidates* (live documents holding every word of phrase *q*, sorted)
        where the phrase occurs, cached like a term's postings.

        Positions live only in Whoosh's matchers, which decode them in Python; each
        candidate is checked here, the deadline between small batches, so a phrase of
        common words stops on time instead of inside Whoosh's own phrase matcher.
        """
        key = ("\0phrase", q.fieldname, tuple(q.words), q.slop)
        c = self.cache
        with c._lock:
            hit = c._postings.get(key)
        if hit is not None:
            return hit[0]
        found = np.asarray(_phrase_docs(self.reader, q.fieldname, q.words, q.slop, candidates, self.deadline,
                                        self.yield_gil), dtype=np.int64)
        with c._lock:
            c._postings[key] = (found, np.zeros(0, dtype=np.float32))
            c._bytes += found.nbytes
        return found

    # -- scoring ---------------------------------------------------------------------

    def lengths(self, field: str) -> np.ndarray:
        c = self.cache
        with c._lock:
            cached = c._lengths.get(field)
        if cached is not None:
            return cached
        reader = self.reader
        lengths = c._known_lengths.get(field)
        if lengths is None or len(lengths) != self.doc_count_all:
            lengths = np.fromiter(
                (reader.doc_field_length(d, field, 1) for d in range(self.doc_count_all)),
                dtype=np.float32,
                count=self.doc_count_all,
            )
        with c._lock:
            c._lengths[field] = lengths
            c._avg[field] = self.searcher.avg_field_length(field) or 1.0
        return lengths

    def term(self, field: str, text: str, boost: float) -> Evaluation:
        ids, tfs = self.postings(field, text)
        if not len(ids):
            return _empty()
        if not self.searcher.schema[field].scorable:
            return Evaluation(ids, np.full(len(ids), boost, dtype=np.float64))
        lengths = self.lengths(field)[ids]
        avg = self.cache._avg[field]
        idf = self.searcher.idf(field, text)
        tf = tfs.astype(np.float64)
        scores = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * lengths / avg)))
        return Evaluation(ids, scores * boost)


def _phrase_docs(reader, field: str, words, slop: int, candidates: np.ndarray, deadline: Deadline,
                 yield_gil: bool = False) -> list[int]:
    """Documents of *candidates* where *words* occur in order, each within *slop*
    positions of the one before (Whoosh's phrase semantics, read from its postings)."""
    found: list[int] = []
    btexts = [w.encode("utf-8") if isinstance(w, str) else w for w in words]
    checked_docs = 0
    for segment, offset in reader.leaf_readers():
        local = candidates[(candidates >= offset) & (candidates < offset + segment.doc_count_all())] - offset
        if not len(local) or any((field, b) not in segment for b in btexts):
            continue
        matchers = [leaf_postings(segment, field, b) for b in btexts]  # candidates are live already
        for docnum in local.tolist():
            checked_docs += 1
            if checked_docs % PHRASE_DOCS_PER_CHECK == 0:
                deadline.check()
                if yield_gil:
                    time.sleep(0)
            ends = None
            for m in matchers:
                m.skip_to(docnum)
                if not m.is_active() or m.id() != docnum:
                    ends = set()
                    break
                positions = m.value_as("positions")
                ends = set(positions) if ends is None else {p for p in positions
                                                            if any(0 < p - e <= slop for e in ends)}
                if not ends:
                    break
            if ends:
                found.append(docnum + offset)
    return found


def checked(docnums, deadline: Deadline, every: int = 256):
    """*docnums* as they come, checking *deadline* every *every* documents."""
    for n, docnum in enumerate(docnums):
        if n % every == every - 1:
            deadline.check()
        yield docnum


def _read_blocks(matcher, deadline: Deadline = NO_DEADLINE) -> tuple[np.ndarray, np.ndarray]:
    """Read a Whoosh W3 leaf matcher block by block (its ids and weights are arrays per block)."""
    ids: list = []
    weights: list = []
    blocks = 0
    while matcher.is_active():
        blocks += 1
        if blocks % BLOCKS_PER_CHECK == 0:
            deadline.check()
        matcher._read_ids()
        matcher._read_weights()
        ids.extend(matcher._ids)
        weights.extend(matcher._weights)
        matcher._next_block()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32)


def _read_slowly(matcher, deadline: Deadline = NO_DEADLINE) -> tuple[np.ndarray, np.ndarray]:
    ids: list[int] = []
    weights: list[float] = []
    while matcher.is_active():
        if len(ids) % 4096 == 4095:
            deadline.check()
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32)


# -- combining -----------------------------------------------------------------------


def _union(parts: list[Evaluation]) -> Evaluation:
    parts = [p for p in parts if len(p.ids)]
    if not parts:
        return _empty()
    if len(parts) == 1:
        return parts[0]
    ids = np.concatenate([p.ids for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    uniq, inverse = np.unique(ids, return_inverse=True)
    summed = np.bincount(inverse, weights=scores, minlength=len(uniq))
    return Evaluation(uniq, summed, any(p.capped for p in parts))


def _intersect(parts: list[Evaluation]) -> Evaluation:
    parts = sorted(parts, key=lambda p: len(p.ids))
    result = parts[0]
    for other in parts[1:]:
        common, a, b = np.intersect1d(result.ids, other.ids, assume_unique=True, return_indices=True)
        result = Evaluation(common, result.scores[a] + other.scores[b], result.capped or other.capped)
        if not len(common):
            break
    return result


def _minus(positive: Evaluation, negative: Evaluation) -> Evaluation:
    if not len(negative.ids) or not len(positive.ids):
        return positive
    keep = ~np.isin(positive.ids, negative.ids, assume_unique=True)
    return Evaluation(positive.ids[keep], positive.scores[keep], positive.capped)


def _maybe(required: Evaluation, optional: Evaluation) -> Evaluation:
    if not len(optional.ids):
        return required
    _, a, b = np.intersect1d(required.ids, optional.ids, assume_unique=True, return_indices=True)
    scores = required.scores.copy()
    scores[a] += optional.scores[b]
    return Evaluation(required.ids, scores, required.capped or optional.capped)


def evaluate(q, cache: Bound) -> Evaluation:
    """Matching live documents of parsed query *q* with their scores.

    :raises Unsupported: for a node type not handled here.
    """
    boost = getattr(q, "boost", 1.0)
    if isinstance(q, Q.Term):
        return cache.term(q.fieldname, q.text, boost)
    if isinstance(q, Q.And):
        positives = [s for s in q.subqueries if not isinstance(s, Q.Not)]
        negatives = [s.query for s in q.subqueries if isinstance(s, Q.Not)]
        # "NOT x" alone means everything but x, as Whoosh reads it.
        result = _intersect([evaluate(s, cache) for s in positives]) if positives else _every(cache)
        for neg in negatives:
            result = _minus(result, evaluate(neg, cache))
        return _boosted(result, boost)
    if isinstance(q, Q.Or):
        if getattr(q, "minmatch", 0) or getattr(q, "scale", None):
            raise Unsupported("Or with minmatch or scale")
        return _boosted(_union([evaluate(s, cache) for s in q.subqueries]), boost)
    if isinstance(q, Q.Not):
        return _minus(_every(cache), evaluate(q.query, cache))
    if isinstance(q, Q.AndNot):
        return _boosted(_minus(evaluate(q.a, cache), evaluate(q.b, cache)), boost)
    if isinstance(q, Q.AndMaybe):
        return _boosted(_maybe(evaluate(q.a, cache), evaluate(q.b, cache)), boost)
    if isinstance(q, Q.Every):
        return _every(cache)
    if isinstance(q, (Q.Prefix, Q.Wildcard, Q.TermRange)):
        return _expand(q, cache, boost)
    if isinstance(q, Q.Phrase):
        return _phrase(q, cache, boost)
    if q is Q.NullQuery:
        return _empty()
    raise Unsupported(type(q).__name__)


def _every(cache: Bound) -> Evaluation:
    ids = np.flatnonzero(cache.live).astype(np.int64)
    return Evaluation(ids, np.zeros(len(ids)))


def _boosted(result: Evaluation, boost: float) -> Evaluation:
    if boost != 1.0:
        result = Evaluation(result.ids, result.scores * boost, result.capped)
    return result


def expansion_texts(q, cache: Bound) -> tuple[list[str], bool]:
    """The terms a ``Prefix``, ``Wildcard`` or ``TermRange`` stands for, most frequent
    first when there are more than the query's allowance, and whether it was cut."""
    lexicon = cache.lexicon(q.fieldname)
    if isinstance(q, Q.TermRange):
        positions = lexicon.between(q.start, q.end, not q.startexcl, not q.endexcl)
    else:
        pattern = q.text + "*" if isinstance(q, Q.Prefix) else q.text
        try:
            positions = lexicon.matching(pattern)
        except PatternTooComplex as exc:
            raise InvalidParameter("q", f"{exc}: {q.text!r}") from None
    cache.deadline.check()
    return lexicon.most_frequent(positions, cache.expansion_cap)


def _expand(q, cache: Bound, boost: float) -> Evaluation:
    texts, capped = expansion_texts(q, cache)
    result = _union([cache.term(q.fieldname, t, boost) for t in texts])
    result.capped = result.capped or capped
    return result


def _phrase(q, cache: Bound, boost: float) -> Evaluation:
    terms = [cache.term(q.fieldname, w, boost) for w in q.words]
    candidates = _intersect(terms) if terms else _empty()
    if not len(candidates.ids):
        return candidates
    found = cache.phrase_ids(q, candidates.ids)
    keep = np.isin(candidates.ids, found, assume_unique=True)
    return Evaluation(candidates.ids[keep], candidates.scores[keep], candidates.capped)


def term_ids(cache: Bound, field: str, text: str) -> np.ndarray:
    """Live documents containing a term (no scoring): entity and date filters."""
    return cache.postings(field, text)[0]


__all__ = ["Bound", "Evaluation", "PostingCache", "Unsupported", "checked", "evaluate", "expansion_texts", "term_ids"]
