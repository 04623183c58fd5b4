"""The publication date of a saved HTML page, and its byline stamps.

:func:`page_date` returns the date as the page states it (raw) and which rule
found it, in this order: a date ``<meta>``, the article's JSON-LD
``datePublished``, a ``<time datetime>`` of the article, then htmldate on the
page as it is (its fast pass, then its extensive search).  Two corrections
follow, each on evidence the page itself gives:

* a timestamp written in UTC (``...Z``, ``+00:00``) is the server's clock: when
  the page also writes the same instant in its local time (``-05:00``, or a
  naive local timestamp), or its own URL names the neighbouring day, the local
  calendar day is the page's day;
* dates of other works (a cited reference, a review, a list item, a teaser, a
  comment) are not the page's date.

:func:`page_stamps` gives the byline/date-stamp texts of the article for the
text date parser.  :mod:`search.extract.html` calls both; this module owns
every date rule of the HTML path.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import warnings
from typing import Any
from urllib.parse import urlsplit

import htmldate
import lxml.html
from lxml import etree

from search.extract.date_patterns import MONTHS_ALL
from search.extract.dates import parse_date_string, shown_full_date
from search.textnorm import fold, normalize_text

# Meta tags that carry the publication date, most specific first.
DATE_META_NAMES = (
    "article:published_time", "og:article:published_time", "og:published_time", "datepublished",
    "article.published", "published_time", "publish-date", "publish_date", "publishdate", "pubdate",
    "publication_date", "sailthru.date", "parsely-pub-date", "dc.date.issued", "dcterms.issued",
    "dc.date", "dcterms.created", "date",
)
# A date attribute without a four-digit year is a template placeholder, not a date.
_HAS_YEAR = re.compile(r"\d{4}")
# Where a <time> is someone else's date: teasers, navigation, comments.  A block
# that holds the page's headline is the article itself, whatever its class says:
# real themes write <article class="sticky-sidebar-parent"> or
# <div id="sidebar" class="site-content"> around the story.
_FOREIGN_DATE_TAGS = frozenset({"aside", "nav", "footer"})
_FOREIGN_DATE_MARKERS = re.compile(r"comment|related|sidebar|teaser|recommend|most-read|popular", re.IGNORECASE)
# Before htmldate, only dates that are provably another page's are removed: a
# <time> inside a link to another address (a teaser card) or inside a comment.
_COMMENT_MARKERS = re.compile(r"(?:^|[-_\s])comments?(?:$|[-_\s])", re.IGNORECASE)
# Microdata: a datePublished whose item is itself a property of another item
# (citation, review, itemListElement, hasPart ...) dates that other work; so
# does one inside a list item, a quotation or a <cite>.
_OWN_ITEM_PROPS = frozenset({"mainentity", "mainentityofpage"})
_OTHER_WORK_TAGS = frozenset({"li", "cite", "blockquote", "q"})
_OWN_WORK_TYPES = frozenset(
    {"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
     "backgroundnewsarticle", "reviewnewsarticle", "report", "liveblogposting", "webpage", "itempage",
     "socialmediaposting", "posting", "scholarlyarticle", "techarticle", "medicalscholarlyarticle"}
)

# Byline and date-stamp elements, by class/id/itemprop words.
_STAMP_MARKERS = re.compile(r"date|time|byline|meta|publish|posted|dateline|stamp", re.IGNORECASE)
_HAS_DIGIT = re.compile(r"\d")
MAX_STAMP_CHARS = 160
MAX_STAMPS = 5

# A machine timestamp: date, time, optional seconds and offset.
_TIMESTAMP = re.compile(
    r"(?<![\d-])(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?(?:[.,]\d+)?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}:?\d{2})?(?![\d:])"
)
# A date in the page's own address: /2023/11/08/ or -2023-11-08-.
_URL_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?!\d)")
# Real UTC offsets run from -12 to +14 hours.
MAX_OFFSET = dt.timedelta(hours=14)
# A URL day names the local day of a UTC stamp only if that day is reached
# within this many hours of the stamp: US Pacific (-8, -7) to Japan/Korea (+9).
# Beyond it a URL date one day off is more often the story's creation day.
MAX_URL_SHIFT = dt.timedelta(hours=9)

EVIDENCE_HTMLDATE = "htmldate (page markup or URL)"
EVIDENCE_HTMLDATE_EXTENSIVE = "htmldate extensive search (dates in the page text)"


# --------------------------------------------------------------------------- the page's date


def page_date(
    tree: lxml.html.HtmlElement, articles: list[dict[str, Any]], url: str | None
) -> tuple[str | None, str | None]:
    """The page's publication date as written (raw) and the rule that found it; (None, None) if none.

    *articles* are the page's JSON-LD article objects (top level and ``@graph``
    members), *url* its own address (canonical link, else where it came from).
    """
    article = _ArticleScope(tree)
    value, evidence = _stated_date(tree, articles, article)
    if value is None:
        return _htmldate(tree, url, article)
    local = _local_day(value, tree, url)
    if local is not None:
        return local[0], f"{evidence}; {local[1]}"
    return value, evidence


def _stated_date(
    tree: lxml.html.HtmlElement, articles: list[dict[str, Any]], article: _ArticleScope
) -> tuple[str | None, str | None]:
    metas = _date_metas(tree, article)
    for name in DATE_META_NAMES:
        value = metas.get(name, "").strip()
        if _HAS_YEAR.search(value):
            return value, f"HTML meta {name}"
    for item in articles:
        value = item.get("datePublished")
        if isinstance(value, str) and _HAS_YEAR.search(value):
            return value.strip(), "HTML JSON-LD datePublished"
    element = _time_datetime(tree, article)
    if element is None:
        return None, None
    value = (element.get("datetime") or element.get("content") or "").strip()
    # The text of a <time> is what readers see.  CMS templates fill the
    # attribute from another field (the last edit, the server's UTC clock), so
    # when the text shows a different complete date, the text is the page's date.
    shown = shown_full_date(" ".join(element.itertext())) if element.tag == "time" else None
    written = parse_date_string(value)
    if shown is not None and written is not None and written.precision == "day" and shown != written.value:
        return shown.isoformat(), f"HTML <time> text (its datetime attribute says {value})"
    return value, "HTML <time datetime>"


class _ArticleScope:
    """Which elements are the article: the ancestors of its headline (<h1>), else of its <article>/<main>."""

    def __init__(self, tree: lxml.html.HtmlElement) -> None:
        headlines = tree.xpath("//article//h1 | //main//h1") or tree.xpath("//h1")
        if headlines:
            self.holders: frozenset[Any] = frozenset(headlines[0].iterancestors())
        else:
            body = tree.xpath("//article | //main")
            self.holders = frozenset([body[0], *body[0].iterancestors()]) if body else frozenset()

    def holds_headline(self, element: Any) -> bool:
        return element in self.holders


def _date_metas(tree: lxml.html.HtmlElement, article: _ArticleScope) -> dict[str, str]:
    """Date ``<meta>`` contents by lower-cased property/name/itemprop, the first wins.

    A ``<meta itemprop>`` of another work (a cited book's ``datePublished``
    ``1988``) is left out.
    """
    values: dict[str, str] = {}
    for meta in tree.iter("meta"):
        content = (meta.get("content") or "").strip()
        if not content:
            continue
        for attribute in ("property", "name", "itemprop"):
            key = (meta.get(attribute) or "").strip().lower()
            if not key or key in values:
                continue
            if attribute == "itemprop" and _of_other_work(meta, article):
                continue
            values[key] = content
    return values


def _of_other_work(element: Any, article: _ArticleScope) -> bool:
    """Whether a microdata date belongs to another work than the page's article."""
    for ancestor in element.iterancestors():
        if article.holds_headline(ancestor):
            return False
        if ancestor.tag in _OTHER_WORK_TAGS:
            return True
        if ancestor.get("itemscope") is not None:
            prop = (ancestor.get("itemprop") or "").strip().lower()
            if prop and not set(prop.split()) & _OWN_ITEM_PROPS:
                return True
            kind = (ancestor.get("itemtype") or "").rstrip("/").rsplit("/", 1)[-1].lower()
            return bool(kind) and kind not in _OWN_WORK_TYPES
    return False


