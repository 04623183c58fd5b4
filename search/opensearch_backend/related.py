"""More-like-this, co-occurrence and did-you-mean on OpenSearch: the parts of
:class:`~.service.OpenSearchBackend` that look past one search's hits.

More-like-this is the Whoosh backend's method (:mod:`search.whoosh_backend.articles`)
rather than OpenSearch's ``more_like_this`` query, which picks its terms on each
shard from that shard's statistics (on a small or uneven collection each
shard weighs other words, and their scores cannot be compared).  Here the
article's distinctive body terms are weighed once, from collection-wide
document frequencies (one ``filters`` aggregation), with Whoosh's Bo1 model;
terms only the article's own copies have are left out, and the boosted terms
are searched with ``dfs_query_then_fetch`` (collection-wide statistics), the
article and its syndicated copies excluded.

Co-occurrence counts are two exact ``terms`` aggregations on ``entity``: over
the result set (its filters, collapsing included, with the value's own
``entity`` filter left out) and over the result set with the value.

Did-you-mean asks, for each query word no article has (checked exactly, on
the unstemmed ``words`` field), OpenSearch's term suggester for near words,
and keeps the Whoosh backend's choice (:mod:`search.whoosh_backend.spelling`):
at most two edits (one for words of four letters or fewer, a transposition
counting as one), the most frequent on a tie, and only when the corrected
query finds something.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter

from rapidfuzz.distance import OSA

from ..errors import InvalidParameter
from ..model import (
    DEFAULT_COOCCUR_LIMIT,
    Cooccurrence,
    CooccurValue,
    Hit,
    SearchRequest,
    cooccurrence_value,
)
from ..querysyntax import parse_query
from ..textnorm import normalize_text
from ..whoosh_backend import schema as S
from ..whoosh_backend.articles import SIMILAR_CHARS, SIMILAR_TERMS
from ..whoosh_backend.spelling import MAX_SUGGEST_WORD_CHARS, MAX_SUGGEST_WORDS
from .guard import guarded
from .hits import HIT_SOURCE, as_copy, cluster_refs, copy_fields, make_hit, scan
from .query import has_values, translate, value_terms

_ANALYZER = S.text_analyzer()
# Candidate terms weighed for more-like-this (Whoosh's key_terms_from_text reads 3 × as many).
SIMILAR_CANDIDATES = 3 * SIMILAR_TERMS
# Near words asked of the term suggester per unknown word.
SUGGEST_OPTIONS = 10


class Related:
    """More-like-this, co-occurrence and did-you-mean for :class:`~.service.OpenSearchBackend`."""

    # -- more like this ---------------------------------------------------

    @guarded
    def similar(self, doc_id: str, limit: int = 5) -> list[Hit]:
        """Articles most like *doc_id* by its distinctive body terms; never a syndicated copy of it."""
        src = self._stored(doc_id, includes=[S.ID, S.BODY, S.CLUSTER])
        if src is None or limit < 1:
            return []
        own = {doc_id}
        if src.get(S.CLUSTER):
            own |= {as_copy(h).id for h in scan(self.client, self._index, {"term": {S.CLUSTER: src[S.CLUSTER]}},
                                                copy_fields())}
        keys = self._key_terms(src.get(S.BODY) or "", len(own))
        if not keys:
            return []
        body = {"size": limit, "_source": {"includes": [*HIT_SOURCE, S.BODY]},
                "query": {"bool": {"should": [{"term": {S.BODY: {"value": w, "boost": weight}}} for w, weight in keys],
                                   "minimum_should_match": 1,
                                   "must_not": [{"ids": {"values": sorted(own)}}]}},
                "sort": [{"_score": "desc"}, {S.INDEXED_NUM: "asc"}, {S.ID: "asc"}]}
        answer = self._search(body, search_type="dfs_query_then_fetch")
        sources = [h["_source"] for h in answer["hits"]["hits"]]
        refs = cluster_refs(self.client, self._index, sources, with_sources=True)
        return [make_hit(s, refs[s[S.ID]], None) for s in sources]

    def _key_terms(self, body: str, copies: int) -> list[tuple[str, float]]:
        """The body's most distinctive terms by Whoosh's Bo1 weighting (``key_terms_from_text``), its
        first :data:`SIMILAR_CHARS` characters read; terms no article but its *copies* has left out."""
        tf = Counter(t.text for t in _ANALYZER(body[:SIMILAR_CHARS]))
        if not tf:
            return []
        words = sorted(tf)
        answer = self._search({"size": 0, "track_total_hits": True, "aggs": {"df": {"filters": {"filters": {
            str(i): {"term": {S.BODY: w}} for i, w in enumerate(words)}}}}})
        n = max(1, int(answer["hits"]["total"]["value"]))
        buckets = answer["aggregations"]["df"]["buckets"]
        df = {w: int(buckets[str(i)]["doc_count"]) for i, w in enumerate(words)}
        weights = []
        for w in words:
            f = max(df[w], 1) / n  # (Whoosh's Bo1 reads the term's collection frequency; documents here)
            weights.append((w, tf[w] * math.log((1 + f) / f, 2) + math.log(1 + f, 2)))
        weights.sort(key=lambda x: (-x[1], x[0]))
        return [(w, weight) for w, weight in weights[:SIMILAR_CANDIDATES] if df[w] > copies][:SIMILAR_TERMS]

    # -- co-occurrence ----------------------------------------------------

    @guarded
    def cooccurrence(self, req: SearchRequest, with_value: str, limit: int = DEFAULT_COOCCUR_LIMIT) -> Cooccurrence:
        """The values appearing with *with_value* in the result set of *req* (see
        :meth:`search.api.SearchBackend.cooccurrence`)."""
        asked = cooccurrence_value(with_value, limit)
        resolver = self._resolver((asked, *req.entities))
        value = resolver.canonical(asked)
        type_ = resolver.type_of(value)
        if type_ is None:
            raise InvalidParameter("with", f"no article has the entity {asked!r}")
        own = dataclasses.replace(req, entities=tuple(v for v in req.entities if resolver.canonical(v) != value))
        p = self._prepare(own)
        query = p.filters.main_query(p.text)
        context = p.filters.context()
        alone = self._all_entity_counts(query, context)
        together = self._all_entity_counts(query, {"bool": {"filter": [context, has_values([value])]}})
        counted = self._search({"size": 0, "query": query, "track_total_hits": False, "aggs": {
            "all": {"filter": context},
            "with": {"filter": {"bool": {"filter": [context, has_values([value])]}}}}})["aggregations"]
        total, with_count = int(counted["all"]["doc_count"]), int(counted["with"]["doc_count"])
        skipped = set(value_terms(value))
        for v in p.filters.selection.required:
            skipped |= set(value_terms(v))
        values: list[CooccurValue] = []
        if with_count:
            rows = []
            for term, count in together.items():
                if term in skipped or not count:
                    continue
                name, t = S.split_entity_term(term)
                rows.append((-count, alone[term], name.casefold(), t, name, count))
            rows.sort()
            for _, n, _, t, name, count in rows[:limit]:
                values.append({"value": name, "type": t, "count": count,
                               "expected": with_count * n / total, "lift": count * total / (with_count * n)})
        return Cooccurrence(request=req, value=value, type=type_, count=with_count, total=total, limit=limit,
                            values=values)

    # -- did you mean -----------------------------------------------------

    def _suggest(self, req: SearchRequest, prepared) -> str | None:
        """A corrected query string when some word is unknown and a near one gives results."""
        tokens = re.split(r"(\W+)", normalize_text(req.q))
        words = [t.lower() for t in tokens if t and re.match(r"\w", t) and t not in ("AND", "OR", "NOT")]
        words = list(dict.fromkeys(w for w in words if len(w) <= MAX_SUGGEST_WORD_CHARS))
        if not words:
            return None
        body: dict = {"size": 0, "track_total_hits": False,
                      "aggs": {"known": {"filters": {"filters": {
                          str(i): {"term": {S.WORDS: w}} for i, w in enumerate(words)}}}},
                      "suggest": {str(i): {"text": w, "term": {
                          "field": S.WORDS, "suggest_mode": "always", "max_edits": 1 if len(w) <= 4 else 2,
                          "prefix_length": 0, "min_word_length": 1, "size": SUGGEST_OPTIONS,
                          "string_distance": "damerau_levenshtein", "sort": "score"}}
                          for i, w in enumerate(words)}}
        answer = self._search(body)
        known = answer["aggregations"]["known"]["buckets"]
        unknown = [w for i, w in enumerate(words) if not known[str(i)]["doc_count"]]
        if len(unknown) > MAX_SUGGEST_WORDS:
            return None
        near: dict[str, str] = {}
        for i, w in enumerate(words):
            if w not in unknown:
                continue
            limit = 1 if len(w) <= 4 else 2
            options = [o for entry in answer["suggest"][str(i)] for o in entry["options"]]
            scored = [(OSA.distance(w, o["text"]), -int(o["freq"]), o["text"]) for o in options]
            scored = [s for s in scored if s[0] <= limit and s[2] != w]
            if scored:
                near[w] = min(scored)[2]
        if not near:
            return None
        out = [near.get(t.lower(), t) if t and re.match(r"\w", t) and t not in ("AND", "OR", "NOT") else t
               for t in tokens]
        candidate = "".join(out)
        parsed, _ = parse_query(self._parser, candidate)
        if parsed is None:
            return None
        found = self._search({"size": 0, "track_total_hits": 1, "query": translate(parsed)})
        return candidate if found["hits"]["total"]["value"] else None


__all__ = ["Related"]
