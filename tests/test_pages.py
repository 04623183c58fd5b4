"""The search page's presentation through the Flask test client: facet controls (AND, OR, NOT),
chips, the date-range form and timeline level, the fixes of issue 13 (sort label, past the end,
400 page, hit chips, title marks, plurals) and the Atom feed's times and labels.

Most tests use a small made-up newsroom (:func:`write_newsroom`): one year, six months, a few
people, organisations and places given explicitly per row, so every count can be counted by hand.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from search.ingest import build_index
from search.settings import Options
from web import create_app

PEOPLE = ("Alice Archer", "Bob Brand", "Carla Cruz", "Dan Dorsey")
ORGS = ("Acme Corp", "Globex")
EXTRAS = tuple(f"Extra Name {n:02d}" for n in range(1, 13))
ROWS = 30
CROWDED = ROWS - 1  # the row with more entities than a hit shows chips


def newsroom_rows() -> list[dict]:
    """The rows of the made-up newsroom: dated Jan–Jun 2023, entities chosen by the row number."""
    rows = []
    for i in range(ROWS):
        people = [PEOPLE[i % 4]] + ([PEOPLE[(i + 1) % 4]] if i % 3 == 0 else [])
        entities = {"person": people, "place": ["Springfield" if i % 2 == 0 else "Shelbyville"]}
        if i % 5:
            entities["org"] = [ORGS[i % 2]]
        if i == CROWDED:
            entities["other"] = list(EXTRAS)
        rows.append({
            "title": f"Harbour report {i}: cargo and shipping" if i % 2 == 0 else f"Market note {i}",
            "date": f"2023-{i % 6 + 1:02d}-{i % 27 + 1:02d}",
            "text": (f"the port saw cargo ships arriving early today. report number {i} describes the "
                     "shipping schedule in some detail, and the market for freight is described too. ") * 3,
            "entities": entities,
        })
    return rows


def write_newsroom(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "newsroom.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in newsroom_rows()), encoding="utf-8")
    return folder


def matching(rows: list[dict], *, all_=(), any_=(), not_=()) -> list[int]:
    """Brute force: the rows whose entities satisfy the filters (OR groups per type)."""
    def names(row):
        return {(n, t) for t, ns in row["entities"].items() for n in ns}

    types = {n: t for row in rows for n, t in names(row)}
    out = []
    for i, row in enumerate(rows):
        have = {n for n, _ in names(row)}
        groups: dict[str, set[str]] = {}
        for v in any_:
            groups.setdefault(types[v], set()).add(v)
        if all(v in have for v in all_) and all(g & have for g in groups.values()) and not (set(not_) & have):
            out.append(i)
    return out


@pytest.fixture(scope="module")
def newsroom_index(tmp_path_factory) -> Path:
    folder = write_newsroom(tmp_path_factory.mktemp("newsroom") / "corpus")
    index_dir = tmp_path_factory.mktemp("newsroom-index")
    report = build_index([folder], index_dir, Options(), progress=False)
    assert not report.failed, report.failed
    return index_dir


@pytest.fixture(scope="module")
def client(newsroom_index, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    app = create_app({"TESTING": True, "INDEX_DIR": str(newsroom_index), "SAVED_DB": str(instance / "saved.db"),
                      "SECRET_KEY": "test"})
    return app.test_client()


@pytest.fixture(scope="module")
def seed_client(seed_app):
    return seed_app.test_client()


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.data[:500]
    return response.data.decode()


def api(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.data[:500]
    return response.get_json()


def facet_items(html: str, type_: str) -> list[dict]:
    """The sidebar's entries of one type, in order: value, count, mode and the three links."""
    section = re.search(rf'<section class="facet facet-{type_}[^"]*" id="facet-{type_}".*?</section>', html, re.S)
    assert section, f"no {type_} section"
    items = []
    for li in re.finditer(r'<li class="value( selected mode-(\w+))?" data-value="([^"]+)">(.*?)</li>',
                          section.group(0), re.S):
        body = li.group(4)
        links = {m.group(1): unescape(m.group(2))
                 for m in re.finditer(r'<a class="(value-link|or|not)[^"]*" href="([^"]+)"', body)}
        items.append({"value": unescape(li.group(3)), "mode": li.group(2),
                      "count": int(re.search(r'<span class="count">(\d+)</span>', body).group(1)), **links})
    return items


