""""Appears with" through HTTP: ``/api/cooccur``, ``/cooccur`` and the search page's panel.

* On random corpora (the generator of :mod:`tests.test_disjunctive`: given entities of the
  four types, dates of every precision, OR/NOT/AND filters with unknown values, a second
  indexing run with rewritten and deleted rows), every answer equals a pass over the rows:
  the result set (the search without the value's own ``entity`` filter), each value's
  count of articles with both, ``expected`` and ``lift`` by their formulas, the order and
  the limit; an unknown value is a 400.
* On the seeds: the document's shape and links, the 400s in the API's shape, the panel only
  with an entity filter, and its links AND the value in, in canonical order.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from search.api import SearchRequest, request_from_params
from search.ingest import build_index
from search.settings import Options

from .conftest import get_json, make_app
from .test_disjunctive import ENTITIES, UNKNOWN, Brute, filter_strategy, request_of, row_strategy, write

MARZOUK = "Mousa Abu Marzouk"


def params_of(req: SearchRequest) -> list[tuple[str, str]]:
    return req.to_params()


def brute_cooccur(rows, req: SearchRequest, value: str, limit: int) -> dict:
    """The expected ``/api/cooccur`` answer (but links and query), from the rows alone."""
    own = SearchRequest(q=req.q, entities=tuple(v for v in req.entities if v != value),
                        entities_any=req.entities_any, entities_not=req.entities_not, date=req.date)
    brute = Brute(rows, own)
    docs = brute.passing()
    ents = {p: set(brute.rows[p]["entities"]) for p in docs}
    with_docs = [p for p in docs if value in ents[p]]
    n_v, n = len(with_docs), len(docs)
    values = []
    for other in sorted(brute.known):
        if other == value or other in own.entities:
            continue
        count = sum(other in ents[p] for p in with_docs)
        if not count:
            continue
        alone = sum(other in ents[p] for p in docs)
        values.append({"value": other, "type": ENTITIES[other], "count": count,
                       "expected": n_v * alone / n, "lift": count * n / (n_v * alone)})
    values.sort(key=lambda v: (-v["count"], -v["lift"], v["value"].casefold(), v["type"]))
    return {"with": value, "type": ENTITIES[value], "count": n_v, "total": n, "limit": limit,
            "values": values[:limit]}


def check(client, rows, f: dict, value: str, limit: int) -> None:
    req = request_of(f)
    pairs = params_of(req) + [("with", value)] + ([("limit", str(limit))] if limit != 20 else [])
    response = client.get("/api/cooccur?" + urlencode(pairs))
    known = any(r is not None and value in r["entities"] for r in rows)
    if not known:
        assert response.status_code == 400
        assert response.get_json()["error"]["parameter"] == "with"
        return
    assert response.status_code == 200, response.data
    got = response.get_json()
    links, query = got.pop("links"), got.pop("query")
    assert got == brute_cooccur(rows, req, value, limit)
    assert query["entity"] == list(req.entities)
    carried = [(k, v) for k, v in params_of(req) if k not in ("sort", "page", "per_page", "facet_limit")]
    assert links["search"] == "/search" + ("?" + urlencode(carried) if carried else "")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row_strategy, min_size=1, max_size=10),
       edits=st.lists(st.one_of(st.none(), row_strategy), max_size=4),
       filters=st.lists(filter_strategy, min_size=6, max_size=6),
       withs=st.lists(st.sampled_from(sorted(ENTITIES) + [UNKNOWN]), min_size=6, max_size=6),
       limits=st.lists(st.sampled_from([1, 2, 20, 200]), min_size=6, max_size=6))
def test_cooccurrence_equals_brute_force_on_random_corpora(rows, edits, filters, withs, limits):
    tmp = Path(tempfile.mkdtemp(prefix="cooccur-"))
    try:
        corpus, index_dir = tmp / "corpus", tmp / "index"
        corpus.mkdir()
        current = list(rows)
        write(corpus, current)
        build_index([corpus], index_dir, Options(), progress=False)
        app = make_app(index_dir, tmp)
        client = app.test_client()
        for i in range(3):
            f = dict(filters[i])
            if i == 0:
                # The panel's case: the value is one of the search's entity filters.
                f["named"] = [*[t for t in f["named"] if t[0] != withs[i]], (withs[i], "all")]
            check(client, current, f, withs[i], limits[i])
        for i, edit in enumerate(edits[:len(current)]):
            current[i] = edit
        write(corpus, current)
        build_index([corpus], index_dir, Options(), progress=False)
        for i in range(3, 6):
            check(client, current, filters[i], withs[i], limits[i])
        app.extensions["newsfacet"]["service"].close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- the seeds ------------------------------------------------------------------------------------


@pytest.fixture
def client(seed_app):
    return seed_app.test_client()


def test_api_cooccur_document_and_formulas(client):
    data = get_json(client, "/api/cooccur?q=Hamas&with=Hamas&limit=5&page=2&sort=newest")
    assert list(data) == ["query", "with", "type", "count", "total", "limit", "values", "links"]
    assert (data["with"], data["type"], data["limit"]) == ("Hamas", "org", 5)
    assert data["query"]["q"] == "Hamas" and "sort" not in data["query"]
    assert 0 < data["count"] <= data["total"]
    assert 0 < len(data["values"]) <= 5
    search = get_json(client, "/api/search?q=Hamas&facet_limit=1000&per_page=1")
    assert search["total"] == data["total"]
    in_results = {f["value"]: f["count"] for f in search["facets"]["entity"]}
    for v in data["values"]:
        assert list(v) == ["value", "type", "count", "expected", "lift"]
        both = get_json(client, "/api/search?" + urlencode([("q", "Hamas"), ("entity", "Hamas"),
                                                             ("entity", v["value"]), ("per_page", "1")]))
        assert v["count"] == both["total"]
        assert v["expected"] == data["count"] * in_results[v["value"]] / data["total"]
        assert v["lift"] == pytest.approx(v["count"] / v["expected"])
    keys = [(-v["count"], -v["lift"], v["value"].casefold()) for v in data["values"]]
    assert keys == sorted(keys)
    # Canonical links: the search's filters, then with and limit; sort and page do not apply.
    assert data["links"] == {
        "self": "/cooccur?q=Hamas&with=Hamas&limit=5",
        "json": "/api/cooccur?q=Hamas&with=Hamas&limit=5",
        "search": "/search?q=Hamas",
        "search_json": "/api/search?q=Hamas",
    }
    assert get_json(client, data["links"]["json"]) == data


def test_a_merged_spelling_resolves_and_the_default_limit_is_20(client):
    by_value = get_json(client, f"/api/cooccur?with={MARZOUK}")
    assert by_value["limit"] == 20 and len(by_value["values"]) <= 20
    by_spelling = get_json(client, "/api/cooccur?with=Mousa+Abu+Marzook")
    assert by_spelling["with"] == MARZOUK
    assert by_spelling["values"] == by_value["values"]
    assert by_spelling["links"]["json"] == by_value["links"]["json"]


@pytest.mark.parametrize("query,parameter", [
    ("", "with"),
    ("with=", "with"),
    ("with=+++", "with"),
    ("with=No+Such+Entity", "with"),
    ("with=Hamas&limit=0", "limit"),
    ("with=Hamas&limit=201", "limit"),
    ("with=Hamas&limit=ten", "limit"),
    ("with=Hamas&date=2023-13", "date"),
    ("with=Hamas&q=title:[a+TO+z]", "q"),
])
def test_bad_parameters_are_400_in_the_api_shape(client, query, parameter):
    data = get_json(client, "/api/cooccur?" + query, 400)
    assert set(data) == {"error"}
    assert data["error"]["status"] == 400 and data["error"]["parameter"] == parameter
    assert data["error"]["message"]
    page = client.get("/cooccur?" + query)
    assert page.status_code == 400 and b"<html" in page.data


def panel_links(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'class="cooccur-link[^"]*" href="([^"]+)"', html)]


def test_the_panel_appears_only_with_an_entity_filter(client):
    for url in ("/search", "/search?q=Hamas", "/search?entity_any=Hamas", "/search?entity_not=Hamas"):
        assert b'class="cooccur"' not in client.get(url).data, url
    page = client.get("/search?q=talks&entity=Hamas&sort=oldest").get_data(as_text=True)
    assert page.count('class="cooccur"') == 1
    assert 'data-with="Hamas"' in page and "Appears with Hamas" in page
    two = client.get(f"/search?entity=Hamas&entity={MARZOUK}").get_data(as_text=True)
    assert two.count('class="cooccur"') == 2


def test_panel_links_and_the_value_in_canonical_order(client):
    url = "/search?sort=oldest&entity=Hamas&q=talks"
    page = client.get(url).get_data(as_text=True)
    links = panel_links(page)
    data = get_json(client, "/api/cooccur?q=talks&entity=Hamas&with=Hamas&limit=10")
    assert len(links) == len(data["values"]) > 0
    for href, v in zip(links, data["values"], strict=True):
        parts = urlsplit(href)
        pairs = parse_qsl(parts.query)
        assert parts.path == "/search"
        # The value ANDed in, the search's own parameters kept, in the canonical order.
        assert ("entity", v["value"]) in pairs and ("entity", "Hamas") in pairs
        assert ("q", "talks") in pairs and ("sort", "oldest") in pairs
        assert pairs == request_from_params(MultiDict(pairs)).to_params()
        # Following it: the search finds the articles with both, as the count said.
        assert get_json(client, "/api/" + href[1:])["total"] == v["count"]
    # Counts and lifts are shown.
    first = data["values"][0]
    assert f'×{first["lift"]:.1f}' in page


def test_cooccur_page_lists_the_same_values(client):
    page = client.get(f"/cooccur?with={MARZOUK}&limit=3").get_data(as_text=True)
    data = get_json(client, f"/api/cooccur?with={MARZOUK}&limit=3")
    assert f"Appears with {MARZOUK}" in page
    links = panel_links(page)
    assert len(links) == len(data["values"])
    assert all(parse_qsl(urlsplit(h).query) == [("entity", v["value"])] for h, v in zip(links, data["values"],
                                                                                     strict=True))
    assert f'href="{data["links"]["json"].replace("&", "&amp;")}"' in page
