"""What one line of a scraped page is, by its shape and its language.

The cleaner (:mod:`search.clean`) asks these questions of every line: is it
prose or a headline, does it speak to the reader as a site's furniture does
("share", "sign up", cookie and copyright notices, in several languages from
the word lists in ``search/data/clean_*.txt``), is it a byline, a "LABEL:
link" teaser, a photo caption.  Each answer is a reason string naming the
rule, or None, so ``newsfacet clean`` can say why a line was dropped.
"""

from __future__ import annotations

import functools
import re

from .textnorm import fold

# --- line shapes -----------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:['.-][^\W_]+)*", re.UNICODE)
# Sentence end: . ! ? (possibly followed by closing quotes/brackets).
_SENTENCE_END = re.compile(r"""[.!?]["')\]]*$""")
_ELLIPSIS_END = re.compile(r"(\.\.\.|…)$")
# A line this long is prose even without terminal punctuation (scrapes cut
# paragraphs off mid-word); headlines rarely run past twenty words.
PROSE_MIN_WORDS = 25
# Lines up to this long may be furniture even when they end like a sentence.
SHORT_LINE_WORDS = 12
SENTENCE_MIN_WORDS = 3
# Reader-directed lines longer than this are article text whatever they say.
UI_MAX_WORDS = 35
HEADLINE_MAX_WORDS = 30
# A deck (standfirst) between headline and body must carry some content.
DECK_MIN_WORDS = 6

# --- reader-facing UI language ---------------------------------------------