def params(href: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(href).query)


def chips(html: str, kind: str) -> list[str]:
    return [unescape(re.sub(r"<[^>]+>", "", m).replace("×", "").strip())
            for m in re.findall(rf'<li class="chip chip-{kind}">(.*?)</li>', html, re.S)]


def total(html: str) -> int:
    return int(re.search(r'data-total="(\d+)"', html).group(1))


# -- facet controls --------------------------------------------------------------------------


def test_each_value_has_and_or_not_links_in_canonical_order(client):
    html = page(client, "/search?q=harbour")
    people = facet_items(html, "person")
    assert {p["value"] for p in people} == set(PEOPLE) and all(p["mode"] is None for p in people)
    alice = next(p for p in people if p["value"] == "Alice Archer")
    assert params(alice["value-link"]) == [("q", "harbour"), ("entity", "Alice Archer")]
    assert params(alice["or"]) == [("q", "harbour"), ("entity_any", "Alice Archer")]
    assert params(alice["not"]) == [("q", "harbour"), ("entity_not", "Alice Archer")]
    # without an OR group the OR control is a plain "or"; no checkbox marks yet
    assert "has-or-group" not in html and "☐" not in html


def test_or_group_counts_are_disjunctive_and_match_brute_force(client):
    rows = newsroom_rows()
    html = page(client, "/search?entity_any=Alice+Archer")
    assert total(html) == len(matching(rows, any_=["Alice Archer"]))
    people = {p["value"]: p for p in facet_items(html, "person")}
    assert people["Alice Archer"]["mode"] == "any"
    assert 'class="facet facet-person has-or-group"' in html and "☑" in html and "☐" in html
    for value, entry in people.items():
        # the count is what the search would give with the value in place of the group
        assert entry["count"] == len(matching(rows, any_=[value])), value
        if value != "Alice Archer":
            assert params(entry["or"]) == sorted([("entity_any", "Alice Archer"), ("entity_any", value)])
            both = api(client, entry["or"].replace("/search", "/api/search"))
            assert both["total"] == len(matching(rows, any_=["Alice Archer", value]))
    # the checked value's "or" unchecks it
    assert params(people["Alice Archer"]["or"]) == []
    assert chips(html, "any") == ["Alice Archer"]
    assert "People, any of:" in html


def test_not_chip_and_excluded_value_pinned(client):
    rows = newsroom_rows()
    html = page(client, "/search?entity=Acme+Corp&entity_not=Alice+Archer")
    assert total(html) == len(matching(rows, all_=["Acme Corp"], not_=["Alice Archer"]))
    assert chips(html, "not") == ["− Alice Archer"]
    assert 'aria-label="Stop excluding Alice Archer"' in html
    people = facet_items(html, "person")
    assert people[0]["value"] == "Alice Archer" and people[0]["mode"] == "not"  # pinned to the top
    assert params(people[0]["value-link"]) == [("entity", "Acme Corp")]
    orgs = facet_items(html, "org")
    assert orgs[0]["value"] == "Acme Corp" and orgs[0]["mode"] == "all"


def test_moving_a_value_between_and_or_not_keeps_it_in_one_place(client):
    html = page(client, "/search?entity=Bob+Brand")
    bob = next(p for p in facet_items(html, "person") if p["value"] == "Bob Brand")
    assert bob["mode"] == "all"
    assert params(bob["or"]) == [("entity_any", "Bob Brand")]
    assert "not" not in bob  # a required value offers no "−": remove it first, or "or" it
    html = page(client, "/search?entity_not=Bob+Brand")
    bob = facet_items(html, "person")[0]
    assert bob["value"] == "Bob Brand" and "or" not in bob and "not" not in bob


def test_selected_values_are_pinned_even_when_rare(client):
    html = page(client, "/search?entity=Extra+Name+12")
    others = facet_items(html, "other")
    assert others[0]["value"] == "Extra Name 12" and others[0]["mode"] == "all"


