"""Fast facet counts and array-evaluated matches equal brute force, on random corpora.

Each example builds a small random corpus, indexes it, then updates and
deletes some articles and re-indexes (so the index has deleted documents and
several segments); after every run it checks, for random queries and
filters, that the query service's totals, matched articles and facet counts
equal what a brute-force pass over the stored articles gives.
"""

from __future__ import annotations

import json
import random
from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query as Q

from search.api import SearchRequest
from search.ingest import build_index
from search.settings import Options
from search.whoosh_backend.service import WhooshBackend
from search.whoosh_backend.store import open_index

WORDS = ["harbour", "ferry", "council", "budget", "strike", "quay", "tanker", "storm", "vote", "court"]
ENTITIES = [("Lisbon", "place"), ("Oslo", "place"), ("Port Authority", "org"), ("Ana Silva", "person"),
            ("Tom Hale", "person"), ("Harbour Board", "org")]
DATES = ["2023-01-05", "2023-01", "2023", "2024-02-29", "2024-03-01", None, "2022-12-31"]


def article(rng: random.Random, i: int) -> dict:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30))) + "."
    ents = rng.sample(ENTITIES, rng.randint(0, 3))
    row = {"title": f"Story {i} {rng.choice(WORDS)}", "text": body.capitalize(),
           "entities": [{"value": v, "type": t} for v, t in ents]}
    date = rng.choice(DATES)
    if date:
        row["date"] = date
    return row


def write(folder, rows: dict[int, dict]) -> None:
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as fh:
        for i in sorted(rows):
            fh.write(json.dumps(rows[i]) + "\n")


def set_logic(q, searcher) -> set[int]:
    """A query's documents by plain set operations over Whoosh's answers for its leaves.

    Whoosh's own AndNot matcher is not used as the reference: it lets some
    documents through (see test_whoosh_traps).
    """
    if isinstance(q, Q.And):
        positive = [set_logic(s, searcher) for s in q.subqueries if not isinstance(s, Q.Not)]
        out = set.intersection(*positive)
        for s in q.subqueries:
            if isinstance(s, Q.Not):
                out -= set_logic(s.query, searcher)
        return out
    if isinstance(q, Q.Or):
        return set().union(*(set_logic(s, searcher) for s in q.subqueries))
    if isinstance(q, Q.AndNot):
        return set_logic(q.a, searcher) - set_logic(q.b, searcher)
    if isinstance(q, Q.AndMaybe):
        return set_logic(q.a, searcher)
    return set(searcher.docs_for_query(q))


def brute_force(ix, req: SearchRequest, service: WhooshBackend) -> tuple[set[str], Counter, Counter]:
    """Matching ids and facet counts by walking every stored article."""
    parsed, _ = service.parse(req.q)
    with ix.searcher() as s:
        matched = set_logic(parsed, s) if parsed is not None else None
        ids, ents, dates = set(), Counter(), Counter()
        for docnum, fields in s.iter_docs():
            if matched is not None and docnum not in matched:
                continue
            values = {(e["value"], e["type"]) for e in json.loads(fields["entities"])}
            if not all(any(v == want for v, _ in values) for want in req.entities):
                continue
            date = fields["date"] or None
            wanted = req.date.value if req.date else None
            if wanted == "undated" and date:
                continue
            if wanted and wanted != "undated" and not (date and (date + "-").startswith(wanted + "-")):
                continue
            ids.add(fields["id"])
            ents.update(values)
            dates[date[:4] if date else "undated"] += 1
    return ids, ents, dates


def check(service: WhooshBackend, ix, rng: random.Random) -> None:
    for _ in range(6):
        q = rng.choice(["", rng.choice(WORDS), f"{rng.choice(WORDS)} {rng.choice(WORDS)}",
                        f"{rng.choice(WORDS)} OR {rng.choice(WORDS)}", f"{rng.choice(WORDS)} -{rng.choice(WORDS)}",
                        f'"{rng.choice(WORDS)} {rng.choice(WORDS)}"', rng.choice(WORDS)[:3] + "*",
                        f'"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(WORDS)}"~{rng.randint(1, 3)}'])
        entities = tuple(sorted({v for v, _ in rng.sample(ENTITIES, rng.randint(0, 2))}))
        date = rng.choice([None, None, "2023", "2024", "undated", "2023-01"])
        req = SearchRequest(q=q, entities=entities, date=date, per_page=100, facet_limit=1000)
        result = service.search(req)
        ids, ents, dates = brute_force(ix, req, service)
        assert result.total == len(ids), req
        assert {h.id for h in result.hits} == ids, req
        # a selected value is always listed, with 0 when nothing matches, so it can be removed
        counted = {(f["value"], f["type"]): f["count"] for f in result.facets["entity"] if f["count"]}
        assert counted == dict(ents), req
        if not date or date == "undated":
            assert {f["value"]: f["count"] for f in result.facets["date"]} == dict(dates), req


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), size=st.integers(1, 40))
def test_fast_counts_equal_brute_force_across_updates(tmp_path_factory, seed, size):
    rng = random.Random(seed)
    folder = tmp_path_factory.mktemp("c")
    index_dir = tmp_path_factory.mktemp("ix")
    rows = {i: article(rng, i) for i in range(size)}
    write(folder, rows)
    build_index([folder], index_dir, Options(), progress=False, procs=1)
    service = WhooshBackend(index_dir)
    ix = open_index(index_dir)
    check(service, ix, rng)
    for i in rng.sample(sorted(rows), k=min(len(rows), rng.randint(1, 5))):  # edit some, delete some
        if rng.random() < 0.5:
            rows[i] = article(rng, i)
        else:
            rows[i] = {"title": "", "text": ""}  # a row with no text: reported, and its article removed
    for j in range(rng.randint(0, 5)):
        rows[size + j] = article(rng, size + j)
    write(folder, rows)
    build_index([folder], index_dir, Options(), progress=False, procs=1)
    check(service, open_index(index_dir), rng)


def test_array_scores_rank_like_whoosh(seed_service):
    """The array evaluator's BM25F ranks the seeds as Whoosh's own scorer does."""
    for q in ["Hamas", "Russia Moscow", "delegation OR ceasefire", "Lavrov -Haniyeh"]:
        parsed, _ = seed_service.parse(q)
        with seed_service._searcher() as s:
            whoosh_order = [hit["id"] for hit in s.search(parsed, limit=None)]
            whoosh_scores = {hit["id"]: hit.score for hit in s.search(parsed, limit=None)}
        ours = seed_service.search(SearchRequest(q=q, per_page=100)).hits
        assert [h.id for h in ours] == whoosh_order, q
        from search.whoosh_backend.evaluator import evaluate

        tables = seed_service._facet_tables(seed_service._current_searcher())
        ev = evaluate(parsed, seed_service._posting_cache(seed_service._current_searcher(), tables))
        with seed_service._searcher() as s:
            ids = [s.stored_fields(int(d))["id"] for d in ev.ids]
        assert np.allclose([whoosh_scores[i] for i in ids], ev.scores, rtol=1e-4), q
