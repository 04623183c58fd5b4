"""newsfacet's search library: read, clean, extract, index and query news articles.

The public surface is small: :func:`build_index` to index folders,
:class:`QueryService` with :class:`SearchRequest` to search, and the errors.
Nothing in this package imports Flask, Jinja or ``web``.  The ingest chain
(HTML extraction, gazetteers) is imported only when indexing is asked for,
so a search server starts quickly.
"""

from .errors import IndexLocked, IndexNotFound, InvalidParameter, QuerySyntaxError, SearchError
from .settings import Options

__all__ = [
    "IndexLocked",
    "IndexNotFound",
    "IndexReport",
    "InvalidParameter",
    "Options",
    "QueryService",
    "QuerySyntaxError",
    "SearchError",
    "SearchRequest",
    "SearchResult",
    "build_index",
]


def __getattr__(name: str):
    if name in ("build_index", "IndexReport"):
        from . import indexer

        return getattr(indexer, name)
    if name in ("QueryService", "SearchRequest", "SearchResult"):
        from . import query

        return getattr(query, name)
    raise AttributeError(f"module 'search' has no attribute {name!r}")