def test_more_links_to_the_values_page_with_the_search(client):
    html = page(client, "/search?q=harbour&entity_any=Alice+Archer&facet_limit=2&page=1")
    more = re.search(r'<p class="more"><a href="([^"]+)">More people…</a>', html)
    assert more
    path, query = unescape(more.group(1)).split("?")
    assert path == "/facets/person"
    assert parse_qsl(query) == [("q", "harbour"), ("entity_any", "Alice Archer")]
    assert "facet_limit=1000" not in html


def test_chips_remove_one_filter_each(client):
    html = page(client, "/search?entity=Acme+Corp&entity_any=Alice+Archer&entity_any=Bob+Brand"
                        "&entity_not=Dan+Dorsey&from=2023-02-01&to=2023-05-31")
    assert chips(html, "entity") == ["Acme Corp"]
    assert chips(html, "any") == ["Alice Archer", "Bob Brand"]
    assert chips(html, "not") == ["− Dan Dorsey"]
    # The OR group reads "People, any of: A or B", then "without: − C" — never "or B − C".
    labels = [unescape(m) for m in re.findall(r'<li class="chip-or[^"]*" aria-hidden="true">([^<]*)</li>', html)]
    assert labels == ["People, any of:", "or", "without:"]
    assert chips(html, "from") == ["from 2023-02-01"] and chips(html, "to") == ["to 2023-05-31"]
    assert "Filters (6)" in html
    removal = re.search(r'<li class="chip chip-any"><a href="([^"]+)"', html).group(1)
    assert ("entity_any", "Alice Archer") not in params(unescape(removal))
    assert ("entity_any", "Bob Brand") in params(unescape(removal))


# -- dates -------------------------------------------------------------------------------------


def test_date_range_form_carries_the_other_parameters(client):
    html = page(client, "/search?q=harbour&entity_any=Alice+Archer&sort=oldest&page=2&from=2023-02-01")
    form = re.search(r'<form class="date-range".*?</form>', html, re.S).group(0)
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    assert [(k, unescape(v)) for k, v in hidden] == [("q", "harbour"), ("entity_any", "Alice Archer"),
                                                     ("sort", "oldest")]
    assert 'name="from" type="date" value="2023-02-01"' in form and 'name="to" type="date" value=""' in form
    assert '<label for="range-from">From</label>' in form and '<label for="range-to">To</label>' in form
    # what the form sends (an empty "to" included) is a valid search
    sent = page(client, "/search?q=harbour&entity_any=Alice+Archer&sort=oldest&from=2023-02-01&to=2023-04-30")
    rows = newsroom_rows()
    expected = [i for i in matching(rows, any_=["Alice Archer"])
                if "Harbour" in rows[i]["title"] and "2023-02-01" <= rows[i]["date"] <= "2023-04-30"]
    assert total(sent) == len(expected)
    assert total(page(client, "/search?q=harbour&from=2023-02-01&to=")) >= 1


def test_a_single_year_timeline_shows_its_months(client):
    html = page(client, "/")
    bars = re.findall(r'<a href="([^"]+)" class="bar-link" aria-label="([^"]+)"', html)
    labels = [label for _, label in bars]
    assert labels == [f"{m} 2023: 5 articles" for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun")]
    assert unescape(bars[0][0]) == "/search?date=2023-01"
    assert 'data-unit="month"' in html and "Matches per month in 2023" in html
    assert html.count('<span class="bar-label') == 12  # Jul–Dec drawn as empty months
    assert "Jul 2023: no articles" in html  # empty bars carry their text too
    # the counts are text on the bars, not only in a tooltip
    assert re.search(r'<span class="bar-count">5</span>', html)


def test_a_single_month_timeline_shows_its_days(client):
    html = page(client, "/search?date=2023-01")
    assert 'data-unit="day"' in html
    assert html.count('<span class="bar-label') == 31
    days = re.findall(r'class="bar-link" aria-label="(\d+) Jan 2023: (\d+) articles?"', html)
    assert sum(int(n) for _, n in days) == 5


def test_one_month_in_range_drills_to_days(client):
    html = page(client, "/search?from=2023-03-01&to=2023-03-31")
    assert 'data-unit="day"' in html and "Matches per day in Mar 2023" in html


# -- fixes ---------------------------------------------------------------------------------------


def test_sort_says_newest_for_the_empty_query(client):
    html = page(client, "/")
    sort = re.search(r'<nav class="sort".*?</nav>', html, re.S).group(0)
    assert '<strong aria-current="true">Newest</strong>' in sort and "Relevance" not in sort
    assert 'href="/search?sort=oldest"' in sort
    sort = re.search(r'<nav class="sort".*?</nav>', page(client, "/search?sort=oldest"), re.S).group(0)
    assert '<strong aria-current="true">Oldest</strong>' in sort and 'href="/search"' in sort
    sort = re.search(r'<nav class="sort".*?</nav>', page(client, "/search?q=harbour"), re.S).group(0)
    assert '<strong aria-current="true">Relevance</strong>' in sort


def test_a_page_past_the_end_links_to_the_last_page(client):
    html = page(client, "/search?q=harbour&page=9")
    heading = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", re.search(r'<h1 id="results-heading">(.*?)</h1>', html,
                                                                        re.S).group(1))).strip()
    assert heading.startswith("Page 9 is past the end (15 articles for harbour)"), heading
    assert "No articles match" not in html
    last = re.search(r'<a class="last-page" href="([^"]+)">Go to the last page \(2\)</a>', html)
    assert last and unescape(last.group(1)) == "/search?q=harbour&page=2"
    assert "No articles match" in page(client, "/search?q=zebra")


