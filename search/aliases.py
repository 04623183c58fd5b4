"""Alias tables: which names stand for the same real-world entity.

A facet must show one value per entity however the articles spell it, so
``Islamic Resistance Movement`` has to count as ``Hamas`` and ``U.S.`` as
``United States``.  Transliteration variants are merged by rule elsewhere
(:mod:`search.namekeys`); this module holds the merges no rule can
guess.  newsfacet ships defaults in ``search/data/aliases.txt``; a user file
(``Options.aliases_path``) is read on top of them.

Alias file format
-----------------

One entity per line, fields separated by ``|``::

    # comments start with '#'; blank lines are ignored
    Canonical Name | type | alias one | alias two
    Hamas | org | Islamic Resistance Movement
    United States | place | US | U.S. | USA | America
    Reuters | org
    Gazprom Neft || Gazpromneft

* The first field is the canonical name: the value the facet shows.
* The second field is the type: ``person``, ``org``, ``place`` or ``other``.
  It may be left empty (``Name || alias``) to say nothing about the type.
  Anything written there that looks like a type keyword (a single lower-case
  word) but is not one is an error.  For backwards-friendliness a second field
  that is clearly a name (it has a capital letter or a space) is read as the
  first alias of an untyped entry.
* Every further field is another name of the same entity.
* Matching ignores case, accents, dots, hyphens and a leading ``the``:
  ``u.s.``, ``US`` and ``U.S`` are the same name, so are ``Cote d'Ivoire`` and
  ``Côte d'Ivoire``.  A name written in capitals with at most four letters
  (``UN``, ``WHO``) is an acronym: the extractor only applies it to text
  written in capitals, so the word "who" is not the World Health Organization.

Precedence: within one file a name may belong to one entity only (a second
claim is an error naming both lines).  A user file overrides the shipped
defaults name by name: a name (canonical or alias) listed in the user file
maps to the user's entity, and a default entity whose canonical name the user
file maps elsewhere follows it there (so ``Hamas | org | HAMAS movement`` is
enough to add an alias, and ``Ḥamās | org | Hamas`` renames the default entity
with all its default aliases).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from search.document import ENTITY_TYPES
from search.textnorm import fold

DEFAULT_ALIASES_PATH = Path(__file__).parent / "data" / "aliases.txt"

_KEY_PUNCT = re.compile(r"[.\u00b7'`\"]")
_KEY_SPACE = re.compile(r"[\s\-_/]+")
_TYPE_LIKE = re.compile(r"^[a-z]+$")
_SERIALS = itertools.count(1)
# Acronym aliases are only trusted on capitalised text; the limit keeps
# ordinary capitalised words ("Hamas", "Google") out of this rule.
_ACRONYM_MAX = 4


def alias_key(name: str) -> str:
    """Return the matching key of *name*: folded, no dots, no leading 'the'."""
    # ASCII needs no Unicode folding: lower case is all fold() would do.
    folded = name.lower() if name.isascii() else fold(name)
    key = _KEY_SPACE.sub(" ", _KEY_PUNCT.sub("", folded)).strip()
    if key.startswith("the ") and len(key) > 4:
        key = key[4:]
    return key


def _is_acronym(name: str) -> bool:
    letters = name.replace(".", "").replace(" ", "")
    return letters.isupper() and letters.isalpha() and len(letters) <= _ACRONYM_MAX


@dataclass(frozen=True)
class AliasEntry:
    """One line of an alias file."""

    canonical: str
    type: str | None
    aliases: tuple[str, ...]
    source: str
    line: int


class AliasTable:
    """Names to (canonical name, type), built from alias files.

    :meth:`lookup` is what callers need; :meth:`is_acronym` tells whether a
    name only matched through a short capitalised alias.
    """

    def __init__(self, entries: list[AliasEntry] | tuple[AliasEntry, ...] = ()) -> None:
        self._map: dict[str, tuple[str, str | None]] = {}
        self._acronyms: set[str] = set()
        self._entries: list[AliasEntry] = []
        self.serial = 0  # changes whenever the table does, for callers' caches
        self.add(entries)

    def add(self, entries: list[AliasEntry] | tuple[AliasEntry, ...], override: bool = True) -> None:
        """Add *entries*; with *override* their names replace earlier claims."""
        claimed: dict[str, AliasEntry] = {}
        for entry in entries:
            self._entries.append(entry)
            target = (entry.canonical, entry.type)
            for name in (entry.canonical, *entry.aliases):
                key = alias_key(name)
                if not key:
                    continue
                previous = claimed.get(key)
                if previous is not None and previous.canonical != entry.canonical:
                    raise ValueError(
                        f"{entry.source}, line {entry.line}: name {name!r} already belongs to "
                        f"{previous.canonical!r} (line {previous.line})"
                    )
                claimed[key] = entry
                if override or key not in self._map:
                    self._map[key] = target
                if _is_acronym(name) and name != entry.canonical:
                    self._acronyms.add(key)
                else:
                    self._acronyms.discard(key)
        self._redirect()
        self.serial = next(_SERIALS)

    def _redirect(self) -> None:
        # A default entry whose canonical name was re-mapped by a later file
        # follows it, so renaming an entity carries its old aliases along.
        for key, (canonical, etype) in list(self._map.items()):
            seen = {key}
            while True:
                target = self._map.get(alias_key(canonical))
                if target is None or target[0] == canonical or alias_key(target[0]) in seen:
                    break
                seen.add(alias_key(target[0]))
                canonical, etype = target[0], target[1] or etype
            self._map[key] = (canonical, etype)

    def lookup(self, name: str) -> tuple[str, str | None] | None:
        """Return ``(canonical, type)`` for *name*, or None if it is unknown.

        Matching ignores case, accents, dots, hyphens and a leading "the".
        """
        return self._map.get(alias_key(name))

    def lookup_key(self, key: str) -> tuple[str, str | None] | None:
        """Like :meth:`lookup` for a key already made by :func:`alias_key`."""
        return self._map.get(key)

    def is_acronym(self, name: str) -> bool:
        """True if *name* is known only as a short capitalised alias (UN, WHO)."""
        return alias_key(name) in self._acronyms

    def fingerprint(self) -> str:
        """A hash of every name mapping, so a changed alias file can be detected."""
        digest = hashlib.sha256()
        for key in sorted(self._map):
            canonical, etype = self._map[key]
            acronym = "A" if key in self._acronyms else ""
            digest.update(f"{key}\t{canonical}\t{etype or ''}\t{acronym}\n".encode())
        return digest.hexdigest()[:16]

    def entries(self) -> list[AliasEntry]:
        """Every entry read, defaults first."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and alias_key(name) in self._map


