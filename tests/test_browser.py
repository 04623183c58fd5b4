"""The web front end in a real browser: Debian's Chromium driven by Playwright.

A module fixture builds the seeds into a temporary index and runs the real
server (``newsfacet serve``, waitress) on a free port of 127.0.0.1; the tests
then do what a reader does — type, click, follow links — and check what is
on screen.  Nothing leaves 127.0.0.1: every other request is aborted and
counted as a failure.  Skipped when Chromium or Playwright is missing; no
browser is ever downloaded.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from .conftest import ROOT, SEEDS, SEEDS_CRAWLED, copy_corpus, free_port, stop_server, wait_for_server

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = ROOT / "tests" / "artifacts"  # git-ignored: screenshots land here, never committed
# axe-core, when `npm ci` has been run in tests/browser/ (its package.json pins the version).
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
WIDTHS = (320, 390, 768)
START_TIMEOUT = 30.0  # seconds for the index build plus server start
TIMEOUT_MS = 10_000  # every Playwright wait

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed"),
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine"),
]


# -- the server and the browser ------------------------------------------------------


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def serve(tmp: Path, corpus: Path):
    """Build *corpus* and run the real server on it (``newsfacet serve``); yields its URL, stops it after."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFACET_")}
    env.update(
        NEWSFACET_SAVED_DB=str(tmp / "saved.sqlite3"),
        # Without a key the app writes one into its instance folder, which is in the source tree.
        NEWSFACET_SECRET_KEY="browser-test-secret",
        PYTHONPATH=str(ROOT),  # serve the tree this test lives in
        PYTHONUNBUFFERED="1",
    )
    cmd = [sys.executable, "-m", "web.cli", "--index", str(tmp / "ix"), "serve", "--build", str(corpus),
           "--port", str(port), "--host", "127.0.0.1"]
    log_path = tmp / "server.log"
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_server(proc, log_path, lambda: _answers(url + "/"), START_TIMEOUT)
            assert "serving" in log_path.read_text(errors="replace")
            yield url
        finally:
            stop_server(proc)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    """The real server on the seeds, for the whole module; killed on teardown."""
    tmp = tmp_path_factory.mktemp("browser")
    yield from serve(tmp, copy_corpus(SEEDS, tmp / "seeds", SEEDS_CRAWLED))


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                      timeout=30_000)
        try:
            yield chromium
        finally:
            chromium.close()


class Session:
    """One browser context with guards: only 127.0.0.1; console errors, CSP violations and failed loads collected."""

    def __init__(self, browser, base_url: str, **options):
        self.base_url = base_url
        self.context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, **options)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.set_default_navigation_timeout(TIMEOUT_MS)
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._only_local)
        self.page = self.new_page()

    def _only_local(self, route) -> None:
        if route.request.url.startswith(self.base_url + "/"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def new_page(self):
        page = self.context.new_page()
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"{page.url}: {msg.text}"))
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: uncaught {exc}"))
        page.on("response", lambda resp: resp.status >= 400 and self.errors.append(f"{resp.status} {resp.url}"))
        return page

    def close(self) -> None:
        self.context.close()
        assert not self.outside, f"requests left 127.0.0.1: {self.outside}"


@pytest.fixture
def session(browser, base_url):
    s = Session(browser, base_url, permissions=["clipboard-read", "clipboard-write"])
    yield s
    s.close()


# -- helpers: what is on screen ---------------------------------------------------------


def api_json(s: Session, path: str, pairs) -> dict:
    """``path?pairs`` fetched through the session's browser context, as JSON."""
    resp = s.context.request.get(f"{path}?{urlencode(pairs)}")
    assert resp.ok, resp.status
    return resp.json()


def total(page) -> int:
    return int(page.locator(".results .total").get_attribute("data-total"))


def titles(page) -> list[str]:
    return page.locator(".hits .hit-title a").all_inner_texts()


def chip_labels(page, kind: str = "") -> list[str]:
    selector = f".chips .chip-{kind}" if kind else ".chips .chip"
    return [t.replace("×", "").strip() for t in page.locator(selector).all_inner_texts()]


def search_for(page, words: str) -> None:
    page.goto("/")
    page.locator("#q").fill(words)
    page.locator("form.searchbox button[type=submit]").click()
    page.wait_for_url(re.compile(r"/search\?q="))


