"""Articles written to OpenSearch from another engine's stored fields (``newsfacet migrate``).

A stored article already holds everything indexing decided: the cleaned
text, the resolved entities in the order hits show them, the copy cluster,
when it was indexed.  Each becomes the document :meth:`OpenSearchWriter.add`
would have written for it, with the derived keyword fields (entity terms,
date keys) computed again from the stored values and nothing re-extracted.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..whoosh_backend import schema as S
from .writer import OpenSearchWriter, _action_line, _json, _without_empty_keywords

# Stored fields copied as they are, with the empty value each has when missing.
_COPIED: dict[str, Any] = {
    S.ID: "", S.PATH: "", S.ROOT: "", S.SOURCE: "", S.URL: "", S.TITLE: "", S.BODY: "",
    S.DATE: "", S.DATE_PRECISION: "none", S.DATE_EVIDENCE: "", S.ENTITIES: "[]", S.RAW_ENTITIES: "[]",
    S.CAPTIONS: "[]", S.DATELINE: "", S.META: "{}", S.DROPPED: "[]", S.CONTENT_HASH: "", S.CLUSTER: "",
    S.INDEXED_AT: "",
}


def _indexed_num(stored: dict) -> int:
    if stored.get(S.INDEXED_NUM):
        return int(stored[S.INDEXED_NUM])
    try:
        when = dt.datetime.fromisoformat(stored.get(S.INDEXED_AT) or "")
    except ValueError:
        return 0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def stored_document(stored: dict) -> dict[str, Any]:
    """The OpenSearch document of an article from its stored fields (as the Whoosh schema names them)."""
    doc = {name: stored.get(name) or empty for name, empty in _COPIED.items()}
    iso = doc[S.DATE] or None
    entities = json.loads(doc[S.ENTITIES])
    doc[S.ENTITY] = sorted({S.entity_term(e["value"], e["type"]) for e in entities})
    doc[S.DATE_NUM] = S.date_num(iso)
    doc[S.DATE_PATH] = S.date_path_terms(iso)
    doc[S.INDEXED_NUM] = _indexed_num(stored)
    return _without_empty_keywords(doc)


def add_stored(writer: OpenSearchWriter, stored: dict) -> None:
    """Queue the article *stored* on *writer*, as its ``add`` queues a new one."""
    article_id = stored[S.ID]
    writer._queue(article_id, _action_line("index", article_id) + _json(stored_document(stored)) + b"\n")
