"""Every screen state is a URL: parsing search arguments and building canonical links.

A canonical search URL has its parameters in one fixed order with defaults
left out, so the address bar is the saved link and two routes to the same
view give the same URL.  Facet links are the current arguments with one value
added or removed (:func:`with_added`, :func:`with_removed`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from urllib.parse import urlencode

from search.errors import InvalidParameter
from search.query import SearchRequest, parse_day

# Public parameter names in canonical order.
PARAMS = ("q", "entity", "date", "from", "to", "sort", "page", "per_page", "facet_limit")
MAX_ENTITIES = 20


def _int(args: Mapping, name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise InvalidParameter(name, f"{name} must be a whole number, not {raw!r}") from None


def _day(args: Mapping, name: str) -> dt.date | None:
    raw = args.get(name)
    return parse_day(raw, name) if raw else None


def request_from_args(args, per_page: int = 10, facet_limit: int = 20) -> SearchRequest:
    """A :class:`SearchRequest` from query-string arguments (a werkzeug MultiDict).

    Unknown parameters are ignored; a repeated single-valued parameter takes
    its first value.

    :raises InvalidParameter: naming the parameter that is wrong.
    """
    # Filters are ANDed, so their order means nothing: keep one order, the canonical one.
    entities = tuple(sorted({v.strip() for v in args.getlist("entity") if v and v.strip()}, key=str.casefold))
    if len(entities) > MAX_ENTITIES:
        raise InvalidParameter("entity", f"at most {MAX_ENTITIES} entity filters at once")
    return SearchRequest(
        q=(args.get("q") or "").strip(),
        entities=entities,
        date=(args.get("date") or None),
        date_from=_day(args, "from"),
        date_to=_day(args, "to"),
        sort=args.get("sort") or "relevance",
        page=_int(args, "page", 1),
        per_page=_int(args, "per_page", per_page),
        facet_limit=_int(args, "facet_limit", facet_limit),
    )


def canonical_pairs(req: SearchRequest, per_page: int = 10, facet_limit: int = 20) -> list[tuple[str, str]]:
    """The request's parameters in canonical order, defaults left out."""
    pairs: list[tuple[str, str]] = []
    if req.q:
        pairs.append(("q", req.q))
    for value in sorted(req.entities, key=str.casefold):
        pairs.append(("entity", value))
    if req.date:
        pairs.append(("date", req.date))
    if req.date_from:
        pairs.append(("from", req.date_from.isoformat()))
    if req.date_to:
        pairs.append(("to", req.date_to.isoformat()))
    if req.sort != "relevance":
        pairs.append(("sort", req.sort))
    if req.page != 1:
        pairs.append(("page", str(req.page)))
    if req.per_page != per_page:
        pairs.append(("per_page", str(req.per_page)))
    if req.facet_limit != facet_limit:
        pairs.append(("facet_limit", str(req.facet_limit)))
    return pairs


def query_string(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs)


def link(path: str, pairs: list[tuple[str, str]]) -> str:
    qs = query_string(pairs)
    return f"{path}?{qs}" if qs else path


def with_added(pairs: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """*pairs* with ``name=value`` added (replacing a single-valued parameter), back on page 1."""
    multi = name == "entity"
    out = [(k, v) for k, v in pairs if k != "page" and (multi or k != name)]
    if (name, value) not in out:
        out.append((name, value))
    return _ordered(out)


def with_removed(pairs: list[tuple[str, str]], name: str, value: str | None = None) -> list[tuple[str, str]]:
    """*pairs* without ``name`` (or only its ``value``), back on page 1."""
    return [(k, v) for k, v in pairs if k != "page" and not (k == name and (value is None or v == value))]


def with_page(pairs: list[tuple[str, str]], page: int) -> list[tuple[str, str]]:
    out = [(k, v) for k, v in pairs if k != "page"]
    if page != 1:
        out.append(("page", str(page)))
    return _ordered(out)


def _ordered(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    rank = {name: i for i, name in enumerate(PARAMS)}
    decorated = sorted(
        enumerate(pairs),
        key=lambda item: (rank.get(item[1][0], len(PARAMS)), item[1][1].casefold() if item[1][0] == "entity" else "",
                          item[0]),
    )
    return [pair for _, pair in decorated]
