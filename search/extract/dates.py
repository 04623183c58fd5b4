"""Publication dates: parse explicit date strings and find the date in article text.

Two entry points feed :class:`search.document.DateInfo` to the indexer:

* :func:`parse_date_string` reads a date that a sidecar, JSONL row, HTML meta
  tag or corpus markup gave explicitly (ISO 8601, RFC 2822, Reuters
  ``26-FEB-1987 15:01:01.79`` ...).  Lenient about *format*, strict about
  *validity*.
* :func:`extract_date` looks for the date in the cleaned article text, through
  a short chain of ``extract_*`` rules (byline stamp, wire dateline, weekday
  phrase in the lead).  It is deliberately timid: a date mentioned in a body
  sentence is usually the date of an *event*, so the chain returns
  :data:`~search.document.UNDATED` rather than guess.

:func:`parse_date_line` is also called by the cleaner on every short line of
every document, so it rejects the common case (a prose line with no digit)
with one precompiled regex before doing any real work.
"""

from __future__ import annotations

import calendar
import datetime as dt
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from search.document import UNDATED, DateInfo
from search.extract.date_bylines import only_byline_words
from search.extract.date_patterns import (
    ALL_SHAPES,
    CAPTION,
    COMPACT,
    CONTROL_CHARS,
    CTIME,
    DATE_HINT,
    DATE_TAIL,
    DATELINE,
    DATELINE_KINDS,
    DIGIT,
    EN_LEAD_SHAPES,
    EN_SHAPES,
    EPOCH,
    FILLER,
    HOURS,
    LEAD_KINDS,
    LINE_KINDS,
    META_LABEL,
    MONTHS_ALL,
    MONTHS_EN,
    NO_DIGIT_RELATIVE,
    PUBLISH_WORDS,
    RELATIVE,
    RELATIVE_DAYS,
    REUTERS_STAMP,
    SENTENCE_END,
    TIME_OF_DAY,
    UPDATE_WORDS,
    WEEKDAYS_ALL,
    WEEKDAYS_EN,
    YEAR_MONTH,
    YEAR_ONLY,
)
from search.settings import Options
from search.textnorm import fold, normalize_text

MIN_YEAR = 1800
MAX_DATE_LINE_CHARS = 160
BYLINE_SCAN_LINES = 8       # bylines sit right under the headline
TRAILER_SCAN_LINES = 5      # "Published on ..." footers at the end of the text
LEAD_PARAGRAPHS = 3
DATELINE_PARAGRAPHS = 2     # a standfirst may come before the datelined paragraph
DATELINE_SCAN_LINES = 10
WEEKDAY_LOOKBACK_YEARS = 28  # the Gregorian weekday cycle of Feb 29
# Wire datelines omit the year ("MOSCOW, Oct 26 (Reuters) -"); take the latest
# such day not after the crawl date.  Only with a real reference date, never today.
RESOLVE_YEARLESS_DATELINE = True
# 05.06.2023 is day-first wherever dots are used (Europe, Russia ...); slashes
# and hyphens are resolved only when one side is > 12.
DOTTED_IS_DAY_FIRST = True
PARAGRAPH_MIN_WORDS = 8
PARAGRAPH_LONG_WORDS = 20


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    """A date phrase found in text, before validation."""

    start: int
    end: int
    text: str
    year: int | None
    month: int | None
    day: int | None
    weekday: int | None
    ambiguous: bool = False
    relative_days: int | None = None  # days before the reference, for "3 hours ago"
    relative: bool = False


def _today() -> dt.date:
    return dt.date.today()


def _valid_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _plausible_year(year: int, reference: dt.date | None) -> bool:
    latest = (reference or _today()).year + 1
    return MIN_YEAR <= year <= latest


def _lookup(table: dict[str, int], word: str) -> int | None:
    key = word.lower().rstrip(".")
    value = table.get(key)
    return value if value is not None else table.get(fold(key))


