"""Where an index lives on disk: its name, its side files, opening it.

Kept apart from :mod:`search.indexer` so that searching imports none of the
ingest chain (HTML extraction, gazetteers), which keeps a server's start fast.
"""

from __future__ import annotations

from pathlib import Path

from whoosh import index as whoosh_index

from .errors import IndexNotFound

INDEX_NAME = "articles"
ENTITY_STATE_FILE = "entities.json"


def index_exists(index_dir: Path | str) -> bool:
    return Path(index_dir).is_dir() and whoosh_index.exists_in(str(index_dir), indexname=INDEX_NAME)


def open_index(index_dir: Path | str):
    """Open the index at *index_dir*.

    :raises IndexNotFound: when there is none.
    """
    index_dir = Path(index_dir)
    if not index_exists(index_dir):
        raise IndexNotFound(f"no newsfacet index in {index_dir}: run 'newsfacet index FOLDER' first")
    return whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)


def tables_path(index_dir: Path | str, generation: int) -> Path:
    """Where the facet arrays of an index generation are kept."""
    return Path(index_dir) / f"facets-{generation}.npz"
