"""Input readers: turn files and folders into :class:`~search.document.Source` values.

A collection is whatever a scraper left behind: plain-text dumps, saved HTML
pages (optionally gzipped) with an optional ``NAME.json`` sidecar of metadata,
JSONL exports (one article per line) and Reuters-21578 style SGML (one story
per ``<REUTERS>`` element).  :func:`iter_sources` walks the paths given,
streams one :class:`Source` per article and reports every bad input as a
:class:`ReadFailure` instead of raising, so one broken file never stops a run.

The parts:

* :mod:`~search.readers.walk`: which files are read, and by which reader;
* :mod:`~search.readers.files`: opening and reading a file safely, within limits;
* :mod:`~search.readers.decoding`: text or binary, encodings, content hashes;
* :mod:`~search.readers.fields`: metadata fields of sidecars and JSONL rows;
* :mod:`~search.readers.articles`, :mod:`~search.readers.jsonl`,
  :mod:`~search.readers.reuters`: one reader per input format.
"""

from search.readers.decoding import BadInput, content_hash, decode_bytes, utf16_without_bom
from search.readers.fields import parse_iso_date
from search.readers.files import article_path, split_article_path
from search.readers.reuters import reuters_name, rewrap_paragraphs
from search.readers.walk import count_files, iter_sources, read_path, walk_stamp

__all__ = [
    "BadInput",
    "article_path",
    "content_hash",
    "count_files",
    "decode_bytes",
    "iter_sources",
    "parse_iso_date",
    "read_path",
    "reuters_name",
    "rewrap_paragraphs",
    "split_article_path",
    "utf16_without_bom",
    "walk_stamp",
]