def _hit_from_match(m: re.Match, months: dict[str, int], weekdays: dict[str, int]) -> _Hit | None:
    g = m.groupdict()
    year = int(g["year"]) if g.get("year") else None
    day = int(g["day"]) if g.get("day") else None
    ambiguous = False
    if g.get("mon"):
        month = _lookup(months, g["mon"])
        if month is None:
            return None
    elif g.get("mnum"):
        month = int(g["mnum"])
    elif g.get("a"):
        a, b = int(g["a"]), int(g["b"])
        if g.get("sep") == "." and DOTTED_IS_DAY_FIRST:
            day, month = a, b
        elif a > 12 >= b:
            day, month = a, b
        elif b > 12 >= a:
            month, day = a, b
        elif a == b:
            day = month = a
        else:
            day, month, ambiguous = a, b, True
    else:
        month = None
    weekday = _lookup(weekdays, g["wd"]) if g.get("wd") else None
    return _Hit(m.start(), m.end(), m.group(0), year, month, day, weekday, ambiguous)


def _find_hits(text: str, patterns: dict, kinds: Sequence[str], months: dict[str, int]) -> list[_Hit]:
    """All date phrases of *kinds* in *text*, longest first where they overlap."""
    found: list[_Hit] = []
    for kind in kinds:
        for m in patterns[kind].finditer(text):
            hit = _hit_from_match(m, months, WEEKDAYS_ALL)
            if hit is not None:
                found.append(hit)
    found.sort(key=lambda h: (h.start, -(h.end - h.start)))
    chosen: list[_Hit] = []
    for hit in found:
        if not chosen or hit.start >= chosen[-1].end:
            chosen.append(hit)
    return chosen


def _relative_hits(text: str) -> list[_Hit]:
    hits = []
    for m in RELATIVE.finditer(text):
        word = (m.group("word") or "").lower()
        days: int | None = None
        if word in ("today", "just now"):
            days = 0
        elif word == "yesterday":
            days = 1
        else:
            n_text = m.group("n").lower()
            n = 1 if n_text in ("a", "an", "one") else int(n_text)
            unit = m.group("unit").lower()
            unit = unit[:-1] if unit.endswith("s") and len(unit) > 1 else unit
            per = RELATIVE_DAYS.get(unit)
            days = None if per is None else per * n
        hits.append(_Hit(m.start(), m.end(), m.group(0), None, None, None, None, relative_days=days, relative=True))
    return hits


def _info_from_hit(hit: _Hit, reference: dt.date | None, weekday_reference: dt.date | None,
                   evidence: str) -> DateInfo | None:
    """Validate a hit and turn it into a DateInfo, or None if it fixes no date.

    *weekday_reference* resolves a year-less weekday date (None: no resolving).
    """
    if hit.relative:
        if reference is None or hit.relative_days is None:
            return None
        value = reference - dt.timedelta(days=hit.relative_days)
        note = f"relative to reference date {reference.isoformat()}"
        if hit.relative_days == 0 and HOURS.search(hit.text):
            note += "; hours before the crawl may be the day before"
        return DateInfo(value, "day", f"{evidence} ({note})")
    if hit.ambiguous or hit.month is None or not 1 <= hit.month <= 12:
        return None
    if hit.year is None:
        if hit.day is None or hit.weekday is None or weekday_reference is None:
            return None
        value = resolve_weekday_date(hit.weekday, hit.month, hit.day, weekday_reference)
        if value is None:
            return None
        how = (f"{calendar.day_name[hit.weekday]} {calendar.month_name[hit.month]} {hit.day} resolved to "
               f"{value.year}, the latest such weekday not after {weekday_reference.isoformat()}")
        return DateInfo(value, "day", f"{evidence} ({how})")
    if not _plausible_year(hit.year, reference):
        return None
    if hit.day is None:
        return DateInfo(dt.date(hit.year, hit.month, 1), "month", evidence)
    value = _valid_date(hit.year, hit.month, hit.day)
    if value is None:
        return None
    return DateInfo(value, "day", evidence)