# Verbs a page uses to address its reader, as the first word of a short line.
UI_VERBS = frozenset(
    """
    share follow subscribe sign leave click tap add read watch listen join download get like comment
    register log login logout back skip continue print email tweet save load show view see send support
    donate accept manage report reply post contact advertise search menu close open go return
    """.split()
)
# Phrases that mark site furniture wherever they appear in a short line.
UI_PHRASES = re.compile(
    r"""\b(
        comments?\s+(are|is)\s+(closed|disabled)|no\s+comments|leave\s+a\s+(reply|comment)|post\s+a\s+comment
        |newsletters?|cookies?|privacy\s+(policy|notice|settings)|terms\s+(of|and)\s+(use|service|conditions)
        |all\s+rights\s+reserved|sign\s+(up|in)|log\s+in|subscribe|unsubscribe|subscription|follow\s+us
        |share\s+(this|on|via|it)|click\s+here|read\s+more|^related(\s+\w+)?$|related\s+(articles?|posts?|stories|news|content|topics|coverage|reading|links)
        |(views|opinions)\s+expressed
        |most\s+(read|popular|viewed|shared)|you\s+may\s+(also\s+)?like|recommended\s+(for\s+you|stories|articles)
        |sponsored|advertisement|advertising|back\s+to\s+top|skip\s+to|trending\s+now|similar\s+posts
        |more\s+from|more\s+stories|load\s+more|previous\s+(article|post)|next\s+(article|post)
        |all\s+posts|about\s+the\s+author|min(ute)?s?\s+read|breaking\s+news|live\s+updates
        |^tags?(\s*:|$)|filed\s+under|categories|permalink
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)
_SECOND_PERSON = re.compile(r"\b(you|your|yours)\b", re.IGNORECASE)


# Multilingual vocabularies, in search/data/clean_*.txt, read on first use.
_VOCAB_FILES = {
    "furniture": "clean_furniture.txt",
    "notices": "clean_notices.txt",
    "comments": "clean_comments.txt",
    "reader": "clean_reader_words.txt",
}  # and clean_teaser_labels.txt, a set of whole labels
_VOCAB: dict = {}


def _phrase_pattern(phrases: list[str]) -> re.Pattern:
    alts = sorted(
        {re.escape(fold(p).rstrip("*")) + (r"\w*" if p.endswith("*") else "") for p in phrases}, key=len, reverse=True
    )
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + r")(?!\w)")


def _vocab(name: str) -> tuple[re.Pattern, re.Pattern]:
    """(multi-word phrases, one-word entries) of vocabulary *name* as patterns on folded text."""
    if name not in _VOCAB:
        from .extract.entity_words import read_data_lines

        entries = read_data_lines(_VOCAB_FILES[name])
        multi = [e for e in entries if " " in e or "-" in e]
        single = [e for e in entries if e not in multi]
        _VOCAB[name] = (_phrase_pattern(multi or ["\x00"]), _phrase_pattern(single or ["\x00"]))
    return _VOCAB[name]


# A one-word entry ("Impressum", "Kommentare", "Anzeige") marks a line only
# when the line is hardly more than that word: "Kommentare (3)" is a link,
# "Die Themen der Woche" may be a subheading.
ONE_WORD_ENTRY_MAX_WORDS = 3


def has_vocab(name: str, line: str, folded: str | None = None) -> bool:
    """Whether *line* holds an entry of vocabulary *name* (see search/data/clean_*.txt)."""
    folded = fold(line) if folded is None else folded
    multi, single = _vocab(name)
    if multi.search(folded):
        return True
    # Notices' single words (Akismet, Netiquette, Datenschutzerklärung) are
    # site vocabulary in a sentence of any length.
    short = name == "notices" or len(words(line)) <= ONE_WORD_ENTRY_MAX_WORDS
    return short and bool(single.search(folded))


def _reader_words(folded: str) -> bool:
    multi, single = _vocab("reader")
    return bool(single.search(folded) or multi.search(folded))


# "Jane Doe says:", "Anonymous sagt:", "Juan dice:": the name line over a
# reader's comment.
_COMMENT_AUTHOR = re.compile(
    r"^\S.{0,60}\s(says|said|sagt|schreibt|meint|dice|escribi[oó]|disse|a\s+[ée]crit|napisa[lł]a?|scrive|zegt)\s*:?$",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(r"(©|\(c\)\s*\d{4}|\bcopyright\b)", re.IGNORECASE)
# Breadcrumbs and menus: words separated by › » > | / • · bullets.
_CRUMB_SEPARATORS = re.compile(r"\s[›»>|/•·]\s|^[›»>•·]|[›»>]$")
# "READ: headline", "ALSO READ - headline", "Watch: headline": a short label
# introducing a link, not a sentence.
_LABEL = re.compile(r"^(?P<label>[^\W\d_][\w'’ ]{0,24}?)\s*[:|]\s+(?P<rest>\S.*)$")
_LABEL_DASH = re.compile(r"^(?P<label>[A-Z][A-Z' ]{1,24})\s+[-–—]\s+(?P<rest>\S.*)$")
# Photo credits mark image captions: "[Reuters/Name]", "(Photo: AFP)",
# "Agency/First Last" at the end (case-sensitive: "Teilnehmern/innen" or a
# URL path is no credit),
# "Photo: Name/Agency", "REUTERS/Name", "Getty Images", "File photo".
_CAPTION = re.compile(
    r"""(\[[^\]]*/[^\]]*\]\s*$|\((photo|image|picture|credit|file)[^)]*\)\s*$|^(photo|image|picture|credit|file\s+photo)\s*[:|-]
        |(^|[.!?]\s+)(photo|photograph|picture|image|illustration|graphic|credit)s?(\s+by)?\s*[:|]\s*\S[^.!?]{0,80}$
        |\b(?-i:[A-Z][A-Za-z]+/[A-Z][\w-]+(?:\s[A-Z][\w-]+){0,3})$|getty\s+images|shutterstock|/\s*(afp|ap|reuters|epa|anadolu)\b
        |^\w.{10,}\s(bild|foto|photo|image|imagen|picture)?\s*©\s*[^©.!?]{2,60}$)""",
    re.IGNORECASE | re.VERBOSE,
)
# "LISBON, March 3 (Harbour Wire) - ", "WASHINGTON (AP) — ", "PARIS — ": the
# place/agency/date stamp a wire story opens with.
DATELINE = re.compile(
    r"""^(?P<dateline>
        (?:[A-Z][A-Z'.-]+(?:\s+[A-Z][A-Z'.-]+){0,3}(?:,\s*[A-Z][A-Za-z.]+(?:\s+[A-Z][A-Za-z.]+)?)?   # PLACE, Region
         (?:,\s*(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}|\d{1,2}\s+[A-Z][a-z]{2,8}\.?)(?:,?\s+\d{4})?)?       # , March 3 2024
         (?:\s*\([^)]{2,40}\))?                                                                     # (Agency)
        )
        \s*[-–—:]\s+)(?P<rest>[A-Z"'].*)$""",
    re.VERBOSE,
)


# "By Jane Doe", "By Jane Doe and John Roe, Political Reporter", "Words by …".
# Also "Von …" (German), "Por …" (Spanish), "Par …" (French), "Di …"
# (Italian), "Door …" (Dutch), "Przez …" (Polish): a capital must follow, so
# "Von der Leyen warnt" or "Por qué" is no byline.
_BYLINE = re.compile(
    r"^(?:(?:written|words|reporting|report|text|story|texto|text)\s+)?(?:by|von|por|par|di|door|przez)\s+(?-i:[A-Z\u00c0-\u024f])",
    re.IGNORECASE,
)
BYLINE_MAX_WORDS = 14
# A linked headline after a link label is at most this long.
TEASER_MAX_WORDS = 16


@functools.lru_cache(maxsize=1 << 15)
def words(line: str) -> tuple[str, ...]:
    """The words of *line* (letters and digits, inner ' . - kept).

    Remembered: the cleaner asks for the same line's words from several rules
    (a tenth of its time went to finding them again)."""
    return tuple(_WORD.findall(line))


def is_sentence(line: str) -> bool:
    """True when *line* reads as prose: terminal punctuation and enough words."""
    n = len(words(line))
    if n >= PROSE_MIN_WORDS:
        return True
    return n >= SENTENCE_MIN_WORDS and bool(_SENTENCE_END.search(line)) and not _ELLIPSIS_END.search(line)


def is_headline_like(line: str) -> bool:
    """True for a short line without terminal punctuation: a headline, label or menu."""
    n = len(words(line))
    return 0 < n <= HEADLINE_MAX_WORDS and not _SENTENCE_END.search(line)


def ui_reason(line: str, *, shape: bool = True) -> str | None:
    """Why *line* is site furniture addressed to the reader, or None.

    :param shape: also apply the rules that need no vocabulary (a navigation
        trail of short items between separators, second person alone in a
        short line); off for lines an HTML extractor chose.
    """
    ws = words(line)
    if not ws:
        return "no words"
    n = len(ws)
    if _COPYRIGHT.search(line) and n <= 25:
        return "copyright notice"
    folded = fold(line)
    if n <= UI_MAX_WORDS and not _looks_quoted(line) and has_vocab("notices", line, folded):
        # Legal, cookie, comment-form and sign-up notices read as sentences
        # but are the site's, in whatever language.
        return "site notice (legal, cookies, comment form, sign-up)"
    if n > SHORT_LINE_WORDS:
        # A longer line is furniture only when it both speaks to the reader
        # and uses site vocabulary: "Sign up for our briefing … in your inbox".
        if n <= UI_MAX_WORDS and not _looks_quoted(line) and (
            (_SECOND_PERSON.search(line) and (UI_PHRASES.search(line) or ws[0].lower() in UI_VERBS))
            or (_reader_words(folded) and has_vocab("furniture", line, folded))
        ):
            return "addressed to the reader"
        return None
    if _COMMENT_AUTHOR.match(line):
        return "comment author line"
    if shape and _CRUMB_SEPARATORS.search(line) and not is_sentence(line):
        return "navigation trail"
    first = ws[0].lower()
    if _looks_quoted(line):
        return None  # somebody said it: a quotation, not the page talking
    if first in UI_VERBS and (not is_sentence(line) or _SECOND_PERSON.search(line) or n <= 6):
        return "prompt to the reader"
    if _SECOND_PERSON.search(line) and (shape or UI_PHRASES.search(line) or has_vocab("furniture", line, folded)):
        # Second person alone marks a short line of a scrape as the page
        # talking ("Give us your feedback"); in an extractor's main text it
        # is as likely a tutorial's or interview's prose, so there the line
        # must also use site vocabulary.
        return "addressed to the reader"
    if (UI_PHRASES.search(line) or has_vocab("furniture", line, folded)) and (not is_sentence(line) or n <= 8):
        return "site furniture"
    return None


def _looks_quoted(line: str) -> bool:
    return line.count('"') >= 2 or line.startswith('"')


def is_byline(line: str) -> bool:
    """True for an author line such as ``By Jane Doe, Local Democracy Reporter``."""
    return bool(_BYLINE.match(line)) and len(words(line)) <= BYLINE_MAX_WORDS and not _SENTENCE_END.search(line)


def teaser_reason(line: str) -> str | None:
    """Why *line* is a "LABEL: linked headline" teaser, or None."""
    m = _LABEL.match(line) or _LABEL_DASH.match(line)
    if not m:
        return None
    label, rest = m.group("label").strip(), m.group("rest")
    known = fold(label) in _teaser_labels()
    if len(words(label)) > 3:
        return None
    # After a link label ("Czytaj też:", "Lesen Sie auch:") the linked
    # headline may end in punctuation ("Czy Rosja go użyje?"); after any
    # other label a sentence is the article's.
    if is_sentence(rest) and not (known and len(words(rest)) <= TEASER_MAX_WORDS):
        return None
    # Only a link label makes a teaser; "Termin: 29.02.2020" or "Ort: Kasberg"
    # states a fact of the article.  Shouted labels ("ALSO READ", "PUEDES
    # VER") are link labels in any language.
    if not known and not (label.isupper() and len(label.replace(" ", "")) >= 4):
        return None
    return f"link teaser ({label}:)"


def _teaser_labels() -> frozenset[str]:
    if "teaser_labels" not in _VOCAB:
        from .extract.entity_words import read_data_lines

        _VOCAB["teaser_labels"] = frozenset(fold(x) for x in read_data_lines("clean_teaser_labels.txt"))
    return _VOCAB["teaser_labels"]


def caption_reason(line: str) -> str | None:
    """Why *line* is an image caption or photo credit, or None."""
    if len(words(line)) <= 40 and _CAPTION.search(line):
        return "image caption"
    return None
