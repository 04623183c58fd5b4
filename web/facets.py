"""One type's facet values for the current search: ``/facets/<type>`` and ``/api/facets/<type>``.

Where the sidebar lists the most frequent values of each type, this page
lists all of them, paged, sorted by count or by name, narrowed by a plain
GET filter box (``contains``) that works without JavaScript.  Every search
parameter applies, and the type's values are counted disjunctively, as in
the sidebar (:meth:`search.api.SearchBackend.facet_values`).  The page's own
parameters are ``contains``, ``sort`` (``count`` or ``name``) and ``page``;
the search's sort and page play no part in the counts and are not carried.

As in :mod:`web.pages`, one function builds the data
(:func:`facet_page_data`); the JSON view serialises it and the HTML view
renders it, adding only presentation (the links that require, OR or
exclude each value, the pager, the sort links).
"""

from __future__ import annotations

import dataclasses

from flask import Blueprint, current_app, jsonify, render_template, request, url_for

from search.api import (
    DEFAULT_FACET_PAGE_SIZE,
    FACET_SORTS,
    FACET_TYPES,
    FacetValuesRequest,
    InvalidParameter,
    SearchRequest,
    date_label,
    facet_values_request_from_params,
)

from .index import get_search
from .urls import link

bp = Blueprint("facets", __name__)

HEADINGS = {"person": "People", "org": "Organisations", "place": "Places", "other": "Other names"}
SORT_LABELS = {"count": "Most articles", "name": "Name"}
# Which search parameter selects a value in each way (FacetValue: "all" is selected, else its mode).
MODE_FIELDS = {"all": "entities", "any": "entities_any", "not": "entities_not"}


def _defaults() -> tuple[int, int]:
    return current_app.config["PER_PAGE"], current_app.config["FACET_LIMIT"]


def parse_facet_request(type_: str, args) -> FacetValuesRequest:
    """The facet-values request of ``/facets/<type>``'s URL parameters (400 on a bad one);
    ``FACET_PAGE_SIZE`` in the app's config sets how many values a page lists."""
    page_size = current_app.config.get("FACET_PAGE_SIZE", DEFAULT_FACET_PAGE_SIZE)
    return facet_values_request_from_params(type_, args, *_defaults(), page_size=page_size)


def facets_link(type_: str, req: SearchRequest, endpoint: str = "facets.facet_page") -> str:
    """The values page of *type_* for search *req* (the search's sort and page left out).

    For the sidebar's "more…" links: ``facets_link("person", req)``.
    """
    pairs = FacetValuesRequest(type_, req).to_params(*_defaults())
    return link(url_for(endpoint, type_=type_), pairs)


