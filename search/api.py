"""The library's front door: the only module ``web`` and the CLI import from ``search``.

It holds the two protocols every engine implements — :class:`SearchBackend`
(answering searches) and :class:`IndexWriter` (what the incremental indexer
writes through) — and :func:`open_backend`, which picks the engine named by
the settings (``NEWSFACET_BACKEND``; ``whoosh``, the embedded default).
Requests and results are the engine-free types of :mod:`search.model`;
errors are those of :mod:`search.errors`.  Ingest (reading, cleaning,
extraction, entity resolution) is engine-free too and is reached through
:func:`build_index` and :func:`clean_files`.

Importing this module imports no engine and no part of the ingest chain:
those load when first used, so a server starts fast and ``newsfacet clean``
never opens an index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .errors import (
    IndexDamaged,
    IndexLocked,
    IndexNotFound,
    IndexWriteError,
    InvalidParameter,
    QuerySyntaxError,
    QueryTimeout,
    SearchError,
)
from .limits import QueryLimits
from .model import (
    DEFAULT_COOCCUR_LIMIT,
    DEFAULT_FACET_LIMIT,
    DEFAULT_FACET_PAGE_SIZE,
    DEFAULT_PER_PAGE,
    FACET_SORTS,
    FACET_TYPES,
    FACET_VALUES_PARAMS,
    MAX_COOCCUR_LIMIT,
    MAX_QUERY_CHARS,
    PARAMS,
    SORTS,
    TIMELINE_MODES,
    UNDATED,
    ArticleView,
    Cooccurrence,
    CooccurValue,
    DateFilter,
    EntityRef,
    EntitySummary,
    FacetValue,
    FacetValuesPage,
    FacetValuesRequest,
    Hit,
    SearchRequest,
    SearchResult,
    date_label,
    facet_values_request_from_params,
    parse_day,
    request_from_params,
)
from .settings import BACKENDS, Options, Settings
from .timeline import LEVEL_LENGTH, chart_level, dated_periods, level_below

# The levels of :meth:`SearchBackend.date_counts` (and of ``/export/timeline.csv?level=``).
DATE_LEVELS = ("year", "month", "day")

if TYPE_CHECKING:
    from .document import Article, Entity, ReadFailure
    from .ingest import IndexReport


@runtime_checkable
class SearchBackend(Protocol):
    """An engine answering searches over one collection.

    Every method may raise :class:`IndexDamaged` (a file of the index cannot
    be read) and :class:`IndexNotFound`; :meth:`search` raises
    :class:`InvalidParameter` for a query past the cost limits and
    :class:`QueryTimeout` past the time budget.  Facet values, their types
    and counts must not differ between engines: the contract tests in
    ``tests/contract/`` state them and run against every backend.
    """

    def open(self) -> SearchBackend:
        """A view pinned to the collection as it is now, for calls that must agree (one web request)."""

    def close(self) -> None:
        """End a view from :meth:`open`; on the backend itself, release everything."""

    def search(self, req: SearchRequest) -> SearchResult:
        """The total, one page of hits with snippets, the facets, a spelling suggestion.

        Entity filters: every ``entities`` value must be present; the
        ``entities_any`` values of one type form an OR group (groups AND with
        each other and with ``entities``); ``entities_not`` values must be
        absent.  Facet counts are disjunctive (see :class:`FacetValue`).
        """

    def facet_values(self, req: FacetValuesRequest) -> FacetValuesPage:
        """One type's values for a search, counted as :meth:`search` counts its facets (all
        its filters, that type's OR group left out), narrowed by ``contains``, sorted, paged.

        :raises InvalidParameter: as :meth:`search` does for the search's query.
        """

    def iter_hits(self, req: SearchRequest, batch_size: int = 500) -> Iterator[dict]:
        """Every hit of *req* — the whole result set, its ``page`` and ``per_page`` ignored — in
        the order :meth:`search` pages list them, for export.

        Each hit is a dict with the keys of a :class:`Hit` but ``snippet``
        (``id``, ``path``, ``title``, ``date``, ``date_precision``, ``source``,
        ``url``, ``entities``): nothing is highlighted or scored per hit.
        Matching happens at the call, so a bad request raises here (as
        :meth:`search` would) and the iterator only reads.  An engine reads
        stored articles *batch_size* at a time and never holds the whole list;
        the iterator is independent of any :meth:`open` view (it may outlive
        the web request that made it), holds no lock other searches need, and
        releases what it holds when exhausted or closed (``close()``).  Its
        ``total`` attribute is how many hits it gives.
        """

    def date_counts(self, req: SearchRequest, level: str) -> list[dict]:
        """``[{"value", "count"}]``: the matches of *req* (every filter applies) per period at
        *level* — ``year``, ``month`` or ``day`` — in date order, with ``undated`` last.

        An article dated less precisely than *level* counts under its own
        precision (``2023`` at the month level), so the counts sum to the total.

        :raises InvalidParameter: for another *level* (parameter ``level``), or as :meth:`search` does.
        """

    def cooccurrence(self, req: SearchRequest, with_value: str,
                     limit: int = DEFAULT_COOCCUR_LIMIT) -> Cooccurrence:
        """What appears with entity *with_value* ("appears with") in the result set of *req*.

        The result set is the matches of *req* (every filter applies) except
        that *with_value*'s own ``entity`` filter, if *req* has one, is left
        out, as a disjunctive facet count leaves out its own group: within a
        search for it every value would otherwise appear with it exactly as
        often as chance.  *with_value* may be a merged spelling: it means its
        canonical value, as an ``entity`` filter does.

        ``values`` are the entity values of every type but *with_value* itself
        and the values *req* requires (``entity``, present in every article of
        the result set) that at least one article of the result set has
        together with *with_value*, each as a :class:`CooccurValue`; most
        ``count`` first, then highest ``lift``, then by name (casefolded, then
        type); at most *limit* of them.  Counts are over the result set as it
        is, not disjunctive.  No article of the result set has *with_value*:
        no values.

        :raises InvalidParameter: ``with`` for an empty value or one no article
            of the collection has; ``limit`` outside 1 to :data:`MAX_COOCCUR_LIMIT`;
            or as :meth:`search` does for the query.
        """

    def document(self, doc_id: str) -> ArticleView | None:
        """One article with its whole text, or None."""

    def similar(self, doc_id: str, limit: int = 5) -> list[Hit]:
        """The articles most like *doc_id* (more-like-this)."""

    def highlight(self, body: str, q: str, limit: int = ...) -> str:
        """*body* as safe HTML with the terms of query *q* in ``<mark>`` (in its first *limit* characters)."""

    def entities(self, type_: str | None = None) -> list[EntitySummary]:
        """Every entity value with its type, article count and merged spellings."""

    def count(self) -> int:
        """Articles in the collection."""

    def generation(self) -> int:
        """A number that changes with every commit of the index (for caches kept per commit)."""


class StoredState(Protocol):
    """What the incremental indexer needs to know of an article already written."""

    content_hash: str  # the effective hash it was written with (see search.ingest.effective_hash)
    raw_entities: str  # its entities as extracted, JSON
    public_entities: str  # its entities as resolved and shown, JSON


@runtime_checkable
class IndexWriter(Protocol):
    """Where :func:`build_index` writes: one run's session with an engine's index.

    A run reads what is there (:meth:`existing`), adds or replaces articles
    (:meth:`add`), deletes the ones whose files are gone (:meth:`delete`),
    and makes it all visible at once (:meth:`commit`); :meth:`abort` leaves
    the last commit as it was.  After the commit, articles whose resolved
    entities or copy clusters moved are rewritten with :meth:`update_entities`.
    """

    #: A picklable function run on each article in the extraction pool, or None: what it
    #: returns reaches :meth:`add` as ``article.prepared``, so an engine's per-article
    #: work (analysing text, serialising) runs beside cleaning instead of in the one
    #: process that writes.
    prepare: Callable[[Article], Any] | None

    def plan(self, articles: int, procs: int) -> None:
        """Before the first :meth:`add`: the run reads up to *articles* with *procs*
        processes, for an engine that writes a large run differently."""

    def existing(self, roots: set[str]) -> tuple[dict[str, StoredState], dict[str, str]]:
        """Articles indexed from *roots* by id, and every indexed article's root folder by id."""

    def entity_state(self) -> dict | None:
        """The collection-wide entity resolver's saved state, if any."""

    def run_stamps(self) -> dict:
        """What the last finished runs read, by the folders they were given (see :mod:`search.ingest`)."""

    def save_run_stamps(self, stamps: dict) -> None:
        """Keep *stamps* beside the index (replacing the ones kept)."""

    def cluster_state(self) -> bytes | None:
        """The syndicated-copy clusters' saved state (:meth:`search.clusters.ClusterIndex.to_bytes`), if any."""

    def add(self, article: Article, raw: list[Entity], canonical: list[Entity], root: str,
            content_hash: str, cluster: str = "") -> None:
        """Write *article* (replacing one with its id), with its extracted and resolved entities
        and its copy cluster's id (``""``: it has no copies)."""

    def delete(self, article_id: str) -> None:
        """Remove an article."""

    def commit(self, changes: int) -> None:
        """Make this run's writes visible together (nothing happens for no *changes*)."""

    def update_entities(self, moved: dict[str, list[Entity]], clusters: dict[str, str] | None = None) -> int:
        """Rewrite the resolved entities (*moved*) and the cluster ids (*clusters*) of
        already-written articles; returns how many."""

    def save_entity_state(self, state: dict) -> None:
        """Keep the resolver's state beside the index for the next run."""

    def save_cluster_state(self, state: bytes) -> None:
        """Keep the copy clusters' state beside the index for the next run."""

    def count(self) -> int:
        """Articles in the index after the run."""

    def abort(self) -> None:
        """Give up the run: nothing of it becomes visible, partial files are removed."""


