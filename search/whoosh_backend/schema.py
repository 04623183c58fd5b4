"""The Whoosh schema: the one place index field names are spelled.

Every other module refers to fields through the constants below, so renaming
a field is a one-line change here.  Analysis is defined here too: body and
title text is lower-cased, accent-folded (``tromso`` finds ``Tromsø``) and
stemmed with the Snowball English stemmer — not Whoosh's default Porter
stemmer, which leaves ``estimated`` and ``estimates`` apart.
"""

from __future__ import annotations

from whoosh import fields
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StemFilter

from ..textnorm import fold

# Field names.
ID = "id"
PATH = "path"
ROOT = "root"
SOURCE = "source"
URL = "url"
TITLE = "title"
BODY = "body"
# Unstemmed words of title and body, the vocabulary "did you mean" draws on: a field
# of indexes written before :mod:`.vocabulary` kept them beside the index (and of
# the OpenSearch mapping, whose suggester reads them).
WORDS = "words"
DATE = "date"
DATE_NUM = "date_num"
DATE_PRECISION = "date_precision"
DATE_EVIDENCE = "date_evidence"
DATE_PATH = "date_path"
ENTITY = "entity"
ENTITIES = "entities"
RAW_ENTITIES = "raw_entities"
CAPTIONS = "captions"
DATELINE = "dateline"
META = "meta"
DROPPED = "dropped"
CONTENT_HASH = "content_hash"
INDEXED_AT = "indexed_at"
INDEXED_NUM = "indexed_num"
CLUSTER = "cluster"

# Fields a user may name in a query (``title:putin``); the rest are internal.
QUERY_FIELDS = (TITLE, BODY, SOURCE, ENTITY, PATH)
DEFAULT_FIELDS = (TITLE, BODY)
FIELD_BOOSTS = {TITLE: 2.0, BODY: 1.0}
UNDATED = "undated"
# Entity terms are "type:value", comma-separated in a KEYWORD field, so the
# index alone knows each value's type.
ENTITY_SEPARATOR = ","



class FoldFilter(Filter):
    """Folds accents and compatibility forms of each token (``Tromsø`` → ``tromso``)."""

    def __call__(self, tokens):
        for t in tokens:
            if not t.text.isascii():
                t.text = fold(t.text)
            yield t


# Words with inner apostrophes or hyphen-less dots stay one token ("o'brien", "u.s").
TOKEN_PATTERN = r"\w+(?:['.]\w+)*"


def text_analyzer(stem: bool = True):
    """The analyzer for searchable prose: tokenise, lower-case, fold, stem."""
    chain = RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | FoldFilter()
    if stem:
        chain = chain | StemFilter(lang="en", cachesize=100_000)
    return chain


class ArticleSchema(fields.SchemaClass):
    """One Whoosh document per article."""

    id = fields.ID(stored=True, unique=True)
    path = fields.ID(stored=True)
    root = fields.ID(stored=True)
    source = fields.ID(stored=True)
    url = fields.STORED()
    title = fields.TEXT(stored=True, analyzer=text_analyzer(), field_boost=FIELD_BOOSTS[TITLE])
    body = fields.TEXT(stored=True, analyzer=text_analyzer())
    date = fields.ID(stored=True)
    date_num = fields.NUMERIC(numtype=int, bits=32, signed=False, stored=False, sortable=True, default=0)
    date_precision = fields.ID(stored=True)
    date_evidence = fields.STORED()
    date_path = fields.KEYWORD(stored=False, lowercase=False, scorable=False)
    entity = fields.KEYWORD(stored=False, commas=True, lowercase=False, scorable=False)
    entities = fields.STORED()
    raw_entities = fields.STORED()
    captions = fields.STORED()
    dateline = fields.STORED()
    meta = fields.STORED()
    dropped = fields.STORED()
    content_hash = fields.ID(stored=True)
    indexed_at = fields.STORED()
    # When the article entered the index (epoch milliseconds): "new since your last visit".
    indexed_num = fields.NUMERIC(numtype=int, bits=64, signed=False, stored=True, sortable=True, default=0)
    # The syndicated-copy cluster (:mod:`search.clusters`) of an article that has
    # copies: the id of its earliest copy.  Absent for an article without copies.
    cluster = fields.ID(stored=True)


def schema() -> fields.Schema:
    """A fresh schema instance."""
    return ArticleSchema()


def date_num(iso: str | None) -> int:
    """The sort and range key of a date: ``YYYYMMDD`` as an int.

    Unknown parts are zero (``2023-10`` → 20231000, ``2023`` → 20230000) and an
    undated article is 0, so an imprecise date sorts before the days it may
    stand for, and a range starting on the first of a month can include it.
    """
    if not iso:
        return 0
    parts = [int(p) for p in iso.split("-")] + [0, 0]
    return parts[0] * 10000 + parts[1] * 100 + parts[2]


def date_path_terms(iso: str | None) -> list[str]:
    """The date-filter terms of a date: ``['2023', '2023-10', '2023-10-26']``.

    A month-precision date yields only the year and month terms, so a day
    filter never matches an article whose day is unknown.
    """
    if not iso:
        return [UNDATED]
    parts = iso.split("-")
    return ["-".join(parts[: i + 1]) for i in range(len(parts))]


def entity_term(value: str, type_: str) -> str:
    """The index term of an entity: ``person:Vladimir Putin``."""
    return f"{type_}:{value.replace(ENTITY_SEPARATOR, ' ')}"


def split_entity_term(term: str) -> tuple[str, str]:
    """``(value, type)`` of an index term made by :func:`entity_term`."""
    type_, _, value = term.partition(":")
    return value, type_


def entity_field(entities) -> str:
    """The ENTITY field's text for entities with ``value`` and ``type``."""
    return ENTITY_SEPARATOR.join(sorted({entity_term(e.value, e.type) for e in entities}))
