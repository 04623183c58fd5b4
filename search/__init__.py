"""newsfacet's search library: read, clean, extract, index and query news articles.

The public surface is small: :func:`build_index` to index folders,
:class:`QueryService` with :class:`SearchRequest` to search, and the errors.
Nothing in this package imports Flask, Jinja or ``web``.
"""

from .errors import IndexLocked, IndexNotFound, InvalidParameter, QuerySyntaxError, SearchError
from .indexer import IndexReport, build_index
from .query import QueryService, SearchRequest, SearchResult
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
