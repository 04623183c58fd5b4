"""The export links in a real browser (Chromium through Playwright): on the search page, carrying
the search's filters, and downloading files that parse back to the result set.

The server, the browser and the guarded :class:`~tests.test_browser.Session` (nothing leaves
127.0.0.1; no browser is downloaded) come from ``test_browser``, on the seeds.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from . import test_browser
from .test_browser import Session, click_facet, expect, facet_with_count_below, search_for, total
from .test_browser import api_json as api

pytestmark = test_browser.pytestmark
browser, base_url = test_browser.browser, test_browser.base_url  # the fixtures: Chromium, the seeds' server

LINKS = {"csv": ".share a.export-csv", "jsonl": ".share a.export-jsonl",
         "facets_csv": ".share a.export-facets", "timeline_csv": ".share a.export-timeline"}


@pytest.fixture
def session(browser, base_url):
    s = Session(browser, base_url, accept_downloads=True)
    yield s
    s.close()
    assert s.errors == []


def every_hit(s: Session, pairs) -> list[dict]:
    """The whole result set of a search through its JSON twin, page by page."""
    hits, page = [], 1
    while True:
        data = api(s, "/api/search", [*pairs, ("per_page", "100"), ("page", str(page))])
        hits += data["hits"]
        if len(hits) >= data["total"]:
            return hits
        page += 1


def download(page, selector: str) -> tuple[str, str]:
    """Click the link and wait for its download: ``(suggested file name, text)``."""
    with page.expect_download() as caught:
        page.locator(selector).click()
    got = caught.value
    assert got.failure() is None
    return got.suggested_filename, Path(got.path()).read_text(encoding="utf-8")


def search_pairs(url: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in parse_qsl(urlsplit(url).query) if k not in ("page", "per_page", "facet_limit")]


def test_export_links_carry_the_search_and_download_the_result_set(session):
    page = session.page
    search_for(page, "Hamas")
    person, count = facet_with_count_below(page, "person", total(page))
    click_facet(page, "person", person)
    page.locator("nav.sort a", has_text="Oldest").click()
    page.wait_for_url(re.compile(r"sort=oldest"))
    assert total(page) == count
    pairs = search_pairs(page.url)
    assert ("q", "Hamas") in pairs and ("entity", person) in pairs and ("sort", "oldest") in pairs

    # The four links are on the page, beside the feed and the JSON twin, and are the twin's links.
    links = api(session, "/api/search", pairs)["links"]
    for key, selector in LINKS.items():
        expect(page.locator(selector)).to_be_visible()
        href = page.locator(selector).get_attribute("href")
        assert href == links[key]
        carried = parse_qsl(urlsplit(href).query)
        unsorted = [p for p in pairs if p[0] != "sort"]
        assert carried == (pairs if key in ("csv", "jsonl") else unsorted), key

    expected = every_hit(session, pairs)
    assert len(expected) == count

    name, text = download(page, LINKS["csv"])
    assert name == f"newsfacet-hamas-{re.sub(r'[^a-z0-9]+', '-', person.lower())}.csv"
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["id"] for r in rows] == [h["id"] for h in expected]
    assert [r["title"] for r in rows] == [h["title"] for h in expected]
    assert all(person in r["person"].split("; ") for r in rows)

    name, text = download(page, LINKS["jsonl"])
    assert name.endswith(".jsonl")
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["id"] for r in records] == [h["id"] for h in expected]
    assert [r["date"] for r in records] == [h["date"] for h in expected]
    assert all(person in r["entities"]["person"] for r in records)

    name, text = download(page, LINKS["facets_csv"])
    assert name.startswith("newsfacet-facets-")
    facets = list(csv.DictReader(io.StringIO(text, newline="")))
    people = api(session, "/api/facets/person", [p for p in pairs if p[0] != "sort"])["values"]
    assert [(r["value"], int(r["count"])) for r in facets if r["type"] == "person"] == [
        (v["value"], v["count"]) for v in people]

    name, text = download(page, LINKS["timeline_csv"])
    assert name.startswith("newsfacet-timeline-")
    periods = list(csv.DictReader(io.StringIO(text, newline="")))
    assert sum(int(r["count"]) for r in periods) == count


def test_or_and_not_filters_reach_the_download(session):
    page = session.page
    page.goto("/search?entity_any=Sergey+Lavrov&entity_any=Vladimir+Putin&entity_not=Gaza&date=undated")
    pairs = search_pairs(page.url)
    href = page.locator(LINKS["jsonl"]).get_attribute("href")
    assert parse_qsl(urlsplit(href).query) == pairs
    _, text = download(page, LINKS["jsonl"])
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["id"] for r in records] == [h["id"] for h in every_hit(session, pairs)]
    assert records and all(r["date"] is None for r in records)
    assert not [r for r in records if "Gaza" in r["entities"]["place"]]
