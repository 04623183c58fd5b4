"""``/facets/<type>``, ``/api/facets/<type>`` and the OR / NOT parameters through the web app.

The corpus is a JSONL feed whose entities are given and whose text names
nobody (all lower case), so every value, type and count below is stated by
the rows themselves, whatever the extractor learns later:

====  ====================  ==========  ==========================================
row   title                 date        entities
====  ====================  ==========  ==========================================
1     ferry talks resume    2024-03-05  Sergey Lavrov, Moscow, Hamas
2     ministers meet        2024-03-07  Lavrov (merged: Sergey Lavrov), Tromsø
3     a quiet week          —           Vladimir Putin, Islamic Resistance Movement (merged: Hamas)
4     harbour works begin   2023-11-20  Vladimir Putin, Moscow, Kremlin
5     summit planned        2024-04-01  Sergey Lavrov, Vladimir Putin, Geneva, Kremlin
6     fishing season opens  2024-03     Ola Nordmann, Tromso (merged: Tromsø)
====  ====================  ==========  ==========================================

"talks" is in rows 1, 2, 4 and 5.  The app lists two values a facet page
(``FACET_PAGE_SIZE``), so paging shows on six rows.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from search.api import SearchRequest, facet_values_request_from_params, request_from_params
from search.ingest import build_index
from search.settings import Options

from .conftest import make_app

ARTICLES = [
    {"title": "ferry talks resume", "date": "2024-03-05", "source": "wire",
     "text": "officials met again on monday to discuss the ferry routes.",
     "entities": [{"value": "Sergey Lavrov", "type": "person"}, {"value": "Moscow", "type": "place"},
                  {"value": "Hamas", "type": "org"}]},
    {"title": "ministers meet", "date": "2024-03-07", "source": "wire",
     "text": "the ministers met for three hours and held talks on fishing quotas.",
     "entities": [{"value": "Lavrov", "type": "person"}, {"value": "Tromsø", "type": "place"}]},
    {"title": "a quiet week", "source": "gazette",
     "text": "nothing much happened in the harbour this week.",
     "entities": [{"value": "Vladimir Putin", "type": "person"},
                  {"value": "Islamic Resistance Movement", "type": "org"}]},
    {"title": "harbour works begin", "date": "2023-11-20", "source": "gazette",
     "text": "dredging of the harbour channel began after talks with the port.",
     "entities": [{"value": "Vladimir Putin", "type": "person"}, {"value": "Moscow", "type": "place"},
                  {"value": "Kremlin", "type": "org"}]},
    {"title": "summit planned", "date": "2024-04-01", "source": "wire",
     "text": "a summit is planned for the spring, after months of talks.",
     "entities": [{"value": "Sergey Lavrov", "type": "person"}, {"value": "Vladimir Putin", "type": "person"},
                  {"value": "Geneva", "type": "place"}, {"value": "Kremlin", "type": "org"}]},
    {"title": "fishing season opens", "date": "2024-03", "source": "gazette",
     "text": "boats left the harbour at dawn as the season opened.",
     "entities": [{"value": "Ola Nordmann", "type": "person"}, {"value": "Tromso", "type": "place"}]},
]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("feed")
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as fh:
        for row in ARTICLES:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    index_dir = tmp_path_factory.mktemp("feed-index")
    report = build_index([folder], index_dir, Options(), progress=False)
    assert report.added == len(ARTICLES) and not report.failed
    app = make_app(index_dir, tmp_path_factory.mktemp("instance"))
    app.config["FACET_PAGE_SIZE"] = 2
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def api(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.data
    data = response.get_json()
    data.pop("elapsed_ms", None)
    return data


def error(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 400, response.data
    return response.get_json()["error"]


# -- /api/facets/<type>: whole documents --------------------------------------------------------------


def test_api_facets_whole_document(client):
    # Person values for "talks" with the place group {Tromsø} and Ola Nordmann excluded: the person group
    # {Lavrov} is left out of the person counts (row 2 is the one "talks" article in Tromsø).
    assert api(client, "/api/facets/person?entity_not=Ola+Nordmann&q=talks&entity_any=Lavrov&entity_any=Tromso") == {
        "type": "person",
        "query": {"q": "talks", "entity": [], "entity_any": ["Lavrov", "Tromso"], "entity_not": ["Ola Nordmann"],
                  "date": None, "from": None, "to": None, "cluster": None, "collapse": "on"},
        "contains": "",
        "sort": "count",
        "total_values": 2,
        "page": 1,
        "per_page": 2,
        "values": [
            {"value": "Sergey Lavrov", "type": "person", "count": 1, "selected": False, "mode": "any"},
            # excluded: dropping the exclusion would bring back no article
            {"value": "Ola Nordmann", "type": "person", "count": 0, "selected": False, "mode": "not"},
        ],
        "links": {
            "html": "/facets/person?q=talks&entity_any=Lavrov&entity_any=Tromso&entity_not=Ola+Nordmann",
            "json": "/api/facets/person?q=talks&entity_any=Lavrov&entity_any=Tromso&entity_not=Ola+Nordmann",
            "search": "/search?q=talks&entity_any=Lavrov&entity_any=Tromso&entity_not=Ola+Nordmann",
            "search_json": "/api/search?q=talks&entity_any=Lavrov&entity_any=Tromso&entity_not=Ola+Nordmann",
            "next": None,
            "prev": None,
        },
    }


def test_api_facets_pages_by_count_then_by_name(client):
    first = api(client, "/api/facets/place")
    assert first["total_values"] == 3 and first["values"] == [
        {"value": "Moscow", "type": "place", "count": 2, "selected": False},
        {"value": "Tromsø", "type": "place", "count": 2, "selected": False},
    ]
    assert first["links"]["next"] == "/api/facets/place?page=2" and first["links"]["prev"] is None
    second = api(client, first["links"]["next"])
    assert second["values"] == [{"value": "Geneva", "type": "place", "count": 1, "selected": False}]
    assert second["links"]["next"] is None and second["links"]["prev"] == "/api/facets/place"
    by_name = api(client, "/api/facets/place?entity_any=Lavrov&sort=name&page=2")
    assert by_name["values"] == [{"value": "Tromsø", "type": "place", "count": 1, "selected": False}]
    assert by_name["links"] == {
        "html": "/facets/place?entity_any=Lavrov&sort=name&page=2",
        "json": "/api/facets/place?entity_any=Lavrov&sort=name&page=2",
        "search": "/search?entity_any=Lavrov",
        "search_json": "/api/search?entity_any=Lavrov",
        "next": None,
        "prev": "/api/facets/place?entity_any=Lavrov&sort=name",
    }
    past = api(client, "/api/facets/place?page=9")
    assert past["values"] == [] and past["total_values"] == 3
    assert past["links"]["prev"] == "/api/facets/place?page=2"


@pytest.mark.parametrize("type_, contains, values", [
    ("place", "tromso", ["Tromsø"]),  # accents folded
    ("place", "TROMSØ", ["Tromsø"]),  # and case
    ("org", "islamic resistance", ["Hamas"]),  # a merged spelling finds its value
    ("person", "LAVROV", ["Sergey Lavrov"]),
    ("org", "  kreml  ", ["Kremlin"]),
    ("place", "O", ["Moscow", "Tromsø"]),  # equal counts by name; Geneva has no o
    ("org", "zzz", []),
])
def test_contains_matches_any_spelling_ignoring_case_and_accents(client, type_, contains, values):
    data = api(client, f"/api/facets/{type_}?" + urlencode({"contains": contains}))
    assert [v["value"] for v in data["values"]] == values
    assert data["contains"] == contains.strip() and data["total_values"] == len(values)


def test_contains_keeps_the_search_filters_and_named_values(client):
    data = api(client, "/api/facets/person?contains=lavrov&entity_not=Sergey+Lavrov")
    assert data["values"] == [{"value": "Sergey Lavrov", "type": "person", "count": 3, "selected": False,
                               "mode": "not"}]
    data = api(client, "/api/facets/person?contains=v&entity=Vladimir+Putin&sort=name")
    assert data["values"] == [
        {"value": "Sergey Lavrov", "type": "person", "count": 1, "selected": False},
        {"value": "Vladimir Putin", "type": "person", "count": 3, "selected": True},
    ]


# -- /api/search with entity_any / entity_not -----------------------------------------------------


def test_api_search_with_or_and_not_whole_document(client):
    # "talks" (1, 2, 4, 5) AND (Putin OR Lavrov) AND (Geneva OR the unknown "Trumsø") AND NOT Moscow: row 5.
    url = ("/api/search?entity_not=Moscow&q=talks&entity_any=Vladimir+Putin&entity_any=Lavrov"
           "&entity_any=Geneva&entity_any=Trums%C3%B8&facet_limit=1")
    canonical = ("q=talks&entity_any=Geneva&entity_any=Lavrov&entity_any=Trums%C3%B8&entity_any=Vladimir+Putin"
                 "&entity_not=Moscow&facet_limit=1")
    assert api(client, url) == {
        "query": {"q": "talks", "entity": [], "entity_any": ["Geneva", "Lavrov", "Trumsø", "Vladimir Putin"],
                  "entity_not": ["Moscow"], "date": None, "from": None, "to": None, "cluster": None,
                  "sort": "relevance", "page": 1, "per_page": 10, "facet_limit": 1, "timeline": "count",
                  "collapse": "on"},
        "total": 1,
        "collapsed": True,
        "copies": 1,
        "page": 1,
        "per_page": 10,
        "hits": [{
            "id": "c1134b83bf78668e",
            "path": "feed.jsonl#5",
            "title": "summit planned",
            "date": "2024-04-01",
            "date_precision": "day",
            "source": "wire",
            "url": None,
            "snippet": "… planned for the spring, after months of <mark>talks</mark>.",
            "entities": [{"value": "Geneva", "type": "place"}, {"value": "Kremlin", "type": "org"},
                         {"value": "Sergey Lavrov", "type": "person"}, {"value": "Vladimir Putin", "type": "person"}],
            "cluster": {"id": "c1134b83bf78668e", "size": 1, "sources": []},
        }],
        "facets": {
            "entity": [
                # places over "talks" AND a person of the group AND NOT Moscow (2, 5): Geneva wins the one
                # place slot over Tromsø by name; people over "talks" AND Geneva AND NOT Moscow (5).
                {"value": "Geneva", "type": "place", "count": 1, "selected": False, "mode": "any"},
                {"value": "Kremlin", "type": "org", "count": 1, "selected": False},
                {"value": "Sergey Lavrov", "type": "person", "count": 1, "selected": False, "mode": "any"},
                {"value": "Vladimir Putin", "type": "person", "count": 1, "selected": False, "mode": "any"},
                {"value": "Moscow", "type": "place", "count": 0, "selected": False, "mode": "not"},
            ],
            "date": [{"value": "2024", "count": 1, "selected": False}],
        },
        # One year, one month: the days of April 2024; row 5 is the only article of 1 April.
        "timeline": {"mode": "count", "level": "day", "within": "2024-04", "periods": [
            {"value": f"2024-04-{d:02d}", "count": int(d == 1), "total": int(d == 1), "share": 1.0 if d == 1 else None}
            for d in range(1, 31)]},
        "suggestion": None,
        "notice": None,
        "links": {
            "self": "/search?" + canonical,
            "json": "/api/search?" + canonical,
            "atom": "/search.atom?" + canonical.removesuffix("&facet_limit=1"),
            "csv": "/export.csv?" + canonical.removesuffix("&facet_limit=1"),
            "jsonl": "/export.jsonl?" + canonical.removesuffix("&facet_limit=1"),
            "facets_csv": "/export/facets.csv?" + canonical.removesuffix("&facet_limit=1"),
            "timeline_csv": "/export/timeline.csv?" + canonical.removesuffix("&facet_limit=1"),
        },
    }


def test_or_counts_are_disjunctive_and_not_counts_what_it_excludes(client):
    data = api(client, "/api/search?entity_any=Sergey+Lavrov&entity_not=Moscow&facet_limit=10")
    assert data["total"] == 2  # rows 2 and 5 (row 1 is in Moscow)
    counts = {f["value"]: (f["count"], f["selected"], f.get("mode")) for f in data["facets"]["entity"]}
    assert counts == {
        "Sergey Lavrov": (2, False, "any"),  # the person group left out: all but the Moscow rows
        "Vladimir Putin": (2, False, None),  # rows 3 and 5
        "Ola Nordmann": (1, False, None),
        "Moscow": (1, False, "not"),  # dropping NOT Moscow brings back row 1
        "Tromsø": (1, False, None), "Geneva": (1, False, None), "Kremlin": (1, False, None),
    }


# -- 400s -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, parameter, message", [
    ("/api/facets/people", "type", "type must be one of person, org, place, other, not 'people'"),
    ("/api/facets/person?sort=newest", "sort", "sort must be one of count, name, not 'newest'"),
    ("/api/facets/person?page=0", "page", "page must be a whole number from 1 to 100000"),
    ("/api/facets/person?page=two", "page", "page must be a whole number, not 'two'"),
    ("/api/facets/person?contains=" + "x" * 201, "contains", "contains is longer than 200 characters"),
    ("/api/facets/person?entity=Moscow&entity_not=Moscow", "entity_not", "'moscow' is both required and excluded"),
    ("/api/facets/person?" + urlencode([("entity_any", f"v{i}") for i in range(21)]), "entity_any",
     "at most 20 entity_any filters at once"),
    ("/api/search?entity_any=Geneva&entity_not=geneva", "entity_not", "'geneva' is both required and excluded"),
    ("/api/search?" + urlencode([("entity_not", f"v{i}") for i in range(21)]), "entity_not",
     "at most 20 entity_not filters at once"),
])
def test_bad_parameters_are_400_naming_the_parameter(client, url, parameter, message):
    assert error(client, url) == {"status": 400, "message": message, "parameter": parameter}


def test_bad_type_on_the_html_page_is_a_400_page(client):
    response = client.get("/facets/people?q=talks")
    assert response.status_code == 400 and response.mimetype == "text/html"
    page = response.data.decode()
    assert "person, org, place, other" in page and "<code>type</code>" in page


# -- the canonical URL round trip ---------------------------------------------------------------------


def test_canonical_urls_round_trip_with_or_and_not(client):
    messy = ("/api/search?page=1&entity_not=Moscow&sort=newest&entity_any=%20Vladimir+Putin&entity=Kremlin"
             "&entity_any=Geneva&entity_any=Vladimir+Putin&q=+talks+&date=2024")
    data = api(client, messy)
    canonical = ("q=talks&entity=Kremlin&entity_any=Geneva&entity_any=Vladimir+Putin&entity_not=Moscow"
                 "&date=2024&sort=newest")
    assert data["links"]["self"] == "/search?" + canonical
    # Read back, the canonical URL is the same request and gives the same answer.
    req = request_from_params(MultiDict(parse_qsl(canonical)))
    assert urlencode(req.to_params()) == canonical
    assert req == SearchRequest(q="talks", entities=("Kremlin",), entities_any=("Vladimir Putin", "Geneva"),
                                entities_not=("Moscow",), date="2024", sort="newest")
    again = api(client, data["links"]["json"])
    assert again == data
    # The facet pages: the search's sort and page are not theirs; their own come after the search's.
    facets = api(client, "/api/facets/org?page=1&sort=name&entity_not=Moscow&contains=krem&entity_any=Geneva")
    assert facets["links"]["json"] == "/api/facets/org?entity_any=Geneva&entity_not=Moscow&contains=krem&sort=name"
    freq = facet_values_request_from_params("org", MultiDict(parse_qsl(urlsplit(facets["links"]["json"]).query)))
    assert urlencode(freq.to_params()) == urlsplit(facets["links"]["json"]).query
    assert api(client, facets["links"]["json"]) == facets
    assert client.get(facets["links"]["html"]).status_code == 200


# -- saved searches, Atom and the JSON twin carry the new parameters ------------------------------------


def test_saved_searches_feeds_and_json_twin_carry_or_and_not(client):
    page = client.get("/search?entity_not=Moscow&q=talks&entity_any=Lavrov")
    canonical = "q=talks&entity_any=Lavrov&entity_not=Moscow"
    assert page.status_code == 200
    assert page.headers["Link"] == f'</api/search?{canonical}>; rel="alternate"; type="application/json"'
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.data.decode()).group(1)
    saved = client.post("/saved", data={"name": "Lavrov not Moscow", "csrf_token": token,
                                        "query": "entity_not=Moscow&page=2&q=talks&entity_any=Lavrov"})
    assert saved.status_code == 303
    entry = next(s for s in api(client, "/api/saved")["saved"] if s["name"] == "Lavrov not Moscow")
    assert entry["query"] == canonical and entry["total"] == 2  # rows 2 and 5
    opened = client.get(f"/saved/{entry['slug']}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/search?" + canonical)
    feed = client.get("/search.atom?entity_not=Moscow&q=talks&entity_any=Lavrov&page=3")
    assert feed.status_code == 200
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ET.fromstring(feed.data)
    assert sorted(e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)) == [
        "ministers meet", "summit planned"]
    assert root.find("a:link[@rel='self']", ns).get("href").endswith("/search.atom?" + canonical)
    assert root.find("a:link[@rel='alternate']", ns).get("href").endswith("/search?" + canonical)


# -- the HTML page, without JavaScript -------------------------------------------------------------------


class _Page(HTMLParser):
    """The parts of /facets/<type> a browser without JavaScript uses: the filter form, the links."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.values: list[dict] = []
        self.links: list[dict] = []
        self._value = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"attrs": a, "inputs": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(a)
        elif tag == "li" and "value" in (a.get("class") or "").split():
            self._value = {"value": a["data-value"], "class": a["class"], "links": {}}
            self.values.append(self._value)
        elif tag == "a":
            self.links.append(a)
            if self._value is not None:
                kind = (a.get("class") or "").split()[0]
                self._value["links"][kind] = a["href"]

    def handle_endtag(self, tag):
        if tag == "li":
            self._value = None


