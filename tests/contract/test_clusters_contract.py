"""Syndicated-copy clusters, the same on every backend: membership, collapsing and story counts.

The collection is :func:`tests.test_syndicated.plant`'s: one wire story in four
copies, another story on the same subject, two unrelated ones.  Collapsed
(the default), every answer counts stories: the total, facet counts (the
search's and ``facet_values``), the date counts, co-occurrence and the
export; ``collapse="off"`` counts every copy; ``cluster=ID`` is one story.
"""

from __future__ import annotations

import pytest

from search.api import FacetValuesRequest, SearchRequest, build_index, open_backend

from ..test_syndicated import COPIES, STORY, plant, row
from .conftest import indexed, settings_for


@pytest.fixture(scope="module")
def planted(backend_name, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"contract-copies-{backend_name}")
    backend = indexed(backend_name, plant(root / "news"), root / "index")
    yield backend
    backend.close()


def every_hit(backend, **kw) -> list:
    return backend.search(SearchRequest(per_page=100, **kw)).hits


def partition(backend) -> dict[str, tuple[str, int]]:
    hits = every_hit(backend, collapse="off")
    paths = {h.id: h.path for h in hits}
    return {h.path: (paths[h.cluster["id"]], h.cluster["size"]) for h in hits}


def test_copies_share_the_earliest_copys_cluster(planted):
    found = partition(planted)
    assert {p: found[p] for p in COPIES} == {p: ("wire.jsonl#1", 4) for p in COPIES}
    assert all(size == 1 and cluster == path for path, (cluster, size) in found.items() if path not in COPIES)


@pytest.mark.parametrize("q", ["", "Bergen", "strike OR library", "Dahl"])
def test_collapsed_counts_are_stories_and_off_counts_copies(planted, q):
    every = planted.search(SearchRequest(q=q, per_page=100, collapse="off"))
    stories = planted.search(SearchRequest(q=q, per_page=100))
    copies_found = sum(1 for h in every.hits if h.path in COPIES)
    assert every.total == every.copies == len(every.hits)
    assert stories.copies == every.total
    assert stories.total == every.total - max(0, copies_found - 1) == len(stories.hits)
    listed = [h.path for h in stories.hits]
    assert sum(1 for p in listed if p in COPIES) == min(1, copies_found)
    if copies_found:  # the story is listed as its earliest matching copy
        assert next(p for p in listed if p in COPIES) == next(p for p in COPIES if p in {h.path for h in every.hits})
    for result in (every, stories):
        assert sum(f["count"] for f in result.facets["date"]) == result.total
        dahl = [f["count"] for f in result.facets["entity"] if f["value"] == "Bruno Dahl"]
        assert dahl == ([sum(1 for h in result.hits if any(e["value"] == "Bruno Dahl" for e in h.entities))]
                        if dahl else [])


def test_facet_values_date_counts_cooccurrence_and_export_count_what_is_listed(planted):
    for collapse in ("on", "off"):
        req = SearchRequest(q="Bergen", collapse=collapse)
        result = planted.search(SearchRequest(q="Bergen", collapse=collapse, per_page=100, facet_limit=1000))
        page = planted.facet_values(FacetValuesRequest(type="person", search=req, per_page=1000))
        expected = {f["value"]: f["count"] for f in result.facets["entity"] if f["type"] == "person"}
        assert {v["value"]: v["count"] for v in page.values} == expected
        assert sum(c["count"] for c in planted.date_counts(req, "day")) == result.total
        exported = list(planted.iter_hits(req))
        assert [h["id"] for h in exported] == [h.id for h in result.hits]
        co = planted.cooccurrence(req, "Bruno Dahl")
        assert co.total == result.total


def test_a_cluster_filter_is_one_story(planted):
    wire = next(h for h in every_hit(planted, collapse="off") if h.path == "wire.jsonl#1")
    copies = every_hit(planted, cluster=wire.cluster["id"], collapse="off", sort="oldest")
    assert [h.path for h in copies] == COPIES
    assert [h.path for h in every_hit(planted, cluster=wire.cluster["id"])] == ["wire.jsonl#1"]
    lone = next(h for h in every_hit(planted) if h.path == "talks.jsonl#1")
    assert [h.path for h in every_hit(planted, cluster=lone.id)] == ["talks.jsonl#1"]


def test_incremental_runs_keep_the_clusters_a_rebuild_gives(backend_name, tmp_path):
    folder = plant(tmp_path / "news")
    settings = settings_for(backend_name, tmp_path / "index")
    build_index([folder], settings, progress=False)
    (folder / "early.jsonl").write_text(row("Bergen strike", "2024-05-01", "Early Post", STORY) + "\n")
    build_index([folder], settings, progress=False)
    (folder / "wire.jsonl").unlink()
    (folder / "late.jsonl").write_text(row("Bergen strike", "2024-06-01", "Late Post", STORY) + "\n")
    build_index([folder], settings, progress=False)
    backend = open_backend(settings)
    fresh_settings = settings_for(backend_name, tmp_path / "fresh")
    build_index([folder], fresh_settings, progress=False)
    fresh = open_backend(fresh_settings)
    try:
        found = partition(backend)
        assert found == partition(fresh)
        assert found["late.jsonl#1"] == ("early.jsonl#1", 5)
    finally:
        backend.close()
        fresh.close()
