"""Metadata fields of a sidecar or JSONL row: URL, title, date, source, entities.

Scrapers name their fields differently (news-please, trafilatura, custom
crawlers); the first key of each list that holds a value wins, and whatever
else the record holds (but never content) is kept as ``meta``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

# Field names seen in scraper exports (news-please, trafilatura, custom
# crawlers), first match wins.  Keys are matched case-sensitively.
URL_KEYS = ("url", "link", "canonical_url")
TITLE_KEYS = ("title", "headline")
DATE_KEYS = ("date", "published", "published_at", "date_publish", "datePublished", "publish_date", "pub_date")
SOURCE_KEYS = ("source", "site", "site_name", "sitename", "source_domain", "publisher")
CRAWL_KEYS = ("crawled", "crawl_date", "fetched", "scraped_at", "date_download", "downloaded")
TEXT_KEYS = ("text", "maintext", "content", "body")
HTML_KEYS = ("html", "raw_html")
ENTITY_KEYS = ("entities",)
# Content fields are never copied into meta: they can be megabytes of markup.
_NOT_META = frozenset(URL_KEYS + TITLE_KEYS + DATE_KEYS + SOURCE_KEYS + TEXT_KEYS + HTML_KEYS + ENTITY_KEYS)

# Entity labels of common NER tools mapped onto the four facet types.
ENTITY_TYPE_ALIASES = {
    "person": "person", "per": "person", "people": "person", "persons": "person",
    "org": "org", "organization": "org", "organisation": "org", "orgs": "org", "organizations": "org",
    "place": "place", "places": "place", "loc": "place", "location": "place", "locations": "place", "gpe": "place",
}


def first_of(record: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = record.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def as_text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        return None
    return str(value)


def _as_date(value: Any) -> str | None:
    """A raw date string; numbers are taken as Unix epochs (seconds or ms)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    return as_text(value)


def parse_iso_date(value: Any) -> dt.date | None:
    """The calendar day of an ISO-like date/datetime string or epoch number, else None."""
    text = _as_date(value)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _entities(value: Any) -> list[tuple[str, str]]:
    """Entities given as strings, ``{value,type}`` objects or ``{type: [names]}``."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for label, names in value.items():
            names = names if isinstance(names, list) else [names]
            pairs.extend((name.strip(), _entity_type(label)) for name in names if isinstance(name, str))
    elif isinstance(value, list):
        for entry in value:
            if isinstance(entry, str):
                pairs.append((entry.strip(), "other"))
            elif isinstance(entry, dict):
                name = as_text(first_of(entry, ("value", "name", "text", "entity")))
                if name:
                    pairs.append((name, _entity_type(first_of(entry, ("type", "label", "kind")))))
    return list(dict.fromkeys((name, kind) for name, kind in pairs if name))


def _entity_type(label: Any) -> str:
    return ENTITY_TYPE_ALIASES.get(str(label or "").strip().lower(), "other")


@dataclass
class Fields:
    """Metadata a sidecar or JSONL row gives explicitly."""

    url: str | None = None
    title: str | None = None
    date: str | None = None
    source: str | None = None
    crawled: dt.date | None = None
    entities: list[tuple[str, str]] | None = None
    meta: dict[str, Any] | None = None


def record_fields(record: dict[str, Any]) -> Fields:
    crawl_value = first_of(record, CRAWL_KEYS)
    return Fields(
        url=as_text(first_of(record, URL_KEYS)),
        title=as_text(first_of(record, TITLE_KEYS)),
        date=_as_date(first_of(record, DATE_KEYS)),
        source=as_text(first_of(record, SOURCE_KEYS)),
        crawled=parse_iso_date(crawl_value),
        entities=_entities(first_of(record, ENTITY_KEYS)),
        meta={key: value for key, value in record.items() if key not in _NOT_META},
    )
