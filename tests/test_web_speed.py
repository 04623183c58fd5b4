"""What the web layer keeps between requests to answer faster, and that it never answers stale.

* The timeline's per-period totals (all the articles of each period within the date
  filters) are counted once per index generation: a new commit is seen by the next
  request, and a searcher pinned before a commit it cannot be sure of never fills the cache.
* Query strings are built as ``urllib.parse.urlencode`` builds them, byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.ingest import build_index
from search.settings import Options
from web import index as web_index
from web.index import GenerationCache
from web.urls import query_string

from .conftest import get_json, make_app


def write(folder: Path, dates: list[str]) -> None:
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as fh:
        for i, date in enumerate(dates):
            fh.write(json.dumps({"title": f"Story {i}", "text": f"word{i % 2} story text.", "date": date}) + "\n")


def totals(client, url: str) -> dict[str, int]:
    return {p["value"]: p["total"] for p in get_json(client, url)["timeline"]["periods"]}


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    return folder


def test_timeline_totals_follow_a_new_commit(corpus, tmp_path):
    index_dir = tmp_path / "index"
    write(corpus, ["2023-01-05", "2023-02-07", "2024-03-01"])
    build_index([corpus], index_dir, Options(), progress=False)
    app = make_app(index_dir, tmp_path)
    client = app.test_client()
    try:
        url = "/api/search?q=word0&timeline=share"
        assert totals(client, url) == {"2023": 2, "2024": 1}
        assert totals(client, url) == {"2023": 2, "2024": 1}  # from the cache: the same answer
        write(corpus, ["2023-01-05", "2023-02-07", "2024-03-01", "2024-04-02", "2024-05-03"])
        build_index([corpus], index_dir, Options(), progress=False)
        assert totals(client, url) == {"2023": 2, "2024": 3}
        # Another search with the same date filters shares the counts, and they are the new ones.
        assert totals(client, "/api/search?q=word1") == {"2023": 2, "2024": 3}
    finally:
        app.extensions["newsfacet"]["service"].close()


def test_a_commit_between_pinning_and_counting_keeps_nothing(corpus, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    write(corpus, ["2023-01-05", "2024-03-01"])
    build_index([corpus], index_dir, Options(), progress=False)
    app = make_app(index_dir, tmp_path)
    client = app.test_client()
    try:
        with app.app_context():
            service = web_index.get_service()
        real = type(service).generation
        calls = {"n": 0}

        def moving(self):  # the generation read after pinning is always a newer one
            calls["n"] += 1
            return real(self) + calls["n"]

        monkeypatch.setattr(type(service), "generation", moving)
        assert totals(client, "/api/search?q=story") == {"2023": 1, "2024": 1}
        assert app.extensions["newsfacet"]["period_totals"]._values == {}
        assert calls["n"] == 2  # once before pinning, once after
    finally:
        app.extensions["newsfacet"]["service"].close()


def test_pinned_generation_is_none_when_the_generation_cannot_be_read(seed_app, monkeypatch):
    with seed_app.test_request_context("/api/search"):
        backend = web_index.get_service()

        def broken(self):
            raise OSError("gone")

        monkeypatch.setattr(type(backend), "generation", broken)
        assert web_index.pinned_generation() is None


def test_generation_cache_is_bounded_and_per_generation():
    cache = GenerationCache(2)
    cache.put(1, "a", 1)
    cache.put(1, "b", 2)
    cache.put(1, "c", 3)
    assert [cache.get(1, k) for k in "abc"] == [None, 2, 3]
    assert cache.get(2, "b") is None
    cache.put(2, "a", 10)
    assert cache.get(1, "b") is None and cache.get(2, "a") == 10
    cache.put(1, "z", 0)  # a request still on the older commit does not throw the newer values away
    assert cache.get(2, "a") == 10 and cache.get(1, "z") is None


text = st.text(st.characters(codec="utf-8"), max_size=12)


@given(st.lists(st.tuples(text, text), max_size=6))
def test_query_string_is_urlencode(pairs):
    assert query_string(pairs) == urlencode(pairs)


TITLE_BITS = ["oil", "Oil", "prices", "price's", "U.S.", "Tromsø", "crude", "naïve", "estimated",
              "&", "<b>", "'", ".", "\x00", "\n", " ", "-", "oil.prices", "l'oil"]
title_text = st.lists(st.sampled_from(TITLE_BITS), max_size=8).map("".join)


@given(st.lists(title_text, max_size=6), st.sampled_from(["oil", "prices", '"crude oil"', "estimates OR naive",
                                                          "tromso -oil", "u.s.", "title:oil", "xyzzy"]))
def test_titles_highlighted_together_are_highlighted_as_each_alone(seed_service, titles, q):
    from web.pages import highlight_titles

    assert highlight_titles(seed_service, titles, q) == [seed_service.highlight(t, q) for t in titles]


param_names = st.sampled_from(["q", "entity", "entity_any", "entity_not", "date", "sort", "page", "timeline", "zzz"])
param_values = st.sampled_from(["Oil", "oil", "OPEC", "Hamas & Co", "ärzte", "Ärzte", "2023", "2", "", "a b", "é"])


@given(st.lists(st.tuples(param_names, param_values), max_size=7), param_values,
       st.sampled_from([None, "entity", "entity_any", "entity_not"]))
def test_entity_links_are_links_with_the_entity(pairs, value, name):
    from web.urls import EntityLinks, link, with_entity

    assert EntityLinks("/search", pairs)(value, name) == link("/search", with_entity(pairs, value, name))


def test_entity_links_on_sorted_parameters_take_the_fast_way():
    from web.urls import EntityLinks, link, with_entity

    pairs = [("q", "oil"), ("entity", "Iran"), ("entity", "OPEC"), ("entity_not", "USA"), ("page", "3")]
    links = EntityLinks("/search", pairs)
    assert links.fast
    for value in ("Iraq", "ZZZ", "aaa", "Kuwait & Co"):
        for name in ("entity", "entity_any", "entity_not"):
            assert links(value, name) == link("/search", with_entity(pairs, value, name))


def test_templates_read_dict_keys_and_attributes_as_jinja_does(seed_app):
    env = seed_app.jinja_env
    template = env.from_string("{{ d.value }}|{{ d.items is callable }}|{{ d.missing is undefined }}|{{ o.real }}|"
                               "{{ s.value }}|{{ s.own }}")

    class Sub(dict):
        own = "attribute"

    out = template.render(d={"value": "v", "items": "shadowed"}, o=3, s=Sub(value="w", own="key"))
    assert out == "v|True|True|3|w|attribute"
