"""Per-article extraction: main text of HTML pages, publication dates, named entities.

* :mod:`~search.extract.html`: main text, title and metadata of a saved page;
* :mod:`~search.extract.dates` (with :mod:`~search.extract.date_patterns` and
  :mod:`~search.extract.date_bylines`): the publication date;
* :mod:`~search.extract.entities` (with :mod:`~search.extract.name_runs`,
  :mod:`~search.extract.mentions`, :mod:`~search.extract.gazetteer` and
  :mod:`~search.extract.entity_words`): the named entities of one article.

Nothing here imports an index backend; making entity values canonical across
a collection is :mod:`search.resolution`'s job.
"""
