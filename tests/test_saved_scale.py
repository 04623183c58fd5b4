"""Saved searches in bulk: thousands listed fast a page at a time, counts cached per index
generation (and redone when it changes), and a cap on how many a store keeps."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sqlite3
import time
from collections.abc import Iterator

import pytest

from search.ingest import build_index
from search.settings import Options
from search.whoosh_backend.service import WhooshBackend
from web import create_app
from web.saved import SCHEMA

from .conftest import SEEDS, SEEDS_CRAWLED, copy_corpus

MANY = 3000
BOUND_SECONDS = 2.0
# A mix of query shapes, each with its own counts; the numbers make every query distinct.
SHAPES = ("q=Hamas+{n}", "q=Putin+OR+x{n}", "entity=Hamas&q=w{n}", "q=Russia*&from=2020-01-{d:02d}",
          "q=%22foreign+ministry%22+{n}", "date=2023&q=z{n}")


@contextlib.contextmanager
def store(path: str) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute(SCHEMA)  # the app's own table
            yield db
    finally:
        db.close()


def fill(path: str, count: int) -> None:
    """*count* saved searches with distinct queries and visit times, written straight into the store."""
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    rows = []
    for n in range(count):
        when = (start + dt.timedelta(minutes=n)).isoformat(timespec="milliseconds")
        query = SHAPES[n % len(SHAPES)].format(n=n, d=n % 28 + 1)
        rows.append((f"search-{n:05d}", f"Search {n:05d}", query, when, when))
    with store(path) as db:
        db.executemany("INSERT INTO saved VALUES (?, ?, ?, ?, ?)", rows)


@pytest.fixture
def searches_run(monkeypatch) -> list[int]:
    """A list that grows by one for every search the query service runs."""
    calls: list[int] = []
    real = WhooshBackend.search

    def counting(self, req):
        calls.append(1)
        return real(self, req)

    monkeypatch.setattr(WhooshBackend, "search", counting)
    return calls


def timed_get(client, url: str):
    started = time.perf_counter()
    response = client.get(url)
    return response, time.perf_counter() - started


@pytest.mark.parametrize("url", ["/saved", "/api/saved"])
def test_three_thousand_saved_searches_list_within_bounds(seed_index, tmp_path, url):
    db = str(tmp_path / "saved.db")
    fill(db, MANY)
    app = create_app({"TESTING": True, "INDEX_DIR": str(seed_index), "SAVED_DB": db, "SECRET_KEY": "t"})
    client = app.test_client()

    response, cold = timed_get(client, url)  # nothing cached yet
    assert response.status_code == 200
    assert cold < BOUND_SECONDS, f"{url} took {cold:.2f} s with {MANY} saved searches"
    _, warm = timed_get(client, url)
    assert warm < BOUND_SECONDS / 4, f"{url} again took {warm:.2f} s"

    last, elapsed = timed_get(client, f"{url}?page=30")
    assert last.status_code == 200 and elapsed < BOUND_SECONDS
    if url == "/api/saved":
        first = response.get_json()
        assert (first["count"], first["pages"], first["per_page"], len(first["saved"])) == (MANY, 30, 100, 100)
        assert first["saved"][0]["slug"] == "search-00000"
        assert first["links"]["prev"] is None and first["links"]["next"] == "/api/saved?page=2"
        page30 = last.get_json()
        assert page30["saved"][-1]["slug"] == f"search-{MANY - 1:05d}"
        assert page30["links"] == {"self": "/saved?page=30", "json": "/api/saved?page=30",
                                   "prev": "/api/saved?page=29", "next": None}
        assert client.get("/api/saved?page=31").get_json()["saved"] == []
    else:
        html = response.data.decode()
        assert html.count('class="saved-open"') == 100
        assert 'rel="next" href="/saved?page=2"' in html
        assert "3000 saved searches" in html
        assert 'rel="prev" href="/saved?page=29"' in last.data.decode()


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "²", "100001", "9" * 40])
def test_a_bad_page_is_a_400_naming_it(seed_index, tmp_path, page):
    app = create_app({"TESTING": True, "INDEX_DIR": str(seed_index), "SAVED_DB": str(tmp_path / "s.db"),
                      "SECRET_KEY": "t"})
    client = app.test_client()
    response = client.get("/api/saved", query_string={"page": page})
    assert response.status_code == 400
    assert response.get_json()["error"]["parameter"] == "page"
    assert client.get("/saved", query_string={"page": page}).status_code == 400


def test_every_entry_is_on_exactly_one_page(seed_index, tmp_path):
    db = str(tmp_path / "saved.db")
    fill(db, 250)
    app = create_app({"TESTING": True, "INDEX_DIR": str(seed_index), "SAVED_DB": db, "SECRET_KEY": "t"})
    client = app.test_client()
    seen = []
    for page in (1, 2, 3):
        seen += [s["slug"] for s in client.get(f"/api/saved?page={page}").get_json()["saved"]]
    assert seen == [f"search-{n:05d}" for n in range(250)]


def csrf(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/search").data.decode()).group(1)


def test_saving_goes_to_the_page_that_lists_the_new_entry(seed_index, tmp_path):
    db = str(tmp_path / "saved.db")
    fill(db, 250)
    app = create_app({"TESTING": True, "INDEX_DIR": str(seed_index), "SAVED_DB": db, "SECRET_KEY": "t"})
    client = app.test_client()
    token = csrf(client)
    response = client.post("/saved", data={"name": "Search 00150x", "query": "q=Hamas", "csrf_token": token})
    assert response.headers["Location"] == "/saved?page=2#saved-search-00150x"
    assert 'id="saved-search-00150x"' in client.get("/saved?page=2").data.decode()


def test_counts_are_cached_until_the_index_changes(tmp_path, searches_run):
    corpus = copy_corpus(SEEDS, tmp_path / "corpus", SEEDS_CRAWLED)
    index_dir = tmp_path / "index"
    build_index([corpus], index_dir, Options(), progress=False)
    app = create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "SAVED_DB": str(tmp_path / "saved.db"),
                      "SECRET_KEY": "t"})
    client = app.test_client()
    token = csrf(client)
    for name in ("first", "second"):  # same query twice: counted once
        client.post("/saved", data={"name": name, "query": "q=Hamas", "csrf_token": token})

    searches_run.clear()
    before = {s["slug"]: (s["total"], s["new"]) for s in client.get("/api/saved").get_json()["saved"]}
    assert len(searches_run) == 3  # one total, a "new" for each entry's own last visit
    assert before["first"][1] == 0 and before["first"][0] > 0

    searches_run.clear()
    assert client.get("/saved").status_code == 200
    assert client.get("/api/saved").status_code == 200
    assert searches_run == []  # nothing recounted while the index is unchanged

    (corpus / "999_new.txt").write_text(
        "Hamas delegation visits Moscow again\n\nA Hamas delegation arrived in Moscow on Tuesday for talks "
        "with Russian officials about the situation in Gaza, the movement said.\n", encoding="utf-8")
    build_index([corpus], index_dir, Options(), progress=False)
    searches_run.clear()
    after = {s["slug"]: (s["total"], s["new"]) for s in client.get("/api/saved").get_json()["saved"]}
    assert searches_run  # a new generation: counted again
    assert after["first"] == (before["first"][0] + 1, 1)
    assert after["second"] == (before["second"][0] + 1, 1)

    client.get("/saved/first")  # a visit: its "new" starts again from zero, the other's does not
    searches_run.clear()
    visited = {s["slug"]: (s["total"], s["new"]) for s in client.get("/api/saved").get_json()["saved"]}
    assert visited == {"first": (after["first"][0], 0), "second": after["second"]}
    assert len(searches_run) == 1  # only the visited entry's "new" was counted again


def test_a_full_store_refuses_more_with_409_until_one_is_deleted(seed_index, tmp_path):
    app = create_app({"TESTING": True, "INDEX_DIR": str(seed_index), "SAVED_DB": str(tmp_path / "saved.db"),
                      "SECRET_KEY": "t", "MAX_SAVED": 3})
    client = app.test_client()
    token = csrf(client)

    def save(name: str):
        return client.post("/saved", data={"name": name, "query": "q=Hamas", "csrf_token": token})

    assert [save(f"s{n}").status_code for n in range(3)] == [303, 303, 303]
    refused = save("one too many")
    assert refused.status_code == 409
    assert "at most 3 saved searches" in refused.data.decode()
    assert "NEWSFACET_MAX_SAVED" in refused.data.decode()
    assert client.get("/api/saved").get_json()["count"] == 3
    assert client.post("/saved/s0/delete", data={"csrf_token": token}).status_code == 303
    assert save("fits again").status_code == 303


def test_the_cap_comes_from_the_environment(seed_index, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSFACET_MAX_SAVED", "1")
    app = create_app({"TESTING": True, "INDEX_DIR": str(seed_index), "SAVED_DB": str(tmp_path / "saved.db"),
                      "SECRET_KEY": "t"})
    client = app.test_client()
    token = csrf(client)
    assert client.post("/saved", data={"name": "a", "query": "q=a", "csrf_token": token}).status_code == 303
    assert client.post("/saved", data={"name": "b", "query": "q=b", "csrf_token": token}).status_code == 409
