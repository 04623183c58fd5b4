"""Which level a search's timeline charts, for the page, its JSON twin and the CSV export.

One level below the search's date filter (years for none), and further down
while that level would be a single bar: a collection of one year shows its
months, a month its days.  Kept in one place so that every view of the
timeline drills the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import UNDATED, DateFilter, SearchRequest

if TYPE_CHECKING:
    from .api import SearchBackend

LEVEL_LENGTH = {"year": 4, "month": 7, "day": 10}


def level_below(date: DateFilter | None) -> str:
    """The level a timeline of matches within *date* charts."""
    if date is None or date.level == UNDATED:
        return "year"
    return {"year": "month", "month": "day", "day": "day"}[date.level]


def dated_periods(counts: list[dict], level: str) -> list[dict]:
    """The date counts of periods at *level* with matches ("undated" is as long as YYYY-MM: named)."""
    return [c for c in counts if c["value"] != UNDATED and len(c["value"]) == LEVEL_LENGTH[level] and c["count"]]


def chart_level(
    backend: SearchBackend, req: SearchRequest, counts: list[dict] | None = None
) -> tuple[str, DateFilter | None, list[dict]]:
    """``(level, the period charted within or None, the date counts at that level)``.

    :param counts: the search's date counts one level below its date filter, when
        the caller has them already (the date facet); else they are counted.
    """
    within = req.date if req.date is not None and req.date.level != UNDATED else None
    level = level_below(req.date)
    if counts is None:
        counts = backend.date_counts(req, level)
    for _ in range(2):
        dated = dated_periods(counts, level)
        if len(dated) != 1 or level == "day":
            break
        within = DateFilter.parse(dated[0]["value"])
        level = level_below(within)
        counts = backend.date_counts(req, level)
    return level, within, counts