def _time_datetime(tree: lxml.html.HtmlElement, article: _ArticleScope) -> Any | None:
    """The ``<time datetime>`` that dates this article, not a teaser's, a comment's or a cited work's."""
    marked = tree.xpath("//*[@itemprop='datePublished'][@datetime or @content] | //time[@pubdate][@datetime]")
    in_article = tree.xpath("//article//time[@datetime] | //main//time[@datetime]")
    anywhere = tree.xpath("//time[@datetime]")
    for element in marked + in_article + anywhere:
        if _in_foreign_block(element, article):
            continue
        if element.get("itemprop") is not None and _of_other_work(element, article):
            continue
        value = (element.get("datetime") or element.get("content") or "").strip()
        if _HAS_YEAR.search(value):
            return element
    return None


def _in_foreign_block(element: Any, article: _ArticleScope | None = None) -> bool:
    for ancestor in element.iterancestors():
        if article is not None and article.holds_headline(ancestor):
            return False  # the headline's container and everything around it is the article
        if _is_foreign(ancestor):
            return True
    return False


def _is_foreign(element: Any) -> bool:
    if element.tag in _FOREIGN_DATE_TAGS:
        return True
    marker = f"{element.get('class') or ''} {element.get('id') or ''}"
    return bool(_FOREIGN_DATE_MARKERS.search(marker))


