"""Mentions of names in an article and the evidence about what they name.

A :class:`Mention` is one occurrence of a capitalised name; it collects
``(type, score)`` evidence from the gazetteers and alias table
(:func:`lookup`), from its own words (:func:`extract_shape`,
:func:`extract_person_shape`) and from the words around it
(:func:`context_evidence`, :func:`extract_apposition`).  The best score
decides the type.  :mod:`search.extract.name_runs` makes the mentions and
:mod:`search.extract.entities` groups them into a document's entities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from search.aliases import AliasTable
from search.document import ENTITY_TYPES
from search.extract.entity_words import WORDS
from search.namekeys import LEGAL_SUFFIXES, PARTICLES, fold_word, name_key

if TYPE_CHECKING:
    from search.extract.gazetteer import Gazetteer

# --- evidence scores -----------------------------------------------------------
# A mention collects (type, score) evidence; the best score decides the type.
EV_ALIAS = 10  # alias table or entity given by the input
EV_GAZ_STRONG = 9  # country, region, big city, known organisation
EV_TITLE = 8  # "President X", "Dr X"
EV_SHAPE = 7  # organisation/place/event words: "X Ministry", "Gulf of X"
EV_GAZ_MEDIUM = 6  # city of 100k-1M people
EV_CONTEXT = 5  # apposition: "X, spokesperson for", "X, the militant group"
EV_WEAK = 4  # given name, "X said", "X shares"
EV_GAZ_WEAK = 3  # small city, "in X"
EV_NONE = 1

# --- small word lists of the rules' grammar (the long lists are data: entity_words)
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
ORG_ROLES_AFTER = frozenset("spokesman spokesperson spokeswoman chief officials chairman boss".split())
APPOSITION_STARTERS = frozenset("the a an its his her their now also".split())
APPOSITION_STOPS = frozenset("of for at in with from on to who which that whose since and after before as by".split())
# First words that make a name a place ("Mount X", "Lake X").
PLACE_PREFIXES = frozenset("mount mt mt. lake port cape fort isle".split())
COMPASS = frozenset("north south east west northern southern eastern western central upper lower".split())
LOCATIVES = frozenset("in at near outside across around toward towards into via".split())
BY_VERBS = frozenset("led headed chaired founded coached managed run owned directed written".split())

# Wire month codes ("MAY7", "JUL7") and bond ratings ("Aa-3", "Baa-2", "BBB+")
# sit next to names in market copy; neither is ever part of one.
_MONTH_CODE = re.compile(r"^(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)\d{1,2}$", re.IGNORECASE)
_RATING = re.compile(r"^(?:Aaa|Aa|Baa|Ba|Caa|Ca|A|B|C)-?[1-3]$|^(?:AAA|AA|BBB|BB|CCC|A|B)[+-]$")
# "I'm", "We've", "Don't": a pronoun or verb contraction, not a name ("O'Neill" is).
_CONTRACTION = re.compile(r"^\w+(?:'m|'re|'ve|'ll|'d|n't)$", re.IGNORECASE)
# Company names written as one word end in these ("Citibank", "Gencorp").
_ORG_ENDINGS = ("corp", "bancorp", "bank", "banc")
_DOTTED = re.compile(r"^(?:[A-Z]\.){2,}$")
_AGE = re.compile(r"^,\s*\d{1,3}\s*,")
_APPOS_END = re.compile(r"[,.;:()\"]")
_ACRONYM = re.compile(r"^[A-Z]{2,6}[0-9]{0,2}$")


class Mention:
    """One occurrence of a name and the evidence about its type."""

    __slots__ = ("surface", "tokens", "evidence", "canonical", "initial", "headline", "where", "role")

    def __init__(
        self,
        surface: str,
        tokens: tuple[str, ...],
        evidence: dict[str, int] | None = None,
        canonical: str | None = None,
        initial: bool = False,
        headline: bool = False,
        where: str = "",
        role: str | None = None,
    ) -> None:
        self.surface = surface
        self.tokens = tokens
        self.evidence = evidence if evidence is not None else {}
        self.canonical = canonical  # from the alias table or a gazetteer
        self.initial = initial  # capitalised only because it starts a sentence
        self.headline = headline  # from a Title Case line
        self.where = where  # which side's words may type it: "b" before, "a" after
        self.role = role  # the title written before a person's name, folded: "energy secretary"

    def __repr__(self) -> str:
        return f"Mention({self.surface!r}, {self.evidence}, canonical={self.canonical!r})"

    def copy(self) -> Mention:
        return Mention(
            self.surface, self.tokens, dict(self.evidence), self.canonical, self.initial, self.headline, self.where,
            self.role,
        )

    def add(self, etype: str, score: int) -> None:
        if self.evidence.get(etype, 0) < score:
            self.evidence[etype] = score

    def best(self) -> tuple[str | None, int]:
        if not self.evidence:
            return None, 0
        etype = max(self.evidence, key=lambda t: (self.evidence[t], -ENTITY_TYPES.index(t)))
        return etype, self.evidence[etype]


@dataclass
class Context:
    gaz: Gazetteer
    aliases: AliasTable


_LOOKUP_CACHE: dict[tuple[int, str], tuple[str, str, int] | None] = {}
_LOOKUP_CACHE_MAX = 500_000


def lookup(ctx: Context, name: str) -> tuple[str, str, int] | None:
    """Known entity *name* as (canonical, type, evidence), alias table first."""
    cache_key = (ctx.aliases.serial, name)
    try:
        return _LOOKUP_CACHE[cache_key]
    except KeyError:
        pass
    result = None
    key = name_key(name)
    if key:
        hit = ctx.aliases.lookup_key(key)
        letters = name.replace(".", "").replace(" ", "")
        if hit is not None and (not ctx.aliases.is_acronym(name) or letters.isupper()):
            result = (hit[0], hit[1] or "other", EV_ALIAS)
        else:
            place = ctx.gaz.places.get(key)
            if place is not None:
                result = (place[0], "place", place[1])
    if len(_LOOKUP_CACHE) >= _LOOKUP_CACHE_MAX:
        _LOOKUP_CACHE.clear()
    _LOOKUP_CACHE[cache_key] = result
    return result


def word_class(ctx: Context, token: str) -> str:
    low = fold_word(token).rstrip(".")
    if low in WORDS.titles or low + "." in WORDS.titles:
        return "title"
    head, dash, tail = low.partition("-")
    if dash and tail in ("designate", "elect") and head in WORDS.titles:
        return "title"  # "Minister-designate", "President-elect"
    if len(low) >= 6 and token[:1].isupper() and _near_title(low, ctx):
        return "title"
    if low in WORDS.title_modifiers:
        return "modifier"
    if low in ctx.gaz.demonyms:
        return "demonym"
    return "name"


_NEAR_TITLE_CACHE: dict[str, bool] = {}


def _near_title(low: str, ctx: Context) -> bool:
    """A title's plural or a one-keystroke typo of a long title ("Minsiter",
    "Secertary", "Prersident", "Ministers"), which wire copy leaves in front
    of names; no everyday word or given name counts."""
    cached = _NEAR_TITLE_CACHE.get(low)
    if cached is None:
        if low in ctx.gaz.common or low in ctx.gaz.given:
            cached = False
        elif low.endswith("s") and low[:-1] in WORDS.titles:
            cached = True
        else:
            cached = one_edit_from_title(low)
        if len(_NEAR_TITLE_CACHE) > 100_000:
            _NEAR_TITLE_CACHE.clear()
        _NEAR_TITLE_CACHE[low] = cached
    return cached


_TITLE_NEIGHBOURS: list[dict[str, tuple[str, ...]]] = []


def _title_neighbours() -> dict[str, tuple[str, ...]]:
    """Each title of six letters or more under itself and under every spelling with
    one letter left out: a word one edit from a title shares one of its own such
    spellings with it (symmetric deletion), so :func:`_near_title` checks a handful
    of titles instead of all of them (a tenth of the extractor's time on short runs)."""
    if not _TITLE_NEIGHBOURS:
        index: dict[str, set[str]] = {}
        for t in WORDS.titles:
            if len(t) >= 6:
                for key in {t, *(t[:i] + t[i + 1 :] for i in range(len(t)))}:
                    index.setdefault(key, set()).add(t)
        _TITLE_NEIGHBOURS.append({k: tuple(sorted(v)) for k, v in index.items()})
    return _TITLE_NEIGHBOURS[0]


def one_edit_from_title(low: str) -> bool:
    """Whether *low* is one edit from a title of six letters or more."""
    near = _title_neighbours()
    candidates = set(near.get(low, ()))
    for i in range(len(low)):
        candidates.update(near.get(low[:i] + low[i + 1 :], ()))
    return any(abs(len(t) - len(low)) <= 1 and one_edit(low, t) for t in candidates)


def one_edit(a: str, b: str) -> bool:
    """One substitution, insertion, deletion or swap of neighbours apart."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if len(a) > len(b):
        a, b = b, a
    return any(b[:i] + b[i + 1 :] == a for i in range(len(b)))


def is_stopword(ctx: Context, token: str) -> bool:
    low = fold_word(token)
    if len(token) > 1 and token.isupper():
        return low in WORDS.non_entities or low in WORDS.caps_words
    return (
        low in WEEKDAYS
        or low in MONTHS
        or low in WORDS.holidays
        or low in WORDS.non_entities
        or low in WORDS.boilerplate_words
        or low in WORDS.function_words
        or low in ctx.gaz.demonyms
        or low.rstrip(".") in WORDS.titles
        or low in WORDS.title_modifiers
    )


def is_edge_junk(ctx: Context, tokens: list[str] | tuple[str, ...], index: int) -> bool:
    """Whether ``tokens[index]``, at an edge of a candidate name, must be trimmed.

    A name never starts or ends on a function word, a lower-case word, a
    weekday, a month or wire month code, a currency unit, a lone letter, a
    bond rating or a contraction: wire copy capitalises all of them next to
    names ("Saturday U.S. Officials", "York Dec", "Greenspan I'm", "and
    Poor's Corp").  Month names that are given names ("May", "April") stay
    when a name-like word follows or precedes them ("Theresa May").
    """
    token = tokens[index]
    n = len(tokens)
    first = index == 0
    if not token[:1].isupper():
        # "al-Assad", "d'Estaing" are name words; "de Gaulle" keeps its
        # particle; "and Poor's" loses "and".
        if ("-" in token or "'" in token) and any(c.isupper() for c in token):
            return False
        return not (first and n > 1 and fold_word(token) in PARTICLES)
    low = fold_word(token).rstrip(".")
    if len(low) == 1 and low.isalpha():
        # A lone letter; an initial ("J. Hugh Liedtke") may start a name.
        return not (first and n > 1 and token.endswith("."))
    if low in WORDS.function_words and not token.isupper():  # "WHO" is an acronym
        return True
    if low in WEEKDAYS or low in WORDS.edge_words:
        return True
    if not first and index == n - 1 and low in WORDS.speech_verbs:
        # "Minpeco S.A. Said": wire copy capitalises the verb after a legal
        # form or abbreviation; "Omer Said" keeps its surname.
        prev = tokens[index - 1]
        if is_dotted_abbreviation(prev) or fold_word(prev).rstrip(".").replace(".", "") in WORDS.org_suffixes:
            return True
    if _MONTH_CODE.match(token) or _RATING.match(token) or _CONTRACTION.match(token):
        return True
    if low in MONTHS:
        if low not in ctx.gaz.given or n == 1:
            return True
        last = fold_word(tokens[-1]).rstrip(".")
        if first and (last in LEGAL_SUFFIXES or n > 2 and last in WORDS.org_suffixes):
            return False  # "May Department Stores Co", "May Co.": a firm named so
        if first:
            # "April Smith" is a person; "May Illinois River", "April John
            # Johnstone", "March Two" are a date before a name.
            nxt = tokens[1]
            low_next = fold_word(nxt)
            return (
                not nxt[:1].isupper()
                or is_dotted_abbreviation(nxt)
                # "May Int. Ones RSS" (a rubber grade): a month before an org word alone.
                or n == 2 and low_next.rstrip(".") in WORDS.org_suffixes
                or nxt.isupper()
                or any(c.isdigit() or c == "-" for c in nxt)  # "June T-bonds", "June M-1"
                or low_next in ctx.gaz.common
                or low_next in ctx.gaz.given
                or lookup(ctx, nxt) is not None
            )
        return fold_word(tokens[index - 1]) not in ctx.gaz.given  # "Theresa May"
    return False


def trim_edges(ctx: Context, tokens: list[str]) -> list[str]:
    """*tokens* without the words no name starts or ends with (:func:`is_edge_junk`)."""
    while tokens and is_edge_junk(ctx, tokens, len(tokens) - 1):
        tokens = tokens[:-1]
    while tokens and is_edge_junk(ctx, tokens, 0):
        tokens = tokens[1:]
        while tokens and is_edge_junk(ctx, tokens, len(tokens) - 1):
            tokens = tokens[:-1]
    return tokens


def is_dotted_abbreviation(token: str) -> bool:
    """"U.S.", "N.Z.", "H.K.": letters with dots."""
    return _DOTTED.match(token) is not None


def is_common(ctx: Context, token: str) -> bool:
    return fold_word(token) in ctx.gaz.common


def extract_shape(ctx: Context, tokens: tuple[str, ...]) -> tuple[str, int] | None:
    """Type a name by its own words (suffixes, prefixes, acronyms), or None."""
    last = fold_word(tokens[-1]).rstrip(".")
    first = fold_word(tokens[0])
    n = len(tokens)
    legal = is_dotted_abbreviation(tokens[-1]) and last.replace(".", "") in WORDS.org_suffixes  # "S.A.", "N.V."
    if n >= 2 and (last in WORDS.org_suffixes or legal):
        return "org", EV_SHAPE
    if n >= 2 and last in WORDS.place_suffixes:
        return "place", EV_SHAPE
    if n >= 2 and last in WORDS.event_suffixes:
        return "other", EV_SHAPE
    if n >= 2 and first in PLACE_PREFIXES:
        return "place", EV_SHAPE
    if n >= 3:
        for i in range(n - 2, 0, -1):
            if tokens[i] in ("of", "for", "on"):
                head = fold_word(tokens[i - 1]).rstrip(".")
                if head in WORDS.org_suffixes:
                    return "org", EV_SHAPE
                if head in WORDS.event_suffixes:
                    return "other", EV_SHAPE
                if head in WORDS.of_heads:
                    return "place", EV_SHAPE
    if n >= 2 and first in COMPASS:
        rest = lookup(ctx, " ".join(tokens[1:]))
        if rest is not None and rest[1] == "place":
            return "place", EV_SHAPE
    if any("&" in t for t in tokens):
        return "org", EV_SHAPE
    if n == 1:
        word = tokens[0]
        low = fold_word(word)
        if word[:1].isupper() and low.endswith(_ORG_ENDINGS) and not any(low == e for e in _ORG_ENDINGS):
            return "org", EV_SHAPE  # "Citibank", "Gencorp", "Norwest Bancorp"
        letters = word.replace(".", "")
        if _ACRONYM.match(letters) and letters.lower() not in WORDS.caps_words:
            return "org", EV_CONTEXT
    return None


def extract_person_shape(ctx: Context, tokens: tuple[str, ...]) -> int | None:
    """Evidence that *tokens* are a person's name by their own form, or None."""
    n = len(tokens)
    if n < 2:
        return None
    first = fold_word(tokens[0])
    lowers = [fold_word(t) for t in tokens]
    if first == "abu" or any(t in ("bin", "ibn", "bint") for t in lowers[1:-1]):
        return EV_CONTEXT
    if any(len(t) == 2 and t.endswith(".") and t[0].isupper() for t in tokens[1:-1]):
        return EV_CONTEXT  # a middle initial
    if first in ctx.gaz.given and first not in ctx.gaz.demonyms and word_class(ctx, tokens[0]) == "name":
        rest = lowers[1:]
        if ctx.gaz.places.get(first, ("", 0))[1] >= EV_GAZ_STRONG:
            # A given name that is also a country ("Jordan Hext", "Israel
            # Katz") is a person only when followed by an unknown surname.
            if all(t not in ctx.gaz.common and lookup(ctx, t) is None for t in rest if t not in PARTICLES):
                return EV_WEAK
            return None
        if all(t in ctx.gaz.common for t in rest if t not in PARTICLES):
            return EV_NONE + 1
        return EV_WEAK
    return None


def looks_like_name(ctx: Context, tokens: tuple[str, ...]) -> bool:
    """Two or three capitalised words, no acronym, not ending in a common word."""
    return (
        all(t[:1].isupper() and not t.isupper() for t in tokens)
        and fold_word(tokens[-1]) not in ctx.gaz.common
        and not any(fold_word(t) in ctx.gaz.demonyms for t in tokens)
        and not any((lookup(ctx, t) or ("", "", 0))[2] >= EV_GAZ_STRONG for t in tokens)
    )


def context_evidence(ctx: Context, mention: Mention, line: str, start: int, end: int, where: str = "ba") -> None:
    """Add evidence from the words around a mention in *line*.

    *where* says which side may be read: "b" before, "a" after.
    """
    before = line[max(0, start - 60) : start].rstrip() if "b" in where else ""
    after = line[end : end + 90] if "a" in where else ""
    words = before.lower().split()[-4:]
    if words and words[-1] == "the":
        words.pop()  # "in the Gaza Strip"
    prev_word = words[-1] if words else ""
    if prev_word in WORDS.speech_verbs:
        mention.add("person", EV_WEAK)  # '..." said Amina Deng'
    elif prev_word in WORDS.person_before:
        mention.add("person", EV_WEAK + (1 if prev_word in WORDS.titles else 0))
    elif prev_word in WORDS.org_nouns:
        mention.add("org", EV_WEAK)
    elif prev_word in LOCATIVES:
        mention.add("place", EV_GAZ_WEAK)
    elif prev_word == "of" and len(words) > 1 and words[-2] in WORDS.place_nouns:
        mention.add("place", EV_GAZ_MEDIUM)  # "the border town of Renk"
    elif prev_word == "by" and len(words) > 1 and words[-2] in BY_VERBS:
        mention.add("person", EV_GAZ_WEAK)  # "led by X"
    if _AGE.match(after):
        mention.add("person", EV_CONTEXT)
    stripped = after.lstrip()
    if before.rstrip().endswith(",") and stripped.startswith(","):
        # "The head of the bureau, Ismail Haniyeh, spoke"
        clause = re.split(r"[.;:!?]", before)[-1].lower().split()[-8:]
        if any(w.strip(",") in WORDS.person_apposition for w in clause):
            mention.add("person", EV_CONTEXT)
            return
    if stripped.startswith(","):
        etype = extract_apposition(stripped[1:])
        if etype is not None:
            mention.add(etype, EV_WEAK if etype == "org" and stripped[1:].lstrip().startswith("which") else EV_CONTEXT)
    else:
        words = stripped.split(None, 3)
        nxt = words[0].lower().strip(".,;:") if words else ""
        if nxt in ("has", "had", "also", "later", "then", "previously", "earlier", "again") and len(words) > 1:
            nxt = words[1].lower().strip(".,;:")
        if nxt in WORDS.speech_verbs:
            mention.add("person", EV_WEAK)
        elif nxt in WORDS.org_nouns or nxt in ORG_ROLES_AFTER:
            mention.add("org", EV_WEAK)  # "Kremlin spokesman", "Safaricom shares"
        elif nxt in WORDS.place_nouns:
            mention.add("place", EV_CONTEXT)


def extract_apposition(text: str) -> str | None:
    """Type implied by an apposition ("the militant group", "Kremlin spokesperson").

    *text* follows the comma after a name.  The head noun of the phrase is
    its last word before a preposition or relative word.
    """
    phrase = _APPOS_END.split(text, 1)[0].split()[:9]
    if not phrase:
        return None
    first = phrase[0].lower()
    if first in ("who", "whose"):
        return "person"
    if first == "which":
        return "org"
    if not (first in APPOSITION_STARTERS or phrase[0][:1].isupper() or _appos_word(first) is not None):
        return None
    head = None
    for i, word in enumerate(phrase):
        low = word.lower()
        if i and low in APPOSITION_STOPS:
            break
        head = low
    if head is None:
        return None
    return _appos_word(head.strip("'"))


def _appos_word(word: str) -> str | None:
    base = word[:-2] if word.endswith("'s") else word
    if base in WORDS.person_apposition:
        return "person"
    if base in WORDS.org_nouns:
        return "org"
    if base in WORDS.place_nouns:
        return "place"
    return None
