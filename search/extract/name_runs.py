"""Capitalised runs of a line, split into candidate names and typed by their words.

News prose marks names with capitals.  :data:`NAME_RUN` finds each run of
capitalised words (with the connectors names contain: "of", "bin", "van"
...); :func:`analyse_run` splits a run where one name ends and the next
begins ("Israel Hamas", "BJP-led Government", "President Biden") and turns
each piece into a :class:`~search.extract.mentions.Mention`.  What a run
yields depends only on its words, so results are cached across documents.
:func:`line_mode` tells prose from headlines and shouted lines, whose
capitals say nothing.
"""

from __future__ import annotations

import re

from search.extract.entity_words import WORDS
from search.extract.mentions import (
    EV_ALIAS,
    EV_GAZ_STRONG,
    EV_TITLE,
    EV_WEAK,
    MONTHS,
    WEEKDAYS,
    Context,
    Mention,
    extract_person_shape,
    extract_shape,
    is_common,
    is_dotted_abbreviation,
    is_stopword,
    looks_like_name,
    lookup,
    one_edit,
    trim_edges,
    word_class,
)
from search.namekeys import PARTICLES, fold_word

# Parts of an organisation: "Political Bureau of Hamas" names Hamas.
SUBUNITS = frozenset(
    "office offices bureau department division wing branch directorate section unit secretariat desk".split()
)
ORG_CONNECTORS = frozenset("of for on".split())
# What "X and ..." may end in and still be one firm's name.
_AND_PARTNERS = frozenset("co company cie sons partners associates brothers".split())
_CONNECTORS = frozenset(
    "of for on and the de da di du del della des der den van von la le y bin ibn bint al el dos das ter ten".split()
)

_UPPER = "".join(
    chr(c) for c in list(range(0x41, 0x5B)) + list(range(0xC0, 0x250)) + list(range(0x370, 0x530)) if chr(c).isupper()
)
_U = "[" + re.escape(_UPPER) + "]"
_ABBREV = r"(?:Mr|Mrs|Ms|Dr|Prof|Gen|Lt|Col|Maj|Capt|Sgt|Adm|Sen|Rep|Gov|Rev|Fr|St|Mt|Ft|Jr|Sr|Inc|Corp|Ltd|Co)\."
_TOKEN = (
    rf"(?:(?:{_U}\.){{2,}}"  # U.S., U.N.
    rf"|{_ABBREV}"
    rf"|{_U}\.(?=[ \t])"  # an initial: George W. Bush
    rf"|(?:al|el|ad|as|ash|at|an|az|ar|ibn|bin|abu|d|l|O|Mc)['\-]{_U}\w*(?:[\-']\w+)*"
    rf"|{_U}\w*(?:[\-'&](?:(?:{_U}\.){{2,}}|\w+))*(?:'(?=[ \t]+{_U}))?)"  # "Japan-U.S." whole
)
_CONN = r"(?:of|for|on|and|&|the|de|da|di|du|del|della|des|der|den|van|von|la|le|y|bin|ibn|bint|al|el|dos|das|ter|ten)"
# One run of capitalised words and the connectors between them.
NAME_RUN = re.compile(rf"(?<![\w'])(?:(?:al|el)[ \t](?={_U}))?(?:{_TOKEN})(?:[ \t]+(?:{_CONN}[ \t]+){{0,3}}{_TOKEN})*")
_PIECE_RE = re.compile(r"\S+")
_SENTENCE_START = frozenset('.!?:;"([{•*|>')
# Word endings of everyday nouns, verbs and adverbs ("Chipmaker", "Reacting").
_COMMON_SHAPE = re.compile(r"(?:maker|makers|ing|ed|ly|tion|tions|ment|ments|ness|ship|ism|ists?)$")
_WORD = re.compile(r"[A-Za-z][\w'\-]*")


def line_mode(ctx: Context, line: str) -> str:
    """'caps' for shouted lines, 'headline' for Title Case ones, else 'prose'.

    A Title Case line capitalises everyday words ("Cleared of Fraud
    Charges"); a sentence dense with names and titles does not.
    """
    if len(line) > 200 or line.count(". ") > 1:
        return "prose"  # headlines and shouted kickers are short
    words = _WORD.findall(line)
    if len(words) < 3:
        return "prose"
    if sum(w.isupper() for w in words) > 0.7 * len(words):
        return "caps"
    content = [w for w in words if w.lower() not in WORDS.function_words]
    if len(content) < 4 or sum(w[0].isupper() for w in content) < 0.9 * len(content):
        return "prose"
    if line.endswith(".") and not line.endswith(".."):
        return "prose"  # a sentence, however many names it has
    everyday = 0
    for word in content:
        low = fold_word(word)
        if word[0].isupper() and low in ctx.gaz.common and word_class(ctx, word) == "name":
            everyday += lookup(ctx, word) is None
    return "headline" if everyday >= 2 and everyday >= 0.25 * len(content) else "prose"