def facet_page_data(freq: FacetValuesRequest) -> dict:
    """The values page as plain data: the query service's answer plus canonical links.

    ``links``: ``html`` and ``json`` (this page in both forms), ``search`` and
    ``search_json`` (the search these values belong to), ``next`` and
    ``prev`` (the neighbouring pages of this JSON document; None at an end).
    """
    answer = get_search().facet_values(freq)
    data = answer.as_dict()
    defaults = _defaults()

    def at(endpoint: str, page: int | None = None) -> str:
        r = freq if page is None else dataclasses.replace(freq, page=page)
        return link(url_for(endpoint, type_=freq.type), r.to_params(*defaults))

    last = max(1, -(-answer.total_values // freq.per_page))
    search_pairs = freq.search.to_params(*defaults)
    data["links"] = {
        "html": at("facets.facet_page"),
        "json": at("facets.api_facet_page"),
        "search": link(url_for("pages.search"), search_pairs),
        "search_json": link(url_for("pages.api_search"), search_pairs),
        "next": at("facets.api_facet_page", freq.page + 1) if freq.page < last else None,
        "prev": at("facets.api_facet_page", min(freq.page - 1, last)) if freq.page > 1 else None,
    }
    return data


# -- HTML presentation -------------------------------------------------------------


def value_state(f: dict) -> str | None:
    """How a listed value is selected: ``"all"`` (required), ``"any"``, ``"not"`` or None."""
    return "all" if f.get("selected") else f.get("mode")


def with_value(req: SearchRequest, value: str, mode: str | None) -> SearchRequest | None:
    """*req* with *value* required (``all``), in its type's OR group (``any``), excluded
    (``not``) or, for None, in none of them; on page 1.  None when that would pass the
    filter limit."""
    folded = value.casefold()
    fields = {name: tuple(v for v in getattr(req, name) if v.casefold() != folded) for name in MODE_FIELDS.values()}
    if mode:
        fields[MODE_FIELDS[mode]] += (value,)
    try:
        return dataclasses.replace(req, page=1, **fields)
    except InvalidParameter:
        return None


def _search_href(req: SearchRequest | None) -> str | None:
    return None if req is None else link(url_for("pages.search"), req.to_params(*_defaults()))


def value_entries(freq: FacetValuesRequest, values: list[dict]) -> list[dict]:
    """Each value with its links: the value itself requires it (or, required, drops it),
    ``or`` puts it in the type's OR group, ``not`` excludes it (each toggles off when on)."""
    out = []
    for f in values:
        state = value_state(f)
        value = f["value"]
        out.append(dict(
            f, state=state,
            href=_search_href(with_value(freq.search, value, None if state == "all" else "all")),
            any_href=_search_href(with_value(freq.search, value, None if state == "any" else "any")),
            not_href=_search_href(with_value(freq.search, value, None if state == "not" else "not")),
        ))
    return out


def search_scope(req: SearchRequest) -> list[str]:
    """The search's filters in words, for the heading: the counts are over those articles only."""
    parts = list(req.entities)
    if req.entities_any:
        parts.append("any of " + " or ".join(req.entities_any))
    parts += [f"without {value}" for value in req.entities_not]
    if req.date:
        parts.append(date_label(req.date))
    if req.date_from:
        parts.append(f"from {req.date_from}")
    if req.date_to:
        parts.append(f"to {req.date_to}")
    return parts


def facet_context(freq: FacetValuesRequest, data: dict) -> dict:
    defaults = _defaults()
    page_url = url_for("facets.facet_page", type_=freq.type)

    def href(**changes) -> str:
        return link(page_url, dataclasses.replace(freq, **changes).to_params(*defaults))

    last = max(1, -(-data["total_values"] // freq.per_page))
    shown = len(data["values"])
    first = (freq.page - 1) * freq.per_page + 1 if shown else 0
    return {
        "data": data,
        "heading": HEADINGS[freq.type],
        "type": freq.type,
        "entries": value_entries(freq, data["values"]),
        "search_q": freq.search.q,
        "search_pairs": freq.search.to_params(*defaults),
        "sort_links": [{"name": s, "label": SORT_LABELS[s], "current": s == freq.sort, "href": href(sort=s, page=1)}
                       for s in FACET_SORTS],
        "pager": {
            "page": freq.page, "last": last, "first_shown": first, "last_shown": first + shown - 1 if shown else 0,
            "prev": href(page=min(freq.page - 1, last)) if freq.page > 1 else None,
            "next": href(page=freq.page + 1) if freq.page < last else None,
        },
        "clear_contains": href(contains="", page=1) if freq.contains else None,
        "scope": search_scope(freq.search),
        "other_types": [{"type": t, "heading": HEADINGS[t], "href": link(
            url_for("facets.facet_page", type_=t),
            dataclasses.replace(freq, type=t, page=1).to_params(*defaults))} for t in FACET_TYPES if t != freq.type],
    }


# -- routes --------------------------------------------------------------------------


@bp.route("/facets/<type_>")
def facet_page(type_: str):
    freq = parse_facet_request(type_, request.args)
    data = facet_page_data(freq)
    body = render_template("facets.html", **facet_context(freq, data))
    resp = current_app.make_response(body)
    resp.headers["Link"] = f'<{data["links"]["json"]}>; rel="alternate"; type="application/json"'
    return resp


@bp.route("/api/facets/<type_>")
def api_facet_page(type_: str):
    return jsonify(facet_page_data(parse_facet_request(type_, request.args)))
