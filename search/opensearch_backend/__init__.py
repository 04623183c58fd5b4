"""The OpenSearch backend: newsfacet's index on an OpenSearch cluster (being built).

* :mod:`.analysis` — the index analysis settings that tokenise, fold and stem
  title and body text exactly as the Whoosh schema does.

Importing this package needs neither a network nor a third-party package.
"""
