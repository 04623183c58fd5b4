""""Appears with" and the share timeline in a real browser (Chromium through Playwright): the
panel of a selected entity and its links ANDing a value in, the "Share of all articles" /
"Matching articles" toggle and its bars, and both fitting a 390 px screen.

The server, the browser and the guarded :class:`~tests.test_browser.Session` (nothing leaves
127.0.0.1; no browser is downloaded) come from ``test_browser``, on the seeds.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from . import test_browser
from .test_browser import Session, check, click_facet, expect, screenshot, total
from .test_browser import api_json as api

pytestmark = test_browser.pytestmark
browser, base_url = test_browser.browser, test_browser.base_url  # the fixtures: Chromium, the seeds' server


@pytest.fixture
def session(browser, base_url):
    s = Session(browser, base_url)
    yield s
    s.close()
    assert s.errors == []


def test_appears_with_panel_follows_a_selected_entity_and_ands_a_value_in(session):
    page = session.page
    page.goto("/search?q=talks")
    expect(page.locator("section.cooccur")).to_have_count(0)  # no entity filter: no panel
    click_facet(page, "org", "Hamas")
    panel = page.locator("section.cooccur")
    expect(panel).to_have_count(1)
    expect(panel.locator("h2")).to_have_text("Appears with Hamas")
    data = api(session, "/api/cooccur", [("q", "talks"), ("with", "Hamas"), ("limit", "10")])
    rows = panel.locator("tbody tr")
    expect(rows).to_have_count(len(data["values"]))
    first = data["values"][0]
    cells = rows.first.locator("td").all_inner_texts()
    assert cells == [first["value"], str(first["count"]), f"×{first['lift']:.1f}"]
    # The value's link ANDs it in: both values required, the query kept, canonical order.
    rows.first.locator("a.cooccur-link").click()
    page.wait_for_load_state()
    pairs = parse_qsl(urlsplit(page.url).query)
    assert pairs == sorted(pairs, key=lambda p: ["q", "entity"].index(p[0]))
    assert ("q", "talks") in pairs and {v for k, v in pairs if k == "entity"} == {"Hamas", first["value"]}
    assert total(page) == first["count"]
    # Both values selected: a panel for each.
    expect(page.locator("section.cooccur h2")).to_have_count(2)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_panel_fits_390_px(browser, base_url, javascript):
    s = Session(browser, base_url, java_script_enabled=javascript)
    try:
        page = s.page
        page.set_viewport_size({"width": 390, "height": 800})
        page.goto("/search?entity=Hamas&entity=Mousa+Abu+Marzouk")
        expect(page.locator("section.cooccur")).to_have_count(2)
        assert check(page, "overflow") == []
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        for box in page.locator("section.cooccur table").evaluate_all(
                "els => els.map(e => e.getBoundingClientRect().right)"):
            assert box <= 390
        screenshot(page, f"cooccur-390{'' if javascript else '-nojs'}.png")
        page.goto("/cooccur?with=Hamas")
        assert check(page, "overflow") == []
    finally:
        s.close()
    assert s.errors == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_share_toggle_round_trips_and_fits_390_px(browser, base_url, javascript):
    s = Session(browser, base_url, java_script_enabled=javascript)
    try:
        page = s.page
        page.set_viewport_size({"width": 390, "height": 800})
        page.goto("/search?q=Hamas")
        timeline = page.locator("figure.timeline")
        expect(timeline.locator("figcaption")).to_contain_text("Matches per year")
        timeline.locator("a.timeline-mode", has_text="Share of all articles").click()
        page.wait_for_url("**/search?q=Hamas&timeline=share")
        expect(timeline.locator("figcaption")).to_contain_text("Share of all articles per year")
        expect(timeline.locator("strong[aria-current]")).to_have_text("Share of all articles")
        data = api(s, "/api/search", [("q", "Hamas"), ("timeline", "share")])
        shown = [p for p in data["timeline"]["periods"] if p["count"]]
        labels = timeline.locator("a.bar-link").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
        assert labels == [f"{p['value']}: {p['count']:,} of {p['total']:,} article{'' if p['total'] == 1 else 's'}"
                          f" ({p['share'] * 100:.0f}%)" for p in shown]
        assert check(page, "overflow") == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, f"timeline-share-390{'' if javascript else '-nojs'}.png")
        # A bar keeps the mode; the other link goes back to counts, the rest of the URL unchanged.
        timeline.locator("a.bar-link").first.click()
        page.wait_for_url(f"**/search?q=Hamas&date={shown[0]['value']}&timeline=share")
        page.locator("a.timeline-mode", has_text="Matching articles").click()
        page.wait_for_url(f"**/search?q=Hamas&date={shown[0]['value']}")
        assert "timeline=" not in page.url
        expect(page.locator("figure.timeline figcaption")).to_contain_text("Matches per")
    finally:
        s.close()
    assert s.errors == []
