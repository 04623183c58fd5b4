"""The cleaner: golden files for whole pages, tables for single rules.

Golden files live in ``tests/expected/clean``; after a deliberate change to
the cleaner, regenerate them with ``NEWSFACET_UPDATE_GOLDEN=1 pytest
tests/test_clean.py`` and read the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from search.clean import (
    RepeatedLines,
    caption_reason,
    clean_text,
    is_sentence,
    line_key,
    teaser_reason,
    ui_reason,
)
from search.settings import Options

from .conftest import SEEDS, SITES

EXPECTED = Path(__file__).parent / "expected" / "clean"
UPDATE = os.environ.get("NEWSFACET_UPDATE_GOLDEN") == "1"
OPTIONS = Options()


def pages() -> list[Path]:
    return sorted(SEEDS.glob("*.txt")) + sorted(SITES.glob("txt_*/*.txt"))


def cleaned_as_dict(path: Path) -> dict:
    from search.readers import decode_bytes

    siblings = sorted(path.parent.glob("*.txt"))
    repeated = RepeatedLines.from_texts((("g", decode_bytes(p.read_bytes())) for p in siblings), OPTIONS)
    result = clean_text(
        decode_bytes(path.read_bytes()),
        OPTIONS,
        repeated=repeated.for_group("g"),
        headlines=repeated.headlines("g"),
        reference_date=dt.date(2024, 7, 1),
    )
    return {
        "title": result.title,
        "title_evidence": result.title_evidence,
        "paragraphs": result.paragraphs,
        "date_lines": [line for line, _ in result.date_lines],
        "dateline": result.dateline,
        "captions": result.captions,
        "bylines": result.bylines,
        "dropped": [[d.line, d.reason] for d in result.dropped],
    }


@pytest.mark.parametrize("path", pages(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden(path):
    golden = EXPECTED / f"{path.parent.name}__{path.stem}.json"
    actual = cleaned_as_dict(path)
    if UPDATE or not golden.exists():
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"golden file {golden.name} was missing and has been written; review and commit it")
    assert actual == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "line,expected",
    [
        ("The minister resigned on Friday.", True),
        ("He declined to comment.", True),
        ("Prices rose", False),
        ("Seafront parking charges to double under council budget plan", False),
        ("Wait...", False),
        (" ".join(["word"] * 30), True),  # a long paragraph cut off mid-sentence is still prose
    ],
)
def test_is_sentence(line, expected):
    assert is_sentence(line) is expected


@pytest.mark.parametrize(
    "line,dropped",
    [
        ("Subscribe to our newsletter", True),
        ("Follow us on Mastodon", True),
        ("Share this story", True),
        ("Leave a comment", True),
        ("Comments are closed.", True),
        ("Your email address will not be published.", True),
        ("Copyright © 2024 Example Media. All rights reserved.", True),
        ("Home › World › Europe", True),
        ("Sign up for our morning briefing - the day's top stories in your inbox by 7am.", True),
        ("We use cookies to improve your experience on our site.", True),
        ("He declined to comment.", False),
        ('"Sign up now or lose your place," the organiser told volunteers.', False),
        ("Follow-up inspections found no further faults at the plant.", False),
        ("The report was shared with the committee on Monday.", False),
    ],
)
def test_ui_language(line, dropped):
    assert (ui_reason(line) is not None) is dropped


@pytest.mark.parametrize(
    "line,dropped",
    [
        ("READ: Minister warns of further delays", True),
        ("ALSO READ - Port strike enters second week", True),
        ("Watch: Flood waters reach the town centre", True),
        ("Analysis: The minister said the plan would cost more than expected.", False),
        ("Note to readers: this is a sentence that explains something at length.", False),
    ],
)
def test_teasers(line, dropped):
    assert (teaser_reason(line) is not None) is dropped


@pytest.mark.parametrize(
    "line,is_caption",
    [
        ("Firefighters at the scene on Tuesday. Photo: Jane Roe/AFP", True),
        ("The minister arrives in Brussels [Reuters/John Doe]", True),
        ("Volunteers fill sandbags (Photo: City Council)", True),
        ("The photo was taken on Tuesday by a passer-by who later posted it online.", False),
    ],
)
def test_captions(line, is_caption):
    assert (caption_reason(line) is not None) is is_caption


def test_a_site_with_unseen_furniture():
    page = "\n".join(
        [
            "Valley Courier",
            "Local news you can trust",
            "Town  |  County  |  Sport  |  Letters",
            "Bridge repairs to close Main Street for six weeks",
            "By Sam Hill, Transport Correspondent",
            "Updated: Tuesday 2 April 2024",
            "Main Street will close to traffic from Monday while engineers repair the river bridge.",
            "Sponsored",
            "The county council said diversions would be signposted through the industrial estate.",
            "What it means for buses",
            "Route 12 will be diverted via Mill Lane for the duration of the works.",
            "It will cost £2.1m.",
            "Most popular",
            "School wins national chess title",
            "Give us your feedback on this article.",
        ]
    )
    result = clean_text(page, OPTIONS)
    assert result.title == "Bridge repairs to close Main Street for six weeks"
    assert result.paragraphs == [
        "Main Street will close to traffic from Monday while engineers repair the river bridge.",
        "The county council said diversions would be signposted through the industrial estate.",
        "What it means for buses",
        "Route 12 will be diverted via Mill Lane for the duration of the works.",
        "It will cost £2.1m.",
    ]
    assert result.bylines == ["By Sam Hill, Transport Correspondent"]
    assert [d for d, _ in result.date_lines] == ["Updated: Tuesday 2 April 2024"]
    dropped = {d.line for d in result.dropped}
    assert {"Valley Courier", "Local news you can trust", "Sponsored", "Most popular",
            "School wins national chess title", "Give us your feedback on this article."} <= dropped


def test_repetition_across_pages_is_boilerplate_but_syndicated_copies_are_not():
    story = "Shares in the lender fell 4% after it cut its profit forecast for the year."
    furniture = "Part of the Example Media Group"
    texts = [
        ("site", f"Lender cuts forecast\n{story}\nAnalysts had expected a cut.\n{furniture}"),
        ("site", f"Lender cuts forecast\n{story}\nAnalysts had expected a cut.\n{furniture}"),  # a copy
        ("site", f"Ferry fares rise\nFerry fares will rise by 5% from May, the operator said.\n{furniture}"),
    ]
    rep = RepeatedLines.from_texts(texts, OPTIONS).for_group("site")
    assert rep == {"part of the example media group": 2}
    result = clean_text(texts[0][1], OPTIONS, repeated=rep)
    assert result.title == "Lender cuts forecast"
    assert result.paragraphs == [story, "Analysts had expected a cut."]


def test_extracted_lines_are_dropped_only_on_evidence():
    """Lines from an HTML main-text extractor: shape and position rules are off."""
    page = "\n".join(
        [
            "Harbour news",
            "Bridge repairs to close Main Street",
            "By Sam Hill, Transport Correspondent",
            "Main Street will close to traffic from Monday while engineers repair the river bridge.",
            "Video: six weeks of works",
            "Town | County | Sport",
            "Share this article",
            "The county council said diversions would be signposted.",
            "Route 12 diverted",
            "Copyright 2024 Example Media",
            "Mill Lane reopens in May",
        ]
    )
    plain = clean_text(page, OPTIONS)
    assert "Video: six weeks of works" not in plain.paragraphs
    assert "Route 12 diverted" not in plain.paragraphs
    result = clean_text(page, OPTIONS, extracted=True)
    assert result.title == "Bridge repairs to close Main Street"
    assert result.paragraphs == [
        "Harbour news",  # above the headline: a position rule, off for extracted lines
        "Main Street will close to traffic from Monday while engineers repair the river bridge.",
        "Video: six weeks of works",
        "Town | County | Sport",
        "The county council said diversions would be signposted.",
        "Route 12 diverted",
        "Mill Lane reopens in May",
    ]
    assert result.bylines == ["By Sam Hill, Transport Correspondent"]
    dropped = {d.line for d in result.dropped}
    assert {"Share this article", "Copyright 2024 Example Media"} <= dropped
    # Repetition across sibling pages is evidence and still applies.
    rep = {line_key("Route 12 diverted"): 3}
    assert "Route 12 diverted" not in clean_text(page, OPTIONS, repeated=rep, extracted=True).paragraphs


def test_extracted_prose_in_the_second_person_and_slashed_words_are_kept():
    """Seen on the HTML path: tutorial prose and German gender forms are article text."""
    lines = ["Before you start, you will need Python on your computer.",
             "Anmeldungen von Teilnehmern/innen nehmen wir im Anschluss entgegen, Infos unter Termine/Kurse."]
    result = clean_text("\n".join(["Setting up", *lines, "Share this article"]), OPTIONS, extracted=True)
    assert result.paragraphs == lines
    assert caption_reason("Firefighters at the scene. REUTERS/Jane Roe") is not None


# --- tables and lists under a short lead (issue 12) ------------------------------

RESULTS = """ROWING - RESULTS AT THE LAKESIDE REGATTA.
KESTRELTON 2024-06-14
Results of the finals at the Lakeside
regatta on Saturday:
Men's single sculls
1. Tomas Verhoek (Netherlands) 7:02.31
2. Piet Ansbach (Germany) 7:04.88
3. Luca Ferrandi (Italy) 7:09.10
Women's pairs
1. Hart and Oduya (Britain) 7:41.05
2. Lindqvist and Berg (Sweden) 7:43.90
3. Moreau and Petit (France) 7:50.12
"""

STANDINGS = """HOCKEY - NORTHERN LEAGUE STANDINGS.
OSTRAVIN, Ruritania 2024-02-03
Northern league standings after Sunday's games (tabulate under played, won, drawn, lost, points):
Division one
P W D L Pts
Harrowgate 10 7 2 1 23
Fennick Rovers 10 6 2 2 20
Old Marston 10 4 3 3 15
Division two
P W D L Pts
Castleby 9 6 1 2 19 (3 / 1 away)
Wexmoor United 9 5 2 2 17
Lyle Park 9 2 1 6 7
"""


@pytest.mark.parametrize("text", [RESULTS, STANDINGS], ids=["results", "standings"])
def test_a_table_under_a_short_lead_is_the_article(text):
    """A results table or standings list has no prose line, but it is the story."""
    result = clean_text(text, OPTIONS)
    lines = text.splitlines()
    rows = [ln for ln in lines if ln[:1].isdigit() or ln.split()[-1].isdigit() or ln.endswith(")")]
    assert len(rows) == 6
    for row in rows:
        assert row in result.paragraphs, row
    assert lines[0] in result.paragraphs and lines[3] in result.paragraphs  # headline and lead


@pytest.mark.parametrize(
    "text,place,day",
    [(RESULTS, "KESTRELTON", "2024-06-14"), (STANDINGS, "OSTRAVIN, Ruritania", "2024-02-03")],
    ids=["results", "standings"],
)
def test_a_dateline_on_its_own_line_is_the_dateline_and_the_date(text, place, day):
    """"PLACE 2024-06-14" under the headline, not the "SPORT - " of the headline."""
    from search.extract.dates import extract_date

    result = clean_text(text, OPTIONS)
    assert result.dateline == place
    assert result.paragraphs[0] == text.splitlines()[0]
    assert extract_date(result.title, result.date_context, dt.date(2024, 7, 1), OPTIONS).iso() == day
    stamp = clean_text("Harbour news\nUpdated 2024-05-01\nThe ferry will run again on Monday.", OPTIONS)
    assert stamp.dateline is None  # a stamp, not a place in capitals


FOOTERS = {
    # One block, as a plain-text dump without blank lines prints it.
    "one block": "\n".join([
        "Valley Courier", "Bridge closes for repairs",
        "Main Street will close on Monday while the river bridge is repaired.",
        "12 Comments", "Posted 3 hours ago", "Call 0800 123 4567 to advertise with us",
        "Top 10 walks in the Dales this summer", "© 2024 Valley Courier Media, 5 Mill Lane",
    ]),
    "no vocabulary first": "\n".join([
        "Valley Courier", "Bridge closes for repairs",
        "Main Street will close on Monday while the river bridge is repaired.",
        "Posted 3 hours ago", "Call 0800 123 4567 to advertise with us", "Top 10 walks in the Dales",
        "Harbour Day 2024 in pictures", "Page 2 of 5", "Tel. 01632 960 123", "© 2024 Valley Courier Media",
    ]),
    # One line a block, as a scraped page's dump prints it.
    "a line a block": "\n\n".join([
        "Valley Courier", "Bridge closes for repairs",
        "Main Street will close on Monday while the river bridge is repaired.",
        "Ferry timetable 2024", "Lifeboat Day 2024", "Carnival 2024", "Call 0800 123 4567",
        "Page 2 of 5", "© 2024 Valley Courier Media",
    ]),
}


@pytest.mark.parametrize("page", FOOTERS.values(), ids=FOOTERS.keys())
def test_a_footer_with_numbers_under_a_short_article_is_still_dropped(page):
    """Comment counts, "3 hours ago", a phone number, a pager and a copyright year are no table."""
    result = clean_text(page, OPTIONS)
    assert result.title == "Bridge closes for repairs"
    assert result.paragraphs == ["Main Street will close on Monday while the river bridge is repaired."]