def parse_aliases(text: str, source: str = "<aliases>") -> list[AliasEntry]:
    """Parse alias-file *text*; bad lines raise ValueError naming *source* and line."""
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [field.strip() for field in line.split("|")]
        canonical = fields[0]
        if not canonical:
            raise ValueError(f"{source}, line {number}: the first field (canonical name) is empty")
        etype: str | None = None
        rest = fields[1:]
        if rest:
            second = rest[0]
            if second.lower() in ENTITY_TYPES:
                etype = second.lower()
                rest = rest[1:]
            elif second == "":
                rest = rest[1:]
            elif _TYPE_LIKE.match(second):
                raise ValueError(
                    f"{source}, line {number}: unknown type {second!r} (expected one of "
                    f"{', '.join(ENTITY_TYPES)}, or leave the field empty)"
                )
        if rest and rest[-1] == "":
            rest = rest[:-1]  # a trailing '|' is harmless
        if any(not alias for alias in rest):
            raise ValueError(f"{source}, line {number}: empty alias field")
        if not alias_key(canonical):
            raise ValueError(f"{source}, line {number}: canonical name {canonical!r} has no letters or digits")
        entries.append(AliasEntry(canonical, etype, tuple(rest), source, number))
    return entries


def read_alias_file(path: Path) -> list[AliasEntry]:
    """Read and parse one alias file (UTF-8)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: alias file is not UTF-8 ({exc.reason})") from exc
    return parse_aliases(text, str(path))


@lru_cache(maxsize=1)
def _default_entries() -> tuple[AliasEntry, ...]:
    return tuple(read_alias_file(DEFAULT_ALIASES_PATH))


def load_aliases(path: Path | None = None) -> AliasTable:
    """Return the shipped default aliases, overridden by the user file *path*."""
    table = AliasTable(_default_entries())
    if path is not None:
        table.add(read_alias_file(Path(path)), override=True)
    return table
