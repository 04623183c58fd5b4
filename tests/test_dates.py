"""Tests for search.extract.dates: metadata strings, date lines, the text chain."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.document import UNDATED
from search.extract.dates import (
    extract_date,
    parse_date_line,
    parse_date_string,
    resolve_weekday_date,
)
from search.settings import Options

REF = dt.date(2026, 11, 22)
SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# --------------------------------------------------------------------------
# resolve_weekday_date
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "month", "day", "reference", "expected"),
    [
        (3, 10, 26, dt.date(2026, 11, 22), dt.date(2023, 10, 26)),  # Thursday Oct 26
        (3, 10, 26, dt.date(2023, 10, 25), dt.date(2017, 10, 26)),  # the day before it: go back a cycle
        (3, 10, 26, dt.date(2023, 10, 26), dt.date(2023, 10, 26)),  # the reference day itself counts
        (1, 3, 3, dt.date(2026, 11, 22), dt.date(2026, 3, 3)),  # Tuesday 3 March
        (3, 2, 29, dt.date(2026, 11, 22), dt.date(2024, 2, 29)),  # Feb 29 2024 was a Thursday
        (0, 2, 29, dt.date(2026, 11, 22), dt.date(2016, 2, 29)),  # Monday Feb 29: 2016
        (0, 4, 31, dt.date(2026, 11, 22), None),  # April 31 never exists
        (7, 10, 26, dt.date(2026, 11, 22), None),  # no such weekday
        (2, 13, 1, dt.date(2026, 11, 22), None),  # no such month
    ],
)
def test_resolve_weekday_date(weekday, month, day, reference, expected):
    assert resolve_weekday_date(weekday, month, day, reference) == expected


def test_resolve_weekday_date_gives_up_beyond_the_cycle():
    # Feb 29 falls on a Sunday in 2004 and 2032 only around here; from 2031 the
    # 28-year window reaches back to 2003 and finds 2004, from 2060 it does not
    # reach 2004 and 2032 is the answer.
    assert resolve_weekday_date(6, 2, 29, dt.date(2031, 1, 1)) == dt.date(2004, 2, 29)
    assert resolve_weekday_date(6, 2, 29, dt.date(2060, 1, 1)) == dt.date(2032, 2, 29)
    # 1900 is not a leap year, which breaks the cycle: Wednesday Feb 29 fell in
    # 1888 and 1928, so at the end of 1927 none lies within 28 years back
    assert resolve_weekday_date(2, 2, 29, dt.date(1927, 12, 31)) is None


# --------------------------------------------------------------------------
# parse_date_string
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "precision"),
    [
        ("2023-10-26", "2023-10-26", "day"),
        ("2023-10-26T09:30:00+03:00", "2023-10-26", "day"),
        ("2023-10-26T23:30:00-05:00", "2023-10-26", "day"),  # local date as written, not UTC
        ("2023-10-26T09:30:00.000Z", "2023-10-26", "day"),
        ("2023-10-26 09:30", "2023-10-26", "day"),
        ("20231026", "2023-10-26", "day"),
        ("2023-10", "2023-10", "month"),
        ("2023", "2023", "year"),
        ("2023/10/26", "2023-10-26", "day"),
        ("26/10/2023", "2023-10-26", "day"),
        ("10/26/2023", "2023-10-26", "day"),  # month first is unambiguous too
        ("05/05/2023", "2023-05-05", "day"),  # both readings agree
        ("26.10.2023", "2023-10-26", "day"),
        ("Oct 26, 2023", "2023-10-26", "day"),
        ("Oct. 26, 2023", "2023-10-26", "day"),
        ("Sept 3, 2024", "2024-09-03", "day"),
        ("October 26th, 2023 9:30 AM EST", "2023-10-26", "day"),
        ("26 October 2023", "2023-10-26", "day"),
        ("26th of October, 2023", "2023-10-26", "day"),
        ("October 2023", "2023-10", "month"),
        ("Thu, 26 Oct 2023 09:30:00 GMT", "2023-10-26", "day"),
        ("Thu, 26 Oct 2023 09:30:00 +0000", "2023-10-26", "day"),
        ("Thu Oct 26 09:30:00 +0000 2023", "2023-10-26", "day"),
        (" 3-MAR-1987 09:12:03.31", "1987-03-03", "day"),
        ("31-MAR-1987 605:12:19.12", "1987-03-31", "day"),
        ("26-FEB-1987 15:01:01.79&#5;&#5;&#5;RM", "1987-02-26", "day"),
        ("Thursday, October 26", "2023-10-26", "day"),  # resolved against the reference
        ("1698312600", "2023-10-26", "day"),  # epoch seconds, UTC
        ("26 octobre 2023", "2023-10-26", "day"),
        ("jeudi 1er février 2024", "2024-02-01", "day"),
        ("Donnerstag, 26. Oktober 2023", "2023-10-26", "day"),
        ("März 2024", "2024-03", "month"),
        ("26 de octubre de 2023", "2023-10-26", "day"),
        ("octubre de 2023", "2023-10", "month"),
        ("1800-01-01", "1800-01-01", "day"),
        ("2027-12-31", "2027-12-31", "day"),  # reference year + 1 still plausible
    ],
)
def test_parse_date_string(text, expected, precision):
    info = parse_date_string(text, REF)
    assert info is not None
    assert (info.iso(), info.precision) == (expected, precision)
    assert info.evidence.startswith("metadata: ")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "2023-13-01",  # month 13
        "2023-02-30",  # Feb 30
        "2023-02-29",  # not a leap year
        "30 February 2024",
        "1799-12-31",  # too old
        "2028-01-01",  # beyond reference year + 1
        "05/06/2023",  # day and month could swap
        "13/13/2023",
        "32-MAR-1987 09:12:03.31",
        "Thursday, October 27, never",
        "Monday, April 31",  # a day that never exists
        "2023 annual report",
        "hello world",
        "next Thursday",
    ],
)
def test_parse_date_string_rejects(text):
    assert parse_date_string(text, REF) is None


def test_parse_date_string_takes_json_numbers():
    assert parse_date_string(2023, REF).iso() == "2023"
    assert parse_date_string(1698312600, REF).iso() == "2023-10-26"


_PIECES = [*"0123456789-/.:, TZ+", "Oct", "May", "Thu", "26th", " at ", "ago", " hours", "By ", "|"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
def test_parsers_never_raise(text):
    for info in (parse_date_string(text, REF), parse_date_line(text, REF)):
        assert info is None or info.value is not None


def test_parse_date_string_month_and_year_use_day_one():
    assert parse_date_string("2023-10", REF).value == dt.date(2023, 10, 1)
    assert parse_date_string("2023", REF).value == dt.date(2023, 1, 1)


def test_parse_date_string_weekday_resolution_uses_reference():
    assert parse_date_string("Thursday, October 26", dt.date(2023, 10, 25)).value == dt.date(2017, 10, 26)


# --------------------------------------------------------------------------
# parse_date_line
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected", "precision"),
    [
        ("June 25, 2024 at 10:11 am", "2024-06-25", "day"),
        ("Published: 12 March 2024", "2024-03-12", "day"),
        ("Updated Thursday, October 26, 2023 10:11 GMT", "2023-10-26", "day"),
        ("Posted on 2024-03-01 by admin", "2024-03-01", "day"),
        ("By Jane Doe | March 3, 2024", "2024-03-03", "day"),
        ("By JANE DOE and JOHN SMITH | 26 Oct 2023", "2023-10-26", "day"),
        ("By Jane Doe, Senior Correspondent | October 26, 2023", "2023-10-26", "day"),
        ("Mar 3, 2024 · 4 min read", "2024-03-03", "day"),
        ("Mar 3, 2024 — 4 min read", "2024-03-03", "day"),
        ("Last Updated: Oct 26, 2023 | 10:11 AM IST", "2023-10-26", "day"),
        ("Updated: 10:11 AM EST, Thu October 26, 2023", "2023-10-26", "day"),
        ("Thu 26 Oct 2023 10.11 BST", "2023-10-26", "day"),
        ("Sky News | March 3, 2024", "2024-03-03", "day"),
        ("Middle East Monitor - June 25, 2024", "2024-06-25", "day"),
        ("Posted in Politics | March 3, 2024", "2024-03-03", "day"),
        ("2024-03-01T10:00:00Z", "2024-03-01", "day"),
        ("26/10/2023 10:11", "2023-10-26", "day"),
        ("October 2023", "2023-10", "month"),
        ("Thursday, October 26", "2023-10-26", "day"),
        ("Published: 12 March 2024 | Last updated: 13 March 2024", "2024-03-12", "day"),
        ("Last updated: 13 March 2024 | Published: 12 March 2024", "2024-03-12", "day"),
        ("3 hours ago", "2026-11-22", "day"),
        ("Updated 2 days ago", "2026-11-20", "day"),
        ("yesterday", "2026-11-21", "day"),
    ],
)
def test_parse_date_line(line, expected, precision):
    info = parse_date_line(line, REF)
    assert info is not None
    assert (info.iso(), info.precision) == (expected, precision)


@pytest.mark.parametrize(
    "line",
    [
        "On September 12, Russian Foreign Minister Sergey Lavrov received Ismail Haniyeh, head of the bureau.",
        "The ministry said on 14 May 2018 that the embassy would move.",
        "Israel attacked on October 7, 2023",
        "Hamas attacks Israel, October 7, 2023",
        "Senior Hamas leader Mousa Abu Marzook, on 14 May 2018 [Reuters/Mohammed Salem]",
        "Photo: Reuters, 12 March 2024",
        "Election Results For November 5, 2024",  # title-case words run into the date
        "By the government on March 3, 2024",
        "Creating new perspectives since 2009",
        "© 2024 Reuters",
        "Copyright 2024",
        "Oct 26",  # no year, no weekday: nothing fixes it
        "03/04/2024",  # ambiguous day/month
        "Published: 30 February 2024",
        "Advertisement",
        "Leave a Reply",
        "",
        "3 weeks ago",  # too vague to give a day
    ],
)
def test_parse_date_line_rejects(line):
    assert parse_date_line(line, REF) is None


def test_relative_stamp_needs_a_reference():
    assert parse_date_line("3 hours ago") is None
    assert parse_date_line("yesterday", None) is None


def test_date_line_weekday_without_reference_uses_today():
    info = parse_date_line("Thursday, October 26")
    assert info is not None and info.value.weekday() == 3 and info.value <= dt.date.today()


# --------------------------------------------------------------------------
# extract_date
# --------------------------------------------------------------------------

LONG = "officials said in a statement released to the press on the day."


@pytest.mark.parametrize(
    ("lines", "reference", "expected"),
    [
        # byline stamps near the top
        (["Creating new perspectives since 2009", "June 25, 2024 at 10:11 am", f"The minister met, {LONG}"],
         REF, "2024-06-25"),
        (["Updated: 13 March 2024", "Published: 12 March 2024", f"Text {LONG}"], REF, "2024-03-12"),
        (["October 2023", f"Text {LONG}"], REF, "2023-10"),
        # datelines
        ([f"WASHINGTON, March 3, 2024 - The White House {LONG}"], REF, "2024-03-03"),
        ([f"26 October 2023 (AFP) - Israel struck targets, {LONG}"], REF, "2023-10-26"),
        ([f"MOSCOW, Oct 26 (Reuters) - Russia hosted a delegation, {LONG}"], dt.date(2023, 11, 1), "2023-10-26"),
        ([f"MOSCOW, Oct 26 (Reuters) - Russia hosted a delegation, {LONG}"], None, None),  # year unknowable
        ([f"GAZA CITY, Gaza Strip, Thursday, Oct 26 (AP) - Forces pressed on, {LONG}"], REF, "2023-10-26"),
        ([f"MOSCOW, October 26, 2023. /TASS/. The deputy minister met, {LONG}"], REF, "2023-10-26"),
        ([f"October 7, 2023: Hamas attacks Israel, {LONG}"], REF, None),  # a timeline entry, not a dateline
        # weekday + month-day in the lead
        ([f"The agency reported on Thursday, October 26, that a delegation {LONG}"], REF, "2023-10-26"),
        ([f"The agency reported on Thursday, October 26, that a delegation {LONG}"], dt.date(2023, 10, 25),
         "2017-10-26"),
        ([f"On Tuesday, 3 March, the minister said that {LONG}"], REF, "2026-03-03"),
        ([f"On Monday, April 31, the minister said that {LONG}"], REF, None),  # no such day
        (["Short kicker", f"One {LONG}", f"Two {LONG}", f"Three {LONG}", f"On Thursday, October 26, {LONG}"],
         REF, None),  # beyond the lead
        # event dates in the body are not publication dates
        ([f"On September 12, Russian Foreign Minister Sergey Lavrov received Haniyeh, {LONG}"], REF, None),
        ([f"A new round of confrontation began on October 7 after the attack, {LONG}"], REF, None),
        ([f"On Wednesday, the spokeswoman said that {LONG}"], REF, None),
        ([f"The minister said on 14 May 2018 that {LONG}"], REF, None),
        ([f"Trade and/or aid were discussed on Thursday, October 26, {LONG}"], REF, "2023-10-26"),
        ([f"The president said on Thursday, October 26, 2023, that {LONG}"], REF, None),
        (["Senior Hamas leader Mousa Abu Marzook, on 14 May 2018 [Reuters/Mohammed Salem]", f"Text {LONG}"],
         REF, None),
        # footer stamp
        ([f"One {LONG}"] * 9 + ["Published on 12 March 2024"], REF, "2024-03-12"),
        ([f"One {LONG}"] * 9 + ["March 12, 2024"], REF, None),  # a bare date at the foot is not enough
        ([], REF, None),
    ],
)
def test_extract_date(lines, reference, expected):
    info = extract_date(None, lines, reference, Options())
    assert info.iso() == expected
    if expected is None:
        assert info == UNDATED


def test_extract_date_options_reference_wins():
    lines = [f"MOSCOW, Oct 26 (Reuters) - Russia hosted a delegation, {LONG}"]
    info = extract_date(None, lines, dt.date(2026, 1, 1), Options(reference_date=dt.date(2023, 11, 1)))
    assert info.value == dt.date(2023, 10, 26)


def test_lead_weekday_evidence_says_how():
    info = extract_date(None, [f"The agency reported on Thursday, October 26, that {LONG}"], REF, None)
    assert "Thursday, October 26" in info.evidence and "2023" in info.evidence


# --------------------------------------------------------------------------
# The real seed scrapes (sanity, not a target: rules are general)
# --------------------------------------------------------------------------


def _seed_lines(prefix: str) -> list[str]:
    path = next(SEEDS.glob(f"{prefix}_*.txt"), None)
    if path is None:
        pytest.skip("seed file missing")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("prefix", "reference", "expected"),
    [
        ("000", REF, None),
        ("001", REF, "2024-06-25"),
        ("002", REF, None),
        ("003", REF, None),
        ("004", REF, "2023-10-26"),
        ("004", dt.date(2023, 10, 25), "2017-10-26"),
    ],
)
def test_seeds(prefix, reference, expected):
    assert extract_date(None, _seed_lines(prefix), reference, Options()).iso() == expected