def is_boilerplate_line(line: str) -> bool:
    if len(line) >= 60:
        return False
    low = line.lower().strip(" .!:-|>*")
    if not low or WORDS.boilerplate_line.match(low):
        return True
    words = low.split()
    return len(words) <= 3 and any(w.strip(".,:!") in WORDS.boilerplate_words for w in words)


def is_initial(line: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and line[i] in " \t":
        i -= 1
    if i < 0:
        return True
    c = line[i]
    if c == "-":
        return i == start - 1 and i > 0 and line[i - 1] in " \t" or i < start - 1
    return c in _SENTENCE_START or c in "\u2013\u2014"


def _split_connectors(ctx: Context, pieces: list[str]) -> list[list[str]]:
    """Split a capitalised run at connectors unless they belong to the name."""
    segments: list[list[str]] = [[pieces[0]]]
    joined_of = [False]
    portfolio: set[int] = set()  # segments that continue a minister's portfolio
    i = 1
    while i < len(pieces):
        conns = []
        while i < len(pieces) and _is_connector(pieces[i]):
            conns.append(pieces[i])
            i += 1
        if i >= len(pieces):
            break
        word = pieces[i]
        i += 1
        if not conns:
            segments[-1].append(word)
            continue
        left = segments[-1]
        head = fold_word(left[-1]).rstrip(".")
        kinds = {c.lower() for c in conns}
        if kinds <= PARTICLES | {"the"} and not kinds & {"of", "for", "on", "and", "&", "the"}:
            join = True
        elif "&" in kinds:
            join = True
        elif kinds & ORG_CONNECTORS:
            join = head in WORDS.of_heads and not (len(left) == 1 and word_class(ctx, left[0]) == "title")
            if join:
                right = [word]
                j = i
                while j < len(pieces) and not _is_connector(pieces[j]):
                    right.append(pieces[j])
                    j += 1
                # "Supreme Court on Monday", "Samajwadi Party of Akhilesh Yadav";
                # but a company suffix closes one name: "Bank of New Zealand Ltd".
                closed = len(right) >= 2 and fold_word(right[-1]).rstrip(".") in WORDS.org_suffixes
                if not closed and (
                    fold_word(word) in WEEKDAYS
                    or fold_word(word) in MONTHS
                    or (extract_person_shape(ctx, tuple(right)) or 0) >= EV_WEAK
                    or 2 <= len(right) <= 3
                    and looks_like_name(ctx, tuple(right))
                ):
                    join = False
            if join and (lookup(ctx, " ".join(left)) is not None or lookup(ctx, " ".join(left[1:])) is not None):
                join = False  # "Russian Federation for the Middle East"
            if head in ("state",) and len(left) == 1:
                join = False
        elif "and" in kinds:
            whole = " ".join([*left, *conns, word])
            join = lookup(ctx, whole) is not None or (joined_of[-1] and lookup(ctx, word) is None)
            if not join:
                # "Food and Drug Administration": look ahead for an org word.
                rest = []
                j = i
                while j < len(pieces) and not _is_connector(pieces[j]):
                    rest.append(pieces[j])
                    j += 1
                tail = fold_word(rest[-1]) if rest else fold_word(word)
                join = tail in WORDS.org_suffixes and lookup(ctx, " ".join(left)) is None
                if join and rest:
                    # "Procter and Gamble Co" is one name; "Edouard Balladur and
                    # Bank of France", "Johnson Controls Inc and Lear Corp" are two.
                    join = len(left) == 1 and fold_word(left[0]).rstrip(".") not in WORDS.org_suffixes
                elif join:
                    join = tail.rstrip(".") in _AND_PARTNERS  # "Merrill Lynch and Co", not "Reagan and Administration"
        else:
            join = False
        if join:
            left.extend(conns)
            left.append(word)
            if kinds & ORG_CONNECTORS:
                joined_of[-1] = True
        else:
            segments.append([word])
            joined_of.append(False)
            if kinds <= {"of", "and", "the"} and (
                "of" in kinds and fold_word(left[-1]).rstrip(".") in _PORTFOLIO_TITLES
                or "and" in kinds and len(segments) - 2 in portfolio
            ):
                portfolio.add(len(segments) - 1)
    for index in sorted(portfolio):
        # "Minister of Mines and Energy Subroto", "Secretary of State James Baker":
        # the everyday words after a minister's "of" name the portfolio, not the person.
        segment = segments[index]
        cut = 0
        while cut < len(segment) - 1 and fold_word(segment[cut]) in ctx.gaz.common:
            cut += 1
        if cut and lookup(ctx, " ".join(segment[:cut + 1])) is None:
            segments[index] = segment[cut:]
    return segments


# Titles whose "of" phrase is a government portfolio ("Minister of Trade and Industry").
_PORTFOLIO_TITLES = frozenset("minister ministers secretary undersecretary commissioner".split())


def _is_connector(piece: str) -> bool:
    return piece in ("&",) or (piece.islower() and piece in _CONNECTORS)


# Months that are no one's name, split out of the middle of a run.
_INNER_MONTHS = frozenset("january february march july september october november december".split())

# Company legal forms (dots dropped).
_LEGAL_FORMS = frozenset("inc corp co ltd kk plc ag sa nv bv gmbh spa bhd llc pty oy ab asa nl sarl srl".split())


def _split_possessives(tokens: list[str], ctx: Context) -> list[list[str]]:
    """Split after a possessive, except in names like "Martyrs' Square"."""
    out: list[list[str]] = [[]]
    for index, token in enumerate(tokens):
        out[-1].append(token)
        if token.endswith("'s") or token.endswith("'"):
            rest = tokens[index + 1 :]
            last = fold_word(rest[0]) if len(rest) == 1 else ""
            if last and (last in WORDS.place_suffixes or last in WORDS.org_suffixes):
                continue
            # A legal form closes a company's name, possessive and all: "Moody's
            # Investors Service Inc", "Moody's Japan K.K.", "Standard and Poor's Asia Inc".
            # "Japan's Toyota Motor Corp" is still Japan's company.
            owner = token[:-2] if token.endswith("'s") else token[:-1]
            if (
                rest
                and len(rest) <= 4
                and fold_word(rest[-1]).replace(".", "") in _LEGAL_FORMS
                and lookup(ctx, owner) is None
            ):
                continue
            out.append([])
    return [segment for segment in out if segment]


def _split_compound(ctx: Context, token: str) -> list[str] | None:
    """Parts of "Israeli-Palestinian" or "Russia-Ukraine" when all are known."""
    if "-" not in token or token.count("-") > 2:
        return None
    parts = token.split("-")
    if not all(p[:1].isupper() for p in parts):
        return None
    for part in parts:
        if fold_word(part) not in ctx.gaz.demonyms:
            hit = lookup(ctx, part)
            if hit is None or hit[2] < EV_GAZ_STRONG:
                return None
    return parts


def _split_affixed(tokens: list[str]) -> list[list[str]]:
    """Split after "BJP-led": an affixed name qualifies what follows."""
    out: list[list[str]] = [[]]
    for index, token in enumerate(tokens):
        out[-1].append(token)
        if index < len(tokens) - 1 and "-" in token and _clean_token(token, False) != token:
            out.append([])
    return out


def _is_participle(word: str) -> bool:
    return word.islower() and word.endswith(("ed", "ing"))


def _clean_token(token: str, last: bool = True) -> str:
    if last:
        if token.endswith("'s"):
            token = token[:-2]
        token = token.rstrip("'")
    if "-" in token:
        parts = token.split("-")
        while len(parts) > 1 and (parts[-1] in WORDS.hyphen_affixes or _is_participle(parts[-1])):
            parts.pop()
        token = "-".join(parts)
    return token


def _misspelt_function_word(low: str) -> bool:
    """"Athough", "Alhough": a long function word one keystroke off, starting a sentence."""
    return len(low) >= 5 and any(
        len(w) >= 5 and abs(len(w) - len(low)) <= 1 and one_edit(low, w) for w in WORDS.function_words
    )


def _surname_like(rest: list[str]) -> bool:
    """One everyday word that may be a surname ("James Miller", "Howard Baker"):
    no plural, no organisation, place or event word."""
    if len(rest) != 1:
        return False
    low = fold_word(rest[0])
    return not (
        low.endswith("s")
        or low in WORDS.org_suffixes
        or low in WORDS.place_suffixes
        or low in WORDS.event_suffixes
        or low in WORDS.of_heads
    )


def _given_name_start(ctx: Context, tokens: list[str]) -> int | None:
    """Where a person's name starts inside a longer run, or None.

    Only a given name (no everyday word, no nationality) followed by one or
    two capitalised surname-like words counts, and only after a known name
    ("Hong Kong") or words that do not start a person's name themselves
    ("Mary Ann Smith" stays whole).
    """
    n = len(tokens)
    if n < 3 or any(not t[:1].isupper() for t in tokens[-3:]) or not tokens[0][:1].isupper():
        return None
    if fold_word(tokens[-1]).rstrip(".") in WORDS.org_suffixes:
        return None
    for i in range(max(1, n - 3), n - 1):
        if any(fold_word(t).rstrip(".") in WORDS.org_suffixes for t in tokens[i:]):
            continue
        low = fold_word(tokens[i])
        if low not in ctx.gaz.given or low in ctx.gaz.common or low in ctx.gaz.demonyms:
            continue
        rest = tokens[i + 1 :]
        if any(t.isupper() or word_class(ctx, t) != "name" for t in rest):
            continue
        if any(fold_word(t) in ctx.gaz.common for t in rest) and not _surname_like(rest):
            continue
        left = tokens[:i]
        if not left[-1][:1].isupper():
            continue
        if fold_word(left[0]) in ctx.gaz.given and lookup(ctx, " ".join(left)) is None:
            return None
        if word_class(ctx, left[-1]) != "name":
            return None  # titles and nationalities are stripped elsewhere
        return i
    return None


# Honorifics only ever stand before a person's name ("Mr. Glass", "Sen. Dole").
HONORIFICS = frozenset("mr mrs ms messrs dr sen rep gov sir mme herr".split())
# Titles that also start company and brand names ("General Motors", "King World").
_BRAND_TITLES = frozenset("general premier chief king queen prince royal grand".split())


def _title_before_surname(title: str, right: list[str]) -> bool:
    """Whether the everyday word after *title* is a surname ("President Bush", "Mrs Thatcher").

    An honorific or abbreviated title always takes a name; another title
    does before one word that is no plural ("General Motors" stays whole).
    """
    low = fold_word(title).rstrip(".")
    if low in HONORIFICS or title.endswith("."):
        return True
    return len(right) == 1 and low not in _BRAND_TITLES and not right[0].lower().endswith("s")


def _strip_titles(ctx: Context, tokens: list[str]) -> tuple[list[str], list[str], bool]:
    """Split a title block off: (left part, name part, titled)."""
    classes = [word_class(ctx, t) for t in tokens]
    last_low = fold_word(tokens[-1]).rstrip(".")
    if last_low in WORDS.org_suffixes or last_low in WORDS.place_suffixes or last_low in WORDS.event_suffixes:
        return [], tokens, False
    cores = [i for i, c in enumerate(classes) if c == "title"]
    if not cores:
        # Only adjectives and qualifiers in front: "Iranian Ali Bagheri Kani";
        # they stay in "Israeli Ministry of Foreign Affairs".
        if any(fold_word(t) in WORDS.of_heads for t in tokens[1:]):
            return [], tokens, False
        # A qualifier of time goes ("Late Okafor", "Former Iranian Ali ..."); another
        # title modifier only when a given name follows ("Senior John Smith"): without
        # a title it is a name's own word in "First Boston", "Air New Zealand",
        # "New England" and "Federal Express".
        i = 0
        while i < len(tokens) - 1 and (
            classes[i] == "demonym"
            or classes[i] == "modifier"
            and (
                fold_word(tokens[i]) in _TIME_QUALIFIERS
                or _given_after_modifiers(ctx, tokens[i + 1 :], classes[i + 1 :])
            )
        ):
            i += 1
        return [], tokens[i:], False
    core = cores[-1]
    start = core
    while start > 0 and classes[start - 1] != "name":
        start -= 1
    end = core
    while end + 1 < len(tokens) and classes[end + 1] in ("title", "modifier"):
        end += 1
    left, right = tokens[:start], tokens[end + 1 :]
    if (
        right
        and all(fold_word(t) in ctx.gaz.common and fold_word(t) not in ctx.gaz.given for t in right)
        and not _title_before_surname(tokens[core], right)
    ):
        # "General Data Protection Regulation": no name follows the title.
        return [], tokens, False
    if not right:
        # "Martin Luther King": a trailing title word only goes when what
        # is left is known or is no person's name.
        if left and lookup(ctx, " ".join(left)) is None and extract_person_shape(ctx, tuple(tokens)):
            return [], tokens, False
        return left, [], False
    return left, right, True


def _role(ctx: Context, left: list[str], block: list[str]) -> str | None:
    """The office a title block names, folded, for the resolver's evidence: "Energy
    Secretary" of "Energy Secretary John Herrington", "prime minister"; the
    nationality goes ("Iranian Foreign Minister"), a portfolio word written
    before the title stays."""
    words = [fold_word(t).rstrip(".") for t in block if word_class(ctx, t) != "demonym"]
    if left and word_class(ctx, left[-1]) == "name" and left[-1][:1].isupper():
        before = fold_word(left[-1]).rstrip(".")
        if before.isalpha() and (before in ctx.gaz.common or before in WORDS.org_suffixes):
            words.insert(0, before)
    return " ".join(words) or None


# Title modifiers that say when someone held a role, never part of a name.
_TIME_QUALIFIERS = frozenset("former ex late then acting interim incoming outgoing current".split())


def _given_after_modifiers(ctx: Context, tokens: list[str], classes: list[str]) -> bool:
    """Whether the first word after a run of modifiers and nationalities is a given name."""
    for token, cls in zip(tokens, classes, strict=True):
        if cls not in ("demonym", "modifier"):
            return fold_word(token) in ctx.gaz.given and len(tokens) > 1
    return False


class _Analyzer:
    """Turns one capitalised run into mentions, without looking around it.

    What a run yields depends only on its words (and whether it starts a
    sentence or sits in a headline), so results are cached across documents;
    the surrounding words are read later by :func:`_apply_context`.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.mentions: list[Mention] = []
        self.headline_mentions: list[Mention] = []

    def add_segment(self, tokens: list[str], initial: bool, headline: bool, context: str) -> None:
        ctx = self.ctx
        tokens = [_clean_token(t, i == len(tokens) - 1) for i, t in enumerate(tokens)]
        tokens = [t for t in tokens if t]
        trimmed = trim_edges(ctx, tokens)
        if trimmed != tokens:
            initial = initial and trimmed[:1] == tokens[:1]
            tokens = trimmed
        if not tokens:
            return
        for i in range(1, len(tokens) - 1):
            if (
                fold_word(tokens[i]) in _INNER_MONTHS
                and tokens[i - 1] != "of"  # "Fourth of July Parade"
                and lookup(ctx, " ".join(tokens)) is None
            ):
                # "Japan September M-2 money supply": a month inside a run dates what follows.
                self.add_segment(tokens[:i], initial, headline, context.replace("a", ""))
                self.add_segment(tokens[i + 1 :], False, headline, context.replace("b", ""))
                return
        if tokens[0] in ("The", "the") and len(tokens) > 1:
            whole = lookup(ctx, " ".join(tokens))
            if whole is None:
                tokens = tokens[1:]
                initial = False
        if len(tokens) == 1 and lookup(ctx, tokens[0]) is None:
            parts = _split_compound(ctx, tokens[0])
            if parts is not None:
                for part in parts:
                    if fold_word(part) not in ctx.gaz.demonyms:
                        self._record([part], False, headline, "")
                return
        # Headline lines: every word is capitalised, so split at common words.
        if headline:
            pieces: list[list[str]] = [[]]
            for t in tokens:
                if is_common(ctx, t) and lookup(ctx, t) is None or is_stopword(ctx, t):
                    pieces.append([])
                else:
                    pieces[-1].append(t)
            for piece in pieces:
                if piece:
                    self._add_name(piece, True, True, "")
            return
        for i in range(1, len(tokens) - 1):
            if fold_word(tokens[i]) in WORDS.speech_verbs and fold_word(tokens[i + 1]) in ctx.gaz.demonyms:
                # "The U.S. Said Iranians used ...": a capitalised verb between a name and a nationality.
                self.add_segment(tokens[:i], initial, headline, context.replace("a", ""))
                self.add_segment(tokens[i + 1 :], False, headline, context.replace("b", ""))
                return
        if initial and len(tokens) > 1 and fold_word(tokens[0]) in WORDS.speech_verbs:
            # "Said David Gluskin, president", "Said Iranians": a verb starts the
            # sentence when a given name, a nationality or a known name follows
            # ("Said Aouita" is a name).
            low_next = fold_word(tokens[1])
            if (
                low_next in ctx.gaz.given
                or low_next in ctx.gaz.demonyms
                or low_next in ctx.gaz.common
                or lookup(ctx, " ".join(tokens[1:])) is not None
            ):
                tokens = tokens[1:]
                initial = False
        if initial and len(tokens) > 1:
            low = fold_word(tokens[0])
            commonish = (
                low in WORDS.function_words
                or _misspelt_function_word(low)
                or is_common(ctx, tokens[0])
                or len(low) >= 6
                and _COMMON_SHAPE.search(low) is not None
            )
            if (
                commonish
                and tokens[1][:1].isupper()  # "Standard and Poor's" keeps "Standard"
                and lookup(ctx, " ".join(tokens)) is None
                and lookup(ctx, tokens[0]) is None
                and word_class(ctx, tokens[0]) == "name"
            ):
                if low not in ctx.gaz.given or low in WORDS.function_words:
                    tokens = tokens[1:]
                    initial = False
        self._add_name(tokens, initial, False, context)

    def _add_name(self, tokens: list[str], initial: bool, headline: bool, context: str) -> None:
        ctx = self.ctx
        tokens = trim_edges(ctx, tokens)
        if not tokens:
            return
        whole = lookup(ctx, " ".join(tokens))
        if whole is None and len(tokens) > 2:
            for i in range(1, len(tokens) - 1):
                nxt = tokens[i + 1]
                if is_dotted_abbreviation(tokens[i]) and (is_common(ctx, nxt) or fold_word(nxt) in WORDS.edge_words):
                    # "Senior U.S. Officials": the place starts a name of its own.
                    self._add_name(tokens[:i], initial, headline, context.replace("a", ""))
                    self._add_name(tokens[i:], False, headline, context.replace("b", ""))
                    return
        if (
            whole is None
            and len(tokens) > 1
            and is_dotted_abbreviation(tokens[0])
            and (is_common(ctx, tokens[1]) or fold_word(tokens[1]) in WORDS.edge_words)
        ):
            # "U.S. Officials", "U.S. Dlrs", "U.S. Has": wire copy capitalises
            # the word after an abbreviated place; the place is one name and
            # the rest is whatever it is alone ("U.S. Treasury" -> U.S. + Treasury).
            self._record([tokens[0]], initial, headline, context.replace("a", ""))
            self._add_name(tokens[1:], False, headline, context.replace("b", ""))
            return
        cut = _given_name_start(ctx, tokens) if whole is None else None
        if cut is not None:
            # "AC Milan George Weah", "Hong Kong Ronald Li": a name runs into
            # the club or place before it; a given name followed by a surname
            # starts a person.
            self._add_name(tokens[:cut], initial, headline, context.replace("a", ""))
            self._add_name(tokens[cut:], False, headline, context.replace("b", ""))
            return
        if whole is None and len(tokens) > 1:
            left, right, titled = _strip_titles(ctx, tokens)
            block = tokens[len(left) : len(tokens) - len(right)]
            for word in block:
                self._record_demonym(word, headline)  # "Iranian" of "Iranian Foreign Minister X"
            if left:
                self._add_name(left, initial, headline, context.replace("a", ""))
                initial = False
            if not right:
                return
            tokens = right
            context = context.replace("b", "")
            if titled:
                role = _role(ctx, left, block)
                self._record(tokens, False, headline, context, titled=True, role=role)
                return
        self._record(tokens, initial, headline, context)

    def _record(
        self,
        tokens: list[str],
        initial: bool,
        headline: bool,
        context: str,
        titled: bool = False,
        role: str | None = None,
    ) -> None:
        ctx = self.ctx
        tokens = trim_edges(ctx, tokens)
        if len(tokens) == 1 and self._record_demonym(tokens[0], headline):
            return
        if not tokens or all(is_stopword(ctx, t) for t in tokens):
            return
        surface = " ".join(tokens)
        mention = Mention(surface, tuple(tokens), initial=initial, headline=headline, role=role)
        hit = lookup(ctx, surface)
        if hit is None and fold_word(tokens[0]) in ctx.gaz.demonyms and len(tokens) > 1:
            hit = lookup(ctx, " ".join(tokens[1:]))
        if hit is None and len(tokens) >= 2 and not titled:
            if self._split_known(tokens, initial, headline):
                return
        if hit is not None:
            mention.canonical = hit[0]
            mention.add(hit[1], hit[2])
        elif len(tokens) >= 3:
            if self._record_nested(tokens, headline):
                return
        if titled:
            mention.add("person", EV_TITLE)
        if hit is None or hit[2] < EV_ALIAS:
            shape = extract_shape(ctx, mention.tokens)
            if shape is not None:
                mention.add(*shape)
            person = extract_person_shape(ctx, mention.tokens)
            if person is not None:
                mention.add("person", person)
        if len(tokens) == 1:
            low = fold_word(tokens[0])
            if hit is None and (low in ctx.gaz.demonyms or is_stopword(ctx, tokens[0])):
                return
            if low in WORDS.org_suffixes or low in WORDS.place_suffixes or low in WORDS.event_suffixes:
                if hit is None:
                    return
        mention.where = context
        if headline:
            self.headline_mentions.append(mention)
        else:
            self.mentions.append(mention)

    def _record_demonym(self, token: str, headline: bool) -> bool:
        """A nationality or group adjective alone ("Syrian", "Israelis") is an
        entity of type other, named by its singular; False if *token* is none."""
        form = self.ctx.gaz.demonym_forms.get(fold_word(token))
        if form is None or not token[:1].isupper() or lookup(self.ctx, token) is not None:
            return False
        mention = Mention(token, (token,), canonical=form, headline=headline)
        mention.add("other", EV_ALIAS)
        (self.headline_mentions if headline else self.mentions).append(mention)
        return True

    def _record_nested(self, tokens: list[str], headline: bool) -> bool:
        """Also count a known organisation named inside a longer one.

        "Central Bank of the African Union" is about the African Union too;
        "Political Bureau of Hamas" is only about Hamas (True: drop the whole).
        """
        for i in range(len(tokens) - 1, 0, -1):
            if tokens[i] in ("of", "for"):
                rest = tokens[i + 1 :]
                if rest and rest[0] == "the":
                    rest = rest[1:]
                hit = lookup(self.ctx, " ".join(rest)) if rest else None
                if hit is not None and hit[1] == "org":
                    self._record(rest, False, headline, "")
                    return fold_word(tokens[i - 1]) in SUBUNITS
                return False
        return False

    def _split_known(self, tokens: list[str], initial: bool, headline: bool) -> bool:
        """Split "Israel Hamas" into known entities when every piece is one."""
        ctx = self.ctx
        pieces = []
        i = 0
        while i < len(tokens):
            for j in range(len(tokens), i, -1):
                hit = lookup(ctx, " ".join(tokens[i:j]))
                if hit is not None and hit[2] >= EV_GAZ_STRONG:
                    pieces.append(tokens[i:j])
                    i = j
                    break
            else:
                return False
        if len(pieces) < 2:
            return False
        for piece in pieces:
            self._record(piece, initial, headline, "")
            initial = False
        return True


_RUN_CACHE: dict[tuple, tuple[tuple[Mention, ...], tuple[Mention, ...]]] = {}
_RUN_CACHE_MAX = 100_000  # about 50 MB at most


def analyse_run(
    ctx: Context, text: str, initial: bool, headline: bool
) -> tuple[tuple[Mention, ...], tuple[Mention, ...]]:
    """Mentions (body, headline) of one capitalised run, cached."""
    key = (ctx.aliases.serial, text, initial, headline)
    cached = _RUN_CACHE.get(key)
    if cached is not None:
        return cached
    analyzer = _Analyzer(ctx)
    subs = [
        sub
        for segment in _split_connectors(ctx, _PIECE_RE.findall(text))
        for part in _split_possessives(segment, ctx)
        for sub in _split_affixed(part)
    ]
    for index, sub in enumerate(subs):
        where = ("b" if index == 0 else "") + ("a" if index == len(subs) - 1 else "")
        analyzer.add_segment(sub, initial, headline, where)
        initial = False
    result = (tuple(analyzer.mentions), tuple(analyzer.headline_mentions))
    if len(_RUN_CACHE) >= _RUN_CACHE_MAX:
        _RUN_CACHE.clear()
    _RUN_CACHE[key] = result
    return result
