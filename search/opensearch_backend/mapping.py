"""The OpenSearch indexes of one collection: their names, settings and mappings.

Every name starts with the settings' prefix (``NEWSFACET_OPENSEARCH_PREFIX``,
``newsfacet`` by default):

``{prefix}-articles``
    the alias searches read, pointing at exactly one concrete index;
``{prefix}-articles-{UTC time}``
    a concrete article index, made from the index template
    ``{prefix}-articles`` (settings and mapping below).  A rebuild makes a new
    one and moves the alias to it in one ``_aliases`` call, so searches see
    the old index until that moment;
``{prefix}-meta``
    a small index of the indexer's state documents (the entity resolver's
    and the copy clusters' state, the run stamps), see :mod:`.writer`.

The article mapping is ``dynamic: strict`` and its field names are the Whoosh
schema's constants (:mod:`search.whoosh_backend.schema`), each indexed as the
Whoosh field is, so the query translation (:mod:`.query`) names one set of
fields for both engines:

* keywords, exact terms: ``id``, ``path``, ``root``, ``source``,
  ``content_hash``, ``date``, ``date_precision``, ``cluster``, and multi-valued
  ``date_path`` (:func:`~search.whoosh_backend.schema.date_path_terms`,
  ``undated`` for an undated article) and ``entity`` (``type:value`` terms,
  :func:`~search.whoosh_backend.schema.entity_term`);
* ``title`` and ``body``: text through ``newsfacet_text``, the analyzer equal
  to Whoosh's (:mod:`.analysis`); the body keeps positions and offsets as
  term vectors (highlighting, more-like-this);
* ``words``: title and body again through the unstemmed ``newsfacet_words``
  (the phrase suggester's vocabulary), filled by ``copy_to`` so a document
  does not carry its text twice, and not stored;
* ``date_num`` (``integer`` ``YYYYMMDD``, :func:`~search.whoosh_backend.schema.date_num`)
  and ``indexed_num`` (``long``, epoch milliseconds) for ranges and sorts;
* everything else is only kept in ``_source``, exactly as the Whoosh writer
  stores it — ``entities``, ``raw_entities``, ``captions``, ``meta`` and
  ``dropped`` as the same JSON strings — so a service can decode a stored
  article the same way for both engines.

Empty keyword values are left out of a document (Whoosh indexes no empty
term either), so an undated article has no ``date`` and a range on ``date``
never matches ``""``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..whoosh_backend import schema as S
from . import analysis

if TYPE_CHECKING:
    from ..settings import Settings

# Bumped whenever the mapping below changes: an article index made with another
# version is not written to again; the next run builds a new one (as the Whoosh
# writer starts a new index when its schema's fields differ).
MAPPING_VERSION = 1

KEYWORD_FIELDS = (S.ID, S.PATH, S.ROOT, S.SOURCE, S.CONTENT_HASH, S.DATE, S.DATE_PRECISION, S.CLUSTER,
                  S.DATE_PATH, S.ENTITY)
# Kept in _source only: neither indexed nor in doc values.
STORED_FIELDS = (S.URL, S.ENTITIES, S.RAW_ENTITIES, S.CAPTIONS, S.DATELINE, S.META, S.DROPPED,
                 S.DATE_EVIDENCE, S.INDEXED_AT)
_STORED_ONLY = {"type": "keyword", "index": False, "doc_values": False}


def alias_name(prefix: str) -> str:
    """The alias searches read: ``{prefix}-articles``."""
    return f"{prefix}-articles"


def meta_index_name(prefix: str) -> str:
    """The index of the indexer's state documents: ``{prefix}-meta``."""
    return f"{prefix}-meta"


def template_name(prefix: str) -> str:
    return f"{prefix}-articles"


def index_pattern(prefix: str) -> str:
    """What the template's pattern matches: every concrete article index of *prefix*."""
    return f"{prefix}-articles-*"


def new_index_name(prefix: str, now: dt.datetime | None = None) -> str:
    """A new concrete article index: ``{prefix}-articles-20240131t120000123456`` (UTC, to the microsecond)."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{prefix}-articles-{now.strftime('%Y%m%dt%H%M%S%f')}"


def is_run_index(prefix: str, name: str) -> bool:
    """Whether *name* is one of :func:`new_index_name`'s for *prefix* (not an index someone
    else named ``{prefix}-articles-…``)."""
    stamp = name.removeprefix(f"{prefix}-articles-")
    return stamp != name and len(stamp) == 21 and stamp[8] == "t" and (stamp[:8] + stamp[9:]).isdigit()


def article_mapping() -> dict:
    """The ``mappings`` of an article index."""
    props: dict[str, dict] = {name: {"type": "keyword"} for name in KEYWORD_FIELDS}
    props[S.TITLE] = {"type": "text", "analyzer": analysis.TEXT_ANALYZER, "copy_to": [S.WORDS]}
    props[S.BODY] = {"type": "text", "analyzer": analysis.TEXT_ANALYZER, "copy_to": [S.WORDS],
                     "term_vector": "with_positions_offsets"}
    props[S.WORDS] = {"type": "text", "analyzer": analysis.WORDS_ANALYZER}
    props[S.DATE_NUM] = {"type": "integer"}
    props[S.INDEXED_NUM] = {"type": "long"}
    props.update({name: dict(_STORED_ONLY) for name in STORED_FIELDS})
    return {"dynamic": "strict", "_meta": {"newsfacet_mapping": MAPPING_VERSION}, "properties": props}


def article_settings(shards: int, replicas: int) -> dict:
    """The ``settings`` of an article index (analysis included)."""
    return {
        "index": {
            "number_of_shards": shards,
            "number_of_replicas": replicas,
            # A run refreshes once, at its commit (see .writer); readers see
            # nothing of it before.
            "refresh_interval": "-1",
            # more_like_this and highlighting read whole bodies: lift the default cap
            # on analysed characters (1,000,000) so a long article is highlighted whole.
            "highlight": {"max_analyzed_offset": 10_000_000},
        },
        "analysis": analysis.index_analysis(),
    }


def article_template(prefix: str, shards: int, replicas: int) -> dict:
    """The body of ``PUT _index_template/{prefix}-articles``."""
    return {
        "index_patterns": [index_pattern(prefix)],
        # Above any catch-all template a cluster may have, so ours decides.
        "priority": 500,
        "template": {"settings": article_settings(shards, replicas), "mappings": article_mapping()},
        "_meta": {"newsfacet_mapping": MAPPING_VERSION},
    }


def meta_index_body(replicas: int) -> dict:
    """The body of ``PUT {prefix}-meta``: one shard (a handful of documents), blobs in _source."""
    return {
        "settings": {"index": {"number_of_shards": 1, "number_of_replicas": replicas}},
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "version": {"type": "keyword"},
                "parts": {"type": "integer", "index": False},
                "part": {"type": "integer", "index": False},
                "data": {"type": "binary"},
            },
        },
    }


def mapping_version(mappings: dict) -> int | None:
    """The :data:`MAPPING_VERSION` an index was made with (from its ``_meta``), or None."""
    meta = mappings.get("_meta") or {}
    version = meta.get("newsfacet_mapping")
    return version if isinstance(version, int) else None


def index_exists(settings: Settings) -> bool:
    """Whether the collection *settings* name has an articles alias (a run has committed)."""
    from .client import make_client, translate_errors

    with translate_errors(settings):
        return bool(make_client(settings).indices.exists_alias(name=alias_name(settings.opensearch_prefix)))
