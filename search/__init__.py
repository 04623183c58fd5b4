"""newsfacet's search library: read, clean, extract, index and query news articles.

Front ends use :mod:`search.api` and nothing else; it names the engine-free
request and result types, the backend protocols and the functions that
index, clean and check.  Nothing in this package imports Flask, Jinja or
``web``.  The ingest chain (HTML extraction, gazetteers) and the engine load
only when first used, so a search server starts quickly.
"""
