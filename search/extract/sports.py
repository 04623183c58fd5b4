"""Sports reports: a city, county or state that plays a match is a team.

In "Boston beat Cleveland 5-3" or a results line "DETROIT 4 Kansas City 1"
the places are clubs — organisations, as CoNLL-2003 and every sports desk
tag them — while a country playing is still tagged as the country (a
national side).  This module only says whether a document is a sports report
and whether a name stands where a team stands; :mod:`search.extract.entities`
adds the evidence.
"""

from __future__ import annotations

import re

from search.extract.gazetteer import Gazetteer
from search.namekeys import fold_word, name_key

# Words of match reports, results and standings.  A document needs a few of
# them (or a results table) before any team rule applies.
_SPORT_WORDS = frozenset(
    """
    beat beats drew draw draws defeated defeat lost win wins won victory scored scorer scorers goal goals
    innings wicket wickets runs bowled batting bowling match matches league cup championship tournament
    season halftime half-time standings played soccer football cricket rugby baseball basketball hockey
    tennis golf pts points inning homer homers pitcher striker midfielder goalkeeper coach squad fixture
    fixtures quarter-final semi-final final replay penalty penalties
    """.split()
)
_WORD = re.compile(r"[a-z][a-z-]*")
_MIN_SPORT_WORDS = 4

# "DETROIT 4 Kansas City 1", "Hanwha 5 Lotte 3": a name, a score, a name, a score.
_SCORE_LINE = re.compile(r"^\s*[A-Z][\w.'&-]*(?:\s+[A-Z][\w.'&-]*)*\s+\d{1,3}\s+[A-Z][\w.'&-]*(?:\s+[A-Z][\w.'&-]*)*"
                         r"\s+\d{1,3}\s*(?:\(.*\))?\s*$")

# "BOSTON 69 65 .515 5 1/2": a name and a row of figures (standings, tables).
_TABLE_ROW = re.compile(r"^\s*[A-Z][\w.'&-]*(?:\s+[A-Z][\w.'&-]*)*(?:\s+(?:\d+(?:\.\d+)?|\.\d+|\d+/\d+|-)){2,}\s*$")

# Verbs and prepositions a team stands next to.
_BEFORE = re.compile(
    r"(?:\b(?:beat|beats|beating|against|v|vs\.?|drew with|draw with|lost to|losing to|defeated|edged|thrashed|"
    r"routed|crushed|overcame|hosts?|at home to|away to|win over|victory over|won at|lost at)\s+)\Z",
    re.IGNORECASE,
)
_AFTER = re.compile(
    r"\s+(?:beat|beats|drew|lost|defeated|edged|thrashed|routed|crushed|overcame|v|vs\.?|won \d|"
    r"(?:\d{1,3}-\d{1,3}\b))",
    re.IGNORECASE,
)


def is_sports_report(lines: list[str]) -> bool:
    """Whether the document reads as a match report, results list or standings table."""
    found = 0
    score_lines = 0
    for line in lines:
        if is_results_line(line):
            score_lines += 1
            if score_lines >= 2:
                return True
        found += sum(1 for w in _WORD.findall(line.lower()) if w in _SPORT_WORDS)
        if found >= _MIN_SPORT_WORDS:
            return True
    return False


def is_results_line(line: str) -> bool:
    """A results line ("DETROIT 4 Kansas City 1") or a standings row ("BOSTON 69 65 .515 5")."""
    return _SCORE_LINE.match(line) is not None or _TABLE_ROW.match(line) is not None


def plays_as_team(line: str, start: int, end: int) -> bool:
    """Whether the name at ``line[start:end]`` stands where a team does: beside a
    match verb or "v", or before a score."""
    return _BEFORE.search(line, 0, start) is not None or _AFTER.match(line, end) is not None


_COUNTRY_KEYS: dict[int, frozenset[str]] = {}


def is_country(gaz: Gazetteer, canonical: str) -> bool:
    """Whether *canonical* is a country: a place with a nationality word, whose side is the country."""
    keys = _COUNTRY_KEYS.get(id(gaz))
    if keys is None:
        keys = _COUNTRY_KEYS[id(gaz)] = frozenset(name_key(p) for p in gaz.demonyms.values() if p)
    return name_key(canonical) in keys


def is_nationality(gaz: Gazetteer, token: str) -> bool:
    return fold_word(token) in gaz.demonyms
