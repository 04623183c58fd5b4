"""Issue 13's facet features in a real browser (Chromium through Playwright), through the page.

Covered: OR within a facet (chips, canonical ``entity_any``, disjunctive counts equal to the JSON
twin's), NOT chips, the ``/facets/<type>`` value pages (reached by "more…" from a search sorted
newest; filter box, paging, sort by name, applying a value), the from/to form and its 400, the
timeline drilling from months to days on a one-year collection, pinned values and first chips, and
saved searches and Atom feeds that keep OR/NOT filters.  JavaScript on and off where the page
could differ.

The seeds serve most tests; the facet pages and the timeline need more values and months than they
have, so a made-up JSONL feed (given entities, one year) is served beside them.  The server, the
browser and the guarded :class:`~tests.test_browser.Session` come from ``test_browser``.
"""

from __future__ import annotations

import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit

import pytest

from search.api import date_label

from . import test_browser
from .test_browser import (
    Session,
    check,
    chip_labels,
    expect,
    screenshot,
    search_for,
    serve,
    titles,
    total,
)

pytestmark = test_browser.pytestmark
browser, base_url = test_browser.browser, test_browser.base_url  # the fixtures: Chromium, the seeds' server
JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])

# -- a made-up one-year feed: 36 articles, Jan-Jun 2024, 60 people (two pages of values) -------------

FIRST = ("Anna", "Bruno", "Clara", "David", "Elin", "Farid", "Greta", "Hugo", "Ines", "Jonas")
PEOPLE = [f"{FIRST[k % 10]} {('Bar', 'Dal', 'Fen', 'Gor', 'Hal', 'Kes', 'Lun', 'Mor', 'Nor', 'Pel')[k // 6]}"
          f"{('berg', 'dahl', 'lund', 'vik', 'holm', 'strand')[k % 6]}" for k in range(60)]
PEOPLE[20] = "José Álvarez"  # in article 21 (March): found by "ALVAREZ"


def _article(i: int) -> dict:
    people = {i, 36 + i % 24} | {k for k in range(5) if i % (k + 2) == 0}  # persons 0-4 are frequent
    return {"title": f"harbour notes {i + 1}", "date": f"2024-{1 + i // 6:02d}-{1 + (i % 6) * 4:02d}",
            "source": "gazette", "text": f"the harbour board met for session {i + 1} on the quay.",
            "entities": [{"value": PEOPLE[k], "type": "person"} for k in sorted(people)]}


ARTICLES = [_article(i) for i in range(36)]


