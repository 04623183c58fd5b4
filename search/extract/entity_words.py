"""Word lists of the entity extractor, read from ``search/data/`` on first use.

The lists (titles, organisation and place suffixes, function words, page
furniture ...) are plain text files, one word or phrase a line, ``#`` for
comments, so they can be read and extended without touching code.  They are
read when the extractor first needs them, not at import: a search server that
never extracts entities never reads them.  :data:`WORDS` holds them::

    from search.extract.entity_words import WORDS
    if word in WORDS.titles: ...

A few small lists that are part of the rules' grammar (weekdays, name
particles, apposition starters ...) stay in code, in :mod:`search.extract.mentions`
and :mod:`search.namekeys`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# Attribute of WORDS -> file in DATA_DIR; every list is a frozenset of its lines.
WORD_FILES = {
    "boilerplate_words": "boilerplate_words.txt",
    "holidays": "holidays.txt",
    "function_words": "function_words.txt",
    "non_entities": "non_entities.txt",
    "titles": "person_titles.txt",
    "title_modifiers": "title_modifiers.txt",
    "person_before": "person_words_before.txt",
    "org_nouns": "org_nouns.txt",
    "place_nouns": "place_nouns.txt",
    "speech_verbs": "speech_verbs.txt",
    "hyphen_affixes": "hyphen_affixes.txt",
    "org_suffixes": "org_suffixes.txt",
    "place_suffixes": "place_suffixes.txt",
    "event_suffixes": "event_suffixes.txt",
    "caps_words": "caps_words.txt",
    "edge_words": "edge_words.txt",
}
# Apposition words that mark a person besides those in person_words_before.txt.
PERSON_APPOSITION_EXTRA = frozenset(
    "member head son daughter wife husband widow grandson nephew niece spokesperson successor predecessor".split()
)


def read_data_lines(name: str) -> list[str]:
    """The lines of ``search/data/NAME``, stripped, without blank lines and ``#`` comments."""
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _load() -> dict[str, Any]:
    words: dict[str, Any] = {name: frozenset(read_data_lines(file)) for name, file in WORD_FILES.items()}
    words["person_apposition"] = words["person_before"] | PERSON_APPOSITION_EXTRA
    # A name ending in one of these may take "of"/"for"/"on" and more name:
    # "Ministry of Foreign Affairs", "Gulf of Aden", "Times of Israel".
    words["of_heads"] = words["org_suffixes"] | words["event_suffixes"] | frozenset(read_data_lines("of_heads.txt"))
    former: dict[str, tuple[str, ...]] = {}
    for line in read_data_lines("former_states.txt"):
        state, _, short = (part.strip() for part in line.partition("|"))
        former[short] = (*former.get(short, ()), state)
    words["former_states"] = former
    lines = read_data_lines("boilerplate_lines.txt")
    words["boilerplate_line"] = re.compile("|".join(re.escape(line) for line in lines))
    return words


class EntityWords:
    """The extractor's word lists as attributes, loaded together on the first access.

    After loading, each list is a plain instance attribute, so a lookup in the
    extractor's inner loops costs what a module constant did.
    """

    boilerplate_words: frozenset[str]
    holidays: frozenset[str]
    function_words: frozenset[str]
    non_entities: frozenset[str]
    titles: frozenset[str]
    title_modifiers: frozenset[str]
    person_before: frozenset[str]
    person_apposition: frozenset[str]
    org_nouns: frozenset[str]
    place_nouns: frozenset[str]
    speech_verbs: frozenset[str]
    hyphen_affixes: frozenset[str]
    org_suffixes: frozenset[str]
    place_suffixes: frozenset[str]
    event_suffixes: frozenset[str]
    of_heads: frozenset[str]
    caps_words: frozenset[str]
    edge_words: frozenset[str]  # never start or end a name: units, foreign weekdays and months
    former_states: dict[str, tuple[str, ...]]  # short name -> former states it may stand for
    boilerplate_line: re.Pattern[str]  # matches the start of a page-furniture line

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not set yet: load everything once.
        if name.startswith("__") or "titles" in self.__dict__:
            raise AttributeError(name)
        self.__dict__.update(_load())
        return getattr(self, name)


WORDS = EntityWords()
