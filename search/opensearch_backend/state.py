"""What the OpenSearch read side needs from ``{prefix}-meta``: the entity resolver's state
(merged spellings) and a generation number that changes with every commit.

The writer (:mod:`.writer`) keeps its state as blobs (:mod:`.blobs`).  Each
save gives a blob a new ``version``, which is
what :func:`generation` reads: an indexing run that changes anything saves
the entity state after its commit.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field

from ..whoosh_backend import schema as S
from ..whoosh_backend.facets import spelling_maps
from . import mapping as M
from .blobs import CLUSTER_STATE, ENTITY_STATE, read_blob


@dataclass(frozen=True)
class EntityState:
    """The resolver state of one save: merged spellings both ways."""

    version: str | None
    state: dict | None
    spelling_values: dict[str, str] = field(default_factory=dict)  # alias key -> canonical value
    value_spellings: dict[str, list[str]] = field(default_factory=dict)  # canonical value -> its spellings


EMPTY_STATE = EntityState(None, None)


def _headers(client, meta: str, names: list[str]) -> dict[str, dict]:
    """The blob headers *names* that exist, by name."""
    docs = client.mget(index=meta, body={"ids": names}, params={"realtime": "false"})["docs"]
    return {d["_id"]: d["_source"] for d in docs if d.get("found")}


class MetaReader:
    """Reads the meta index of one collection, keeping the last entity state read."""

    def __init__(self, client, prefix: str):
        self.client = client
        self.meta = M.meta_index_name(prefix)
        self.alias = M.alias_name(prefix)
        self._entity = EMPTY_STATE

    def entity_state(self) -> EntityState:
        """The entity state now saved (read again only when its version changed)."""
        from opensearchpy.exceptions import NotFoundError

        try:
            head = _headers(self.client, self.meta, [ENTITY_STATE]).get(ENTITY_STATE)
        except NotFoundError:
            return EMPTY_STATE
        version = (head or {}).get("version")
        cached = self._entity
        if version == cached.version:
            return cached
        data = read_blob(self.client, self.meta, ENTITY_STATE, head)
        try:
            state = json.loads(data.decode("utf-8")) if data else None
        except ValueError:
            state = None
        if not isinstance(state, dict):
            fresh = EntityState(version, None)
        else:
            fresh = EntityState(version, state, *spelling_maps(state))
        self._entity = fresh
        return fresh

    def generation(self, index: str) -> int:
        """A number that changes with every commit: from the concrete index the alias names, its
        article count and newest ``indexed_num`` (a commit's writes), and the versions of the states
        saved after it (entity moves and cluster changes, written by a run's second pass)."""
        from opensearchpy.exceptions import NotFoundError

        try:
            heads = _headers(self.client, self.meta, [ENTITY_STATE, CLUSTER_STATE])
        except NotFoundError:
            heads = {}
        answer = self.client.search(index=index, body={
            "size": 0, "track_total_hits": True, "aggs": {"newest": {"max": {"field": S.INDEXED_NUM}}}})
        concrete = self.concrete(index)
        parts = [concrete, str(answer["hits"]["total"]["value"]),
                 str((answer.get("aggregations") or {}).get("newest", {}).get("value")),
                 *(str(heads.get(name, {}).get("version")) for name in (ENTITY_STATE, CLUSTER_STATE))]
        return zlib.crc32("\n".join(parts).encode("utf-8"))

    def concrete(self, index: str) -> str:
        """The concrete index *index* (the alias, or already a concrete name) stands for."""
        from opensearchpy.exceptions import NotFoundError

        if index != self.alias:
            return index
        try:
            targets = self.client.indices.get_alias(name=self.alias)
        except NotFoundError:
            return index
        return sorted(targets)[0] if targets else index


__all__ = ["EMPTY_STATE", "EntityState", "MetaReader"]