def open_backend(settings: Settings) -> SearchBackend:
    """The search backend *settings* name, on their index.

    :raises ValueError: for an unknown backend (the settings check it too).
    :raises IndexNotFound: when the index does not exist yet.
    """
    if settings.backend == "whoosh":
        from .whoosh_backend.service import WhooshBackend

        return WhooshBackend(settings.index_dir, limits=settings.limits)
    if settings.backend == "opensearch":
        from .opensearch_backend.service import OpenSearchBackend

        return OpenSearchBackend(settings)
    raise ValueError(f"the backend must be one of {', '.join(BACKENDS)}, not {settings.backend!r}")


def open_writer(settings: Settings, *, rebuild: bool = False, wait: float = 0.0) -> IndexWriter:
    """An :class:`IndexWriter` on the index *settings* name (created if missing)."""
    if settings.backend == "whoosh":
        from .whoosh_backend.writer import WhooshWriter

        return WhooshWriter(settings.index_dir, rebuild=rebuild, wait=wait)
    if settings.backend == "opensearch":
        from .opensearch_backend.writer import OpenSearchWriter

        return OpenSearchWriter(settings, rebuild=rebuild, wait=wait)
    raise ValueError(f"the backend must be one of {', '.join(BACKENDS)}, not {settings.backend!r}")


