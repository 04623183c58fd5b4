"""Byline furniture: whether a line, its dates and times masked, reads as a date stamp.

:func:`search.extract.dates.parse_date_line` masks the dates (``\\x01``),
times (``\\x02``) and ``4 min read`` fillers (``\\x03``) of a line and asks
:func:`only_byline_words` whether the rest is what a byline holds:
published / updated / on / at, ``By`` and an author's name, an outlet's name
between separators.  A prose sentence, a caption or a credit is not.
"""

from __future__ import annotations

from search.extract.date_patterns import (
    BOUNDARY_WORDS,
    BYLINE_WORDS,
    NAME_PARTICLES,
    REJECT_WORDS,
    RUN_BREAK,
    SEPARATORS,
    STAMP_TOKEN,
    TIMEZONE_SET,
)

MAX_NAME_WORDS = 4          # an author or outlet name next to the date
MAX_FREE_NAME_RUNS = 2      # name runs not introduced by "by"


def _is_name_word(token: str) -> bool:
    return token[0].isupper() or (len(token) == 2 and token[1] == "." and token[0].isalpha())


def _is_word(token: str) -> bool:
    return token[0].isalpha()


def _breaks_run(token: str, low: str) -> bool:
    # Zones break a run only written as zones (GMT), so "West Bank" stays a name.
    return low in RUN_BREAK or (low in TIMEZONE_SET and token.isupper())


def only_byline_words(masked: str) -> bool:
    """True when what is left of a line, dates and times masked, reads as byline furniture."""
    tokens = STAMP_TOKEN.findall(masked)
    n = len(tokens)
    i = 0
    boundary = True  # at line start, after a separator or a strong byline word
    free_runs = 0
    while i < n:
        tok = tokens[i]
        if tok in ("\x01", "\x02", "\x03"):
            boundary = False
            i += 1
            continue
        if tok in SEPARATORS or tok == ".":
            boundary = True
            i += 1
            continue
        if not _is_word(tok):
            return False
        low = tok.lower().rstrip(".")
        if low in REJECT_WORDS:
            return False
        if low == "by":
            j, names, lower = i + 1, 0, 0
            while j < n and _is_word(tokens[j]):
                word = tokens[j].lower().rstrip(".")
                if word in ("and", "&"):
                    j += 1
                    continue
                if _breaks_run(tokens[j], word) or word in REJECT_WORDS or names >= MAX_NAME_WORDS + 2:
                    break
                if _is_name_word(tokens[j]) or word in NAME_PARTICLES:
                    names += 1
                else:
                    lower += 1
                j += 1
            # a user name ("by admin") is one lower-case word, alone
            if names + lower == 0 or (lower and (lower > 1 or names)):
                return False
            i, boundary = j, False
            continue
        if low in BYLINE_WORDS:
            # "Posted in Politics": a section name may follow "in"
            boundary = low in BOUNDARY_WORDS or low == "in"
            i += 1
            continue
        if _is_name_word(tok):
            if not boundary:
                return False
            j, names = i, 0
            while j < n and _is_word(tokens[j]) and names <= MAX_NAME_WORDS:
                word = tokens[j].lower().rstrip(".")
                if _breaks_run(tokens[j], word) or word in REJECT_WORDS:
                    break
                if _is_name_word(tokens[j]):
                    names += 1
                elif word not in NAME_PARTICLES:
                    return False
                j += 1
            if names > MAX_NAME_WORDS:
                return False
            nxt = tokens[j] if j < n else None
            if nxt is not None and nxt not in SEPARATORS and nxt != "." and nxt.lower() not in BOUNDARY_WORDS:
                return False
            free_runs += 1
            if free_runs > MAX_FREE_NAME_RUNS:
                return False
            i, boundary = j, False
            continue
        return False
    return True
