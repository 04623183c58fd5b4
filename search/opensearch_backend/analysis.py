"""OpenSearch index analysis equal, token for token, to the Whoosh schema's.

:func:`index_analysis` returns the ``settings.analysis`` block of an index.
It defines two analyzers:

* :data:`TEXT_ANALYZER` (``newsfacet_text``) — what
  :func:`search.whoosh_backend.schema.text_analyzer` does to title and body;
* :data:`WORDS_ANALYZER` (``newsfacet_words``) — the same without stemming,
  as ``text_analyzer(stem=False)`` (the "did you mean" vocabulary).

Whoosh's chain is ``RegexTokenizer(r"\\w+(?:['.]\\w+)*")`` (Python ``re``,
Unicode ``\\w``) | ``LowercaseFilter`` (``str.lower``) | ``FoldFilter``
(:func:`search.textnorm.fold`: NFKC, quotes, NFKD, combining marks dropped,
a few extra letters, ``str.casefold``) | Snowball English (Porter2).
OpenSearch's own pieces do not reproduce that: Java's ``\\w`` is ASCII (and
with ``UNICODE_CHARACTER_CLASS`` it takes combining marks and leaves out
``²``/``½``); ``lowercase`` is Java's simple case mapping, not casefolding
(``ς`` stays ``ς``); ``asciifolding`` folds Latin only (``й``, ``ά`` and Hangul
syllables stay, which ``fold`` decomposes).  So the chain here is built from
analysis-common pieces driven by tables generated at call time from Python
itself — ``re``'s ``\\w`` and :func:`search.textnorm.fold` — so the two can
never drift apart:

1. char filter ``newsfacet_fold`` (``mapping``): every word character whose
   lower-cased, folded form differs from itself is replaced by that form
   (``Ø`` → ``o``, ``ﬁ`` → ``fi``, ``Σ``/``ς`` → ``σ``, ``가`` → its jamo).
   Lower-casing and folding are per character, so doing them before the
   tokenizer gives what Whoosh gets after it; offsets still point into the
   original text.  A few folds produce characters that would split or join
   tokens (``ʻ`` → ``'``, ``⒈`` → ``1.``, ``½`` → ``1⁄2``, ``ﾞ`` → nothing):
   ``'``, ``.``, spaces and "nothing" travel as private-use placeholders,
   the other such characters are added to the tokenizer's class, and their
   (and the placeholders') raw occurrences become spaces — in raw text they
   are separators anyway.
2. tokenizer ``newsfacet_tokens`` (``pattern``, group 0): the Whoosh pattern
   with ``\\w`` spelled out as the exact code-point ranges Python's ``re``
   matches, plus the characters of step 1 — as an ASCII class or, behind a
   one-range "not ASCII" guard, the class of the rest (:func:`_token_class`):
   Java tests a character against a class's ranges one by one, so every
   space and comma, failing all ~700 ranges, made the tokenizer some eight
   times slower than with the guard.
3. token filters (``pattern_replace``) that undo the placeholders: spaces
   collapsed and stripped as :func:`search.textnorm.normalize_text` does
   (only some Arabic presentation forms — isolated harakat, ``ﷺ`` — and
   ``ͺ`` fold to a space), then the marks dropped, then ``'`` and ``.``
   restored.
4. only in :data:`TEXT_ANALYZER`: ``lowercase`` and a leading apostrophe
   dropped, because Whoosh's stemmer lower-cases its word (``fold``'s
   casefold leaves Cherokee in capitals) and drops one leading ``'`` even in
   a word too short to stem (``ʼn``), then ``stemmer`` with ``language:
   porter2`` (Lucene's Snowball English, as Whoosh's ``StemFilter(lang="en")``).

No stop words are removed and no ``asciifolding`` runs: step 1 already
folded, Whoosh's way.  OpenSearch's built-in ``english`` analyzer differs on
all of it (checked on a 2.19 cluster): standard (UAX #29) tokenizer,
possessive ``'s`` removed, English stop words removed (``the``, ``of``), no
accent folding (``tromsø`` stays), and the original Porter stemmer
(``fairly`` → ``fairli``; Porter2 gives ``fair``).

Known differences, both in stemming only (allow-listed, with these reasons,
in ``tests/opensearch/test_analysis_parity.py``):

* Whoosh's Porter2 port and Lucene's Snowball-generated English stemmer
  disagree on a few words where step 2 or 3 leaves an ``ize``/``ate`` that
  Lucene's step 4 then removes: ``realization`` → ``realize`` (Whoosh) /
  ``realiz`` (Lucene), ``sensationally`` → ``sensate`` / ``sensat``.  Over
  the whole Reuters-21578 vocabulary (92,849 distinct words) that is 2
  words (``realization``, ``fertlizer``).
* Lucene's Snowball counts UTF-16 code units, Python code points, so a word
  mixing Latin letters with characters beyond the BMP can stem differently
  (``a𠀀e`` → ``a𠀀e`` / ``a𠀀``).

Tokenisation, folding, positions and offsets agree exactly, for every word
character Python knows.

The price of exactness is size: about 16,800 mapping rules (Hangul
syllables alone are 11,172) and a 23 kB tokenizer pattern, some 330 kB of
settings; creating an index with them takes a few seconds on the test
cluster.  :func:`index_analysis` takes about 1.5 s the first time (cached).
"""