def facet_with_count_below(page, section: str, limit: int) -> tuple[str, int]:
    """The first value in a sidebar facet section whose count is below *limit*."""
    for item in page.locator(f".facet-{section} li").all():
        count = int(item.locator(".count").inner_text())
        if 0 < count < limit:
            return item.locator("a.value-link").inner_text().strip(), count
    pytest.fail(f"no {section} facet value with a count below {limit}")


def click_facet(page, section: str, value: str) -> None:
    page.locator(f".facet-{section} li a.value-link", has_text=re.compile(rf"^\s*{re.escape(value)}\s*$")).click()
    page.wait_for_url(re.compile(r"[?&]entity="))


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


CHECKS = (ROOT / "tests" / "browser" / "checks.js").read_text(encoding="utf-8")


def check(page, name: str) -> list[str]:
    """One of the page checks in tests/browser/checks.js (``overflow``, ``contrast``, ``landmarks``,
    ``focusShown``): the problems it finds, empty when none."""
    return page.evaluate(f"(() => {{ {CHECKS}\n return NF.{name}(); }})()")


def axe_violations(page) -> list[str]:
    """axe-core's violations on the page (its WCAG 2.x A/AA and best-practice rules), one line each."""
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated, not a <script>: the CSP allows none inline
    return page.evaluate("""async (tags) => {
        const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
        return result.violations.map(v => `${v.id} (${v.impact}): ` +
            v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
    }""", AXE_TAGS)


def accessibility_problems(page, label: str) -> list[str]:
    """Landmarks, names and contrast always; axe-core's violations too when it is installed."""
    problems = [f"{label}: {p}" for p in check(page, "landmarks") + check(page, "contrast")]
    if AXE.exists():
        problems += [f"{label}: axe {v}" for v in axe_violations(page)]
    return problems


# -- the tests ---------------------------------------------------------------------------


def test_search_facet_chip_and_shared_link(session, browser, base_url):
    page = session.page
    search_for(page, "Hamas")
    expect(page.locator(".hit .snippet mark").first).to_be_visible()
    marks = page.locator(".hit .snippet mark").all_inner_texts()
    assert any(m.casefold() == "hamas" for m in marks), marks
    everything = total(page)
    assert everything >= 2
    assert page.locator(".hits .hit").count() == min(everything, 10)
    expect(page.locator("#results-heading")).to_contain_text("for")
    before = titles(page)
    screenshot(page, "results.png")

    # A person in the sidebar narrows the results to that person's count, with a chip.
    person, count = facet_with_count_below(page, "person", everything)
    click_facet(page, "person", person)
    assert total(page) == count < everything
    assert chip_labels(page, "entity") == [person]
    expect(page.locator(".facet-person li.selected a.value-link")).to_contain_text(person)
    expect(page.locator(".facet-person li").first).to_have_class(re.compile(r"\bselected\b"))  # pinned to the top
    assert page.locator("#q").input_value() == "Hamas"

    # Removing the chip brings the earlier results back.
    page.locator(".chips .chip-entity a").click()
    page.wait_for_url(lambda url: "entity=" not in url)
    assert total(page) == everything
    assert titles(page) == before
    expect(page.locator(".chips .chip-entity")).to_have_count(0)

    # The share link is the page's canonical URL; "Copy link" copies it.
    click_facet(page, "person", person)
    filtered_total, filtered_titles = total(page), titles(page)
    share = page.locator("#share-link").input_value()
    assert share == page.url
    assert share == base_url + page.locator("link[rel=canonical]").get_attribute("href")
    copy = page.locator("button.copy-link")
    expect(copy).to_be_visible()
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == share
    expect(copy).to_have_text("Copy link", timeout=5_000)

    # Opened in a fresh context (no cookies, no history), the link shows the same results.
    fresh = Session(browser, base_url)
    try:
        fresh.page.goto(share)
        assert total(fresh.page) == filtered_total
        assert titles(fresh.page) == filtered_titles
        assert chip_labels(fresh.page, "entity") == [person]
        assert fresh.errors == []
    finally:
        fresh.close()

    assert session.errors == [], "console errors or CSP violations"