def test_400_page_keeps_the_query(client):
    html = page(client, "/search?q=harbour+cargo&page=abc", 400)
    assert 'id="q" name="q" type="search" value="harbour cargo"' in html
    assert '<a href="/search?q=harbour+cargo">Back to search</a>' in html
    html = page(client, "/search?q=harbour&entity=Acme+Corp&entity_not=Acme+Corp", 400)
    assert 'value="harbour"' in html
    # when the query itself is what is wrong, "Back to search" does not send it again
    html = page(client, "/search?q=" + "x" * 2500, 400)
    assert '<a href="/search">Back to search</a>' in html


def test_filtered_entity_is_the_first_chip_and_never_cut(client):
    html = page(client, "/search?entity=Extra+Name+12")
    hit = re.search(r'<ul class="entity-chips".*?</ul>', html, re.S).group(0)
    names = [unescape(n) for n in re.findall(r'<a class="entity [^"]*"[^>]*>([^<]+)</a>', hit)]
    assert names[0] == "Extra Name 12"
    assert 'class="entity type-other filtered"' in hit
    assert len(names) == 9  # the filtered one plus the usual eight
    html = page(client, "/search?entity_any=Extra+Name+11&entity_any=Extra+Name+12")
    hit = re.search(r'<ul class="entity-chips".*?</ul>', html, re.S).group(0)
    assert [unescape(n) for n in re.findall(r'>([^<]+)</a>', hit)][:2] == ["Extra Name 11", "Extra Name 12"]


def test_query_terms_marked_in_titles(client):
    html = page(client, "/search?q=harbour")
    titles = re.findall(r'<h2 class="hit-title"><a href="[^"]+">(.*?)</a></h2>', html)
    assert titles and all("<mark>Harbour</mark> report" in t for t in titles if "Harbour" in t)
    assert not re.search(r"<mark>(?!Harbour)", "".join(titles))
    assert "<mark>" not in "".join(re.findall(r'<h2 class="hit-title">(.*?)</h2>', page(client, "/")))


def test_plurals_in_titles_and_timeline(client, seed_client):
    assert "<title>harbour · 15 articles · newsfacet</title>" in page(client, "/search?q=harbour")
    assert "<title>Galuzin · 1 article · newsfacet</title>" in page(seed_client, "/search?q=Galuzin")
    assert "3 undated articles are not charted" in page(seed_client, "/")


# -- Atom -----------------------------------------------------------------------------------------

ATOM = {"a": "http://www.w3.org/2005/Atom"}