from __future__ import annotations

import functools
import re
import unicodedata

from ..textnorm import fold, normalize_text

TEXT_ANALYZER = "newsfacet_text"
WORDS_ANALYZER = "newsfacet_words"
CHAR_FILTER = "newsfacet_fold"
TOKENIZER = "newsfacet_tokens"
STEMMER = "newsfacet_porter2"

# The Whoosh schema's TOKEN_PATTERN (search.whoosh_backend.schema), repeated
# here because importing the schema imports Whoosh; the parity test checks
# the two are equal.
WHOOSH_TOKEN_PATTERN = r"\w+(?:['.]\w+)*"
JOINERS = "'."

# Private-use placeholders: characters fold produces inside a word that the
# tokenizer must not see as what they are.
APOSTROPHE = "\ue000"
DOT = "\ue001"
SPACE = "\ue002"
MARK = "\ue003"  # "nothing here": a dropped combining mark, or a character folded away
PLACEHOLDERS = {APOSTROPHE: "'", DOT: "."}

_MAX_CODE_POINT = 0x110000


@functools.lru_cache(maxsize=1)
def word_ranges() -> tuple[tuple[int, int], ...]:
    """Inclusive code-point ranges of the characters Python's ``re`` ``\\w`` matches."""
    everything = "".join(chr(i) for i in range(_MAX_CODE_POINT) if not 0xD800 <= i <= 0xDFFF)
    ranges: list[tuple[int, int]] = []
    for m in re.finditer(r"\w+", everything):
        first, last = ord(m.group()[0]), ord(m.group()[-1])
        # a run may straddle the (absent) surrogates, which re never matches anyway
        if ranges and ranges[-1][1] + 1 == first:
            ranges[-1] = (ranges[-1][0], last)
        else:
            ranges.append((first, last))
    return tuple(ranges)


def _word_chars() -> list[str]:
    return [chr(i) for first, last in word_ranges() for i in range(first, last + 1)]


def _folded_piece(piece: str) -> str:
    """What fold makes of one character of an NFKC form, inside a word."""
    if piece.isspace():
        return SPACE
    if not normalize_text(piece):
        return ""  # zero-width: removed before spaces are collapsed, so it separates nothing
    folded = piece.lower() if piece.isascii() else fold(piece)
    return folded or MARK


def folded_char(char: str) -> str:
    """What Whoosh's lower-case and fold filters make of *char* inside a token, placeholders included."""
    lower = char.lower()
    if lower.isascii():
        folded = lower
    elif any(c.isspace() for c in unicodedata.normalize("NFKC", lower)):
        # fold collapses and strips the spaces of the whole token's NFKC form,
        # before dropping combining marks: keep each piece apart for the token filters
        folded = "".join(_folded_piece(c) for c in unicodedata.normalize("NFKC", lower))
    else:
        folded = fold(lower) or MARK
    return "".join({"'": APOSTROPHE, ".": DOT}.get(c, c) for c in folded)


def _rule_text(text: str) -> str:
    # Mapping rules are "key => value", trimmed and split on "=>": escape what could confuse that.
    return "".join(
        c if c.isprintable() and not c.isspace() and c not in "\\=>\"'" else _escape(c) for c in text
    )


def _escape(char: str) -> str:
    units = char.encode("utf-16-be")
    return "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))


