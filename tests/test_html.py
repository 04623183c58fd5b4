"""Tests for search.extract.html on small hand-written pages of made-up sites."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.extract.html import HtmlPage, extract_html, strip_site_name
from search.settings import Options

FIXTURES = Path(__file__).parent / "fixtures" / "html"
EXTRACTORS = ["trafilatura", "soup"]

# file, url given, title, date, date evidence, sentences that must be in the text, boilerplate that must not
PAGES = [
    (
        "wordpress_blog.html",
        None,
        "Council approves new ferry terminal in Tromsø",
        "2023-03-14T08:30:00+01:00",
        "HTML <time datetime>",
        [
            "The municipal council voted on Monday evening to approve the long-debated ferry terminal",
            "Objections from residents",
            '"We were heard, but we were not listened to," said Astrid Nilsen',
            "the first ferries could dock at the terminal before the end of 2025",
        ],
        ["Share this", "Share on Facebook", "newsletter", "Related posts", "Harbour dredging contract",
         "Leave a Reply", "Finally some progress", "Most read", "All rights reserved", "Posted in"],
    ),
    (
        "news_jsonld.html",
        None,
        "Drought forces water rationing across three provinces",
        "2024-06-25T10:11:00Z",
        "HTML JSON-LD datePublished",
        [
            "Water rationing came into force on Tuesday in three southern provinces",
            "Farmers warn of crop losses",
            "Without rain in the autumn we will lose a whole generation of young trees.",
        ],
        ["cookies", "Accept all", "Read more", "Heatwave breaks", "Morning Briefing", "newsletter",
         "Share this article", "first month of unlimited access", "Copyright", "By Samir Haddad"],
    ),
    (
        "title_and_paragraphs.html",
        "https://valley-herald.example/2021/09/05/harvest-festival/",
        "Harvest festival draws record crowds to the valley",
        "2021-09-05",
        "htmldate (page markup or URL)",
        ["More than forty thousand visitors came", "The festival committee will meet next month"],
        [],
    ),
    (
        "time_datetime.html",
        None,
        "Ceasefire talks resume - but hopes are low",
        "2022-11-03",
        "HTML <time datetime>",
        ["Negotiators from both sides returned to the table in Geneva",
         "A previous round collapsed in September"],
        ["Front page", "Most popular", "independent news since 1951"],
    ),
    (
        "published_time_meta.html",
        "https://coastline-post.example/feed/item?id=4",
        "Lighthouse keeper retires after forty years",
        "2021-08-19T06:45:00+02:00",
        "HTML meta article:published_time",
        ["Johan Eriksen climbed the one hundred and twelve steps", "Built in 1882 from local granite"],
        ["Share:", "LinkedIn", "cookie"],
    ),
]


def load(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def extract(name: str, url: str | None, extractor: str) -> HtmlPage:
    page = extract_html(load(name), url, Options(html_extractor=extractor))
    assert page is not None
    return page


@pytest.mark.parametrize("extractor", EXTRACTORS)
@pytest.mark.parametrize(("name", "url", "title", "date", "evidence", "present", "absent"), PAGES)
def test_fixture_pages(
    extractor: str, name: str, url: str | None, title: str, date: str, evidence: str, present: list[str],
    absent: list[str],
) -> None:
    page = extract(name, url, extractor)
    assert page.title == title
    assert (page.date, page.date_evidence) == (date, evidence)
    for sentence in present:
        assert sentence in page.text
    for boilerplate in absent:
        assert boilerplate.lower() not in page.text.lower()


@pytest.mark.parametrize("extractor", EXTRACTORS)
@pytest.mark.parametrize(("name", "url", "title", "date", "evidence", "present", "absent"), PAGES)
def test_text_layout(
    extractor: str, name: str, url: str | None, title: str, date: str, evidence: str, present: list[str],
    absent: list[str],
) -> None:
    text = extract(name, url, extractor).text
    blocks = text.split("\n\n")
    assert all(block and "\n" not in block and block == block.strip() for block in blocks)
    assert blocks[0] != title  # the headline is the title, not the first paragraph
    assert "\u201c" not in text and "\u00a0" not in text  # normalised


@pytest.mark.parametrize(
    ("name", "url", "page_url", "site_name", "captions", "description"),
    [
        ("wordpress_blog.html", None, "https://fjordline-chronicle.example/2023/03/council-approves-ferry-terminal/",
         "Fjordline Chronicle", ["An artist's impression of the planned terminal seen from the sound."], None),
        ("news_jsonld.html", "https://mirror.example/x",
         "https://www.dailymeridian.example/news/environment/drought-rationing-provinces", "Daily Meridian",
         ["The Almaraz reservoir at eleven percent of capacity in June."],
         "Authorities introduced water rationing as reservoirs fell to their lowest level in decades."),
        ("published_time_meta.html", "https://coastline-post.example/feed/item?id=4",
         "https://coastline-post.example/stories/lighthouse-keeper-retires", "coastline-post.example", [],
         "The last keeper of the Skarvøy light hands over the keys."),
        ("published_time_meta.html", None, None, None, [], "The last keeper of the Skarvøy light hands over the keys."),
        ("title_and_paragraphs.html", "https://www.valley-herald.example/a", "https://www.valley-herald.example/a",
         "valley-herald.example", [], None),
    ],
)
def test_page_metadata(
    name: str, url: str | None, page_url: str | None, site_name: str | None, captions: list[str],
    description: str | None,
) -> None:
    page = extract(name, url, "trafilatura")
    assert (page.url, page.site_name, page.captions, page.description) == (page_url, site_name, captions, description)


@pytest.mark.parametrize(
    ("title", "sites", "from_title_tag", "expected"),
    [
        ("Budget agreed | Example Times", ["Example Times"], True, "Budget agreed"),
        ("Budget agreed - Example Times", ["example times"], False, "Budget agreed"),
        ("Budget agreed – The Example Times", ["Example Times"], True, "Budget agreed"),
        ("Example Times: Budget agreed", ["Example Times"], True, "Budget agreed"),
        ("Example Times :: Budget agreed", ["Example Times"], True, "Budget agreed"),
        ("Budget agreed | Politics | Example Times", ["Example Times"], True, "Budget agreed | Politics"),
        ("Budget agreed | exampletimes.com", ["exampletimes"], True, "Budget agreed"),
        ("Budget agreed after all-night talks | Example Times", [], True, "Budget agreed after all-night talks"),
        ("Budget agreed after all-night talks | Example Times", [], False,
         "Budget agreed after all-night talks | Example Times"),
        ("Ceasefire talks resume - but hopes are low", ["Valley Courier"], True,
         "Ceasefire talks resume - but hopes are low"),
        ("Israel-Hamas talks resume in Cairo", ["Israel"], True, "Israel-Hamas talks resume in Cairo"),
        ("Warning: storm ahead", ["Example Times"], True, "Warning: storm ahead"),
        ("Example Times", ["Example Times"], True, "Example Times"),
    ],
)
def test_strip_site_name(title: str, sites: list[str], from_title_tag: bool, expected: str) -> None:
    assert strip_site_name(title, sites, from_title_tag) == expected


@pytest.mark.parametrize(
    ("markup", "title"),
    [
        ("<html><head><title>Story | Site</title><meta property='og:site_name' content='Site'></head>"
         "<body><h1 class='logo'>Site</h1><p>Body of the story is long enough to count as one.</p></body></html>",
         "Story"),
        ("<html><head><title>Page title</title></head><body><h1>Real headline</h1>"
         "<p>Body of the story is long enough to count as one.</p></body></html>", "Real headline"),
        ("<html><head><title>Page title</title><script type='application/ld+json'>{broken</script></head>"
         "<body><p>Body of the story is long enough to count as one.</p></body></html>", "Page title"),
        ("<html><head><script type='application/ld+json'>[{\"@type\": \"NewsArticle\", \"headline\": \"From LD\"}]"
         "</script></head><body><p>Body of the story is long enough to count as one.</p></body></html>", "From LD"),
    ],
)
def test_title_sources(markup: str, title: str) -> None:
    page = extract_html(markup, None, Options())
    assert page is not None and page.title == title


def test_teaser_dates_are_not_the_publication_date() -> None:
    teasers = "".join(
        f"<div class='teaser'><a href='/x{i}'>Older story {i}</a><time datetime='2019-0{i}-01'>x</time></div>"
        for i in range(1, 6)
    )
    markup = (
        "<html><body><article><h1>Undated story</h1><p>A paragraph of text that has no date at all in it, "
        f"only words about a town meeting.</p></article><aside class='related'>{teasers}</aside></body></html>"
    )
    page = extract_html(markup, None, Options())
    assert page is not None and page.date is None


@pytest.mark.parametrize(
    "markup",
    [
        "",
        "   \n ",
        "<html><head><title>Only a title</title></head></html>",
        "<html><body></body></html>",
        "<html><body><script>var a = 1;</script><nav><a href='/'>Home</a></nav></body></html>",
    ],
)
@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_pages_without_main_text(markup: str, extractor: str) -> None:
    assert extract_html(markup, None, Options(html_extractor=extractor)) is None


@pytest.mark.parametrize("extractor", EXTRACTORS)
@pytest.mark.parametrize("tag", ["div", "span", "b"])
def test_deep_nesting_does_not_crash(extractor: str, tag: str) -> None:
    depth = 10_000
    markup = f"<html><body><p>Intro.</p>{f'<{tag}>' * depth}deep text{f'</{tag}>' * depth}</body></html>"
    page = extract_html(markup, None, Options(html_extractor=extractor))
    assert page is None or isinstance(page.text, str)


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_xml_declaration_and_fragment(extractor: str) -> None:
    markup = "<?xml version='1.0' encoding='utf-8'?><div><p>Paragraph in a fragment with \u00a0odd spacing.</p></div>"
    page = extract_html(markup, None, Options(html_extractor=extractor))
    assert page is not None and page.text == "Paragraph in a fragment with odd spacing."


def test_soup_fallback_when_trafilatura_finds_nothing() -> None:
    markup = "<html><body><div>Text straight in a div, with no paragraph markup around it at all.</div></body></html>"
    page = extract_html(markup, None, Options())
    assert page is not None and page.text == "Text straight in a div, with no paragraph markup around it at all."


@pytest.mark.parametrize(
    ("wrapper", "holds_article", "kept"),
    [
        ("container has-sidebar", True, True),
        ("share-box", False, False),
        ("newsletter_signup", False, False),
        ("ad", False, False),
        ("adventure", False, True),
        ("loader", False, True),
    ],
)
def test_soup_boilerplate_classes(wrapper: str, holds_article: bool, kept: bool) -> None:
    sentence = "The bridge reopened to traffic on Friday after three months of repairs."
    other = "<p>Another paragraph of the story about the bridge and its repairs.</p>"
    inner = f"<article><p>{sentence}</p>{other}</article>" if holds_article else f"<p>{sentence}</p>"
    markup = f"<html><body><div class='{wrapper}'>{inner}</div>{'' if holds_article else other}</body></html>"
    page = extract_html(markup, None, Options(html_extractor="soup"))
    assert page is not None and (sentence in page.text) is kept


@pytest.mark.parametrize(
    ("name", "stamps"),
    [
        ("wordpress_blog.html", ["Posted on March 14, 2023 by Ingrid Halvorsen", "March 14, 2023"]),
        ("time_datetime.html", ["Published 3 November 2022", "3 November 2022"]),
        ("title_and_paragraphs.html", []),
    ],
)
def test_stamps_keep_bylines_for_the_date_parser(name: str, stamps: list[str]) -> None:
    assert extract(name, None, "trafilatura").stamps == stamps


def test_stamps_skip_teasers_and_separate_text_nodes() -> None:
    markup = (
        "<html><body><article><p class='byline'>By Ann Lee<time>April 18, 2024</time><time>April 19, 2024</time></p>"
        "<p>The story itself is long enough to be the main text of this page.</p>"
        "<div class='related'><span class='date'>March 1, 2020</span></div></article></body></html>"
    )
    page = extract_html(markup, None, Options())
    assert page is not None
    assert page.stamps == ["By Ann Lee April 18, 2024 April 19, 2024", "April 18, 2024", "April 19, 2024"]