# --------------------------------------------------------------------------- htmldate


def _htmldate(
    tree: lxml.html.HtmlElement, url: str | None, article: _ArticleScope
) -> tuple[str | None, str | None]:
    """htmldate on the page as it is: its fast pass, then its extensive search.

    Containers are never pruned (themes name whole articles "sidebar"); only
    dates that are provably other pages' are taken out first, since htmldate
    looking for the *original* date takes the oldest it sees.
    """
    foreign = _foreign_times(tree, url, article)
    if foreign:
        tree = copy.deepcopy(tree)
        for element in _foreign_times(tree, url, _ArticleScope(tree)):
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
    for extensive, evidence in ((False, EVIDENCE_HTMLDATE), (True, EVIDENCE_HTMLDATE_EXTENSIVE)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = htmldate.find_date(tree, url=url, original_date=True, extensive_search=extensive)
        except (ValueError, TypeError, etree.LxmlError):
            return None, None
        if not found:
            continue
        if not extensive:
            return found, evidence
        return _checked_extensive(found, tree, evidence)
    return None, None


def _checked_extensive(found: str, tree: lxml.html.HtmlElement, evidence: str) -> tuple[str | None, str | None]:
    """htmldate's extensive answer, only if the page writes that day (or that month).

    The extensive search reads free text and fills what it lacks with 1:
    "(c) Alpine Review 2019-2024" comes back as 2019-01-01.  A day the page
    never writes is not a date it states.  Only a 1st can be such a fill; any
    other day htmldate read as a day (in any of its languages).
    """
    try:
        day = dt.date.fromisoformat(found[:10])
    except ValueError:
        return None, None
    if day.day != 1:
        return found, evidence
    markup = fold(lxml.html.tostring(tree, encoding="unicode"))
    if _day_pattern(day).search(markup):
        return found, evidence
    if day.day == 1 and _month_pattern(day).search(markup):
        return found[:7], f"{evidence}; month only"
    return None, None


def _month_names(month: int) -> str:
    return "|".join(sorted((re.escape(k) for k, v in MONTHS_ALL.items() if v == month), key=len, reverse=True))


def _day_pattern(day: dt.date) -> re.Pattern[str]:
    y, m, d = day.year, day.month, day.day
    names = _month_names(m)
    return re.compile(
        rf"(?<!\d){y}[-/.]0?{m}[-/.]0?{d}(?!\d)|(?<!\d){y}{m:02d}{d:02d}(?!\d)"
        rf"|(?<!\d)0?{d}[-/.]0?{m}[-/.]{y}(?!\d)|(?<!\d)0?{m}/0?{d}/{y}(?!\d)"
        rf"|(?<![\w])0?{d}(?:st|nd|rd|th|er)?\.?\s*(?:of\s+|de\s+)?(?:{names})\.?,?\s*(?:de\s+)?{y}(?!\d)"
        rf"|(?<![\w])(?:{names})\.?\s*0?{d}(?:st|nd|rd|th)?,?\s*{y}(?!\d)"
    )


def _month_pattern(day: dt.date) -> re.Pattern[str]:
    y, m = day.year, day.month
    return re.compile(rf"(?<![\w])(?:{_month_names(m)})\.?,?\s*(?:de\s+)?{y}(?!\d)|(?<!\d){y}[-/.]0?{m}(?![\d])")


def _foreign_times(tree: lxml.html.HtmlElement, url: str | None, article: _ArticleScope) -> list[Any]:
    """Date elements that date another page or work: a ``<time>`` in a link elsewhere, in a
    comment or in a teaser/related/navigation block that is not the article's, and the
    microdata ``datePublished`` of a cited or listed work."""
    own = _address(url)
    found = []
    for element in tree.xpath("//*[@itemprop='datePublished']"):
        if _of_other_work(element, article):
            found.append(element)
    for element in tree.iter("time"):
        if _in_foreign_block(element, article):
            found.append(element)
            continue
        for ancestor in element.iterancestors():
            if article.holds_headline(ancestor):
                break
            if ancestor.tag == "a" and ancestor.get("href") and _address(ancestor.get("href")) not in ("", own):
                found.append(element)
                break
            marker = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}"
            if _COMMENT_MARKERS.search(marker):
                found.append(element)
                break
    return found