def test_atom_undated_entries_use_indexed_time_and_feed_is_latest(seed_client):
    feeds = [ET.fromstring(seed_client.get("/search.atom").data) for _ in range(2)]
    entries = feeds[0].findall("a:entry", ATOM)
    assert len(entries) == 5
    times = {}
    for entry in entries:
        doc_id = entry.find("a:id", ATOM).text.rsplit("/", 1)[1]
        doc = api(seed_client, f"/api/doc/{doc_id}")
        updated = entry.find("a:updated", ATOM).text
        if doc["date"]:
            assert updated == f"{doc['date']}T00:00:00Z"
        else:
            indexed = doc["indexed_at"].replace("+00:00", "Z")
            assert updated == indexed, (updated, doc["indexed_at"])
        times[doc_id] = updated
    # the same on every fetch, and the feed's own time is the latest entry's
    assert [e.find("a:updated", ATOM).text for e in feeds[1].findall("a:entry", ATOM)] == list(times.values())
    assert feeds[0].find("a:updated", ATOM).text == max(times.values())
    assert feeds[1].find("a:updated", ATOM).text == feeds[0].find("a:updated", ATOM).text


def test_atom_category_labels_are_readable(seed_client, client):
    feed = ET.fromstring(seed_client.get("/search.atom").data)
    labels = {c.get("label") for c in feed.iter("{http://www.w3.org/2005/Atom}category")}
    assert labels and labels <= {"Person", "Organisation", "Place", "Other name"}
    assert "Organisation" in labels
    feed = ET.fromstring(client.get("/search.atom?entity_any=Alice+Archer&entity_not=Bob+Brand").data)
    entries = feed.findall("a:entry", ATOM)
    assert len(entries) == len(matching(newsroom_rows(), any_=["Alice Archer"], not_=["Bob Brand"]))
    assert all(any(c.get("term") == "Alice Archer" for c in e.findall("a:category", ATOM)) for e in entries)
    self_link = feed.find("a:link[@rel='self']", ATOM).get("href")
    assert self_link.endswith("/search.atom?entity_any=Alice+Archer&entity_not=Bob+Brand")


# -- saved searches --------------------------------------------------------------------------------


def csrf(client, url="/search") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).data.decode()).group(1)


def test_saving_confirms_and_deleting_asks_first_then_offers_undo(client):
    token = csrf(client)
    query = "q=harbour&entity_any=Alice+Archer&entity_not=Bob+Brand"
    response = client.post("/saved", data={"name": "Harbour, Alice not Bob", "query": query, "csrf_token": token})
    assert response.status_code == 303
    listing = page(client, response.headers["Location"].split("#")[0])
    assert "Saved “Harbour, Alice not Bob”." in listing and 'role="status"' in listing
    slug = next(s["slug"] for s in api(client, "/api/saved")["saved"] if s["name"] == "Harbour, Alice not Bob")
    assert f'<tr id="saved-{slug}" class="just-saved">' in listing
    assert "Saved “" not in page(client, "/saved")  # said once
    # The list's "Delete…" is a link to a confirmation step; nothing is deleted by following it.
    assert f'href="/saved/{slug}/confirm-delete"' in page(client, "/saved")
    confirm = page(client, f"/saved/{slug}/confirm-delete")
    assert "Delete the saved search “Harbour, Alice not Bob”?" in confirm
    assert f'action="/saved/{slug}/delete"' in confirm and f'href="/saved#saved-{slug}"' in confirm
    assert any(s["slug"] == slug for s in api(client, "/api/saved")["saved"])
    # Deleting confirms, and "Undo" saves it again with the same name and search.
    response = client.post(f"/saved/{slug}/delete", data={"csrf_token": token})
    assert response.status_code == 303
    listing = page(client, "/saved")
    assert "Deleted “Harbour, Alice not Bob”." in listing
    form = re.search(r'<form method="post" action="/saved">.*?</form>', listing, re.S).group(0)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    assert unescape(fields["query"]) == query and unescape(fields["name"]) == "Harbour, Alice not Bob"
    assert not any(s["slug"] == slug for s in api(client, "/api/saved")["saved"])
    client.post("/saved", data={"name": unescape(fields["name"]), "query": unescape(fields["query"]),
                                "csrf_token": token})
    back = next(s for s in api(client, "/api/saved")["saved"] if s["name"] == "Harbour, Alice not Bob")
    assert back["query"] == query and back["total"] == len(
        [i for i in matching(newsroom_rows(), any_=["Alice Archer"], not_=["Bob Brand"])
         if "Harbour" in newsroom_rows()[i]["title"]])
    assert client.get("/saved/no-such/confirm-delete").status_code == 404
