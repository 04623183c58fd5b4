"""Where indexes written before the Whoosh backend had its own package find their schema.

Whoosh pickles the schema, with its classes' module paths, into every
index's table of contents; indexes made by earlier versions name
``search.schema.ArticleSchema`` and ``search.schema.FoldFilter``.  This
module keeps those names importable so such an index still opens.  New code
uses :mod:`search.whoosh_backend.schema`.
"""

from .whoosh_backend.schema import ArticleSchema, FoldFilter

__all__ = ["ArticleSchema", "FoldFilter"]