def _java_class(code_points: list[int]) -> str:
    """A Java regex character class matching exactly *code_points*."""
    points = sorted(set(code_points))
    parts: list[str] = []
    start = prev = points[0]
    for p in points[1:] + [-1]:
        if p == prev + 1:
            prev = p
            continue
        parts.append(f"\\x{{{start:x}}}" if start == prev else f"\\x{{{start:x}}}-\\x{{{prev:x}}}")
        start = prev = p
    return "[" + "".join(parts) + "]"


def _token_class(code_points: list[int]) -> str:
    """A Java regex matching one of *code_points*: their ASCII class, or their non-ASCII class
    behind a lookahead that rejects ASCII characters at the cost of one range test."""
    ascii_ = [p for p in code_points if p < 0x80]
    rest = [p for p in code_points if p >= 0x80]
    if not ascii_ or not rest:
        return _java_class(code_points)
    return f"(?:{_java_class(ascii_)}|(?=[^\\x{{0}}-\\x{{7f}}]){_java_class(rest)})"


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[tuple[str, ...], str]:
    """(mapping rules, tokenizer pattern), generated from ``re`` and :func:`fold`."""
    words = _word_chars()
    word_set = set(words)
    rules: list[str] = []
    extra: set[str] = set()  # non-word characters that folded words contain
    for char in words:
        folded = folded_char(char)
        if folded != char:
            rules.append(f"{_rule_text(char)} => {_rule_text(folded)}")
            extra.update(c for c in folded if c not in word_set)
    extra -= {APOSTROPHE, DOT, SPACE, MARK}
    assert not extra & set(JOINERS) and not any(c.isspace() for c in extra)
    # Raw occurrences of those characters and of the placeholders separate words, as in Whoosh.
    for char in sorted(extra | {APOSTROPHE, DOT, SPACE, MARK}):
        rules.append(f"{_rule_text(char)} => \\u0020")
    token_class = _token_class(
        [i for first, last in word_ranges() for i in range(first, last + 1)]
        + [ord(c) for c in extra | {APOSTROPHE, DOT, SPACE, MARK}]
    )
    pattern = WHOOSH_TOKEN_PATTERN.replace(r"\w", token_class)
    return tuple(rules), pattern


def _replace(pattern: str, replacement: str) -> dict:
    return {"type": "pattern_replace", "pattern": pattern, "replacement": replacement, "all": True}


def _java_literal(char: str) -> str:
    return f"\\x{{{ord(char):x}}}"


def index_analysis() -> dict:
    """The ``settings.analysis`` block defining :data:`TEXT_ANALYZER` and :data:`WORDS_ANALYZER`."""
    rules, pattern = _tables()
    space, mark = _java_literal(SPACE), _java_literal(MARK)
    filters = {
        # normalize_text: runs of spaces become one, then the ends are stripped
        "newsfacet_space_runs": _replace(f"{space}+", SPACE),
        "newsfacet_space_ends": _replace(f"\\A{space}|{space}\\z", ""),
        # NFKD's combining marks are dropped after that, and the spaces are real spaces
        "newsfacet_marks": _replace(mark, ""),
        "newsfacet_spaces": _replace(space, " "),
        "newsfacet_apostrophes": _replace(_java_literal(APOSTROPHE), "'"),
        "newsfacet_dots": _replace(_java_literal(DOT), "."),
        # Whoosh's stemmer lower-cases its word and drops one leading apostrophe
        # even in a word too short to stem, where Lucene's leaves it
        "newsfacet_stem_apostrophe": _replace("\\A'", ""),
        STEMMER: {"type": "stemmer", "language": "porter2"},
    }
    stemming = ["lowercase", "newsfacet_stem_apostrophe", STEMMER]
    unstemmed = [name for name in filters if name not in stemming]
    return {
        "char_filter": {CHAR_FILTER: {"type": "mapping", "mappings": list(rules)}},
        "tokenizer": {TOKENIZER: {"type": "pattern", "pattern": pattern, "group": 0}},
        "filter": filters,
        "analyzer": {
            TEXT_ANALYZER: {
                "type": "custom",
                "char_filter": [CHAR_FILTER],
                "tokenizer": TOKENIZER,
                "filter": [*unstemmed, *stemming],
            },
            WORDS_ANALYZER: {
                "type": "custom",
                "char_filter": [CHAR_FILTER],
                "tokenizer": TOKENIZER,
                "filter": unstemmed,
            },
        },
    }
