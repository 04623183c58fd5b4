"""Where an index lives on disk: its name, its side files, opening it.

Kept apart from :mod:`search.indexer` so that searching imports none of the
ingest chain (HTML extraction, gazetteers), which keeps a server's start fast.
"""

from __future__ import annotations

import gc
import json
import traceback
import warnings
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

from ..errors import IndexNotFound

INDEX_NAME = "articles"
ENTITY_STATE_FILE = "entities.json"
# The syndicated-copy clusters' signatures (:meth:`search.clusters.ClusterIndex.to_bytes`).
CLUSTER_STATE_FILE = "clusters.npz"
# What each finished indexing run read (search.ingest), so that a run over unchanged files stops at once.
RUN_STAMPS_FILE = "runs.json"


def load_entity_state(index_dir: Path) -> dict | None:
    """The entity resolver's saved state, or None when missing or unreadable (it is
    then rebuilt from the documents; canonical values may shift once)."""
    try:
        return json.loads((index_dir / ENTITY_STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_run_stamps(index_dir: Path) -> dict:
    """What each finished indexing run read, by its folders; empty when missing or unreadable."""
    try:
        stamps = json.loads((index_dir / RUN_STAMPS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamps if isinstance(stamps, dict) else {}


def load_cluster_state(index_dir: Path) -> bytes | None:
    """The copy clusters' saved signatures, or None when missing or unreadable."""
    try:
        return (index_dir / CLUSTER_STATE_FILE).read_bytes()
    except OSError:
        return None


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


class SegmentOpenError(Exception):
    """A segment of the index could not be opened.

    :param details: the formatted traceback of the failure; the exception
        itself is not kept, since its frames hold the files Whoosh opened.
    """

    def __init__(self, message: str, details: str):
        super().__init__(message)
        self.details = details


def open_segment_reader(storage, schema, segment, generation: int | None = None) -> SegmentReader:
    """A reader of one segment; on failure, nothing is left open.

    Whoosh's ``SegmentReader`` leaves the files it opened unclosed when a
    damaged file stops it half-way; they are collected here, with the
    resulting ``ResourceWarning`` silenced, before the error goes on as a
    :class:`SegmentOpenError`.
    """
    failure = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return SegmentReader(storage, schema, segment, generation=generation)
        except Exception as exc:  # noqa: BLE001 - any decoder error: the caller diagnoses it
            failure = (f"segment {segment.segment_id()}: {type(exc).__name__}: {exc}", traceback.format_exc())
        gc.collect()
    raise SegmentOpenError(*failure)


def open_searcher(ix) -> Searcher:
    """A searcher on the latest commit of *ix*, as ``ix.searcher()`` but closing what it
    opened when a segment cannot be read (:class:`SegmentOpenError`)."""
    toc = ix._read_toc()
    if not toc.segments:
        return Searcher(EmptyReader(toc.schema), fromindex=ix)
    readers: list[SegmentReader] = []
    try:
        for segment in toc.segments:
            readers.append(open_segment_reader(ix.storage, toc.schema, segment, toc.generation))
    except BaseException:
        for reader in readers:
            reader.close()
        raise
    reader = readers[0] if len(readers) == 1 else MultiReader(readers, generation=toc.generation)
    return Searcher(reader, fromindex=ix)


def leaf_postings(segment, field: str, btext: bytes):
    """*segment*'s own matcher for a term, deleted documents included (the caller
    masks them with the live array).

    ``SegmentReader.postings`` builds a set of every deleted document for each
    term it is asked for, and wraps the postings in a matcher that checks each
    document against it in Python: seconds for the facet tables of an index
    with a few thousand deletions, and a cost on every query term.
    """
    terms = getattr(segment, "_terms", None)
    if terms is not None and hasattr(terms, "matcher"):
        return terms.matcher(field, btext, segment.schema[field].format)
    matcher = segment.postings(field, btext)
    while hasattr(matcher, "child") and not hasattr(matcher, "_read_ids"):
        matcher = matcher.child  # deletions wrap the leaf
    return matcher


def generation_of(reader) -> int:
    """The commit a reader sees; an empty index's reader says None, which would not compare."""
    gen = reader.generation()
    return -1 if gen is None else gen