def parse(client, url: str) -> _Page:
    response = client.get(url)
    assert response.status_code == 200, response.data
    page = _Page()
    page.feed(response.data.decode())
    return page


def submit(form: dict, **fields) -> str:
    """The URL a browser without JavaScript asks for when *form* is submitted with *fields* typed in."""
    pairs = [(i["name"], fields.get(i["name"], i.get("value", ""))) for i in form["inputs"] if i.get("name")]
    return form["attrs"]["action"] + "?" + urlencode(pairs)


def test_the_filter_box_is_a_plain_get_form(client):
    page = parse(client, "/facets/place?q=harbour&entity_not=Ola+Nordmann&sort=name")
    form = next(f for f in page.forms if "values-filter" in f["attrs"].get("class", ""))
    assert form["attrs"]["method"] == "get" and form["attrs"]["action"] == "/facets/place"
    url = submit(form, contains="TROMSO")
    assert url == "/facets/place?q=harbour&entity_not=Ola+Nordmann&sort=name&contains=TROMSO"
    found = parse(client, url)
    # "harbour" is in rows 3, 4 and 6; with Ola Nordmann excluded, 3 and 4: no Tromsø any more.
    assert [v["value"] for v in found.values] == []
    everything = parse(client, "/facets/place?contains=tromso")
    assert [v["value"] for v in everything.values] == ["Tromsø"]