def test_save_a_named_search_and_open_it(session):
    page = session.page
    search_for(page, "Hamas")
    person, count = facet_with_count_below(page, "person", total(page))
    click_facet(page, "person", person)
    expected_total, expected_chips, expected_url = total(page), chip_labels(page), page.url

    name = f"Hamas with {person}"
    page.locator("#save-name").fill(name)
    page.locator("form.save button[type=submit]").click()
    page.wait_for_url(re.compile(r"/saved(#.*)?$"))
    expect(page.locator(".notice.done-saved")).to_have_text(re.compile(rf"Saved “{re.escape(name)}”"))
    row = page.locator(".saved-list tbody tr", has=page.locator("a.saved-open", has_text=name))
    expect(row).to_have_count(1)
    expect(row).to_have_class(re.compile(r"just-saved"))
    expect(row.locator("td.count").first).to_have_text(str(expected_total))
    expect(row).to_contain_text(person)

    row.locator("a.saved-open").click()
    page.wait_for_url(re.compile(r"/search\?"))
    assert page.url == expected_url
    assert total(page) == expected_total == count
    assert chip_labels(page) == expected_chips
    assert page.locator("#q").input_value() == "Hamas"
    assert session.errors == []


def test_timeline_bar_drills_into_its_year(session):
    page = session.page
    page.goto("/")
    expect(page.locator(".timeline .bars")).to_be_visible()
    assert page.locator(".timeline").get_attribute("data-unit") == "year"  # two years: one bar each
    bars = page.locator(".timeline a.bar-link")
    assert bars.count() >= 1
    bar = bars.first
    label = bar.get_attribute("aria-label")
    found = re.fullmatch(r"(\d{4}): (\d+) articles?", label or "")
    assert found, label
    year, count = found.group(1), int(found.group(2))

    bar.click()  # a real click on the SVG anchor
    page.wait_for_url(re.compile(rf"[?&]date={year}(&|$)"))
    expect(page.locator("#facet-date-heading")).to_contain_text(year)
    assert total(page) == count
    assert chip_labels(page, "date") == [year]
    assert len(titles(page)) == count
    assert session.errors == []


def test_article_page_entities_and_similar(session):
    page = session.page
    search_for(page, "Hamas")
    first = page.locator(".hits .hit-title a").first
    title = first.inner_text().strip()
    first.click()
    page.wait_for_url(re.compile(r"/doc/[0-9a-f]{16}"))
    expect(page.locator("article.doc h1")).to_have_text(title)
    expect(page.locator("article.doc .body mark").first).to_be_visible()  # the query is highlighted
    entities = page.locator(".doc-entities a")
    assert entities.count() >= 1
    assert page.locator(".similar a").count() >= 1
    screenshot(page, "article.png")

    # "Similar articles" lead to other articles.
    similar_href = page.locator(".similar a").first.get_attribute("href")
    assert re.fullmatch(r"/doc/[0-9a-f]{16}", similar_href)
    assert similar_href not in page.url

    # An entity on the article leads to a search filtered by it, which finds the article.
    entity = entities.first.inner_text().strip()
    entities.first.click()
    page.wait_for_url(re.compile(r"[?&]entity="))
    assert chip_labels(page, "entity") == [entity]
    assert total(page) >= 1
    assert title in titles(page) or total(page) > 10
    assert session.errors == []


def test_without_javascript_forms_and_facets_still_work(browser, base_url):
    s = Session(browser, base_url, java_script_enabled=False)
    try:
        page = s.page
        search_for(page, "Hamas")
        everything = total(page)
        assert everything >= 2
        expect(page.locator(".hit .snippet mark").first).to_be_visible()
        expect(page.locator("button.copy-link")).to_be_hidden()  # an enhancement only
        person, count = facet_with_count_below(page, "person", everything)
        click_facet(page, "person", person)
        assert total(page) == count
        assert chip_labels(page, "entity") == [person]
        # A new query keeps the filter (hidden fields in the plain GET form).
        page.locator("#q").fill("Russia")
        page.locator("form.searchbox button[type=submit]").click()
        page.wait_for_url(re.compile(r"q=Russia"))
        assert chip_labels(page, "entity") == [person]
        assert total(page) >= 1
    finally:
        s.close()


# -- issue 13: layout, dark scheme, accessibility, the fixes -------------------------------------

