"""Text files that are not articles: checksum lists, tables, logs.

A collection folder often holds files beside the articles — a
``SHA256SUMS.txt``, a ``manifest.txt`` of rows, a scraper's ``crawl.log``
saved with a ``.txt`` name.  Indexed, each becomes an undated "article" whose
title is a hash line.  :func:`not_an_article` recognises them by the shape of
their lines, a property of the file as a whole: at least
:data:`MIN_LINES` lines, nearly all of one machine-made form.  Prose never
has that regularity, so no article is lost to it.
"""

from __future__ import annotations

import re
from collections import Counter

MIN_LINES = 5
# The share of a file's non-blank lines that must have the shape.
SHARE = 0.9
SAMPLE_LINES = 400

# "<hex digest>  name" (sha*sum, md5sum) or BSD "SHA256 (name) = <hex digest>".
_CHECKSUM = re.compile(r"^(?:[0-9a-fA-F]{32,128}\s+[ *]?\S.*|[A-Z0-9-]{3,12} \(.+\) = [0-9a-fA-F]{32,128})$")
# A timestamp first: ISO date-time, syslog's "Mar  2 14:05:01", or a bracketed one.
_LOG = re.compile(
    r"^\[?(?:\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\d{2}/\w{3}/\d{4}:\d{2}:\d{2}|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2})")


def not_an_article(text: str) -> str | None:
    """Why *text* is not an article ("a checksum list", "a table", "a log"), or None."""
    lines = [line.strip() for line in text.splitlines() if line.strip()][:SAMPLE_LINES]
    if len(lines) < MIN_LINES:
        return None
    need = SHARE * len(lines)
    if sum(1 for line in lines if _CHECKSUM.match(line)) >= need:
        return "a checksum list"
    if sum(1 for line in lines if _LOG.match(line)) >= need:
        return "a log"
    for sep in ("\t", ",", ";", "|"):
        counts = Counter(line.count(sep) for line in lines)
        width, rows = counts.most_common(1)[0]
        # Every row split into the same number of cells: a table, not sentences
        # (prose does not keep one count of commas over line after line).
        if width >= (1 if sep == "\t" else 2) and rows >= need and _short_cells(lines, sep):
            return "a table"
    return None


def _short_cells(lines: list[str], sep: str) -> bool:
    """Most cells are short (values, not clauses of a sentence)."""
    cells = [cell for line in lines for cell in line.split(sep)]
    return sum(1 for cell in cells if len(cell.split()) <= 6) >= SHARE * len(cells)


__all__ = ["not_an_article"]
