"""The Whoosh backend: newsfacet's embedded index, the default engine.

* :mod:`.schema` — the index fields and their analysis (the one place field names are spelled);
* :mod:`.store` — where an index lives on disk, opening it and its segments;
* :mod:`.writer` — :class:`~.writer.WhooshWriter`, the :class:`search.api.IndexWriter` for Whoosh;
* :mod:`.service` — :class:`~.service.WhooshBackend`, the :class:`search.api.SearchBackend`;
* :mod:`.evaluator` — query evaluation over numpy posting arrays (beside Whoosh's matchers);
* :mod:`.lexicon` — each field's vocabulary in one string, for wildcard expansion;
* :mod:`.facets` — per-generation facet arrays and the counts drawn from them;
* :mod:`.vocabulary` — each commit's unstemmed words and their article counts, for "did you mean";
* :mod:`.integrity` — checking every file of an index (``newsfacet check``).

Outside this package only :mod:`search.querysyntax` (the query parser, whose
Whoosh query trees both engines read) and the OpenSearch backend's
translation of those trees import Whoosh.
"""
