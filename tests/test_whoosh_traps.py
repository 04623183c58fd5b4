"""Whoosh 2.7.4 behaviours that bite, each shown and each guarded.

Every test first demonstrates the trap on plain Whoosh (so we notice if a
future Whoosh fixes it) and then checks that newsfacet's own path is safe.
"""

from __future__ import annotations

import json

import pytest
from whoosh import fields, query, sorting
from whoosh.filedb.filestore import RamStorage

from search.api import SearchRequest
from search.ingest import build_index
from search.settings import Options
from search.whoosh_backend import schema as S
from search.whoosh_backend.service import WhooshBackend
from search.whoosh_backend.store import open_index


def test_len_of_unoptimized_results_undercounts_so_totals_count_every_match(tmp_path):
    ix = RamStorage().create_index(fields.Schema(t=fields.TEXT(stored=True)))
    with ix.writer() as w:
        for i in range(300):
            w.add_document(t=f"common word{i}")
    with ix.searcher() as s:
        results = s.search(query.Term("t", "common"), limit=10, optimize=False)
        # the trap: without optimisation a limited search does not know its length
        assert results.scored_length() == 10
        assert len(list(s.docs_for_query(query.Term("t", "common")))) == 300

    folder = tmp_path / "c"
    folder.mkdir()
    with open(folder / "many.jsonl", "w", encoding="utf-8") as fh:
        for i in range(150):
            fh.write(json.dumps({"title": f"Report {i}", "text": f"The harbour report number {i} was filed."}) + "\n")
    build_index([folder], tmp_path / "ix", Options(), progress=False)
    result = WhooshBackend(tmp_path / "ix").search(SearchRequest(q="harbour", per_page=5))
    assert result.total == 150 and len(result.hits) == 5


def test_groupedby_on_vectored_field_crashes_without_value_so_facets_use_arrays(tmp_path):
    schema = fields.Schema(id=fields.ID(stored=True), tag=fields.KEYWORD(vector=True))
    ix = RamStorage().create_index(schema)
    with ix.writer() as w:
        w.add_document(id="1", tag="a")
        w.add_document(id="2")  # no value
    with ix.searcher() as s:
        with pytest.raises(Exception):  # noqa: B017 - the crash is whatever Whoosh raises
            s.search(query.Every(), groupedby=sorting.FieldFacet("tag", allow_overlap=True), limit=None).groups()

    folder = tmp_path / "c"
    folder.mkdir()
    with open(folder / "f.jsonl", "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"title": "With entity", "text": "Text about the port.", "entities": ["Lisbon"]}) + "\n")
        fh.write(json.dumps({"title": "without one", "text": "a short line of lower case text only."}) + "\n")
    build_index([folder], tmp_path / "ix", Options(), progress=False)
    result = WhooshBackend(tmp_path / "ix").search(SearchRequest())
    assert result.total == 2
    assert any(f["value"] == "Lisbon" and f["count"] == 1 for f in result.facets["entity"])


def test_porter_stemmer_splits_estimated_and_estimates_but_ours_joins_them():
    from whoosh.analysis import StemmingAnalyzer

    porter = [t.text for t in StemmingAnalyzer()("estimated estimates")]
    assert porter[0] != porter[1]
    ours = [t.text for t in S.text_analyzer()("estimated estimates")]
    assert ours[0] == ours[1]


def test_big_runs_end_in_one_segment(tmp_path):
    from search.whoosh_backend import writer as indexer

    folder = tmp_path / "c"
    folder.mkdir()
    with open(folder / "f.jsonl", "w", encoding="utf-8") as fh:
        for i in range(60):
            fh.write(json.dumps({"title": f"Item {i}", "text": f"Body text {i} about the harbour."}) + "\n")
    old = indexer.OPTIMIZE_MIN_CHANGES
    indexer.OPTIMIZE_MIN_CHANGES = 50
    try:
        for n in range(3):  # small incremental runs may leave segments...
            (folder / f"extra{n}.txt").write_text(f"Extra story {n}\n\nThe extra story number {n} is here.\n")
            build_index([folder], tmp_path / "ix", Options(), progress=False, procs=1)
        (folder / "f.jsonl").write_text("\n".join(
            json.dumps({"title": f"New {i}", "text": f"New body {i}."}) for i in range(60)) + "\n")
        build_index([folder], tmp_path / "ix", Options(), progress=False, procs=1)
    finally:
        indexer.OPTIMIZE_MIN_CHANGES = old
    ix = open_index(tmp_path / "ix")
    with ix.searcher() as s:
        # ...but a run with many changes merges everything into one segment
        assert len(s.reader().leaf_readers()) == 1


def test_unsigned_numeric_range_needs_an_explicit_lower_bound():
    schema = fields.Schema(n=fields.NUMERIC(numtype=int, bits=32, signed=False, stored=True))
    ix = RamStorage().create_index(schema)
    with ix.writer() as w:
        for v in (0, 5, 20231026):
            w.add_document(n=v)
    with ix.searcher() as s:
        explicit = {s.stored_fields(d)["n"] for d in s.docs_for_query(query.NumericRange("n", 1, 20231231))}
        # a far-future sentinel as upper bound is another trap: it matches everything
        sentinel = {s.stored_fields(d)["n"] for d in s.docs_for_query(query.NumericRange("n", 20231027, 99991231))}
        open_above = {s.stored_fields(d)["n"] for d in s.docs_for_query(query.NumericRange("n", 20231027, None))}
    assert explicit == {5, 20231026}
    assert sentinel == {0, 5, 20231026} and open_above == set()
    from search.whoosh_backend.matching import _range_bounds

    assert _range_bounds(None, None) == (1, None)


def test_andnot_matcher_lets_negated_documents_through_so_queries_use_set_logic(tmp_path):
    import random

    from .test_fast import article, write

    rng = random.Random(314)  # a corpus on which Whoosh's AndNot matcher was seen to misfire
    write(tmp_path, {i: article(rng, i) for i in range(15)})
    build_index([tmp_path], tmp_path / "ix", Options(), progress=False, procs=1)
    service = WhooshBackend(tmp_path / "ix")
    parsed, _ = service.parse("quay -budget")
    with open_index(tmp_path / "ix").searcher() as s:
        whoosh = set(s.docs_for_query(parsed))
        honest = set(s.docs_for_query(parsed.a)) - set(s.docs_for_query(parsed.b))
        ours = {s.document_number(id=h.id) for h in service.search(SearchRequest(q="quay -budget", per_page=100)).hits}
    assert whoosh != honest  # the trap
    assert ours == honest
