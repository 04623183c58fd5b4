"""Vocabulary and regexes of date phrases, for :mod:`search.extract.dates`.

Month and weekday names (English; French, German and Spanish for metadata
strings only), time zones, the words a byline or date stamp may hold, and
the compiled shapes of a written date (``2023-10-26``, ``Oct. 26, 2023``,
``26 October 2023``, ``Thursday, Oct 26`` ...).  All are built once, at
import; the cleaner calls the date-line parser on every short line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

MONTHS_EN: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
# Only for explicit metadata strings: in prose these words ("mar", "mai") are too
# easily something else.  Keys are already folded (lower case, no accents).
MONTHS_FOREIGN: dict[str, int] = {
    # French
    "janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "avril": 4, "avr": 4,
    "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9, "octobre": 10,
    "novembre": 11, "decembre": 12,
    # German
    "januar": 1, "janner": 1, "februar": 2, "marz": 3, "maerz": 3, "juni": 6, "juli": 7,
    "oktober": 10, "okt": 10, "dezember": 12, "dez": 12,
    # Spanish ("ago" for agosto is left out: it collides with "3 days ago")
    "enero": 1, "ene": 1, "febrero": 2, "marzo": 3, "abril": 4, "abr": 4, "mayo": 5, "junio": 6,
    "julio": 7, "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12, "dic": 12,
}
MONTHS_ALL: dict[str, int] = {**MONTHS_FOREIGN, **MONTHS_EN}

WEEKDAYS_FULL_EN: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}
WEEKDAYS_EN: dict[str, int] = {
    **WEEKDAYS_FULL_EN,
    "mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3, "thurs": 3,
    "fri": 4, "sat": 5, "sun": 6,
}
WEEKDAYS_FOREIGN: dict[str, int] = {
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5,
    "sonnabend": 5, "sonntag": 6,
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6,
}
WEEKDAYS_ALL: dict[str, int] = {**WEEKDAYS_FOREIGN, **WEEKDAYS_EN}

TIMEZONES = (
    "utc", "gmt", "z", "bst", "ist", "cet", "cest", "eet", "eest", "wet", "west", "msk", "est", "edt", "et",
    "cst", "cdt", "ct", "mst", "mdt", "mt", "pst", "pdt", "pt", "akst", "akdt", "hst", "jst", "kst", "aest",
    "aedt", "acst", "awst", "nzst", "nzdt", "sast", "wat", "cat", "eat", "ast", "adt", "hkt", "sgt", "pht",
    "wib", "ict", "pkt", "gst", "irst", "trt",
)

# Words a byline/date stamp may contain besides the date, time and author.
BYLINE_WORDS = frozenset(
    {
        "by", "published", "publish", "updated", "update", "posted", "post", "on", "at", "am", "pm", "a.m",
        "p.m", "last", "modified", "date", "dated", "created", "first", "originally", "edited", "written",
        "filed", "released", "issued", "reviewed", "and", "in", "min", "mins", "minute", "minutes", "read",
        "reading", "time", "the", "of", "news", "desk", "staff", "text", "words", "story", "reporting",
        "print", "edition", "online", "issue", "version",
        *WEEKDAYS_EN, *TIMEZONES,
    }
)
# Byline words strong enough to separate an author name from what follows.
BOUNDARY_WORDS = frozenset(
    {
        "published", "updated", "posted", "last", "modified", "created", "first", "originally", "date",
        "dated", "edited", "written", "filed", "released", "issued", "reviewed", "text", "words", "story",
        "reporting",
    }
)
# Words that end an author/outlet name run ("Sky News" keeps its "News").
RUN_BREAK = BOUNDARY_WORDS | {"by", "on", "at", "am", "pm", "a.m", "p.m", "and"} | frozenset(WEEKDAYS_EN)
PUBLISH_WORDS = frozenset({"published", "posted", "created", "first", "originally", "filed", "released", "issued"})
UPDATE_WORDS = frozenset({"updated", "modified", "edited", "reviewed", "last"})
# A line with these is a caption, credit or footer, whatever dates it holds.
REJECT_WORDS = frozenset(
    {
        "photo", "photos", "photograph", "image", "images", "picture", "pictured", "credit", "credits",
        "caption", "copyright", "rights", "reserved", "file", "getty", "illustration", "video",
    }
)
NAME_PARTICLES = frozenset(
    {"de", "da", "del", "della", "der", "den", "van", "von", "al", "el", "bin", "ibn", "la", "le", "du", "dos",
     "das", "di", "ter", "ten", "abu", "st", "st."}
)

TIMEZONE_SET = frozenset(TIMEZONES)

# --------------------------------------------------------------------------
# Regex building blocks
# --------------------------------------------------------------------------


def alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def build_patterns(months: Sequence[str], weekdays: Sequence[str], weekday_required: Sequence[str]) -> dict:
    """Compile the date shapes for one vocabulary; each is a whole-phrase regex."""
    mon = rf"(?P<mon>{alternation(months)})(?:\.|(?![^\W\d_]))"
    day = r"(?<!\d)(?P<day>[0-3]?\d)(?:st|nd|rd|th|er|o)?\.?(?!\w)"
    year = r"(?<!\d)(?P<year>\d{4})(?!\d)"
    wd_opt = rf"(?:(?P<wd>{alternation(weekdays)})\.?,?\s+(?:the\s+)?)?"
    wd_req = rf"(?P<wd>{alternation(weekday_required)}),?\s+(?:the\s+)?"
    start = r"(?<![\w])"
    shapes = {
        "iso": r"(?<![\d/.\-])(?P<year>\d{4})(?P<sep>[-/.])(?P<mnum>\d{1,2})(?P=sep)(?P<day>\d{1,2})(?![\d])"
        r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?(?![\w:]))?",
        "num": r"(?<![\d/.\-])(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4})(?!\d)",
        "mdy": rf"{start}{wd_opt}{mon}[\s\-]*{day}(?:,\s*|[\s\-]+){year}",
        "dmy": rf"{start}{wd_opt}{day}(?:\s*(?:of|de)\s+|[\s\-]*){mon},?(?:\s+de\s+|[\s\-]+){year}",
        "my": rf"{start}{mon},?(?:\s+de\s+|[\s\-/]+){year}",
        "wmd": rf"{start}{wd_req}{mon}\s*{day}",
        "wdm": rf"{start}{wd_req}{day}(?:\s*(?:of|de)\s+|\s*){mon}",
        "md": rf"{start}{mon}\s*{day}",
        "dm": rf"{start}{day}(?:\s*of\s+|\s*){mon}",
    }
    return {kind: re.compile(p, re.IGNORECASE) for kind, p in shapes.items()}


EN_SHAPES = build_patterns(list(MONTHS_EN), list(WEEKDAYS_EN), list(WEEKDAYS_EN))
# Prose names weekdays in full; "Sat" and "Sun" are ordinary words there.
EN_LEAD_SHAPES = build_patterns(list(MONTHS_EN), list(WEEKDAYS_FULL_EN), list(WEEKDAYS_FULL_EN))
ALL_SHAPES = build_patterns(list(MONTHS_ALL), list(WEEKDAYS_ALL), list(WEEKDAYS_ALL))

# Shapes a date line may hold, in no particular order (longest match wins).
LINE_KINDS = ("iso", "num", "mdy", "dmy", "my", "wmd", "wdm")
LEAD_KINDS = ("iso", "num", "mdy", "dmy", "wmd", "wdm")
DATELINE_KINDS = ("mdy", "dmy", "iso", "wmd", "wdm", "md", "dm")

REUTERS_STAMP = re.compile(r"\s*(\d{1,2})-([a-z]{3})-(\d{4})(?!\d)")
CTIME = re.compile(  # Twitter / ctime: "Thu Oct 26 09:30:00 +0000 2023"
    rf"(?P<wd>{alternation(list(WEEKDAYS_EN))})\s+(?P<mon>{alternation(list(MONTHS_EN))})\s+(?P<day>\d{{1,2}})\s+"
    rf"\d{{1,2}}:\d{{2}}(?::\d{{2}})?\s+(?:[+-]\d{{4}}\s+|[a-z]{{2,5}}\s+)?(?P<year>\d{{4}})$"
)
COMPACT = re.compile(r"(?P<year>\d{4})(?P<mnum>\d{2})(?P<day>\d{2})(?!\d)")
YEAR_MONTH = re.compile(r"(?P<year>\d{4})[-/.](?P<mnum>\d{1,2})(?![\d])")
YEAR_ONLY = re.compile(r"(?P<year>\d{4})(?!\d)")
EPOCH = re.compile(r"(?P<secs>\d{10})(?:\.\d+)?|(?P<millis>\d{13})")
META_LABEL = re.compile(r"(?:published|posted|updated|date|dated|created|pubdate)\s*:?\s*")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# What may follow the date in a metadata string: a time, am/pm, a zone or offset.
DATE_TAIL = re.compile(
    rf"""[\s,;]*(?:(?:t|at|a|um|@|-|\|)\s*)?
    (?:\d{{1,2}}(?:[:.h]\d{{2}}){{1,2}}(?:[.,]\d+)?|\d{{1,2}}(?=\s*[ap]\.?m)|\d{{4}}(?:\d{{2}})?(?:[.,]\d+)?)?
    \s*(?:[ap]\.?\s?m\.?)?\s*(?:uhr)?
    \s*\(?(?:{alternation(TIMEZONES)})?(?:\s*[+-]\d{{1,2}}(?::?\d{{2}})?)?\)?
    \s*(?:\([a-z ]{{2,40}}\))?\s*""",
    re.VERBOSE,
)

DIGIT = re.compile(r"\d")
NO_DIGIT_RELATIVE = re.compile(r"\b(?:ago|yesterday|today|just now)\b", re.IGNORECASE)
DATE_HINT = re.compile(
    rf"(?<![^\W\d_])(?:{alternation(list(MONTHS_EN))})(?![^\W\d_])|\d{{1,4}}[-/.]\d|\bago\b|\byesterday\b|\btoday\b",
    re.IGNORECASE,
)
RELATIVE = re.compile(
    r"(?<![\w])(?:(?P<n>\d+|an?|one)\s*(?P<unit>seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w"
    r"|months?|mos?|years?|yrs?|y)\s+ago|(?P<word>yesterday|today|just now))(?![\w])",
    re.IGNORECASE,
)
RELATIVE_DAYS = {"s": 0, "sec": 0, "second": 0, "m": 0, "min": 0, "minute": 0, "h": 0, "hr": 0, "hour": 0,
                  "d": 1, "day": 1}
HOURS = re.compile(r"\d\s*h(?:ou)?r?s?\b|\ban? hour", re.IGNORECASE)
TIME_OF_DAY = re.compile(
    rf"(?<![\w:])(?:\d{{1,2}}(?:[:.h]\d{{2}}){{1,2}}(?:[.,]\d+)?(?:\s*[ap]\.?\s?m\.?)?|\d{{1,2}}\s*[ap]\.?\s?m\.?)"
    rf"(?:\s*\(?(?:gmt|utc)\s*[+-]\d{{1,2}}(?::?\d{{2}})?\)?|[+-]\d{{2}}:?\d{{2}}|\s*\(?(?:{alternation(TIMEZONES)})\)?)?"
    r"(?![\w])",
    re.IGNORECASE,
)
FILLER = re.compile(  # "4 min read", "12 comments": byline furniture with numbers
    r"\d+\s*(?:-\s*)?(?:min(?:ute)?s?|m)\.?\s+read(?:ing)?(?:\s+time)?|read(?:ing)?\s+time\s*:?\s*\d+\s*min(?:ute)?s?"
    r"|\d[\d,.]*\s*[km]?\s+(?:comments?|views?|shares?|likes?)",
    re.IGNORECASE,
)
STAMP_TOKEN = re.compile(r"[\x01\x02\x03]|[^\W\d_][\w'.\-]*|\d+|\S")
SEPARATORS = frozenset("|·•-/,;:()–—*~>")
CAPTION = re.compile(
    r"\[[^\]]*\]\s*$|\((?:[A-Z]+ )?(?:photo|image|file)\b|(?-i:\b[A-Z]{2,}/[A-Z][a-z]+)|\b(?:photo|image|credit)s?\s*:"
    r"|getty images|\bfile photo\b",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"[.!?\"')\]:]\s*$")
DATELINE = re.compile(
    r"(?P<place>[A-Z][\w.'\-]*(?:\s+(?:[A-Z][\w.'\-]*|al|de|el|es|of)){0,3}"
    r"(?:,\s*[A-Z][\w.'\-]*(?:\s+[A-Z][\w.'\-]*){0,2})?,\s*)?"
    r"(?P<date>[\w.,\- ]{3,45}?)\s*"
    r"(?:(?P<agency>\([A-Z][\w .&'/\-]{1,40}\)|\.?\s*/[A-Z][\w\-]{1,15}/)\s*(?:-{1,3}|:|\.)?|(?P<dash>-{1,3}|:))"
    r"(?:\s+\S|\s*$)"
)