def test_each_value_links_to_require_or_and_exclude_it(client):
    page = parse(client, "/facets/person?q=talks&entity_any=Vladimir+Putin&entity_not=Ola+Nordmann&sort=name")
    by_value = {v["value"]: v for v in page.values}
    assert list(by_value) == ["Ola Nordmann", "Sergey Lavrov"]  # by name: Putin is on page 2
    lavrov = by_value["Sergey Lavrov"]["links"]
    assert lavrov == {
        "value-link": "/search?q=talks&entity=Sergey+Lavrov&entity_any=Vladimir+Putin&entity_not=Ola+Nordmann",
        "or": "/search?q=talks&entity_any=Sergey+Lavrov&entity_any=Vladimir+Putin&entity_not=Ola+Nordmann",
        "not": "/search?q=talks&entity_any=Vladimir+Putin&entity_not=Ola+Nordmann&entity_not=Sergey+Lavrov",
    }
    ola = by_value["Ola Nordmann"]
    assert "mode-not" in ola["class"]
    assert ola["links"]["not"] == "/search?q=talks&entity_any=Vladimir+Putin"  # toggles the exclusion off
    hrefs = {a.get("href") for a in page.links}
    assert "/search?q=talks&entity_any=Vladimir+Putin&entity_not=Ola+Nordmann" in hrefs  # back to the search
    assert "/facets/person?q=talks&entity_any=Vladimir+Putin&entity_not=Ola+Nordmann" in hrefs  # sort by count
    nxt = next(a["href"] for a in page.links if a.get("rel") == "next")
    assert nxt == "/facets/person?q=talks&entity_any=Vladimir+Putin&entity_not=Ola+Nordmann&sort=name&page=2"
    second = parse(client, nxt)
    putin = {v["value"]: v for v in second.values}["Vladimir Putin"]
    assert "mode-any" in putin["class"]
    assert putin["links"]["or"] == "/search?q=talks&entity_not=Ola+Nordmann"


def test_the_heading_says_which_filters_the_counts_are_over(client):
    response = client.get("/facets/person?q=harbour&entity_any=Ola+Nordmann&entity_any=Kari+Nordmann"
                          "&entity_not=Tromsø&from=2023-01-01&to=2023-06-30")
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))
    assert ("Counted over the articles with these filters: any of Kari Nordmann or Ola Nordmann; "
            "without Tromsø; from 2023-01-01; to 2023-06-30.") in text
    plain = client.get("/facets/person?q=harbour").get_data(as_text=True)
    assert "values-scope" not in plain
