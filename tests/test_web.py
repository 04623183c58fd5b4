"""The Flask app through its test client: every route, whole JSON documents, errors, saved searches."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

import pytest

from search.ingest import build_index
from search.settings import Options
from web import create_app

from .conftest import SEEDS, SEEDS_CRAWLED, copy_corpus

MARZOUK = "Mousa Abu Marzouk"


@pytest.fixture(scope="module")
def app(seed_index, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    return create_app({"TESTING": True, "INDEX_DIR": str(seed_index), "SAVED_DB": str(instance / "saved.db"),
                       "SECRET_KEY": "test"})


@pytest.fixture
def client(app):
    return app.test_client()


def api(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.data
    data = response.get_json()
    data.pop("elapsed_ms", None)
    return data


def test_api_search_whole_document(client):
    assert api(client, "/api/search?q=Galuzin&facet_limit=1&per_page=1") == {
        "query": {"q": "Galuzin", "entity": [], "entity_any": [], "entity_not": [],
                  "date": None, "from": None, "to": None, "cluster": None, "sort": "relevance",
                  "page": 1, "per_page": 1, "facet_limit": 1, "timeline": "count", "collapse": "on"},
        "total": 1,
        "collapsed": True,
        "copies": 1,
        "page": 1,
        "per_page": 1,
        "hits": [
            {
                "id": "4a358e425141727c",
                "path": "004_4c9df461499d11da.txt",
                "title": "Israel demanded the expulsion of Hamas representatives from Russia. "
                "Putin's spokesman responded",
                "date": "2023-10-26",
                "date_precision": "day",
                "source": None,
                "url": None,
                "snippet": "… Kani and his Russian counterpart Mikhail <mark>Galuzin</mark>.\n\nThe meetings of the "
                "deputy foreign ministers and the presence of representatives of Palestinian movements were "
                "confirmed by Russian Foreign Ministry spokeswoman Maria Zakharova at a press …",
                "entities": api(client, "/api/doc/4a358e425141727c")["entities"],
                "cluster": {"id": "4a358e425141727c", "size": 1, "sources": []},
            }
        ],
        "facets": {
            "entity": [
                {"value": "Abu Hamid", "type": "person", "count": 1, "selected": False},
                {"value": "Gaza Strip", "type": "place", "count": 1, "selected": False},
                {"value": "Hamas", "type": "org", "count": 1, "selected": False},
                # Nationality words are "other" (CoNLL's MISC); one per type at facet_limit=1.
                {"value": "Iranian", "type": "other", "count": 1, "selected": False},
            ],
            "date": [{"value": "2023", "count": 1, "selected": False}],
        },
        # The page's timeline: a single year shows its months, a single month its days; each day with the
        # matches, all the articles of that day and the share they are (None: a day without articles).
        "timeline": {"mode": "count", "level": "day", "within": "2023-10", "periods": [
            {"value": f"2023-10-{d:02d}", "count": int(d == 26), "total": int(d == 26),
             "share": 1.0 if d == 26 else None}
            for d in range(1, 32)]},
        "suggestion": None,
        "notice": None,
        "links": {
            "self": "/search?q=Galuzin&per_page=1&facet_limit=1",
            "json": "/api/search?q=Galuzin&per_page=1&facet_limit=1",
            "atom": "/search.atom?q=Galuzin",
            # The whole result set as files: page, per_page and facet_limit do not apply.
            "csv": "/export.csv?q=Galuzin",
            "jsonl": "/export.jsonl?q=Galuzin",
            "facets_csv": "/export/facets.csv?q=Galuzin",
            "timeline_csv": "/export/timeline.csv?q=Galuzin",
        },
    }


@pytest.mark.parametrize(
    "url,total,paths",
    [
        ("/api/search?q=Lavrov", 2, {"000_4e1852c0d95101e1.txt", "003_9702e96eff6568ce.txt"}),
        (f"/api/search?entity={MARZOUK}", 4, None),
        (f"/api/search?entity={MARZOUK}&entity=Vladimir+Putin", 2, {"002_3019ca12e349c566.txt",
                                                                      "004_4c9df461499d11da.txt"}),
        ("/api/search?date=2024", 1, {"001_e5d5862b3fed93d4.txt"}),
        ("/api/search?date=2023-10", 1, {"004_4c9df461499d11da.txt"}),
        ("/api/search?date=2023-10-26", 1, {"004_4c9df461499d11da.txt"}),
        ("/api/search?date=undated", 3, None),
        ("/api/search?from=2024-01-01", 1, {"001_e5d5862b3fed93d4.txt"}),
        ("/api/search?to=2023-12-31", 1, {"004_4c9df461499d11da.txt"}),
        ("/api/search?q=Hamas&sort=newest&per_page=2&page=2", 5, {"000_4e1852c0d95101e1.txt",
                                                                 "002_3019ca12e349c566.txt"}),
        ("/api/search?q=%22Gaza+Strip%22+-Lavrov", 3, None),
        ("/api/search?q=title:delegation", 1, {"003_9702e96eff6568ce.txt"}),
        ("/api/search?q=Hamas&unknown=1&q=ignored", 5, None),
    ],
)
def test_api_search_parameters(client, url, total, paths):
    data = api(client, url)
    assert data["total"] == total
    if paths is not None:
        assert {h["path"] for h in data["hits"]} == paths


def test_oldest_and_newest_order(client):
    newest = [h["date"] for h in api(client, "/api/search?sort=newest")["hits"]]
    oldest = [h["date"] for h in api(client, "/api/search?sort=oldest")["hits"]]
    assert newest[:2] == ["2024-06-25", "2023-10-26"] and newest[2:] == [None] * 3
    assert oldest[:2] == ["2023-10-26", "2024-06-25"] and oldest[2:] == [None] * 3


def test_selected_entity_is_marked_and_date_facet_drills(client):
    data = api(client, f"/api/search?entity={MARZOUK}&date=2023")
    selected = [f for f in data["facets"]["entity"] if f["selected"]]
    assert selected == [{"value": MARZOUK, "type": "person", "count": 1, "selected": True}]
    assert data["facets"]["date"] == [{"value": "2023-10", "count": 1, "selected": False}]


@pytest.mark.parametrize(
    "url",
    [
        "/api/search?q=Hamas&entity=Vladimir+Putin&entity=Maria+Zakharova&sort=oldest",
        "/api/search?entity=Maria+Zakharova&q=Hamas&entity=Vladimir+Putin&page=1&per_page=10",
        "/api/search?date=2023&q=delegation&facet_limit=5",
        "/api/search?from=2023-01-01&to=2024-12-31",
    ],
)
def test_canonical_url_round_trip(client, url):
    first = api(client, url)
    self_link = first["links"]["self"]
    params = parse_qsl(urlsplit(self_link).query)
    names = [k for k, _ in params]
    order = ["q", "entity", "date", "from", "to", "sort", "page", "per_page", "facet_limit"]
    assert names == sorted(names, key=order.index)  # a fixed order...
    assert ("page", "1") not in params and ("per_page", "10") not in params  # ...defaults left out
    again = api(client, "/api" + self_link)
    assert again == first
    assert client.get(self_link).status_code == 200


def test_entity_order_does_not_change_the_link(client):
    a = api(client, "/api/search?entity=Vladimir+Putin&entity=Maria+Zakharova")["links"]["self"]
    b = api(client, "/api/search?entity=Maria+Zakharova&entity=Vladimir+Putin")["links"]["self"]
    assert a == b == "/search?entity=Maria+Zakharova&entity=Vladimir+Putin"


@pytest.mark.parametrize(
    "url,parameter",
    [
        ("/api/search?page=abc", "page"),
        ("/api/search?page=0", "page"),
        ("/api/search?per_page=10000", "per_page"),
        ("/api/search?per_page=-1", "per_page"),
        ("/api/search?facet_limit=1001", "facet_limit"),
        ("/api/search?date=2023-13", "date"),
        ("/api/search?date=yesterday", "date"),
        ("/api/search?from=2023-02-30", "from"),
        ("/api/search?to=soon", "to"),
        ("/api/search?from=2024-01-02&to=2024-01-01", "from"),
        ("/api/search?sort=best", "sort"),
        ("/api/search?q=" + "x" * 2500, "q"),
    ],
)
def test_api_400s_name_the_parameter(client, url, parameter):
    response = client.get(url)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["parameter"] == parameter and error["message"]


@pytest.mark.parametrize("url", ["/search?page=abc", "/search?per_page=10000", "/search?date=2023-13"])
def test_html_400_page(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert b"That request could not be read" in response.data


@pytest.mark.parametrize(
    "url", ["/doc/0123456789abcdef", "/doc/..%2f..%2fetc%2fpasswd", "/doc/../../etc/passwd", "/nope",
            "/saved/no-such-search", "/saved/..%2f..%2fsecret_key"],
)
def test_404_pages(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert b"Not found" in response.data


def test_api_404_is_json(client):
    response = client.get("/api/doc/0123456789abcdef")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"status": 404, "message": "There is no article with that id.",
                                             "parameter": None}}


def test_search_page(client):
    html = client.get(f"/search?q=Hamas&entity={MARZOUK}").data.decode()
    assert 'data-total="4"' in html
    assert "<mark>Hamas</mark>" in html
    assert 'class="chip chip-entity"' in html and "Remove filter Mousa Abu Marzouk" in html
    assert 'href="/search?q=Hamas"' in html  # the chip's removal link: the same search without it
    assert 'id="facet-person"' in html and 'id="facet-place"' in html
    assert 'rel="alternate" type="application/atom+xml"' in html
    assert "Save this search as" in html
    assert 'class="timeline"' in html


def test_browse_page_and_timeline_bars_drill_in(client):
    html = client.get("/").data.decode()
    assert 'data-total="5"' in html
    bars = re.findall(r'<a href="([^"]+)" class="bar-link" aria-label="([^"]+)"', html)
    assert [label for _, label in bars] == ["2023: 1 article", "2024: 1 article"]
    assert bars[0][0] == "/search?date=2023"
    month_page = client.get("/search?date=2023").data.decode()
    assert 'aria-label="Oct 2023: 1 article"' in month_page


def test_pagination_links(client):
    html = client.get("/search?per_page=2").data.decode()
    assert 'rel="next" href="/search?page=2&amp;per_page=2"' in html
    html = client.get("/search?per_page=2&page=3").data.decode()
    assert 'rel="prev" href="/search?page=2&amp;per_page=2"' in html


def test_did_you_mean_and_notice(client):
    data = api(client, "/api/search?q=Lavrof")
    assert data["total"] == 0 and data["suggestion"] == "lavrov"
    html = client.get("/search?q=Lavrof").data.decode()
    assert 'class="did-you-mean"' in html and 'href="/search?q=lavrov"' in html
    notice = api(client, "/api/search?q=%22Lavrov")["notice"]
    assert notice and "quotation mark" in notice


def test_article_page_and_api(client):
    hit = api(client, "/api/search?q=Galuzin")["hits"][0]
    doc = api(client, f"/api/doc/{hit['id']}")
    assert doc["title"] == hit["title"] and "Mikhail Galuzin" in doc["body"]
    assert doc["date_evidence"] and doc["similar"]
    assert {"value": "Mikhail Galuzin", "type": "person"} in doc["entities"]
    html = client.get(f"/doc/{hit['id']}?q=Galuzin").data.decode()
    assert "<mark>Galuzin</mark>" in html
    assert "Similar articles" in html
    assert 'href="/search?entity=Mikhail+Galuzin"' in html
    assert "26 Oct 2023" in html


def test_atom_feed(client):
    response = client.get("/search.atom?q=Hamas&page=3")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(response.data)
    entries = feed.findall("a:entry", ns)
    assert len(entries) == 5
    assert entries[0].find("a:updated", ns).text == "2024-06-25T00:00:00Z"  # newest first
    assert feed.find("a:title", ns).text == "newsfacet: “Hamas”"
    assert "<mark>" in entries[0].find("a:summary", ns).text


def test_security_headers(client):
    for url in ("/", "/api/search", "/doc/0123456789abcdef", "/saved", "/search.atom"):
        headers = client.get(url).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"


def csrf(client, url="/search?q=Hamas") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).data.decode()).group(1)


def test_saved_searches_lifecycle(client):
    token = csrf(client)
    response = client.post("/saved", data={"name": "Hamas & Putin", "query": "q=Hamas&entity=Vladimir+Putin&page=2",
                                           "csrf_token": token})
    assert response.status_code == 303
    listing = api(client, "/api/saved")["saved"]
    entry = next(s for s in listing if s["name"] == "Hamas & Putin")
    assert entry["slug"].startswith("hamas-putin")
    assert entry["query"] == "q=Hamas&entity=Vladimir+Putin"  # canonical, page dropped
    assert entry["total"] == 2 and entry["new"] == 0
    html = client.get("/saved").data.decode()
    assert "Hamas &amp; Putin" in html
    opened = client.get(f"/saved/{entry['slug']}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/search?q=Hamas&entity=Vladimir+Putin")
    # rename keeps the slug stable
    assert client.post(f"/saved/{entry['slug']}/rename", data={"name": "Kremlin and Hamas",
                                                                "csrf_token": token}).status_code == 303
    renamed = next(s for s in api(client, "/api/saved")["saved"] if s["slug"] == entry["slug"])
    assert renamed["name"] == "Kremlin and Hamas"
    # the same name twice gets a second slug, not an overwrite
    client.post("/saved", data={"name": "Kremlin and Hamas", "query": "q=Kremlin", "csrf_token": token})
    slugs = [s["slug"] for s in api(client, "/api/saved")["saved"]]
    assert len(slugs) == len(set(slugs)) == 2
    for slug in slugs:
        assert client.post(f"/saved/{slug}/delete", data={"csrf_token": token}).status_code == 303
    assert api(client, "/api/saved")["saved"] == []


@pytest.mark.parametrize(
    "form,status",
    [
        ({"name": "x", "query": "q=a"}, 400),  # no CSRF token
        ({"name": "x", "query": "q=a", "csrf_token": "forged"}, 400),
        ({"name": "", "query": "q=a", "csrf_token": None}, 400),
        ({"name": "x", "query": "page=abc", "csrf_token": None}, 400),
        ({"name": "x" * 500, "query": "q=a", "csrf_token": None}, 400),
    ],
)
def test_bad_saves_are_refused(client, form, status):
    token = csrf(client)
    if form.get("csrf_token", "") is None:
        form = dict(form, csrf_token=token)
    assert client.post("/saved", data=form).status_code == status
    assert api(client, "/api/saved")["saved"] == []


def test_state_changes_are_post_only(client):
    assert client.get("/saved/anything/delete").status_code == 405
    assert client.get("/saved/anything/rename").status_code == 405


def test_new_commit_is_seen_without_restart(tmp_path):
    corpus = copy_corpus(SEEDS, tmp_path / "c", SEEDS_CRAWLED)
    build_index([corpus], tmp_path / "ix", Options(), progress=False)
    app = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "ix"), "SAVED_DB": str(tmp_path / "s.db")})
    client = app.test_client()
    assert api(client, "/api/search")["total"] == 5
    token = csrf(client)
    client.post("/saved", data={"name": "berths", "query": "q=berth", "csrf_token": token})
    (corpus / "new.txt").write_text(
        "Port opens new berth\n\nThe port opened a new berth on the south quay for container ships.\n",
        encoding="utf-8")
    build_index([corpus], tmp_path / "ix", Options(), progress=False)
    assert api(client, "/api/search")["total"] == 6
    saved = api(client, "/api/saved")["saved"][0]
    assert (saved["total"], saved["new"]) == (1, 1)
    client.get(f"/saved/{saved['slug']}")  # a visit
    assert api(client, "/api/saved")["saved"][0]["new"] == 0


def test_missing_index_is_a_503_with_advice(tmp_path):
    client = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "none"),
                         "SAVED_DB": str(tmp_path / "s.db")}).test_client()
    response = client.get("/api/search")
    assert response.status_code == 503
    assert "newsfacet index" in response.get_json()["error"]["message"]


def test_configuration_from_environment(tmp_path, monkeypatch, seed_index):
    monkeypatch.setenv("NEWSFACET_INDEX", str(seed_index))
    monkeypatch.setenv("NEWSFACET_PER_PAGE", "2")
    monkeypatch.setenv("NEWSFACET_SAVED_DB", str(tmp_path / "env.db"))
    app = create_app({"TESTING": True})
    assert app.config["INDEX_DIR"] == str(seed_index) and app.config["PER_PAGE"] == 2
    data = app.test_client().get("/api/search").get_json()
    assert data["per_page"] == 2 and len(data["hits"]) == 2
    assert data["links"]["self"] == "/search"  # the configured default is left out of links too


XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "</textarea><svg/onload=alert(1)>",
]


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as fh:
        for i, payload in enumerate(XSS):
            fh.write(json.dumps({
                "title": f"Harbour story {payload}",
                "text": f"The harbour reopened today {payload} after repairs to the quay wall were finished.",
                "source": payload,
                "url": "javascript:alert(1)" if i == 2 else f"https://example.org/{payload}",
                "entities": [{"value": f"Evil {payload}", "type": "org"}],
            }) + "\n")
    index_dir = tmp_path_factory.mktemp("hostile-ix")
    build_index([folder], index_dir, Options(), progress=False)
    app = create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "SAVED_DB": str(index_dir / "s.db")})
    return app.test_client()


@pytest.mark.parametrize("payload", XSS)
def test_planted_and_requested_payloads_come_back_escaped(hostile_client, payload):
    pages = [
        f"/search?q=harbour {payload}",
        "/search?q=harbour",
        f"/search?entity=Evil {payload}",
        "/search.atom?q=harbour",
        f"/search?date={payload}",
    ]
    hits = hostile_client.get("/api/search?q=harbour").get_json()["hits"]
    pages += [f"/doc/{h['id']}?q=harbour" for h in hits]
    for url in pages:
        body = hostile_client.get(url).data.decode()
        assert "<script>alert" not in body
        assert "<img src=x" not in body
        assert "<svg/onload" not in body
        assert 'href="javascript:' not in body
    snippet_markup = re.sub(r"</?mark>", "", " ".join(h["snippet"] for h in hits))
    assert "<" not in snippet_markup


def test_a_saved_search_keeps_an_entity_value_holding_an_ampersand(client):
    """The save form's query is URL-encoded: "&" in a value must not split it."""
    page = client.get("/search?q=hamas&entity=AT%26T").get_data(as_text=True)
    query = re.search(r'name="query" value="([^"]+)"', page).group(1)
    assert parse_qsl(html.unescape(query)) == [("q", "hamas"), ("entity", "AT&T")]