# Pages a first-time user meets: browse, a filtered search, an article, the saved list, an error.
LAYOUT_PAGES = {
    "browse": "/",
    "search": "/search?q=Hamas&entity=Mousa+Abu+Marzouk&entity_any=Moscow&entity_any=Jerusalem"
              "&entity_not=Sergey+Lavrov&from=2023-01-01",
    "saved": "/saved",
    "error": "/search?q=Hamas&page=abc",
}


def unexpected(errors: list[str]) -> list[str]:
    """Console errors and failed loads, less the 400 the error page is there to show."""
    return [e for e in errors if LAYOUT_PAGES["error"] not in e]


def _doc_path(page) -> str:
    search_for(page, "Galuzin")
    return page.locator(".hits .hit-title a").first.get_attribute("href").split("?")[0] + "?q=Galuzin"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_no_horizontal_overflow_from_320_px(browser, base_url, scheme, javascript):
    for width in WIDTHS:
        s = Session(browser, base_url, color_scheme=scheme, java_script_enabled=javascript)
        try:
            page = s.page
            page.set_viewport_size({"width": width, "height": 800})
            pages = dict(LAYOUT_PAGES, article=_doc_path(page))
            for name, url in pages.items():
                page.goto(url)
                assert check(page, "overflow") == [], (name, width, scheme)
                if page.locator("details.filters").count() and width < 761:
                    page.locator("details.filters > summary").click()  # the filters, opened, fit too
                    expect(page.locator("nav.facets")).to_be_visible()
                    assert check(page, "overflow") == [], (name, "filters open", width, scheme)
                if name == "search":
                    # The link / copy / feed / JSON row wraps: every control whole on screen.
                    for sel in ("#share-link", "a.feed", "a.json", "form.save button"):
                        box = page.locator(sel).bounding_box()
                        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (sel, box, width)
                    if javascript:
                        box = page.locator("button.copy-link").bounding_box()
                        assert box["x"] + box["width"] <= width
                    # Text stays readable: no label in the timeline under 11 px.
                    sizes = page.locator(".timeline .bar-label").evaluate_all(
                        "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
                    assert sizes and min(sizes) >= 11, sizes
                if javascript and width in (320, 390) or (not javascript and width == 390):
                    screenshot(page, f"{name}-{width}-{scheme}{'' if javascript else '-nojs'}.png")
        finally:
            s.close()
        assert unexpected(s.errors) == [], s.errors


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_filters_are_a_disclosure_above_results_on_narrow_screens(browser, base_url, javascript):
    s = Session(browser, base_url, java_script_enabled=javascript)
    try:
        page = s.page
        page.set_viewport_size({"width": 390, "height": 800})
        page.goto(LAYOUT_PAGES["search"])
        summary = page.locator("details.filters > summary")
        expect(summary).to_be_visible()
        expect(summary).to_have_text("Filters (5)")
        expect(page.locator("nav.facets")).to_be_hidden()
        assert summary.bounding_box()["y"] < page.locator("#results-heading").bounding_box()["y"]
        summary.click()
        expect(page.locator("nav.facets")).to_be_visible()
        assert page.locator("nav.facets").bounding_box()["y"] < page.locator("#results-heading").bounding_box()["y"]
        screenshot(page, f"filters-open-390{'' if javascript else '-nojs'}.png")
        # a facet link works from the disclosure
        page.locator(".facet-date a", has_text="2023").first.click()
        page.wait_for_url(re.compile(r"date=2023"))
        # Wide: no disclosure to open, the filters stand beside the results.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(LAYOUT_PAGES["search"])
        expect(page.locator("nav.facets")).to_be_visible()
        expect(summary).to_be_hidden()
        facets, results = page.locator("nav.facets").bounding_box(), page.locator(".results").bounding_box()
        assert facets["x"] + facets["width"] <= results["x"]
    finally:
        s.close()
    assert s.errors == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accessibility_landmarks_labels_contrast_and_axe(browser, base_url, scheme):
    if not AXE.exists():
        print(f"axe-core not installed ({AXE} missing: run `npm ci` in tests/browser); "
              "checking landmarks, names and contrast only")
    problems = []
    s = Session(browser, base_url, color_scheme=scheme)
    try:
        page = s.page
        pages = dict(LAYOUT_PAGES, article=_doc_path(page), past_end="/search?q=Hamas&page=9")
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            for name, url in pages.items():
                page.goto(url)
                problems += accessibility_problems(page, f"{name} at {width} ({scheme})")
        if scheme == "dark":
            screenshot(page, "past-end-390-dark.png")
        # the page really is dark in the dark scheme
        bg = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        assert (bg == "rgb(19, 22, 28)") == (scheme == "dark"), bg
    finally:
        s.close()
    assert problems == []
    assert unexpected(s.errors) == []


def test_focus_is_visible_on_every_tab_stop(session):
    page = session.page
    page.goto(LAYOUT_PAGES["search"])
    seen = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        assert check(page, "focusShown") == [], page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
        seen.add(page.evaluate("document.activeElement.className || document.activeElement.tagName"))
    # the tab order reached the skip link, the search box, facet controls and chips
    assert {"skip", "value-link", "or", "not"} <= seen, seen
    for scheme in ("dark",):
        page.emulate_media(color_scheme=scheme)
        page.keyboard.press("Tab")
        assert check(page, "focusShown") == []


def test_empty_query_sort_says_newest(session):
    page = session.page
    page.goto("/")
    expect(page.locator("nav.sort strong[aria-current]")).to_have_text("Newest")
    expect(page.locator("nav.sort")).not_to_contain_text("Relevance")
    page.locator("nav.sort a", has_text="Oldest").click()
    page.wait_for_url(re.compile(r"sort=oldest"))
    expect(page.locator("nav.sort strong[aria-current]")).to_have_text("Oldest")
    search_for(page, "Hamas")
    expect(page.locator("nav.sort strong[aria-current]")).to_have_text("Relevance")


def test_page_past_the_end_links_to_the_last_page(session):
    page = session.page
    page.goto("/search?q=Hamas&per_page=2&page=9")
    expect(page.locator("#results-heading")).to_contain_text("Page 9 is past the end (5 articles for")
    expect(page.locator(".results")).not_to_contain_text("No articles match")
    page.locator("a.last-page").click()
    page.wait_for_url(re.compile(r"page=3"))
    assert len(titles(page)) == 1 and total(page) == 5
    assert session.errors == []


def test_400_page_keeps_the_query_and_goes_back_to_it(session):
    page = session.page
    page.goto("/search?q=Hamas&page=abc")
    expect(page.locator("#error-heading")).to_have_text("That request could not be read")
    assert page.locator("#q").input_value() == "Hamas"
    page.locator("a", has_text="Back to search").click()
    page.wait_for_url(re.compile(r"/search\?q=Hamas$"))
    assert total(page) == 5 and page.locator("#q").input_value() == "Hamas"
    assert unexpected(session.errors) == []


def test_titles_mark_query_terms(session):
    page = session.page
    search_for(page, "Galuzin Russia")
    marks = page.locator(".hit-title mark").all_inner_texts()
    assert any(m.casefold() == "russia" for m in marks), marks
    screenshot(page, "title-marks.png")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_delete_asks_first_and_can_be_undone(browser, base_url, javascript):
    s = Session(browser, base_url, java_script_enabled=javascript)
    try:
        page = s.page
        search_for(page, "Russia")
        name = f"Russia to delete ({'js' if javascript else 'nojs'})"
        page.locator("#save-name").fill(name)
        page.locator("form.save button[type=submit]").click()
        page.wait_for_url(re.compile(r"/saved"))
        expect(page.locator(".notice.done-saved")).to_contain_text(f"Saved “{name}”")
        row = page.locator(".saved-list tbody tr", has=page.locator("a.saved-open", has_text=name))
        # Delete… asks first; Cancel keeps it.
        row.locator("a.delete").click()
        expect(page.locator("#confirm-heading")).to_have_text(f"Delete the saved search “{name}”?")
        page.locator("a.cancel").click()
        expect(row).to_have_count(1)
        row.locator("a.delete").click()
        page.locator("button.confirm").click()
        page.wait_for_url(re.compile(r"/saved$"))
        expect(page.locator(".notice.done-deleted")).to_contain_text(f"Deleted “{name}”.")
        expect(row).to_have_count(0)
        screenshot(page, f"saved-deleted-undo{'' if javascript else '-nojs'}.png")
        page.locator("button.undo").click()
        page.wait_for_url(re.compile(r"/saved"))
        expect(row).to_have_count(1)
        row.locator("a.saved-open").click()
        page.wait_for_url(re.compile(r"/search\?q=Russia$"))
    finally:
        s.close()
    assert s.errors == []
