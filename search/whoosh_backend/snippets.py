"""Snippets and highlighting: query terms found as the index finds them, marked in safe HTML.

Words are compared as the index analyzer reduces them (lower case, folded,
stemmed), so a query ``estimates`` marks ``estimated``; everything but the
``<mark>`` tags is escaped.
"""

from __future__ import annotations

import bisect
import functools
import html
import re

from whoosh.lang import stemmer_for_language

from ..textnorm import fold
from . import schema as S

SNIPPET_CHARS = 240
# Snippets come from the region of the first match; analysing a whole long
# article for a passage costs more than the rest of the query.
SNIPPET_WINDOW = 600
_WORD = re.compile(S.TOKEN_PATTERN)
_STEM = stemmer_for_language("en")
_STEMS: dict[str, str] = {}


def _stem(word: str) -> str:
    """A word as the index analyzer reduces it: lower case, folded, stemmed."""
    low = word.lower()
    stem = _STEMS.get(low)
    if stem is None:
        stem = _STEM(low if low.isascii() else fold(low))
        if len(_STEMS) < 200_000:
            _STEMS[low] = stem
    return stem


# A Porter2 stem keeps all but at most this many of its (ASCII) word's last
# letters: the algorithm only rewrites endings (y -> i, -ational -> -ate, ...).
STEM_REWRITES_AT_MOST = 3


@functools.lru_cache(maxsize=1024)
def _candidates(terms: frozenset) -> re.Pattern:
    """The tokens of an ASCII text that may stem to one of *terms*: those starting
    with a term's first letters, found by one regex scan instead of stemming every word."""
    prefixes = sorted({t[: max(1, len(t) - STEM_REWRITES_AT_MOST)] for t in terms}, key=len, reverse=True)
    alternatives = "|".join(re.escape(p) for p in prefixes)
    # A token starts where a word character follows neither a word character nor a
    # word character and an inner apostrophe or dot (those join one token).
    return re.compile(rf"(?<!\w)(?<!\w['.])(?=(?:{alternatives}))\w+(?:['.]\w+)*", re.IGNORECASE | re.ASCII)


def _spans(text: str, terms: frozenset) -> list[tuple[int, int]]:
    """``(start, end)`` of each word of *text* whose stem is one of *terms*, in order."""
    words = _candidates(terms).finditer(text) if text.isascii() and terms else _WORD.finditer(text)
    return [(m.start(), m.end()) for m in words if _stem(m.group()) in terms]


def make_snippet(body: str, terms: frozenset, chars: int = SNIPPET_CHARS) -> str | None:
    """The *chars*-long passage of *body* with the most matched words, as safe HTML.

    Words are compared as the index compares them (folded and stemmed), so a
    query ``estimates`` marks ``estimated``; everything but ``<mark>`` is escaped.
    """
    window = _around_first_match(body, terms)
    offset = body.find(window) if window is not body else 0
    spans = _spans(window, terms)
    if not spans:
        return None
    # The best start: the match whose next `chars` characters hold most matches.
    ends = [e for _, e in spans]
    best, best_count = spans[0][0], 0
    for i, (start, _) in enumerate(spans):
        count = bisect.bisect_right(ends, start + chars - 40) - i
        if count > best_count:
            best, best_count = start, count
    frag_start = max(0, best - 40)
    if frag_start:
        space = window.rfind(" ", 0, frag_start)
        frag_start = space + 1 if space >= 0 else frag_start
    frag_end = min(len(window), frag_start + chars)
    if frag_end < len(window):
        space = window.rfind(" ", frag_start, frag_end)
        frag_end = space if space > frag_start else frag_end
    out = []
    pos = frag_start
    for start, end in spans:
        if start < frag_start or end > frag_end:
            continue
        out.append(html.escape(window[pos:start], quote=False))
        out.append(f"<mark>{html.escape(window[start:end], quote=False)}</mark>")
        pos = end
    out.append(html.escape(window[pos:frag_end], quote=False))
    text = "".join(out).strip()
    if offset + frag_start > 0:
        text = "… " + text
    if offset + frag_end < len(body):
        text += " …"
    return text


def mark_terms(text: str, terms: frozenset) -> str:
    """*text* as safe HTML with every word whose stem is in *terms* in ``<mark>``."""
    out = []
    pos = 0
    for start, end in _spans(text, terms):
        out.append(html.escape(text[pos:start], quote=False))
        out.append(f"<mark>{html.escape(text[start:end], quote=False)}</mark>")
        pos = end
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def _around_first_match(body: str, terms: frozenset) -> str:
    """A slice of *body* starting a little before the earliest occurrence of any term's stem."""
    if len(body) <= SNIPPET_WINDOW:
        return body
    folded = body.lower()
    starts = [i for i in (folded.find(t[:4]) for t in terms if t) if i >= 0]
    start = max(0, min(starts) - 200) if starts else 0
    if start:
        start = body.rfind(" ", 0, start) + 1
    return body[start : start + SNIPPET_WINDOW]


def body_terms(parsed) -> frozenset:
    """The title and body terms of a parsed query (what snippets and highlighting mark)."""
    if parsed is None:
        return frozenset()
    out = set()
    for fieldname, text in parsed.iter_all_terms():
        if fieldname in (S.BODY, S.TITLE):
            out.add(text.decode("utf-8") if isinstance(text, bytes) else text)
    return frozenset(out)


def snippet(body: str, parsed, chars: int = SNIPPET_CHARS) -> str:
    """A hit's snippet: a passage of *body* around the terms of query *parsed*, as safe HTML
    (terms in ``<mark>``), or the body's first *chars* characters when none is there."""
    terms = body_terms(parsed)
    if terms:
        out = make_snippet(body, terms, chars)
        if out:
            return out
    lead = body[:chars]
    if len(body) > chars:
        lead = lead.rsplit(" ", 1)[0] + " …"
    return html.escape(lead, quote=False)


def highlight(body: str, parsed, limit: int) -> str:
    """*body* as safe HTML with the terms of query *parsed* in ``<mark>`` in its first *limit*
    characters, the rest only escaped (the article page, on every engine)."""
    terms = body_terms(parsed)
    if not terms:
        return html.escape(body, quote=False)
    return mark_terms(body[:limit], terms) + html.escape(body[limit:], quote=False)
