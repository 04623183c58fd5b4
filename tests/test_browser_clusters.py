"""Issue 14's features in a real browser (Chromium through Playwright), through the page.

Covered: syndicated copies collapsed into their story ("Also in N other copies (sources)",
the link listing them oldest first, "List every copy" and back), the "Appears with" panel
(its counts equal the JSON twin's, a row's link ANDs the value in), and the "Download all"
links (each file is the search's, as the JSON twin's links name it).  JavaScript on and off
where the page could differ.  The collection is :func:`tests.test_syndicated.plant`'s.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from . import test_browser
from .test_browser import api_json, screenshot, serve, titles, total
from .test_browser_facets import browsing
from .test_syndicated import plant

pytestmark = test_browser.pytestmark
browser = test_browser.browser  # the fixture: Chromium
JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])


@pytest.fixture(scope="module")
def copies_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser-copies")
    yield from serve(tmp, plant(tmp / "news"))


@pytest.fixture
def session(browser, copies_url):
    with browsing(browser, copies_url) as s:
        yield s


@JS
def test_copies_fold_into_their_story_and_the_link_lists_them(browser, copies_url, javascript):
    with browsing(browser, copies_url, javascript) as s:
        page = s.page
        page.goto("/search?q=Bergen+port")
        assert total(page) == 2
        assert re.search(r"\b2\s+stories for", page.locator("#results-heading").inner_text())
        assert "5 matching articles" in page.locator(".copies-note").inner_text()
        hit = page.locator(".hit", has=page.locator(".copies"))
        assert hit.count() == 1
        assert hit.locator(".copies").inner_text() == (
            "Also in 3 other copies (Coast Daily, Bergen Evening, Nordic Wire)")
        if javascript:
            screenshot(page, "copies-collapsed.png")
        hit.locator(".copies a").click()
        page.wait_for_url(re.compile(r"cluster="))
        assert titles(page) == ["Bergen port workers strike over pay", "Ships wait as Bergen dockers walk out",
                                "Strike at Bergen port", "Bergen port workers strike over pay (corrected)"]
        assert [c.strip() for c in page.locator(".chips .chip-cluster").all_inner_texts()] == [
            "× copies of one story"]
        page.goto("/search?q=Bergen+port")
        page.locator(".copies-note a", has_text="List every copy").click()
        page.wait_for_url(re.compile(r"collapse=off"))
        assert total(page) == 5 and page.locator(".copies").count() == 0
        page.locator(".copies-note a", has_text="Fold copies into their stories").click()
        page.wait_for_url(lambda url: "collapse" not in url)
        assert total(page) == 2


def test_sidebar_counts_are_stories_as_the_json_twin_says(session):
    page = session.page
    for query in ("q=Bergen+port", "q=Bergen+port&collapse=off"):
        page.goto(f"/search?{query}")
        data = api_json(session, "/api/search", parse_qsl(query))
        shown = {item.locator("a.value-link").inner_text().strip(): int(item.locator(".count").inner_text())
                 for item in page.locator(".facet-person li").all()}
        assert shown == {f["value"]: f["count"] for f in data["facets"]["entity"] if f["type"] == "person"}
        assert shown["Bruno Dahl"] == (2 if "collapse" not in query else 5)


@JS
def test_appears_with_panel_counts_and_links(browser, copies_url, javascript):
    with browsing(browser, copies_url, javascript) as s:
        page = s.page
        page.goto("/search?entity=Bruno+Dahl")
        panel = page.locator("section.cooccur")
        assert panel.locator("h2").inner_text() == "Appears with Bruno Dahl"
        data = api_json(s, "/api/cooccur", [("with", "Bruno Dahl")])
        rows = {r.get_attribute("data-value"): int(r.locator("td.num").first.inner_text())
                for r in panel.locator("tbody tr").all()}
        assert rows == {v["value"]: v["count"] for v in data["values"]}
        assert rows["Ingrid Solheim"] == 2
        panel.locator("a.cooccur-link", has_text="Ingrid Solheim").click()
        page.wait_for_url(re.compile(r"entity=Ingrid"))
        query = parse_qsl(urlsplit(page.url).query)
        assert ("entity", "Bruno Dahl") in query and ("entity", "Ingrid Solheim") in query
        assert total(page) == 2


def test_download_links_give_the_searchs_files(session):
    page = session.page
    page.goto("/search?q=Bergen+port&collapse=off")
    links = {a.get_attribute("class"): a.get_attribute("href") for a in page.locator(".export a").all()}
    data = api_json(session, "/api/search", [("q", "Bergen port"), ("collapse", "off")])
    assert links == {"export-csv": data["links"]["csv"], "export-jsonl": data["links"]["jsonl"],
                     "export-facets": data["links"]["facets_csv"], "export-timeline": data["links"]["timeline_csv"]}
    with page.expect_download() as info:
        page.locator(".export a.export-csv").click()
    download = info.value
    assert download.suggested_filename == "newsfacet-bergen-port.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert sorted(r["path"] for r in rows) == sorted(h["path"] for h in data["hits"])
    assert {r["cluster_size"] for r in rows if r["path"].startswith("wire")} == {"4"}