def _address(href: str | None) -> str:
    """A link's host and path, to tell a link to this page from a link elsewhere ('' for an anchor)."""
    if not href or href.startswith("#"):
        return ""
    parts = urlsplit(href.strip())
    return f"{parts.netloc.lower().removeprefix('www.')}{parts.path.rstrip('/')}" if parts.netloc else parts.path


# --------------------------------------------------------------------------- UTC stamps and the local day


def _local_day(value: str, tree: lxml.html.HtmlElement, url: str | None) -> tuple[str, str] | None:
    """For a timestamp written in UTC, the page's local rendering of it; None to keep it as it is.

    The day of a page is the day its readers saw on the calendar.  A stamp
    written in UTC says nothing about that when the story went out in the
    evening in America or the morning in Asia: ``2023-11-09T03:28:35+00:00``
    is 8 November in New York.  The local day is taken only from the page:
    the same instant written with its local offset or as a local wall-clock
    time (same minutes and seconds, whole quarter hours apart), else the
    neighbouring day in the page's own URL.  Nothing is ever converted to UTC.
    """
    stamp = _parse_stamp(value)
    if stamp is None or stamp[1] != dt.timedelta(0):
        return None
    instant, _, has_seconds = stamp
    markup = lxml.html.tostring(tree, encoding="unicode")
    for m in _TIMESTAMP.finditer(markup):
        other = _stamp_of_match(m)
        local, offset, other_seconds = other
        if offset is None:
            # A naive local time: the same minutes and seconds, a whole number of quarter hours off.
            if not (has_seconds and other_seconds):
                continue
            shift = local.replace(tzinfo=None) - instant.replace(tzinfo=None)
            if not shift or abs(shift) > MAX_OFFSET or shift % dt.timedelta(minutes=15):
                continue
        elif not offset or local - offset != instant.replace(tzinfo=None) or has_seconds != other_seconds:
            continue
        if local.date() != instant.date():
            return m.group(0), f"UTC time; the local day from the page's own {m.group(0)!r}"
        return None  # the page's local time is on the same day
    return _url_local_day(instant, url)


def _url_local_day(instant: dt.datetime, url: str | None) -> tuple[str, str] | None:
    m = _URL_DATE.search(urlsplit(url).path) if url else None
    if not m:
        return None
    try:
        day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    naive = instant.replace(tzinfo=None)
    if day == naive.date() + dt.timedelta(days=1):
        needed = dt.datetime.combine(day, dt.time()) - naive
    elif day == naive.date() - dt.timedelta(days=1):
        needed = naive - dt.datetime.combine(naive.date(), dt.time()) + dt.timedelta(microseconds=1)
    else:
        return None
    if needed > MAX_URL_SHIFT:
        return None
    return day.isoformat(), f"UTC time; the local day from the page's URL ({m.group(0)})"


def _parse_stamp(value: str) -> tuple[dt.datetime, dt.timedelta | None, bool] | None:
    m = _TIMESTAMP.fullmatch(value.strip())
    return _stamp_of_match(m) if m else None


def _stamp_of_match(m: re.Match) -> tuple[dt.datetime, dt.timedelta | None, bool]:
    """(the wall-clock time as written, its UTC offset or None, whether seconds are written)."""
    try:
        day = dt.date.fromisoformat(m.group("date"))
        clock = dt.datetime.combine(day, dt.time(int(m.group("h")), int(m.group("m")), int(m.group("s") or 0)))
    except ValueError:
        return dt.datetime.min, None, False
    zone = m.group("zone")
    offset: dt.timedelta | None = None
    if zone in ("Z", "UTC", "GMT"):
        offset = dt.timedelta(0)
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return clock, offset, m.group("s") is not None


# --------------------------------------------------------------------------- byline stamps


def page_stamps(tree: lxml.html.HtmlElement) -> list[str]:
    """Short texts of byline/date elements in the article, not in teasers or comments."""
    scopes = tree.xpath("//article") or tree.xpath("//main") or tree.xpath("//body")
    stamps: list[str] = []
    for scope in scopes[:1]:
        for element in scope.iter():
            if not isinstance(element.tag, str) or not _is_stamp_element(element):
                continue
            # Spaces between text nodes: "<time>April 18</time><time>April 19</time>" is two stamps.
            text = " ".join(normalize_text(" ".join(element.itertext())).split())
            if text and len(text) <= MAX_STAMP_CHARS and _HAS_DIGIT.search(text) and not _in_foreign_block(element):
                stamps.append(text)
    return list(dict.fromkeys(stamps))[:MAX_STAMPS]


def _is_stamp_element(element: Any) -> bool:
    if element.tag == "time":
        return True
    marker = f"{element.get('class') or ''} {element.get('id') or ''} {element.get('itemprop') or ''}"
    return bool(_STAMP_MARKERS.search(marker))
