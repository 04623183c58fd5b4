"""Publication dates of HTML pages: small pages, each reproducing one cause seen on real news sites.

The figures are measured on the public set in ../shared/corpora/realworld/dates
(``realworld-eval dates``); these pages pin the rules behind them.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from search.extract.dates import extract_date, shown_full_date
from search.extract.html import extract_html
from search.settings import Options
from web.cli import main

STORY = (
    "<p>The harbour authority said on Wednesday that the new ferry berth would open to traffic next spring, "
    "after two years of delays caused by storms and a shortage of steel.</p>"
    "<p>Local businesses welcomed the decision and said the berth would bring more visitors to the town.</p>"
)


def page(body: str, head: str = "") -> str:
    return f"<html><head><title>Ferry berth to open next spring</title>{head}</head><body>{body}</body></html>"


def date_of(markup: str, url: str | None = None) -> tuple[str | None, str | None]:
    found = extract_html(markup, url, Options())
    assert found is not None
    return found.date, found.date_evidence


def test_a_theme_class_naming_the_article_sidebar_does_not_hide_its_date() -> None:
    # Real themes: <article class="... sticky-sidebar-parent">, <div id="sidebar" class="site-content">.
    markup = page(
        "<div id='sidebar' class='site-content'><article class='post sticky-sidebar-parent'>"
        "<h1>Ferry berth to open next spring</h1>"
        "<p class='byline'>Posted <time datetime='2021-03-04T09:00:00+01:00'>4 March 2021</time></p>"
        f"{STORY}</article></div>"
    )
    assert date_of(markup) == ("2021-03-04T09:00:00+01:00", "HTML <time datetime>")


def test_htmldate_sees_the_page_as_it_is() -> None:
    # No machine date; htmldate finds the visible one inside a "related-sidebar" wrapper
    # that holds the whole story (it was pruned away before).
    markup = page(
        "<div class='content has-related-sidebar'><h1>Ferry berth to open next spring</h1>"
        f"<p class='info'>Von Anna Berg, 12.05.2020</p>{STORY}</div>"
    )
    date, evidence = date_of(markup)
    assert date == "2020-05-12" and evidence is not None and evidence.startswith("htmldate")


def test_a_teaser_link_date_is_not_the_page_date() -> None:
    teasers = "".join(
        f"<div class='teaser'><a href='https://other.example/story-{i}'>Older story {i} "
        f"<time datetime='2019-0{i}-01'>1 month ago</time></a></div>"
        for i in range(1, 4)
    )
    markup = page(f"<article><h1>Ferry berth to open next spring</h1>{STORY}</article><aside>{teasers}</aside>")
    assert date_of(markup) == (None, None)


def test_a_utc_stamp_takes_the_local_day_the_page_writes() -> None:
    # An evening story in New York: 22:28 on 8 November is 03:28 UTC on the 9th.
    head = (
        "<meta property='article:published_time' content='2023-11-09T03:28:35+00:00'>"
        "<script>var dataLayer = {\"date\": \"2023-11-08T22:28:35-05:00\"};</script>"
    )
    markup = page(f"<article><h1>Ferry berth to open next spring</h1>{STORY}</article>", head)
    date, evidence = date_of(markup)
    assert date == "2023-11-08T22:28:35-05:00"
    assert evidence == ("HTML meta article:published_time; UTC time; the local day from the page's own "
                        "'2023-11-08T22:28:35-05:00'")


def test_a_utc_stamp_and_a_naive_local_time() -> None:
    head = "<meta property='article:published_time' content='2023-11-09T01:49:09Z'>"
    body = (f"<article><h1>Ferry berth to open next spring</h1><div class='time'>PUBLISHED: "
            f"<time datetime='2023-11-08 17:49:09'>November 8, 2023 at 5:49 p.m.</time></div>{STORY}</article>")
    assert date_of(page(body, head))[0] == "2023-11-08 17:49:09"


def test_a_utc_stamp_and_the_day_in_the_url() -> None:
    head = "<meta property='article:published_time' content='2023-11-01T23:01:00Z'>"
    body = f"<article><h1>Ferry berth to open next spring</h1>{STORY}</article>"
    url = "https://news.example/esteri/2023/11/02/ferry-berth/"
    assert date_of(page(body, head), url) == (
        "2023-11-02", "HTML meta article:published_time; UTC time; the local day from the page's URL (2023/11/02)")
    # A morning UTC stamp is the same day nearly everywhere: a URL a day earlier is the story's creation day.
    head = "<meta property='article:published_time' content='2020-07-09T10:04:04Z'>"
    assert date_of(page(body, head), "https://news.example/2020/07/08/ferry/")[0] == "2020-07-09T10:04:04Z"


def test_a_utc_stamp_alone_is_kept_as_written() -> None:
    head = "<meta property='article:published_time' content='2023-11-09T03:28:35+00:00'>"
    body = f"<article><h1>Ferry berth to open next spring</h1>{STORY}</article>"
    assert date_of(page(body, head)) == ("2023-11-09T03:28:35+00:00", "HTML meta article:published_time")


def test_a_cited_works_date_published_does_not_count() -> None:
    # The citation comes first in document order: it must still not win.
    body = (
        "<article itemscope itemtype='https://schema.org/NewsArticle'><h1>Ferry berth to open next spring</h1>"
        f"{STORY}<div itemprop='citation' itemscope itemtype='https://schema.org/Book'>"
        "<span itemprop='name'>A history of the harbour</span><meta itemprop='datePublished' content='1988'></div>"
        "<meta itemprop='datePublished' content='2022-06-14'></article>"
    )
    assert date_of(page(body)) == ("2022-06-14", "HTML meta datepublished")


def test_a_list_of_other_works_dates_do_not_count() -> None:
    body = (
        f"<article><h1>Ferry berth to open next spring</h1>{STORY}<ul><li itemscope itemtype='https://schema.org/Book'>"
        "<time itemprop='datePublished' datetime='1999-01-01'>1999</time></li></ul></article>"
    )
    assert date_of(page(body)) == (None, None)


def test_the_visible_text_of_a_time_beats_a_different_attribute() -> None:
    body = (f"<article><h1>Ferry berth to open next spring</h1><div class='time'>"
            f"<time datetime='2019-07-03T10:18:46Z'>Publié le 29 juin 2019</time></div>{STORY}</article>")
    assert date_of(page(body)) == ("2019-06-29", "HTML <time> text (its datetime attribute says 2019-07-03T10:18:46Z)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Publié le 29 juin 2019", dt.date(2019, 6, 29)), ("March 14, 2023", dt.date(2023, 3, 14)),
     ("Mittwoch, 26.01.2022 - 14:30", dt.date(2022, 1, 26)), ("05/06/2023", None), ("2 hours ago", None),
     ("May 2024", None), ("March 1, 2020 and March 2, 2020", None)],
)
def test_shown_full_date(text: str, expected: dt.date | None) -> None:
    assert shown_full_date(text) == expected


def test_extensive_search_never_makes_a_copyright_year_a_day() -> None:
    markup = page(f"<article><h1>Ferry berth to open next spring</h1>{STORY}</article>"
                  "<footer><p class='copyright'>© Harbour News 2019–2024</p></footer>")
    assert date_of(markup) == (None, None)


def test_a_non_latin_page_keeps_its_text() -> None:
    # The title key of a Cyrillic headline was "", equal to every line's: the whole text was dropped.
    markup = (
        "<html><head><title>Причиной тайной инаугурации стал стыд</title>"
        "<meta itemprop='datePublished' content='2020-09-23T20:12:38+0300'></head><body><article>"
        "<h1>Причиной тайной инаугурации стал стыд</h1><p>Все прошло стремительно, как и положено спецоперации. "
        "В тайне даже от союзников и старшего брата, сказал собеседник издания.</p></article></body></html>"
    )
    found = extract_html(markup, None, Options())
    assert found is not None and "стремительно" in found.text and found.date == "2020-09-23T20:12:38+0300"


def test_a_wire_dateline_takes_the_year_the_text_states() -> None:
    lines = ["MOSCOW, Oct 26 (Reuters) - Russia said on Thursday that talks would resume next week in the capital.",
             "The ministry statement, dated October 26, 2021, gave no further details about who would attend."]
    info = extract_date(None, lines, dt.date(2024, 3, 1))
    assert info.value == dt.date(2021, 10, 26) and "year from the text" in info.evidence
    # Without it, the reference date (crawl day or mtime) still bounds the year.
    assert extract_date(None, lines[:1], dt.date(2024, 3, 1)).value == dt.date(2023, 10, 26)


def test_clean_cli_gives_the_local_day(tmp_path, capsys) -> None:
    head = (
        "<meta property='article:published_time' content='2020-02-25T02:25:54+00:00'>"
        "<script>var page = {\"date\": \"2020-02-24T21:25:54-05:00\"};</script>"
    )
    path = tmp_path / "story.html"
    path.write_text(page(f"<article><h1>Ferry berth to open next spring</h1>{STORY}</article>", head), "utf-8")
    capsys.readouterr()
    assert main(["clean", str(path), "--json", "--no-context"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["date"], data["date_precision"]) == ("2020-02-24", "day")
    assert data["date_evidence"].startswith("HTML meta article:published_time; UTC time; the local day")


def test_a_dated_page_without_text_in_its_markup_is_still_given(tmp_path, capsys) -> None:
    # A script-rendered story: headline and date in the markup, the text loaded later.
    head = "<meta property='og:title' content='Veteran, 98, beats the virus'>" \
           "<meta property='article:published_time' content='2020-04-24T10:00:00+10:00'>"
    path = tmp_path / "rendered.html"
    path.write_text(page("<div id='app'></div><script>render()</script>", head), "utf-8")
    capsys.readouterr()
    assert main(["clean", str(path), "--json", "--no-context"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["date"], data["date_precision"]) == ("2020-04-24", "day")
    # Without a date it is furniture, as before.
    assert extract_html(page("<div id='app'></div>"), None, Options()) is None
