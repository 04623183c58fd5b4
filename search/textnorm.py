"""Text normalisation shared by the cleaner, the extractors and the analyzer.

Two levels:

* :func:`normalize_text` makes scraped text tidy for storage and display:
  Unicode NFKC, curly quotes and apostrophes to straight ones, non-breaking
  and other exotic spaces to plain spaces, zero-width characters removed.
  Letters keep their accents (``Tromsø`` is stored as ``Tromsø``).
* :func:`fold` goes further for *matching*: lower case with accents and
  ligatures folded to ASCII where a plain-letter equivalent exists, so a
  query ``tromso`` finds ``Tromsø``.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

# Characters NFKC leaves alone but that scrapes are full of.
_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
        "\u2032": "'", "\u00b4": "'", "\u0060": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
        "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
        "\u2026": "...",
    }
)
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[^\S\n]+")
# Letters that do not decompose under NFKD but have an obvious ASCII reading.
_FOLD_EXTRA = str.maketrans(
    {
        "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss",
        "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
        "ı": "i", "ʻ": "'", "ʼ": "'",
    }
)


def normalize_text(text: str) -> str:
    """Return *text* tidied for storage: NFKC, straight quotes, plain spaces.

    Line breaks are kept; runs of other whitespace become one space.
    """
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).translate(_QUOTES)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def fold(text: str) -> str:
    """Return *text* lower-cased with accents folded, for matching only."""
    if text.isascii():
        # Nothing to decompose or fold: the common case, kept cheap for the ingest loop.
        return _SPACES.sub(" ", text.replace("`", "'")).lower()
    text = normalize_text(text).translate(_FOLD_EXTRA)
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed.casefold()
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_WWW = re.compile(r"^www\d?\.")


def site_of(url: str | None) -> str | None:
    """The site a URL belongs to, as people name it: its host without ``www.``."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return _WWW.sub("", host) if host else None
