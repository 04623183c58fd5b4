"""The OpenSearch backend's service against the Whoosh one, and what only a cluster can get wrong.

The contract suite (``tests/contract``) states what every backend answers from
the corpus; here the two backends answer the same requests on the same
collections and must agree field for field — hits with their snippets and
clusters (copies' sources included), facets, facet pages, date counts,
co-occurrence, exports — with syndicated copies collapsed and not.  Then
what the Whoosh backend has no counterpart for: a cluster that cannot be
reached, a collection never indexed or deleted underneath, the generation
across commits, and the export's point in time released.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from search.api import FacetValuesRequest, SearchRequest, Settings, build_index, open_backend
from search.errors import BackendUnavailable, IndexNotFound
from search.opensearch_backend import mapping as M

from ..conftest import free_port
from ..test_syndicated import plant

pytestmark = [pytest.mark.opensearch]


def os_settings(opensearch, index_dir) -> Settings:
    return Settings(backend="opensearch", index_dir=index_dir, opensearch_url=opensearch.url,
                    opensearch_prefix=f"nf-service-{uuid.uuid4().hex[:12]}", opensearch_shards=3,
                    opensearch_replicas=1)


def drop(opensearch, prefix: str) -> None:
    for index in (M.index_pattern(prefix), M.meta_index_name(prefix)):
        opensearch.request("DELETE", f"/{index}?ignore_unavailable=true&allow_no_indices=true")
    opensearch.request("DELETE", f"/_index_template/{M.template_name(prefix)}")


@pytest.fixture(scope="module", params=["seeds", "copies"])
def both(request, opensearch, seeds_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"service-{request.param}")
    corpus = seeds_dir if request.param == "seeds" else plant(root / "news")
    whoosh_settings = Settings(backend="whoosh", index_dir=root / "whoosh")
    settings = os_settings(opensearch, root / "unused")
    try:
        for s in (whoosh_settings, settings):
            report = build_index([corpus], s, progress=False)
            assert not report.failed, report.failed
        whoosh, other = open_backend(whoosh_settings), open_backend(settings)
        yield request.param, whoosh, other
        whoosh.close()
        other.close()
    finally:
        drop(opensearch, settings.opensearch_prefix)


def requests_for(name: str) -> list[SearchRequest]:
    if name == "seeds":
        queries = ["", "Hamas", "Moscow OR Tehran", '"Gaza Strip" -Lavrov', "talks", "nosuchwordanywhere"]
        extra = [SearchRequest(entities=("Mousa Abu Marzouk",)),
                 SearchRequest(entities_any=("Sergey Lavrov", "Vladimir Putin"), entities_not=("Gaza",)),
                 SearchRequest(date="undated", facet_limit=2)]
    else:
        queries = ["", "Bergen", "strike OR library", "Dahl", "ferry"]
        extra = [SearchRequest(entities=("Bruno Dahl",)), SearchRequest(entities_not=("Bergen",))]
    out = [SearchRequest(q=q, per_page=100, collapse=c) for q in queries for c in ("on", "off")]
    return out + [r for e in extra for r in (e, dataclasses.replace(e, collapse="off"))]


def as_set(hits) -> list:
    return sorted((h.id, h.title, h.snippet, h.date, h.source, repr(h.entities), repr(h.cluster)) for h in hits)


def test_the_backends_answer_alike(both):
    name, whoosh, other = both
    for req in requests_for(name):
        w, o = whoosh.search(req), other.search(req)
        assert (o.total, o.copies, o.suggestion, o.notice) == (w.total, w.copies, w.suggestion, w.notice), req
        # (Equal scores and dates may be listed in another order: index order differs by engine.)
        assert as_set(o.hits) == as_set(w.hits), req
        assert o.facets == w.facets, req
        for type_ in ("person", "org", "place"):
            for sort in ("count", "name"):
                freq = FacetValuesRequest(type=type_, search=req, sort=sort, per_page=1000)
                assert other.facet_values(freq).values == whoosh.facet_values(freq).values, freq
        for level in ("year", "month", "day"):
            assert other.date_counts(req, level) == whoosh.date_counts(req, level), (req, level)
        key = lambda row: row["id"]  # noqa: E731
        assert sorted(other.iter_hits(req), key=key) == sorted(whoosh.iter_hits(req), key=key), req
        for f in [f for f in w.facets["entity"] if f["count"]][:3]:
            assert other.cooccurrence(req, f["value"]) == whoosh.cooccurrence(req, f["value"]), (req, f)


def test_entities_documents_and_highlights_alike(both):
    _, whoosh, other = both
    assert other.entities() == whoosh.entities()
    assert other.count() == whoosh.count()
    for hit in whoosh.search(SearchRequest(per_page=100, collapse="off")).hits:
        w, o = whoosh.document(hit.id), other.document(hit.id)
        assert {**vars(o), "indexed_at": None} == {**vars(w), "indexed_at": None}
        assert other.highlight(w.body, "port OR hamas") == whoosh.highlight(w.body, "port OR hamas")


def test_an_unreachable_cluster_is_backend_unavailable(tmp_path):
    settings = Settings(backend="opensearch", index_dir=tmp_path, opensearch_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(BackendUnavailable) as caught:
        open_backend(settings)
    assert settings.opensearch_url in str(caught.value)


def test_a_collection_never_indexed_or_deleted_underneath_is_index_not_found(opensearch, seeds_dir, tmp_path):
    settings = os_settings(opensearch, tmp_path)
    with pytest.raises(IndexNotFound):
        open_backend(settings)
    try:
        build_index([seeds_dir], settings, progress=False)
        backend = open_backend(settings)
        assert backend.search(SearchRequest()).total == 5
        drop(opensearch, settings.opensearch_prefix)
        with pytest.raises(IndexNotFound):
            backend.search(SearchRequest())
        with pytest.raises(IndexNotFound):
            backend.count()
    finally:
        drop(opensearch, settings.opensearch_prefix)


def test_generation_changes_with_each_commit_only(opensearch, tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text("Harbour dredging resumes\n\nDredgers returned on Monday.\n", encoding="utf-8")
    settings = os_settings(opensearch, tmp_path)
    try:
        build_index([folder], settings, progress=False)
        backend = open_backend(settings)
        first = backend.generation()
        assert backend.generation() == first
        build_index([folder], settings, progress=False)  # nothing changed: nothing committed
        assert backend.generation() == first
        (folder / "b.txt").write_text("Ferry strike ends\n\nThe ferry crews voted to return.\n", encoding="utf-8")
        build_index([folder], settings, progress=False)
        second = backend.generation()
        assert second != first and backend.count() == 2
        (folder / "a.txt").unlink()
        build_index([folder], settings, progress=False)
        assert backend.generation() not in (first, second) and backend.count() == 1
    finally:
        drop(opensearch, settings.opensearch_prefix)


def test_an_export_releases_its_point_in_time(both, opensearch):
    _, _, other = both

    def pits() -> set[str]:
        code, body = opensearch.request("GET", "/_search/point_in_time/_all")
        assert code == 200, body
        return {p["pit_id"] for p in body.get("pits") or []}

    before = pits()
    stream = other.iter_hits(SearchRequest(), batch_size=1)
    next(stream)
    held = pits() - before
    assert held
    stream.close()
    assert not pits() & held
    exhausted = other.iter_hits(SearchRequest(), batch_size=2)
    assert len(list(exhausted)) == exhausted.total
    assert not pits() - before


def test_a_page_past_the_result_window_and_the_last_hit_is_empty(both):
    _, whoosh, other = both
    far = SearchRequest(page=2000, per_page=10)  # from + size past index.max_result_window (10,000)
    got = other.search(far)
    assert got.hits == [] and got.total == whoosh.search(far).total > 0
    assert got.facets == whoosh.search(far).facets