def index_exists(settings: Settings) -> bool:
    """Whether the index *settings* name has been created.

    :raises BackendUnavailable: (OpenSearch) when the cluster cannot be reached.
    """
    if settings.backend == "opensearch":
        from .opensearch_backend.mapping import index_exists as opensearch_exists

        return opensearch_exists(settings)
    from .whoosh_backend.store import index_exists as whoosh_exists

    return whoosh_exists(settings.index_dir)


def build_index(paths: Iterable[Path | str], settings: Settings, options: Options | None = None,
                **kwargs) -> IndexReport:
    """Index every article under *paths* (see :func:`search.ingest.build_index` for the keywords)."""
    from .ingest import build_index as build

    return build(paths, settings, options, **kwargs)


def skip_printer(write):
    """An ``on_failure`` for :func:`build_index` that prints a few skipped rows per file and reason."""
    from .ingest import SkipPrinter

    return SkipPrinter(write)


def check_index(settings: Settings, deep: bool = True):
    """Verify the index file by file (``newsfacet check``); see :mod:`search.whoosh_backend.integrity`."""
    from .whoosh_backend.integrity import check_index as check

    return check(settings.index_dir, deep=deep)


def clean_files(paths: Iterable[Path], options: Options, context: bool = True) -> Iterator:
    """What indexing would make of each file (``newsfacet clean``); see :func:`search.ingest.clean_files`."""
    from .ingest import clean_files as clean

    return clean(paths, options, context)


def migrate(source: Settings, to: str, *, progress: bool = False, wait: float = 0.0):
    """Copy the collection *source* names to the engine *to* (``newsfacet migrate``), stored
    fields and indexer state as they are; see :func:`search.migrate.migrate`.

    :raises ValueError: naming the migrations there are, for another pair of engines.
    """
    from .migrate import migrate as copy
    from .migrate import target_settings

    return copy(source, target_settings(source, to), progress=progress, wait=wait)


def is_heading(text: str) -> bool:
    """Whether a paragraph of a cleaned article reads as a subheading (shown as one)."""
    from .clean import is_headline_like

    return is_headline_like(text)


__all__ = [
    "BACKENDS",
    "DATE_LEVELS",
    "DEFAULT_COOCCUR_LIMIT",
    "DEFAULT_FACET_LIMIT",
    "DEFAULT_FACET_PAGE_SIZE",
    "DEFAULT_PER_PAGE",
    "FACET_SORTS",
    "FACET_TYPES",
    "FACET_VALUES_PARAMS",
    "MAX_COOCCUR_LIMIT",
    "MAX_QUERY_CHARS",
    "PARAMS",
    "SORTS",
    "TIMELINE_MODES",
    "UNDATED",
    "ArticleView",
    "CooccurValue",
    "Cooccurrence",
    "DateFilter",
    "EntityRef",
    "EntitySummary",
    "FacetValue",
    "FacetValuesPage",
    "FacetValuesRequest",
    "Hit",
    "IndexDamaged",
    "IndexLocked",
    "IndexNotFound",
    "IndexWriteError",
    "IndexWriter",
    "InvalidParameter",
    "Options",
    "QueryLimits",
    "QuerySyntaxError",
    "QueryTimeout",
    "ReadFailure",
    "SearchBackend",
    "SearchError",
    "SearchRequest",
    "SearchResult",
    "Settings",
    "StoredState",
    "build_index",
    "check_index",
    "clean_files",
    "date_label",
    "facet_values_request_from_params",
    "LEVEL_LENGTH",
    "chart_level",
    "dated_periods",
    "level_below",
    "index_exists",
    "migrate",
    "is_heading",
    "open_backend",
    "open_writer",
    "parse_day",
    "request_from_params",
    "skip_printer",
]
