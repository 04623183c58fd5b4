"""Plain data passed between the ingest stages.

``readers`` turn files into :class:`Source` values (or :class:`ReadFailure`
for a file that cannot be read); the cleaner and extractors turn a Source into
an :class:`Article`, which the indexer stores.  Nothing here knows about
Whoosh or Flask.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

PRECISIONS = ("day", "month", "year", "none")
ENTITY_TYPES = ("person", "org", "place", "other")


@dataclass
class Source:
    """One article as a reader found it, before cleaning.

    :param path: path relative to the folder indexed, POSIX separators, with a
        ``#N`` suffix for the Nth row (from 1) of a JSONL file or the Nth story
        of a multi-article file.
    :param kind: ``"text"`` (plain text, one paragraph per line or block) or
        ``"html"`` (a saved page, ``content`` is its markup).
    :param content: decoded text or markup.
    :param group: the boilerplate-evidence group: lines repeated across
        documents of one group are boilerplate.  The folder, or the site when
        known.
    :param url, title, date, source: values a sidecar, JSONL row or corpus
        markup gave explicitly; they win over extracted ones.  ``date`` is the
        raw string as given.
    :param entities: entities given explicitly by the input (Reuters tags,
        a JSONL ``entities`` field), as ``(value, type)`` pairs.
    :param reference_date: the latest day the article can have been published
        (crawl date, else file mtime), for resolving year-less dates.
    :param meta: any other fields the input carried, kept as metadata.
    :param content_hash: hash of the raw bytes (plus sidecar) that produced
        this Source, so an unchanged file is skipped on re-index.
    """

    path: str
    kind: str
    content: str
    group: str = ""
    url: str | None = None
    title: str | None = None
    date: str | None = None
    source: str | None = None
    entities: list[tuple[str, str]] = field(default_factory=list)
    reference_date: dt.date | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    content_hash: str = ""


@dataclass
class ReadFailure:
    """A file (or JSONL row) that could not be read, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class DateInfo:
    """A publication date with how much of it is known and how it was found.

    ``value`` is ``None`` exactly when ``precision`` is ``"none"``.  For
    ``"month"`` the day is 1, for ``"year"`` month and day are 1.
    """

    value: dt.date | None
    precision: str
    evidence: str

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        if (self.value is None) != (self.precision == "none"):
            raise ValueError("a date has a value exactly when its precision is not 'none'")

    def iso(self) -> str | None:
        """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` by precision; None if undated."""
        if self.value is None:
            return None
        return {"day": self.value.isoformat(), "month": self.value.isoformat()[:7], "year": f"{self.value.year:04d}"}[
            self.precision
        ]


UNDATED = DateInfo(None, "none", "no publication date found")


@dataclass
class Entity:
    """A named entity of one document, after merging its spellings.

    :param value: the canonical name (what the facet shows).
    :param type: one of :data:`ENTITY_TYPES`.
    :param spellings: every surface form seen for it in the document(s).
    :param count: mentions in the document.
    :param roles: the titles written before a person's name ("energy secretary"),
        evidence for the resolver; not part of what the entity is.
    """

    value: str
    type: str
    spellings: set[str] = field(default_factory=set)
    count: int = 1
    roles: set[str] = field(default_factory=set, compare=False)


@dataclass
class Dropped:
    """A line the cleaner removed, and the rule that removed it."""

    line: str
    reason: str


@dataclass
class Article:
    """A cleaned, extracted article: what the index stores."""

    id: str
    path: str
    title: str
    body: str
    date: DateInfo = UNDATED
    source: str | None = None
    url: str | None = None
    entities: list[Entity] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    dateline: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    dropped: list[Dropped] = field(default_factory=list)
    content_hash: str = ""
    # MinHash signature of the body (:func:`search.clusters.fingerprint`), for syndicated-copy clusters.
    fingerprint: bytes = b""
    # What the index writer's ``prepare`` made of the article in the extraction pool
    # (:class:`search.api.IndexWriter`); opaque to everything else.
    prepared: Any = None


@dataclass(frozen=True)
class Stored:
    """An indexed article as the incremental indexer sees it (:class:`search.api.StoredState`),
    as every engine's writer returns it from ``existing``."""

    content_hash: str
    raw_entities: str
    public_entities: str
    cluster: str = ""