@pytest.fixture(scope="module")
def feed_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser-feed")
    (tmp / "feed").mkdir()
    with open(tmp / "feed" / "feed.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES)
    yield from serve(tmp, tmp / "feed")


# -- helpers ------------------------------------------------------------------------------------


@contextmanager
def browsing(browser, url: str, javascript: bool = True, allow: str = "^$"):
    """A guarded session; on leaving, no console errors or failed loads (but those matching *allow*)."""
    s = Session(browser, url, java_script_enabled=javascript)
    try:
        yield s
    finally:
        s.close()
    assert [e for e in s.errors if not re.search(allow, e)] == []


def api(s: Session, url: str) -> dict:
    """The JSON twin of a page URL (``/search`` → ``/api/search``, ``/facets/x`` → ``/api/facets/x``)."""
    parts = urlsplit(url)
    path = "/search" if parts.path == "/" else parts.path
    resp = s.context.request.get(f"/api{path}?{parts.query}")
    assert resp.ok, resp.status
    return resp.json()


def query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


def hit_ids(page) -> list[str]:
    return [re.search(r"/doc/([0-9a-f]{16})", h).group(1)
            for h in page.locator(".hits .hit-title a").evaluate_all("els => els.map(e => e.href)")]


def value_item(page, section: str, value: str):
    return page.locator(f'.facet-{section} li.value[data-value="{value}"]')


def listed(page, section: str) -> list[str]:
    return page.locator(f".facet-{section} li.value").evaluate_all("els => els.map(e => e.dataset.value)")


def sidebar_counts(page) -> dict[tuple[str, str], int]:
    """``(type, value) → count`` as the sidebar shows them."""
    return {(t, li.get_attribute("data-value")): int(li.locator(".count").inner_text())
            for t in ("person", "org", "place", "other") for li in page.locator(f".facet-{t} li.value").all()}


def ids_with(s: Session, base: list[tuple[str, str]], value: str) -> set[str]:
    data = api(s, "/search?" + urlencode(base + [("entity", value), ("per_page", "50")]))
    return {h["id"] for h in data["hits"]}


def folded(text: str) -> str:
    return unicodedata.normalize("NFKD", text).casefold()


def narrow_screenshot(page, name: str) -> None:
    """The state at 390 px with the Filters disclosure open; it must not overflow either."""
    page.set_viewport_size({"width": 390, "height": 800})
    filters = page.locator("details.filters")
    if filters.count() and not filters.evaluate("d => d.open"):
        filters.locator("> summary").click()
    assert check(page, "overflow") == [], name
    screenshot(page, name)


def or_pair(s: Session, page) -> tuple[str, str]:
    """Two people on the page whose articles differ both ways (so OR shows more than either)."""
    base = [(k, v) for k, v in query(page.url) if k == "q"]
    people = listed(page, "person")
    found = {p: ids_with(s, base, p) for p in people}
    for a in people:
        for b in people:
            if a < b and found[a] - found[b] and found[b] - found[a]:
                return a, b
    pytest.fail(f"no two people with different articles among {people}")


# -- 1. OR within a facet ------------------------------------------------------------------------


@JS
def test_or_within_a_facet_shows_either_with_disjunctive_counts(browser, base_url, javascript):
    with browsing(browser, base_url, javascript) as s:
        page = s.page
        search_for(page, "Hamas")
        before = sidebar_counts(page)
        a, b = or_pair(s, page)
        union = ids_with(s, [("q", "Hamas")], a) | ids_with(s, [("q", "Hamas")], b)
        for value in (b, a):  # the later name first: the URL still lists them in canonical order
            value_item(page, "person", value).locator("a.or").click()
            page.wait_for_url(re.compile(rf"entity_any={re.escape(quote_plus(value))}"))
        assert [v for k, v in query(page.url) if k == "entity_any"] == sorted([a, b], key=str.casefold)
        assert query(page.url) == query(page.locator("link[rel=canonical]").get_attribute("href"))

        assert total(page) == len(union) > max(before["person", a], before["person", b])
        assert set(hit_ids(page)) == union
        assert chip_labels(page, "any") == sorted([a, b], key=str.casefold)
        expect(page.locator(".chips .chip-or").first).to_have_text("People, any of:")
        expect(page.locator(".chips .chip-or").nth(1)).to_have_text("or")
        expect(page.locator(".facet-person .or-note")).to_be_visible()
        # Disjunctive: the people's counts ignore their own OR group; all counts are the JSON twin's.
        shown = sidebar_counts(page)
        data = api(s, page.url)
        assert shown == {(f["type"], f["value"]): f["count"] for f in data["facets"]["entity"]}
        people = [("person", p) for p in listed(page, "person")]
        assert {p: shown[p] for p in people} == {p: before[p] for p in people}
        assert all(shown["place", v] <= len(union) for v in listed(page, "place"))
        for value in (a, b):
            expect(value_item(page, "person", value)).to_have_class(re.compile(r"\bmode-any\b"))
        if javascript:
            narrow_screenshot(page, "or-390.png")


# -- 2. NOT ---------------------------------------------------------------------------------------


@JS
def test_not_chip_excludes_a_value_and_removing_it_restores(browser, base_url, javascript):
    with browsing(browser, base_url, javascript) as s:
        page = s.page
        search_for(page, "Hamas")
        everything, before = total(page), titles(page)
        value = next(p for p in listed(page, "person")
                     if 0 < int(value_item(page, "person", p).locator(".count").inner_text()) < everything)
        having = ids_with(s, [("q", "Hamas")], value)
        value_item(page, "person", value).locator("a.not").click()
        page.wait_for_url(re.compile(r"[?&]entity_not="))
        assert [v for k, v in query(page.url) if k == "entity_not"] == [value]
        assert chip_labels(page, "not") == [f"− {value}"]
        assert total(page) == everything - len(having)
        assert set(hit_ids(page)).isdisjoint(having)
        assert all(value not in [e["value"] for e in h["entities"]] for h in api(s, page.url)["hits"])
        expect(value_item(page, "person", value).locator("s")).to_have_text(value)  # struck through in the list

        page.locator(".chips .chip-not a").click()
        page.wait_for_url(lambda url: "entity_not=" not in url)
        assert total(page) == everything and titles(page) == before
        expect(page.locator(".chips .chip-not")).to_have_count(0)


# -- 3. facet value pages --------------------------------------------------------------------------


def test_facet_value_pages_filter_page_sort_and_apply(browser, feed_url):
    with browsing(browser, feed_url, javascript=False) as s:
        page = s.page
        page.goto("/search?q=harbour&from=2024-03-01&sort=newest")
        more = page.locator(".facet-person p.more a")
        expect(more).to_have_text("More people…")
        more.click()
        page.wait_for_url(re.compile(r"/facets/person\?"))
        assert query(page.url) == [("q", "harbour"), ("from", "2024-03-01")]  # filters kept, no sort
        data = api(s, page.url)
        expect(page.locator("#values-heading")).to_contain_text(f"{data['total_values']} values for")
        values = page.locator("ul.values li.value").evaluate_all("els => els.map(e => e.dataset.value)")
        assert values == [v["value"] for v in data["values"]] and len(values) == 50
        since_march = {e["value"] for a in ARTICLES if a["date"] >= "2024-03-01" for e in a["entities"]}
        assert data["total_values"] == len(since_march) < len(PEOPLE)  # the from filter applies

        # Paging: next shows the rest, previous comes back.
        page.locator("nav.pagination a[rel=next]").click()
        page.wait_for_url(re.compile(r"page=2"))
        expect(page.locator("ul.values li.value")).to_have_count(data["total_values"] - 50)
        page.locator("nav.pagination a[rel=prev]").click()
        page.wait_for_url(lambda url: "page=" not in url)
        expect(page.locator("ul.values li.value").first).to_have_attribute("data-value", values[0])

        # Sort by name.
        page.locator("nav.sort a", has_text="Name").click()
        page.wait_for_url(re.compile(r"sort=name"))
        by_name = page.locator("ul.values li.value").evaluate_all("els => els.map(e => e.dataset.value)")
        assert by_name == sorted(by_name, key=folded) != values[:len(by_name)]

        # The filter box: a plain GET form, contains ignores case and accents, keeps the filters.
        page.locator("#contains").fill("ALVAREZ")
        page.locator("form.values-filter button[type=submit]").click()
        page.wait_for_url(re.compile(r"contains=ALVAREZ"))
        assert ("q", "harbour") in query(page.url) and ("from", "2024-03-01") in query(page.url)
        expect(page.locator("ul.values li.value")).to_have_count(1)
        item = page.locator('ul.values li.value[data-value="José Álvarez"]')
        count = int(item.locator(".count").inner_text())
        assert page.locator("#contains").input_value() == "ALVAREZ"
        narrow_screenshot(page, "facet-page-390.png")
        page.set_viewport_size({"width": 1280, "height": 900})

        # Choosing the value there applies it to the search.
        item.locator("a.value-link").click()
        page.wait_for_url(re.compile(r"/search\?"))
        assert query(page.url) == [("q", "harbour"), ("entity", "José Álvarez"), ("from", "2024-03-01")]
        assert chip_labels(page, "entity") == ["José Álvarez"] and total(page) == count == 1


# -- 4. the date-range form ------------------------------------------------------------------------


@JS
def test_date_range_form_filters_and_keeps_its_values(browser, feed_url, javascript):
    with browsing(browser, feed_url, javascript, allow="from=2024-05-01") as s:
        page = s.page
        search_for(page, "harbour")
        page.locator("#range-from").fill("2024-02-10")
        page.locator("#range-to").fill("2024-04-20")
        page.locator("form.date-range button[type=submit]").click()
        page.wait_for_url(re.compile(r"from=2024-02-10"))
        assert query(page.url) == [("q", "harbour"), ("from", "2024-02-10"), ("to", "2024-04-20")]
        expected = [a for a in ARTICLES if "2024-02-10" <= a["date"] <= "2024-04-20"]
        assert total(page) == len(expected) == 14
        dates = page.locator(".hits time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
        assert dates and all("2024-02-10" <= d <= "2024-04-20" for d in dates)
        assert page.locator("#range-from").input_value() == "2024-02-10"
        assert page.locator("#range-to").input_value() == "2024-04-20"
        assert chip_labels(page, "from") == ["from 2024-02-10"] and chip_labels(page, "to") == ["to 2024-04-20"]
        if javascript:
            narrow_screenshot(page, "date-range-390.png")
            page.set_viewport_size({"width": 1280, "height": 900})

        # From after to: the 400 page, which keeps the query and leads back to it.
        page.locator("#range-from").fill("2024-05-01")
        page.locator("#range-to").fill("2024-02-01")
        page.locator("form.date-range button[type=submit]").click()
        page.wait_for_url(re.compile(r"from=2024-05-01"))
        expect(page.locator("#error-heading")).to_have_text("That request could not be read")
        expect(page.locator(".error .message")).to_contain_text("from must not be later than to")
        assert page.locator("#q").input_value() == "harbour"
        page.locator("a", has_text="Back to search").click()
        page.wait_for_url(re.compile(r"/search\?q=harbour$"))
        assert total(page) == len(ARTICLES)


# -- 5. the timeline --------------------------------------------------------------------------------


def bars(page) -> dict[str, int]:
    """The linked bars: the label screen readers get → the count in the bar's own (possibly hidden) text."""
    out = {}
    for bar in page.locator(".timeline a.bar-link").all():
        out[bar.get_attribute("aria-label")] = int(bar.locator(".bar-count").text_content())
    return out


def test_timeline_of_one_year_shows_months_and_drills_to_days(browser, feed_url):
    with browsing(browser, feed_url) as s:
        page = s.page
        page.goto("/")
        timeline = page.locator(".timeline")
        expect(timeline).to_have_attribute("data-unit", "month")
        expect(timeline.locator("figcaption")).to_contain_text("Matches per month in 2024")
        months = bars(page)
        assert months == {f"{date_label(f'2024-{m:02d}')}: 6 articles": 6 for m in range(1, 7)}
        expect(timeline.locator("li")).to_have_count(12)  # empty months are drawn too
        narrow_screenshot(page, "timeline-months-390.png")
        page.set_viewport_size({"width": 1280, "height": 900})

        page.locator(f'.timeline a.bar-link[aria-label^="{date_label("2024-03")}:"]').click()
        page.wait_for_url(re.compile(r"[?&]date=2024-03(&|$)"))
        assert total(page) == 6 and chip_labels(page, "date") == [date_label("2024-03")]
        expect(timeline).to_have_attribute("data-unit", "day")
        days = bars(page)
        assert days == {f"{date_label(f'2024-03-{d:02d}')}: 1 article": 1 for d in (1, 5, 9, 13, 17, 21)}
        expect(timeline.locator("li")).to_have_count(31)
        expect(timeline.locator("a.bar-link .bar-count.visually-hidden")).to_have_count(6)  # too narrow to show

        page.locator(f'.timeline a.bar-link[aria-label^="{date_label("2024-03-05")}:"]').click()
        page.wait_for_url(re.compile(r"[?&]date=2024-03-05(&|$)"))
        assert total(page) == 1 and titles(page) == ["harbour notes 14"]
        assert chip_labels(page, "date") == [date_label("2024-03-05")]
        expect(timeline).to_have_count(0)  # a single day: nothing to chart


# -- 6. pinned values, the filtered entity's chip first --------------------------------------------


def test_selected_values_are_pinned_and_the_filtered_chip_comes_first(browser, base_url):
    with browsing(browser, base_url) as s:
        page = s.page
        search_for(page, "Hamas")
        people, places = listed(page, "person"), listed(page, "place")
        assert len(people) > 1 and len(places) > 1
        person, place = people[-1], places[-1]  # listed last until selected
        value_item(page, "person", person).locator("a.or").click()
        page.wait_for_url(re.compile(r"entity_any="))
        value_item(page, "place", place).locator("a.not").click()
        page.wait_for_url(re.compile(r"entity_not="))
        for section, value, mode in (("person", person, "any"), ("place", place, "not")):
            first = page.locator(f".facet-{section} li.value").first
            expect(first).to_have_attribute("data-value", value)
            expect(first).to_have_class(re.compile(rf"\bmode-{mode}\b"))

        # A value that a hit lists late (past the chips shown) comes first among its chips when filtered on.
        data = api(s, "/search?q=Hamas")
        long = [h for h in data["hits"] if len(h["entities"]) > 9]
        assert long, "no hit with more entities than its chips show"
        value, doc = long[0]["entities"][-1]["value"], long[0]["id"]
        search_for(page, "Hamas")
        hit = page.locator(".hit", has=page.locator(f'.hit-title a[href^="/doc/{doc}"]'))
        expect(hit.locator(".entity-chips a", has_text=value)).to_have_count(0)  # cut without the filter
        page.goto("/search?" + urlencode([("q", "Hamas"), ("entity", value)]))
        assert total(page) >= 1
        for chips in page.locator(".hit .entity-chips").all():
            first = chips.locator("a").first
            expect(first).to_have_text(value)
            expect(first).to_have_class(re.compile(r"\bfiltered\b"))


# -- 7. saved searches and feeds with OR / NOT -------------------------------------------------------


def test_saved_search_and_feed_keep_or_and_not(browser, base_url):
    with browsing(browser, base_url) as s:
        page = s.page
        search_for(page, "Hamas")
        a, b = or_pair(s, page)
        for value in (a, b):
            value_item(page, "person", value).locator("a.or").click()
            page.wait_for_url(re.compile(r"entity_any=.*entity_any=" if value == b else r"entity_any="))
        place = next(p for p in listed(page, "place")
                     if 0 < int(value_item(page, "place", p).locator(".count").inner_text()) < total(page))
        value_item(page, "place", place).locator("a.not").click()
        page.wait_for_url(re.compile(r"entity_not="))
        url, expected = page.url, (total(page), titles(page), chip_labels(page))
        assert expected[0] >= 1 and [k for k, _ in query(url)] == ["q", "entity_any", "entity_any", "entity_not"]
        narrow_screenshot(page, "or-not-390.png")
        page.set_viewport_size({"width": 1280, "height": 900})

        # The Atom feed link carries the same filters; its entries are the search's articles.
        feed = page.locator("a.feed").get_attribute("href")
        assert query(feed) == query(url)
        xml = s.context.request.get(feed)
        assert xml.ok
        ns = {"a": "http://www.w3.org/2005/Atom"}
        entries = [e.text.rsplit("/", 1)[-1] for e in ET.fromstring(xml.body()).findall("a:entry/a:id", ns)]
        assert sorted(entries) == sorted(hit_ids(page))

        # Saved, then opened from the list: the same view.
        page.locator("#save-name").fill("Hamas, OR and NOT")
        page.locator("form.save button[type=submit]").click()
        page.wait_for_url(re.compile(r"/saved(#.*)?$"))
        row = page.locator(".saved-list tbody tr", has=page.locator("a.saved-open", has_text="Hamas, OR and NOT"))
        expect(row.locator("td.count").first).to_have_text(str(expected[0]))
        row.locator("a.saved-open").click()
        page.wait_for_url(re.compile(r"/search\?"))
        assert page.url == url
        assert (total(page), titles(page), chip_labels(page)) == expected
        assert chip_labels(page, "any") == sorted([a, b], key=str.casefold)
        assert chip_labels(page, "not") == [f"− {place}"]