def _words(line: str) -> int:
    return len(line.split())


def _is_caption(line: str) -> bool:
    return bool(CAPTION.search(line))


def _is_paragraph(line: str) -> bool:
    n = _words(line)
    return n >= PARAGRAPH_LONG_WORDS or (n >= PARAGRAPH_MIN_WORDS and bool(SENTENCE_END.search(line)))


def _mask(text: str, spans: Sequence[tuple[int, int]], mark: str) -> str:
    for start, end in sorted(spans, reverse=True):
        text = f"{text[:start]} {mark} {text[end:]}"
    return text


def _pick_line_hit(text: str, hits: Sequence[_Hit]) -> _Hit:
    """The publication date among several stamps on one line ("Published X | Updated Y")."""
    previous_end = 0
    first_plain: _Hit | None = None
    for hit in hits:
        before = {w.lower() for w in re.findall(r"[A-Za-z]+", text[previous_end:hit.start])}
        if before & PUBLISH_WORDS:
            return hit
        if first_plain is None and not before & UPDATE_WORDS:
            first_plain = hit
        previous_end = hit.end
    return first_plain or hits[0]


def _with_evidence(info: DateInfo, evidence: str) -> DateInfo:
    return replace(info, evidence=evidence)


def _clip(text: str, limit: int = 90) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def resolve_weekday_date(weekday: int, month: int, day: int, reference_date: dt.date) -> dt.date | None:
    """The latest date on or before *reference_date* that is *month*/*day* and falls on *weekday*.

    *weekday* counts from 0 = Monday.  Looks back :data:`WEEKDAY_LOOKBACK_YEARS`
    years (a full cycle, so Feb 29 is found too); None if the day never exists
    or never falls on that weekday in that window.
    """
    if not (0 <= weekday <= 6 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    for year in range(reference_date.year, reference_date.year - WEEKDAY_LOOKBACK_YEARS - 1, -1):
        candidate = _valid_date(year, month, day)
        if candidate is not None and candidate <= reference_date and candidate.weekday() == weekday:
            return candidate
    return None


def parse_date_string(text: str, reference_date: dt.date | None = None) -> DateInfo | None:
    """Parse a date given explicitly as metadata; None if it is not a valid, plausible date.

    Only the date part is used, as written: ``2023-10-26T23:30:00-05:00`` is
    2023-10-26, not converted to UTC.  *reference_date* (default today) bounds
    plausible years and resolves year-less weekday dates.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        text = str(int(text))  # JSON gives years and epoch stamps as numbers
    if not isinstance(text, str) or not text.strip() or len(text) > 200:
        return None
    raw = text.strip()
    evidence = f"metadata: {_clip(raw, 60)}"
    folded = fold(CONTROL_CHARS.sub(" ", html.unescape(raw))).strip()
    folded = META_LABEL.sub("", folded, count=1) if META_LABEL.match(folded) else folded

    m = REUTERS_STAMP.match(folded)  # "26-FEB-1987 15:01:01.79&#5;&#5;&#5;RM": junk after the date is normal
    if m and m.group(2) in MONTHS_EN:
        year, month, day = int(m.group(3)), MONTHS_EN[m.group(2)], int(m.group(1))
        hit = _Hit(0, m.end(), m.group(0), year, month, day, None)
        return _info_from_hit(hit, reference_date, None, evidence)

    m = EPOCH.fullmatch(folded)
    if m:
        seconds = int(m.group("secs")) if m.group("secs") else int(m.group("millis")) / 1000
        value = dt.datetime.fromtimestamp(seconds, tz=dt.UTC).date()
        if not _plausible_year(value.year, reference_date):
            return None
        return DateInfo(value, "day", f"{evidence} (epoch, UTC)")

    m = CTIME.fullmatch(folded)
    if m:
        hit = _hit_from_match(m, MONTHS_ALL, WEEKDAYS_ALL)
        return _info_from_hit(hit, reference_date, None, evidence) if hit else None

    candidates = [ALL_SHAPES[k] for k in ("iso", "mdy", "dmy", "num")]
    candidates += [COMPACT, YEAR_MONTH, ALL_SHAPES["my"], ALL_SHAPES["wmd"], ALL_SHAPES["wdm"], YEAR_ONLY]
    for pattern in candidates:
        m = pattern.match(folded)
        if not m or not DATE_TAIL.fullmatch(folded, m.end()):
            continue
        if pattern is YEAR_ONLY:
            year = int(m.group("year"))
            if not _plausible_year(year, reference_date):
                return None
            return DateInfo(dt.date(year, 1, 1), "year", evidence)
        hit = _hit_from_match(m, MONTHS_ALL, WEEKDAYS_ALL)
        if hit is None:
            return None
        return _info_from_hit(hit, reference_date, reference_date or _today(), evidence)
    return None


MAX_SHOWN_DATE_CHARS = 80


def shown_full_date(text: str, reference_date: dt.date | None = None) -> dt.date | None:
    """The one complete date (day, month, year) a short visible text shows, in any known language; else None.

    For the text of an HTML ``<time>``: ``Publié le 29 juin 2019``,
    ``March 14, 2023``, ``26.01.2022 - 14:30``.  None when the text shows no
    full date, an ambiguous numeric one (``05/06/2023``), or two different dates.
    """
    if not text or len(text) > MAX_SHOWN_DATE_CHARS or not DIGIT.search(text):
        return None
    folded = fold(normalize_text(text))
    found: set[dt.date] = set()
    for hit in _find_hits(folded, ALL_SHAPES, ("iso", "mdy", "dmy", "num"), MONTHS_ALL):
        info = _info_from_hit(hit, reference_date, None, "shown")
        if info is None or info.precision != "day":
            return None
        found.add(info.value)
    return found.pop() if len(found) == 1 else None


def parse_date_line(line: str, reference_date: dt.date | None = None) -> DateInfo | None:
    """The date of a line that is a byline/date stamp as a whole, else None.

    Accepts a date (day, or month for ``October 2023``; a weekday date without
    year is resolved as :func:`resolve_weekday_date` does, against
    *reference_date* or today) surrounded only by byline furniture: published /
    updated / posted / on / at, times and zones, ``By`` + a name, an outlet
    name between separators, ``4 min read``.  A prose sentence containing a
    date, an image caption or a bare year gives None.

    Relative stamps (``3 hours ago``, ``yesterday``, ``2 days ago``) resolve
    against *reference_date* (the crawl day) with precision day -- "hours ago"
    may strictly be the day before, which the evidence says; without a
    reference date, and for weeks/months/years ago, they give None.
    """
    if not line or len(line) > MAX_DATE_LINE_CHARS:
        return None
    if not DIGIT.search(line) and not NO_DIGIT_RELATIVE.search(line):
        return None
    if not DATE_HINT.search(line):
        return None
    text = normalize_text(line).strip()
    if _is_caption(text):
        return None
    hits = _find_hits(text, EN_SHAPES, LINE_KINDS, MONTHS_EN)
    hits += [r for r in _relative_hits(text) if not any(h.start < r.end and r.start < h.end for h in hits)]
    if not hits:
        return None
    hits.sort(key=lambda h: h.start)
    masked = _mask(text, [(h.start, h.end) for h in hits], "\x01")
    masked = FILLER.sub(" \x03 ", masked)
    masked = TIME_OF_DAY.sub(" \x02 ", masked)
    if not only_byline_words(masked):
        return None
    hit = _pick_line_hit(text, hits)
    evidence = f"date line: {_clip(text)}"
    return _info_from_hit(hit, reference_date, reference_date or _today(), evidence)


# --------------------------------------------------------------------------
# The text chain
# --------------------------------------------------------------------------


def _lead(lines: Sequence[str], count: int) -> list[str]:
    """The first *count* body paragraphs (captions and stamps skipped)."""
    found = []
    for raw in lines:
        line = normalize_text(raw).strip()
        if _is_paragraph(line) and not _is_caption(line):
            found.append(line)
            if len(found) >= count:
                break
    return found


def _best_stamp(lines: Sequence[str], reference: dt.date | None, where: str) -> DateInfo | None:
    """Among date-stamp lines, prefer a "published" one over an "updated" one."""
    stamps: list[tuple[str, DateInfo]] = []
    for raw in lines:
        info = parse_date_line(raw, reference)
        if info is not None:
            stamps.append((raw, info))
    if not stamps:
        return None

    def words(raw: str) -> set[str]:
        return {w.lower() for w in re.findall(r"[A-Za-z]+", raw)}

    chosen = next((s for s in stamps if words(s[0]) & PUBLISH_WORDS), None)
    chosen = chosen or next((s for s in stamps if not words(s[0]) & UPDATE_WORDS), stamps[0])
    raw, info = chosen
    return _with_evidence(info, info.evidence.replace("date line:", where, 1))


def extract_byline_date(lines: Sequence[str], reference: dt.date | None) -> DateInfo | None:
    """A date-stamp line under the headline (``June 25, 2024 at 10:11 am``)."""
    return _best_stamp(lines[:BYLINE_SCAN_LINES], reference, "byline:")


# "NEW YORK 1996-08-30", "LANDGRAAF, Netherlands 1996-08-31": a wire dateline
# printed on a line of its own, the place in capitals as wires print it (so
# "Updated 2024-05-01" is a stamp, not a place) and the day in ISO form.
PLACE_DATE_LINE = re.compile(
    r"(?P<place>[A-Z][A-Z.'\-]+(?:\s+[A-Z][A-Z.'\-]*){0,3}(?:,\s*[A-Z][\w.'\-]*(?:\s+[A-Z][\w.'\-]*){0,2})?)"
    r"\s+(?P<date>\d{4}-\d{2}-\d{2})"
)


def dateline_place(line: str) -> str | None:
    """The place of a line that is only a wire dateline (``NEW YORK 1996-08-30``), else None."""
    m = PLACE_DATE_LINE.fullmatch(normalize_text(line).strip())
    return m.group("place") if m else None


def extract_dateline_date(lines: Sequence[str], reference: dt.date | None) -> DateInfo | None:
    """A wire dateline opening the story (``MOSCOW, Oct 26 (Reuters) -``).

    Without a place the date must carry an agency mark, so a timeline entry
    (``October 7, 2023: Hamas attacks``) is not taken for a dateline.  A
    dateline on its own line under the headline (``BERLIN 1996-08-30``) is
    one too.
    """
    paragraphs = 0
    for raw in lines[:DATELINE_SCAN_LINES]:
        line = normalize_text(raw).strip()
        if _is_caption(line):
            continue
        alone = PLACE_DATE_LINE.fullmatch(line)
        if alone:
            info = _dateline_info(alone.group("date"), reference, line, lines)
            if info is not None:
                return info
        m = DATELINE.match(line)
        if m and (m.group("place") or m.group("agency")):
            info = _dateline_info(m.group("date"), reference, line[: m.end("date")], lines)
            if info is not None:
                return info
        if _is_paragraph(line):
            paragraphs += 1
            if paragraphs >= DATELINE_PARAGRAPHS:
                break
    return None


def _dateline_info(phrase: str, reference: dt.date | None, shown: str,
                   lines: Sequence[str] = ()) -> DateInfo | None:
    phrase = phrase.strip().rstrip(",.")
    for kind in DATELINE_KINDS:
        m = EN_SHAPES[kind].fullmatch(phrase)
        if not m:
            continue
        hit = _hit_from_match(m, MONTHS_EN, WEEKDAYS_EN)
        if hit is None:
            return None
        evidence = f"dateline: {_clip(shown, 60)}"
        if hit.year is None and hit.weekday is None:
            stated = _stated_year(lines, hit.month, hit.day, reference)
            if stated is not None:
                return DateInfo(stated[0], "day", f"{evidence} (year from the text's {_clip(stated[1], 40)!r})")
            if not RESOLVE_YEARLESS_DATELINE or reference is None or hit.day is None:
                return None
            value = _latest_month_day(hit.month, hit.day, reference)
            if value is None:
                return None
            return DateInfo(value, "day", f"{evidence} (year taken from reference date {reference.isoformat()})")
        return _info_from_hit(hit, reference, reference or _today(), evidence)
    return None


def _stated_year(lines: Sequence[str], month: int | None, day: int | None,
                 reference: dt.date | None) -> tuple[dt.date, str] | None:
    """The day *month*/*day* in the year the text itself states for that day ("Oct 26, 2023" in a stamp).

    A wire dateline omits the year; the crawl date or the file's mtime only
    bounds it, while the same day written in full elsewhere in the text names it.
    """
    if month is None or day is None:
        return None
    for raw in lines:
        text = normalize_text(raw)
        for hit in _find_hits(text, EN_SHAPES, ("iso", "num", "mdy", "dmy"), MONTHS_EN):
            if hit.year is None or hit.month != month or hit.day != day or hit.ambiguous:
                continue
            value = _valid_date(hit.year, month, day)
            if value is not None and _plausible_year(hit.year, reference):
                return value, hit.text
    return None


def _latest_month_day(month: int | None, day: int, reference: dt.date) -> dt.date | None:
    if month is None:
        return None
    for year in (reference.year, reference.year - 1):
        candidate = _valid_date(year, month, day)
        if candidate is not None and candidate <= reference:
            return candidate
    return None


def extract_lead_weekday_date(lines: Sequence[str], reference: dt.date | None) -> DateInfo | None:
    """A weekday + month-day without year in the lead (``reported on Thursday, October 26,``).

    News copy names the weekday only for the current news cycle, so the phrase
    pins the date once the year is found by the calendar.  Full dates with a
    year in body sentences are event dates and are left alone.
    """
    for paragraph in _lead(lines, LEAD_PARAGRAPHS):
        for hit in _find_hits(paragraph, EN_LEAD_SHAPES, LEAD_KINDS, MONTHS_EN):
            if hit.year is not None or hit.weekday is None:
                continue
            info = _info_from_hit(hit, reference, reference or _today(), f"lead: '{hit.text.strip()}'")
            if info is not None:
                return info
    return None


def extract_trailing_date(lines: Sequence[str], reference: dt.date | None) -> DateInfo | None:
    """A ``Published on ...`` stamp among the last lines (some sites put it at the foot)."""
    tail = [line for line in lines[-TRAILER_SCAN_LINES:]
            if {w.lower() for w in re.findall(r"[A-Za-z]+", line)} & PUBLISH_WORDS]
    return _best_stamp(tail, reference, "footer stamp:")


DateRule = Callable[[Sequence[str], dt.date | None], DateInfo | None]
DATE_RULES: tuple[DateRule, ...] = (
    extract_byline_date,
    extract_dateline_date,
    extract_lead_weekday_date,
    extract_trailing_date,
)


def extract_date(title: str | None, lines: list[str], reference_date: dt.date | None,
                 options: Options | None = None) -> DateInfo:
    """The publication date found in an article's text, else :data:`UNDATED`.

    Rules in :data:`DATE_RULES` are tried in order and the first hit wins.
    The reference date is ``options.reference_date`` when set (the collection's
    scrape day), else *reference_date* (the file's crawl date or mtime).  The
    title is not evidence: headlines name event dates.
    """
    reference = (options.reference_date if options is not None else None) or reference_date
    for rule in DATE_RULES:
        info = rule(lines, reference)
        if info is not None:
            return info
    return UNDATED
