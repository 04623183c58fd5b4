"""From a request to the matching documents: parsing, cost limits, filters, order.

Queries are parsed with Whoosh's parser, checked for cost
(:class:`~search.limits.QueryLimits`), and evaluated over posting arrays
(:mod:`.evaluator`) with the entity and date filters as boolean masks; the
rare shapes the evaluator does not handle fall back to Whoosh's matchers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re

import numpy as np
from whoosh import query as Q

from ..errors import InvalidParameter, QuerySyntaxError, QueryTimeout
from ..limits import Deadline
from ..model import SearchRequest
from ..textnorm import normalize_text
from . import schema as S
from .evaluator import checked, evaluate, term_ids
from .facets import FacetTables, load_spelling_values
from .store import ENTITY_STATE_FILE

# A query of more words than this is "costly" and waits for the costly-query slot.
COSTLY_TERMS = 16


class Matching:
    """The matching part of :class:`~.service.WhooshBackend`."""

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

    def _entity_filters(self, req: SearchRequest, tables: FacetTables) -> list[str]:
        """The facet values the entity filters name: a merged spelling means its canonical value."""
        if tables.spelling_values is None and any(v not in tables.by_value for v in req.entities):
            tables.spelling_values = load_spelling_values(self.index_dir / ENTITY_STATE_FILE)
        return [tables.canonical(v) for v in req.entities]

    def _filter_query(self, req: SearchRequest, tables: FacetTables) -> Q.Query | None:
        parts: list[Q.Query] = []
        for value in self._entity_filters(req, tables):
            tids = tables.by_value.get(value, [])
            terms = [Q.Term(S.ENTITY, S.entity_term(value, tables.terms[t][1])) for t in tids]
            parts.append(Q.Or(terms) if len(terms) > 1 else (terms[0] if terms else Q.NullQuery))
        if req.date:
            parts.append(Q.Term(S.DATE_PATH, req.date.value))
        if req.indexed_after is not None:
            parts.append(Q.NumericRange(S.INDEXED_NUM, int(req.indexed_after.timestamp() * 1000) + 1, None))
        if req.date_from or req.date_to:
            lo, hi = _range_bounds(req.date_from, req.date_to)
            # Lower bound always explicit: Whoosh mishandles open lower bounds on unsigned NUMERIC fields.
            parts.append(Q.NumericRange(S.DATE_NUM, lo, hi))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else Q.And(parts)

    def _filter_mask(self, req: SearchRequest, tables: FacetTables, postings) -> np.ndarray | None:
        """Documents passing the entity, date and range filters, as a boolean array."""
        mask = None

        def narrow(m: np.ndarray) -> None:
            nonlocal mask
            mask = m if mask is None else (mask & m)

        for value in self._entity_filters(req, tables):
            m = np.zeros(tables.doc_count_all, dtype=bool)
            for tid in tables.by_value.get(value, []):
                m[term_ids(postings, S.ENTITY, S.entity_term(value, tables.terms[tid][1]))] = True
            narrow(m)
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
