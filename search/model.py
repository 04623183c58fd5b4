"""What a search is and what it answers, whatever engine stands behind it.

:class:`SearchRequest` is validated once, where it is made: the date filter
is parsed into a :class:`DateFilter` (its level, parent and label), entity
filters are stripped, de-duplicated, put in one order and capped, day bounds
are dates, and every number is in range.  The results are dataclasses and
typed dicts of strings and numbers, never engine objects.

:func:`request_from_params` and :meth:`SearchRequest.to_params` are the one
mapping between a request and its URL parameters (in one fixed order, with
defaults left out), used by the web pages, the CLI, saved searches and the
benchmarks alike.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import NotRequired, TypedDict

from .document import ENTITY_TYPES
from .errors import InvalidParameter

SORTS = ("relevance", "newest", "oldest")
# How the search page's timeline (and the JSON twin's "timeline") shows each period: the matches,
# or the matches as a share of all the articles of the period.
TIMELINE_MODES = ("count", "share")
# Whether results show each syndicated-copy cluster once (its earliest copy) or every copy.
COLLAPSE_MODES = ("on", "off")
DEFAULT_PER_PAGE = 10
DEFAULT_FACET_LIMIT = 20
MAX_PER_PAGE = 100
MAX_FACET_LIMIT = 1000
MAX_PAGE = 100_000
MAX_QUERY_CHARS = 2000
MAX_ENTITIES = 20
UNDATED = "undated"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Public parameter names, in canonical order.
PARAMS = ("q", "entity", "entity_any", "entity_not", "date", "from", "to", "cluster", "sort", "page", "per_page",
          "facet_limit", "timeline", "collapse")
# Facet-value pages (/facets/<type>): their types, orders and sizes.
FACET_TYPES = ENTITY_TYPES
FACET_SORTS = ("count", "name")
DEFAULT_FACET_PAGE_SIZE = 50
MAX_FACET_PAGE_SIZE = 1000
MAX_CONTAINS_CHARS = 200
# A facet-value page's own parameters, after the search's (whose sort and page they stand in for).
FACET_VALUES_PARAMS = ("contains", "sort", "page")
# Co-occurrence ("appears with", /api/cooccur): how many values an answer lists by default and at most.
DEFAULT_COOCCUR_LIMIT = 20
MAX_COOCCUR_LIMIT = 200
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def date_label(value: str | None) -> str:
    """A human label for a date value: ``2023``, ``Oct 2023``, ``26 Oct 2023``, ``undated``."""
    if not value or value == UNDATED:
        return "undated"
    parts = value.split("-")
    if len(parts) == 1:
        return parts[0]
    month = MONTHS[int(parts[1]) - 1]
    if len(parts) == 2:
        return f"{month} {parts[0]}"
    return f"{int(parts[2])} {month} {parts[0]}"


@dataclass(frozen=True)
class DateFilter:
    """A parsed ``date`` filter: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ``undated``.

    :param level: what the filter selects — ``year``, ``month``, ``day`` or ``undated``.
    :param parts: the numbers it names (``(2023, 10)`` for ``2023-10``).
    """

    value: str
    level: str
    parts: tuple[int, ...] = ()

    @classmethod
    def parse(cls, value: str) -> DateFilter:
        """:raises InvalidParameter: when *value* is not one of the four shapes or not a real date."""
        if value == UNDATED:
            return cls(value, UNDATED)
        m = _DATE_RE.match(value)
        if not m:
            raise InvalidParameter("date", f"date must be YYYY, YYYY-MM, YYYY-MM-DD or 'undated', not {value!r}")
        parts = tuple(int(g) for g in m.groups() if g)
        try:
            dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
        except ValueError:
            raise InvalidParameter("date", f"{value!r} is not a real date") from None
        return cls(value, ("year", "month", "day")[len(parts) - 1], parts)

    @property
    def parent(self) -> str | None:
        """The filter one level up (``2023-10`` → ``2023``), None for a year or ``undated``."""
        return self.value.rsplit("-", 1)[0] if len(self.parts) > 1 else None

    @property
    def label(self) -> str:
        return date_label(self.value)


def parse_day(value: str, parameter: str) -> dt.date:
    """Validate a ``YYYY-MM-DD`` range bound."""
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidParameter(parameter, f"{parameter} must be a date as YYYY-MM-DD, not {value!r}") from None


def normalize_entities(values, parameter: str = "entity") -> tuple[str, ...]:
    """Entity filters as every front end passes them: stripped, without blanks or repeats,
    in one order (within a parameter order means nothing), at most :data:`MAX_ENTITIES`."""
    cleaned = sorted({v.strip() for v in values if v and v.strip()}, key=str.casefold)
    if len(cleaned) > MAX_ENTITIES:
        raise InvalidParameter(parameter, f"at most {MAX_ENTITIES} {parameter} filters at once")
    return tuple(cleaned)


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidParameter(name, f"{name} must be a whole number from {low} to {high}")


@dataclass(frozen=True)
class SearchRequest:
    """What the user asked for; every field has the default a blank form has.

    :param q: query (AND by default, "phrases", OR, NOT, ``-term``,
        ``title:``, wildcards); empty browses everything.
    :param entities: entity values that must all be present (normalised by
        :func:`normalize_entities`).
    :param entities_any: entity values of which at least one per type must be
        present: the values of one type form one OR group, and the groups AND
        with each other and with *entities* (parameter ``entity_any``).  A
        value's type is the one the index gives it (one per value), a merged
        spelling means its canonical value; a value no article has adds
        nothing to a group, and when no value is known at all the request
        matches nothing (as an unknown ``entity`` does).
    :param entities_not: entity values that must be absent (``entity_not``);
        an unknown one excludes nothing.
    :param date: a :class:`DateFilter`, or its string form, parsed here.
    :param date_from, date_to: inclusive day bounds.
    :param sort: one of :data:`SORTS`; relevance with an empty query means newest.
    :param indexed_after: only articles indexed after this moment (saved
        searches' "new since last visit").
    :param timeline: one of :data:`TIMELINE_MODES`: how the page's timeline shows
        a period (the matches, or their share of all the period's articles); it
        changes no match and no count.
    :param cluster: only the copies of this syndicated-copy cluster (its id, as
        hits give it); an unknown id matches the article of that id alone.
    :param collapse: one of :data:`COLLAPSE_MODES`: ``"on"`` lists each story
        once, as its earliest matching copy, and counts stories (the total,
        facets, timeline); ``"off"`` lists and counts every copy.
    """

    q: str = ""
    entities: tuple[str, ...] = ()
    entities_any: tuple[str, ...] = ()
    entities_not: tuple[str, ...] = ()
    date: DateFilter | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    facet_limit: int = DEFAULT_FACET_LIMIT
    indexed_after: dt.datetime | None = None
    timeline: str = "count"
    cluster: str | None = None
    collapse: str = "on"

    def __post_init__(self) -> None:
        # Frozen: normalised values are set once, here, and never again.
        if isinstance(self.date, str):
            object.__setattr__(self, "date", DateFilter.parse(self.date))
        object.__setattr__(self, "entities", normalize_entities(self.entities))
        object.__setattr__(self, "entities_any", normalize_entities(self.entities_any, "entity_any"))
        object.__setattr__(self, "entities_not", normalize_entities(self.entities_not, "entity_not"))
        both = {v.casefold() for v in self.entities_not} & {
            v.casefold() for v in self.entities + self.entities_any}
        if both:
            raise InvalidParameter("entity_not", f"{sorted(both)[0]!r} is both required and excluded")
        if self.sort not in SORTS:
            raise InvalidParameter("sort", f"sort must be one of {', '.join(SORTS)}, not {self.sort!r}")
        if self.collapse not in COLLAPSE_MODES:
            raise InvalidParameter(
                "collapse", f"collapse must be one of {', '.join(COLLAPSE_MODES)}, not {self.collapse!r}")
        if self.cluster is not None and (not self.cluster.strip() or len(self.cluster) > 200):
            raise InvalidParameter("cluster", "cluster must be a cluster id as a hit gives it")
        if self.timeline not in TIMELINE_MODES:
            raise InvalidParameter(
                "timeline", f"timeline must be one of {', '.join(TIMELINE_MODES)}, not {self.timeline!r}")
        _check_range("page", self.page, 1, MAX_PAGE)
        _check_range("per_page", self.per_page, 1, MAX_PER_PAGE)
        _check_range("facet_limit", self.facet_limit, 1, MAX_FACET_LIMIT)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidParameter("from", "from must not be later than to")
        if len(self.q) > MAX_QUERY_CHARS:
            raise InvalidParameter("q", f"the query is longer than {MAX_QUERY_CHARS} characters")

    def as_dict(self) -> dict:
        """Normalised parameters under their public names."""
        return {
            "q": self.q,
            "entity": list(self.entities),
            "entity_any": list(self.entities_any),
            "entity_not": list(self.entities_not),
            "date": self.date.value if self.date else None,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "cluster": self.cluster,
            "sort": self.sort,
            "page": self.page,
            "per_page": self.per_page,
            "facet_limit": self.facet_limit,
            "timeline": self.timeline,
            "collapse": self.collapse,
        }

    def to_params(self, per_page: int = DEFAULT_PER_PAGE,
                  facet_limit: int = DEFAULT_FACET_LIMIT) -> list[tuple[str, str]]:
        """The request's URL parameters in canonical order, defaults left out."""
        pairs: list[tuple[str, str]] = []
        if self.q:
            pairs.append(("q", self.q))
        pairs.extend(("entity", value) for value in self.entities)
        pairs.extend(("entity_any", value) for value in self.entities_any)
        pairs.extend(("entity_not", value) for value in self.entities_not)
        if self.date:
            pairs.append(("date", self.date.value))
        if self.date_from:
            pairs.append(("from", self.date_from.isoformat()))
        if self.date_to:
            pairs.append(("to", self.date_to.isoformat()))
        if self.cluster:
            pairs.append(("cluster", self.cluster))
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        if self.per_page != per_page:
            pairs.append(("per_page", str(self.per_page)))
        if self.facet_limit != facet_limit:
            pairs.append(("facet_limit", str(self.facet_limit)))
        if self.timeline != "count":
            pairs.append(("timeline", self.timeline))
        if self.collapse != "on":
            pairs.append(("collapse", self.collapse))
        return pairs


def _int(params: Mapping, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise InvalidParameter(name, f"{name} must be a whole number, not {raw!r}") from None


def _getlist(params, name: str) -> list[str]:
    if hasattr(params, "getlist"):
        return params.getlist(name)
    value = params.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def request_from_params(params, per_page: int = DEFAULT_PER_PAGE,
                        facet_limit: int = DEFAULT_FACET_LIMIT) -> SearchRequest:
    """A :class:`SearchRequest` from URL parameters: a werkzeug ``MultiDict``, or a plain
    mapping whose ``entity`` may be a list.

    Unknown parameters are ignored; a repeated single-valued parameter takes
    its first value.

    :raises InvalidParameter: naming the parameter that is wrong.
    """
    day_from, day_to = params.get("from"), params.get("to")
    return SearchRequest(
        q=(params.get("q") or "").strip(),
        entities=tuple(_getlist(params, "entity")),
        entities_any=tuple(_getlist(params, "entity_any")),
        entities_not=tuple(_getlist(params, "entity_not")),
        date=params.get("date") or None,
        date_from=parse_day(day_from, "from") if day_from else None,
        date_to=parse_day(day_to, "to") if day_to else None,
        sort=params.get("sort") or "relevance",
        page=_int(params, "page", 1),
        per_page=_int(params, "per_page", per_page),
        facet_limit=_int(params, "facet_limit", facet_limit),
        timeline=params.get("timeline") or "count",
        cluster=(params.get("cluster") or "").strip() or None,
        collapse=params.get("collapse") or "on",
    )


@dataclass(frozen=True)
class FacetValuesRequest:
    """One type's facet values for a search: ``/facets/<type>`` and ``SearchBackend.facet_values``.

    :param type: one of :data:`FACET_TYPES`.
    :param search: the search whose matches are counted: every filter applies,
        and *type* is counted disjunctively (its own OR group left out), as in
        the search's facets.  Its sort and page play no part: they are reset.
    :param contains: keep the values whose value or any spelling merged into
        it contains this text, ignoring case, accents, dots, quotes and
        hyphens (stripped; empty keeps all).
    :param sort: ``count`` (most frequent first, equal counts by name) or ``name``.
    :param page, per_page: which page of values, and its size.
    """

    type: str
    search: SearchRequest = field(default_factory=SearchRequest)
    contains: str = ""
    sort: str = "count"
    page: int = 1
    per_page: int = DEFAULT_FACET_PAGE_SIZE

    def __post_init__(self) -> None:
        if self.type not in FACET_TYPES:
            raise InvalidParameter("type", f"type must be one of {', '.join(FACET_TYPES)}, not {self.type!r}")
        if self.sort not in FACET_SORTS:
            raise InvalidParameter("sort", f"sort must be one of {', '.join(FACET_SORTS)}, not {self.sort!r}")
        if not isinstance(self.contains, str):
            raise InvalidParameter("contains", "contains must be text")
        object.__setattr__(self, "contains", " ".join(self.contains.split()))
        if len(self.contains) > MAX_CONTAINS_CHARS:
            raise InvalidParameter("contains", f"contains is longer than {MAX_CONTAINS_CHARS} characters")
        _check_range("page", self.page, 1, MAX_PAGE)
        _check_range("per_page", self.per_page, 1, MAX_FACET_PAGE_SIZE)
        if self.search.sort != "relevance" or self.search.page != 1 or self.search.timeline != "count":
            object.__setattr__(self, "search", replace(self.search, sort="relevance", page=1, timeline="count"))

    def as_dict(self) -> dict:
        """The request under its public names: the search's filters, then the page's own."""
        skipped = ("sort", "page", "per_page", "facet_limit", "timeline")
        query = {k: v for k, v in self.search.as_dict().items() if k not in skipped}
        return {"type": self.type, "query": query, "contains": self.contains, "sort": self.sort,
                "page": self.page, "per_page": self.per_page}

    def to_params(self, per_page: int = DEFAULT_PER_PAGE,
                  facet_limit: int = DEFAULT_FACET_LIMIT) -> list[tuple[str, str]]:
        """URL parameters of ``/facets/<type>`` (the type is in the path): the search's in
        canonical order, then ``contains``, ``sort`` and ``page``, defaults left out."""
        pairs = self.search.to_params(per_page, facet_limit)
        if self.contains:
            pairs.append(("contains", self.contains))
        if self.sort != "count":
            pairs.append(("sort", self.sort))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        return pairs


class _Without:
    """A view of URL parameters with some names hidden (a facet page's own ``sort`` and ``page``)."""

    def __init__(self, params, hidden: tuple[str, ...]):
        self._params, self._hidden = params, hidden

    def get(self, name: str, default=None):
        return default if name in self._hidden else self._params.get(name, default)

    def getlist(self, name: str) -> list[str]:
        return [] if name in self._hidden else _getlist(self._params, name)


def facet_values_request_from_params(type_: str, params, per_page: int = DEFAULT_PER_PAGE,
                                     facet_limit: int = DEFAULT_FACET_LIMIT,
                                     page_size: int = DEFAULT_FACET_PAGE_SIZE) -> FacetValuesRequest:
    """A :class:`FacetValuesRequest` from ``/facets/<type>``'s URL parameters: the search's
    (as :func:`request_from_params` reads them) and ``contains``, ``sort`` and ``page``,
    which are the page's own (the search's sort and page do not apply); *page_size*
    values a page.

    :raises InvalidParameter: naming the parameter that is wrong.
    """
    search = request_from_params(_Without(params, ("sort", "page")), per_page, facet_limit)
    contains = params.get("contains")
    return FacetValuesRequest(
        type=type_,
        search=search,
        contains=contains if isinstance(contains, str) else "",
        sort=params.get("sort") or "count",
        page=_int(params, "page", 1),
        per_page=page_size,
    )


@dataclass
class FacetValuesPage:
    """The answer to a :class:`FacetValuesRequest`: how many values match, and one page of them.

    ``values`` are :class:`FacetValue` dicts (with ``type``, ``selected`` and,
    for OR and NOT values, ``mode``), counted as the search's facets are.
    Values the search's filters name are listed even at count 0.
    """

    request: FacetValuesRequest
    total_values: int
    values: list[FacetValue]

    def as_dict(self) -> dict:
        r = self.request
        return {"type": r.type, "query": r.as_dict()["query"], "contains": r.contains, "sort": r.sort,
                "total_values": self.total_values, "page": r.page, "per_page": r.per_page,
                "values": self.values}


class EntityRef(TypedDict):
    value: str
    type: str


class FacetValue(TypedDict):
    """One facet bucket: an entity value (with its ``type``) or a date value.

    For an entity value:

    * ``count`` — disjunctive, as Solr's tag/exclude and Algolia's
      disjunctive faceting compute it: for a type with ``entity_any`` values,
      the matches of every filter but that type's OR group that have the
      value (what the search would give with the value in place of the
      group); for the other types, the matches that have it.  An excluded
      value (``entity_not``) counts the articles dropping that one exclusion
      would bring back.  Dates and the total use every filter.
    * ``selected`` — True when the value is required (an ``entity`` filter),
      as before the OR and NOT filters existed.
    * ``mode`` — present only for a value in an OR group (``"any"``: an
      ``entity_any`` filter) or excluded (``"not"``: an ``entity_not``
      filter); a required value has ``selected`` True and no ``mode``.  So a
      value's state is ``"all"`` if ``selected``, else ``mode``, else none.

    Values the filters name are always listed (past ``facet_limit``, at
    count 0).  For a date value ``selected`` marks the bucket the date filter
    names.
    """

    value: str
    count: int
    selected: bool
    type: NotRequired[str]
    mode: NotRequired[str]


@dataclass
class Hit:
    id: str
    path: str
    title: str
    date: str | None
    date_precision: str
    source: str | None
    url: str | None
    snippet: str  # HTML: matched terms in <mark>, all else escaped
    entities: list[EntityRef]
    # Its syndicated-copy cluster: {"id", "size", "sources"} (size 1: no copies; sources: of the
    # other copies, each once, earliest first, at most five).
    cluster: dict = field(default_factory=dict)


@dataclass
class SearchResult:
    """The answer to a :class:`SearchRequest`.

    ``facets`` has ``entity`` (values of every type, most frequent first) and
    ``date`` (the level below the request's date filter, with the undated
    bucket at the top level).  ``notice`` explains a query that had to be
    read leniently or was cut down.
    """

    request: SearchRequest
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    suggestion: str | None = None
    notice: str | None = None
    elapsed_ms: float = 0.0
    # Matching articles counting every copy (equal to total when not collapsed).
    copies: int = 0

    def as_dict(self) -> dict:
        return {
            "query": self.request.as_dict(),
            "total": self.total,
            "collapsed": self.request.collapse == "on",
            "copies": self.copies,
            "page": self.request.page,
            "per_page": self.request.per_page,
            # Shallow copies: dataclasses.asdict deep-copies every entity dict and
            # took ~3 ms of an API request on its own.
            "hits": [dict(vars(h)) for h in self.hits],
            "facets": self.facets,
            "suggestion": self.suggestion,
            "notice": self.notice,
        }


def cooccurrence_value(with_value, limit) -> str:
    """*with_value* stripped, for :meth:`SearchBackend.cooccurrence`, once both it and *limit* are checked.

    :raises InvalidParameter: ``limit`` outside 1 to :data:`MAX_COOCCUR_LIMIT`, ``with`` empty.
    """
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_COOCCUR_LIMIT:
        raise InvalidParameter("limit", f"limit must be a whole number from 1 to {MAX_COOCCUR_LIMIT}")
    asked = with_value.strip() if isinstance(with_value, str) else ""
    if not asked:
        raise InvalidParameter("with", "with must name an entity value")
    return asked


class CooccurValue(TypedDict):
    """One value appearing with a :class:`Cooccurrence`'s value.

    * ``count`` — articles of the result set mentioning both;
    * ``expected`` — what *count* would be by chance: (articles of the result set
      with the ``with`` value) × (articles of the result set with this value) /
      (articles in the result set), one float division of whole numbers;
    * ``lift`` — ``count / expected``, computed as ``count × total / (with_count ×
      value_count)`` (one float division): above 1, the two appear together more
      often than chance.
    """

    value: str
    type: str
    count: int
    expected: float
    lift: float


@dataclass
class Cooccurrence:
    """The answer to :meth:`search.api.SearchBackend.cooccurrence`: what appears with one value.

    :param value: the ``with`` value, canonical (a merged spelling names the value it was merged into).
    :param type: its type.
    :param count: articles of the result set that have it.
    :param total: articles in the result set (the search's matches, with the
        value's own ``entity`` filter left out, if it has one).
    :param values: at most *limit* values, most co-occurring first.
    """

    request: SearchRequest
    value: str
    type: str
    count: int
    total: int
    limit: int
    values: list[CooccurValue]

    def as_dict(self) -> dict:
        skipped = ("sort", "page", "per_page", "facet_limit", "timeline")
        query = {k: v for k, v in self.request.as_dict().items() if k not in skipped}
        return {"query": query, "with": self.value, "type": self.type, "count": self.count, "total": self.total,
                "limit": self.limit, "values": self.values}


@dataclass
class ArticleView:
    """One stored article, for the article page and ``/api/doc``."""

    id: str
    path: str
    title: str
    body: str
    date: str | None
    date_precision: str
    date_evidence: str
    source: str | None
    url: str | None
    entities: list[EntityRef]
    captions: list[str] = field(default_factory=list)
    dateline: str | None = None
    meta: dict = field(default_factory=dict)
    indexed_at: str | None = None

    def as_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class EntitySummary:
    """An entity value across the collection: for ``newsfacet entities``."""

    value: str
    type: str
    count: int
    spellings: list[str]


__all__ = [
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
    "SearchRequest",
    "SearchResult",
    "date_label",
    "facet_values_request_from_params",
    "normalize_entities",
    "parse_day",
    "request_from_params",
]
