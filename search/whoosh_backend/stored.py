"""A Whoosh collection read whole, as stored, for copying it to another engine.

``newsfacet migrate`` copies what indexing wrote — every article's stored
fields and the state kept beside the index (entity resolution, copy
clusters, run stamps) — so that the copy answers as the original does
without re-reading or re-extracting a single file.  The index's write lock
is held while it is read, so no indexing run changes it halfway.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from whoosh.index import LockError

from ..errors import IndexLocked, IndexNotFound
from .store import index_exists, load_cluster_state, load_entity_state, load_run_stamps, open_index


@dataclass
class StoredCollection:
    """One commit of a Whoosh collection: its articles' stored fields and its state."""

    count: int
    articles: Iterator[dict]  # each article's stored fields, by schema field name
    entity_state: dict | None
    cluster_state: bytes | None
    run_stamps: dict


@contextlib.contextmanager
def read_collection(index_dir: Path | str) -> Iterator[StoredCollection]:
    """The collection in *index_dir* as it is now, locked against writers until the block ends.

    :raises IndexNotFound: when there is no index there.
    :raises IndexLocked: when an indexing run is writing to it.
    """
    index_dir = Path(index_dir)
    if not index_exists(index_dir):
        raise IndexNotFound(f"no index in {index_dir}: run 'newsfacet index' first")
    ix = open_index(index_dir)
    lock = ix.lock("WRITELOCK")
    try:
        if not lock.acquire(blocking=False):
            raise IndexLocked(f"an indexing run is writing to {index_dir}; try again when it has finished")
    except LockError:
        raise IndexLocked(f"an indexing run is writing to {index_dir}; try again when it has finished") from None
    try:
        with ix.searcher() as searcher:
            yield StoredCollection(
                count=searcher.doc_count(),
                articles=(dict(fields) for fields in searcher.all_stored_fields()),
                entity_state=load_entity_state(index_dir),
                cluster_state=load_cluster_state(index_dir),
                run_stamps=load_run_stamps(index_dir),
            )
    finally:
        lock.release()
        ix.close()
