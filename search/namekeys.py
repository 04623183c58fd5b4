"""Spelling-tolerant keys of entity names, shared by extraction and resolution.

The per-article extractor (:mod:`search.extract.entities`) merges mentions of
one entity inside a document, and the collection-wide resolver
(:mod:`search.resolution`) merges spellings across documents; both compare
names by these keys, so ``Marzouq`` and ``Marzouk`` (:func:`light_key`), or
``Muhammad`` and ``Mohamed`` in full names (:func:`heavy_key`), meet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from search.aliases import alias_key
from search.textnorm import fold

# Name particles kept inside person names ("Mousa Abu Marzouk", "van Gogh").
PARTICLES = frozenset(
    """bin ibn bint al el ad ash as at an az ar de da di du del della des der den van von la le dos das ter ten
    y abu""".split()
)

# Legal-form words that end a company's name: "General Motors Corp" is the
# company "General Motors" names too, so the resolver compares names without
# them.  English, German, French, Dutch, Italian, Spanish, Nordic and Japanese
# forms as wire copy writes them.
LEGAL_SUFFIXES = frozenset(
    """corp corporation inc incorporated co company cos ltd limited plc llc lp llp ag sa nv bv gmbh kg kgaa spa
    srl sarl sas ab asa oyj as kk bhd pty group holdings holding""".split()
)
_LEGAL_TAIL = re.compile(r"[\s,&]+(?:the\s+)?$")

_NON_KEY = re.compile(r"[^a-z0-9]")
_DOUBLE = re.compile(r"(.)\1+")
_VOWELS = re.compile(r"[aeiou]+")
# Spelling pairs that transliteration swaps freely (Khalid/Halid aside).
_LIGHT_RULES = (("kh", "k"), ("gh", "g"), ("ph", "f"), ("dh", "d"), ("sch", "sh"), ("ck", "k"), ("q", "k"), ("w", "v"))
_TOKEN_SPLIT = re.compile(r"[\s\-]+")


@lru_cache(maxsize=262_144)
def name_key(name: str) -> str:
    """The alias-table key of *name* (:func:`search.aliases.alias_key`), cached."""
    return alias_key(name)


@lru_cache(maxsize=262_144)
def fold_word(word: str) -> str:
    """*word* lower-cased, and accent-folded unless it is plain ASCII, cached."""
    return word.lower() if word.isascii() else fold(word)


@lru_cache(maxsize=262_144)
def light_key(token: str) -> str:
    """Return a spelling-tolerant key of one name token (Marzouq = Marzouk)."""
    s = _NON_KEY.sub("", fold_word(token))
    for a, b in _LIGHT_RULES:
        s = s.replace(a, b)
    s = s.replace("x", "ks").replace("ch", "\x01").replace("c", "k").replace("\x01", "ch")
    s = s.replace("ou", "u").replace("oo", "u").replace("ee", "i").replace("y", "i")
    s = _DOUBLE.sub(r"\1", s)
    if len(s) > 3 and s.endswith("h") and s[-2] in "aeiou":
        s = s[:-1]
    return s


@lru_cache(maxsize=262_144)
def heavy_key(token: str) -> str:
    """Return a looser key for tokens of full names (Muhammad = Mohamed).

    Vowel runs collapse, so it is only used where other tokens agree too.
    """
    s = light_key(token)
    if len(s) <= 3:
        return s
    return _DOUBLE.sub(r"\1", _VOWELS.sub("a", s.replace("g", "k")))


@lru_cache(maxsize=1)
def _nicknames() -> dict[str, str]:
    from pathlib import Path

    out = {}
    text = (Path(__file__).resolve().parent / "data" / "nicknames.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if "|" in line and not line.lstrip().startswith("#"):
            short, _, full = (part.strip() for part in line.partition("|"))
            out[short] = full
    return out


def person_key(tokens: Iterable[str]) -> tuple[str, ...]:
    """Return the transliteration-tolerant key of a person name's tokens.

    In a full name a short given name keys as its full form: Jim Baker = James Baker.
    """
    words = [t for t in tokens if fold_word(t) not in PARTICLES or t[:1].isupper()]
    if len(words) >= 2:
        full = _nicknames().get(fold_word(words[0]))
        if full is not None:
            words[0] = full
    return tuple(heavy_key(t) for t in words)


def without_legal_suffix(name: str) -> str:
    """*name* without trailing legal-form words ("Nippon Steel Co Ltd" -> "Nippon Steel").

    The name is returned whole when nothing, or only one letter, would be left.
    """
    words = name.split()
    end = len(words)
    while end > 1 and fold_word(words[end - 1]).strip(".,") in LEGAL_SUFFIXES:
        end -= 1
    while end > 1 and words[end - 1] in ("&", "and", "of", "the", ","):
        end -= 1  # "Procter and Gamble Co" keeps "Procter and Gamble"
    if end == len(words) or len("".join(words[:end]).strip(".,")) < 2:
        return name
    return " ".join(words[:end]).rstrip(",")


def name_tokens(name: str) -> list[str]:
    """The words of *name*, split at spaces and hyphens."""
    return [t for t in _TOKEN_SPLIT.split(name) if t]
