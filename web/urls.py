"""Every screen state is a URL: building the links between them.

A canonical search URL has its parameters in one fixed order with defaults
left out (:meth:`search.api.SearchRequest.to_params`, the one mapping), so
the address bar is the saved link and two routes to the same view give the
same URL.  Facet links are the current parameters with one value added or
removed (:func:`with_added`, :func:`with_removed`).
"""

from __future__ import annotations

import bisect
from functools import lru_cache
from urllib.parse import quote_plus

from flask import request, url_for

from search.api import PARAMS

# A search page links to a few hundred variants of its own parameters, so the same
# names and values are quoted over and over: each string is quoted once.
_quoted = lru_cache(maxsize=8192)(quote_plus)


def query_string(pairs: list[tuple[str, str]]) -> str:
    """``urllib.parse.urlencode(pairs)``, byte for byte, with each name and value quoted once per process."""
    return "&".join(f"{_quoted(str(k))}={_quoted(str(v))}" for k, v in pairs)


def path_for(endpoint: str) -> str:
    """``url_for(endpoint)`` for an endpoint without arguments, built once per request
    (a search page links to its own path a few hundred times)."""
    paths = request.environ.setdefault("newsfacet.paths", {})
    path = paths.get(endpoint)
    if path is None:
        path = paths[endpoint] = url_for(endpoint)
    return path


def link(path: str, pairs: list[tuple[str, str]]) -> str:
    qs = query_string(pairs)
    return f"{path}?{qs}" if qs else path


ENTITY_PARAMS = ("entity", "entity_any", "entity_not")


def with_added(pairs: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """*pairs* with ``name=value`` added (replacing a single-valued parameter), back on page 1."""
    multi = name in ENTITY_PARAMS
    out = [(k, v) for k, v in pairs if k != "page" and (multi or k != name)]
    if (name, value) not in out:
        out.append((name, value))
    return _ordered(out)


def with_removed(pairs: list[tuple[str, str]], name: str, value: str | None = None) -> list[tuple[str, str]]:
    """*pairs* without ``name`` (or only its ``value``), back on page 1."""
    return [(k, v) for k, v in pairs if k != "page" and not (k == name and (value is None or v == value))]


def with_entity(pairs: list[tuple[str, str]], value: str, name: str | None) -> list[tuple[str, str]]:
    """*pairs* with entity *value* required (``entity``), in its type's OR group (``entity_any``),
    excluded (``entity_not``) or, with *name* None, in none of them; back on page 1.

    A value is in one of the three at most: moving it from one to another drops it from the first.
    """
    folded = value.casefold()
    out = [(k, v) for k, v in pairs if not (k in ENTITY_PARAMS and v.casefold() == folded)]
    return with_added(out, name, value) if name else with_removed(out, "page")


class EntityLinks:
    """``link(path, with_entity(pairs, value, name))`` for many values, for a page's hundreds
    of facet links: the value's place among the sorted parameters found by bisection and the
    quoted parameters joined, instead of filtering, sorting and quoting them each time.
    """

    def __init__(self, path: str, pairs: list[tuple[str, str]]) -> None:
        self.path, self.pairs = path, pairs
        base = [(k, v) for k, v in pairs if k != "page"]
        self.keys = [_order_key(p) for p in base]
        self.fast = all(a <= b for a, b in zip(self.keys, self.keys[1:], strict=False))
        self.pieces = [f"{_quoted(str(k))}={_quoted(str(v))}" for k, v in base]
        self.folded = {v.casefold() for k, v in base if k in ENTITY_PARAMS}

    def __call__(self, value: str, name: str | None) -> str:
        if name is None or not self.fast or value.casefold() in self.folded:
            return link(self.path, with_entity(self.pairs, value, name))
        # The value is in no entity parameter: with_entity appends it and sorts stably, which puts
        # it after every parameter that sorts before or with it.
        at = bisect.bisect_right(self.keys, _order_key((name, value)))
        pieces = self.pieces[:at] + [f"{_quoted(name)}={_quoted(value)}"] + self.pieces[at:]
        return f"{self.path}?{'&'.join(pieces)}"


def entity_links(path: str, pairs: list[tuple[str, str]]) -> EntityLinks:
    """This request's :class:`EntityLinks` for *path* and *pairs* (made once)."""
    made = request.environ.setdefault("newsfacet.entity_links", {})
    key = (path, tuple(pairs))
    links = made.get(key)
    if links is None:
        links = made[key] = EntityLinks(path, pairs)
    return links


def with_page(pairs: list[tuple[str, str]], page: int) -> list[tuple[str, str]]:
    out = [(k, v) for k, v in pairs if k != "page"]
    if page != 1:
        out.append(("page", str(page)))
    return _ordered(out)


_RANK = {name: i for i, name in enumerate(PARAMS)}
_LAST = len(PARAMS)


def _order_key(pair: tuple[str, str]) -> tuple[int, str]:
    name, value = pair
    return _RANK.get(name, _LAST), value.casefold() if name in ENTITY_PARAMS else ""


def _ordered(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """*pairs* in canonical order: by parameter, entity values by their case-folded text;
    equals keep their order (the sort is stable)."""
    return sorted(pairs, key=_order_key)
