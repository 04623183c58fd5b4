"""What appears with an entity in a search: ``/api/cooccur``, ``/cooccur`` and the search page's panel.

``/api/cooccur?with=VALUE&<search parameters>`` lists the entity values that
appear with ``VALUE`` in the search's result set
(:meth:`search.api.SearchBackend.cooccurrence`): per value the articles
mentioning both (``count``), what chance would give (``expected``) and their
ratio (``lift``); ``limit`` values (default 20, 1 to 200).  The search's own
``entity=VALUE`` filter, when it has one, is left out of the result set, so the
search page's "Appears with" panel for a selected value compares the search
with and without it.  ``/cooccur`` is the same as a small HTML page.

As in :mod:`web.pages`, one function builds the data (:func:`cooccur_data`);
the JSON view serialises it, the page and the panel render it with links that
AND each value into the search.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request, url_for

from search.api import (
    DEFAULT_COOCCUR_LIMIT,
    MAX_COOCCUR_LIMIT,
    InvalidParameter,
    SearchRequest,
    request_from_params,
)

from .index import get_search
from .urls import entity_links, link

bp = Blueprint("cooccur", __name__)

# Search parameters that change nothing here: no hits are listed.
NOT_CARRIED = ("sort", "page", "per_page", "facet_limit", "timeline")
PANEL_LIMIT = 10  # values a search page's panel lists
PANEL_MAX = 3  # panels on one search page: one per entity filter, the first few
TYPE_LABELS = {"person": "Person", "org": "Organisation", "place": "Place", "other": "Other name"}


def _defaults() -> tuple[int, int]:
    return current_app.config["PER_PAGE"], current_app.config["FACET_LIMIT"]


def parse_cooccur(args) -> tuple[SearchRequest, str, int]:
    """The search, the ``with`` value and the ``limit`` of a co-occurrence URL (400 on a bad one)."""
    req = request_from_params(args, *_defaults())
    value = args.get("with")
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameter("with", "with must name an entity value (with=VALUE)")
    raw = args.get("limit")
    if raw is None or raw == "":
        limit = DEFAULT_COOCCUR_LIMIT
    else:
        try:
            limit = int(raw)
        except ValueError:
            raise InvalidParameter("limit", f"limit must be a whole number from 1 to {MAX_COOCCUR_LIMIT}") from None
    return req, value.strip(), limit


def search_pairs(req: SearchRequest) -> list[tuple[str, str]]:
    """*req*'s URL parameters in canonical order, without those co-occurrence ignores."""
    return [(k, v) for k, v in req.to_params(*_defaults()) if k not in NOT_CARRIED]


def cooccur_data(req: SearchRequest, value: str, limit: int = DEFAULT_COOCCUR_LIMIT) -> dict:
    """``/api/cooccur``'s answer: the query service's, plus canonical links.

    ``links``: ``self`` and ``json`` (this answer as a page and as JSON, with
    the canonical value), ``search`` and ``search_json`` (the search).
    """
    answer = get_search().cooccurrence(req, value, limit)
    data = answer.as_dict()
    pairs = search_pairs(req)
    own = pairs + [("with", answer.value)] + ([("limit", str(limit))] if limit != DEFAULT_COOCCUR_LIMIT else [])
    data["links"] = {
        "self": link(url_for("cooccur.page"), own),
        "json": link(url_for("cooccur.api"), own),
        "search": link(url_for("pages.search"), pairs),
        "search_json": link(url_for("pages.api_search"), pairs),
    }
    return data


# -- HTML presentation -------------------------------------------------------------


def present(data: dict, req: SearchRequest, asked: str, pairs: list[tuple[str, str]], key: str) -> dict:
    """*data* with what a page shows: per value a link to the search *pairs* with it ANDed in
    (canonical order) and the lift as text; whether the value's own filter was set aside."""
    href = entity_links(url_for("pages.search"), pairs)
    data["rows"] = [dict(v, href=href(v["value"], "entity"),
                         type_label=TYPE_LABELS.get(v["type"], v["type"]), lift_text=f"×{v['lift']:.1f}")
                    for v in data["values"]]
    names = {asked.casefold(), data["with"].casefold()}
    data["left_out"] = any(v.casefold() in names for v in req.entities)
    data["key"] = key
    # Collapsed, the result set is counted in stories (each syndicated story once).
    data["units"] = ("article", "articles") if req.collapse == "off" else ("story", "stories")
    return data


def panels(req: SearchRequest, pairs: list[tuple[str, str]]) -> list[dict]:
    """The search page's "Appears with" panels: one per ``entity`` filter (the first
    :data:`PANEL_MAX`), each listing :data:`PANEL_LIMIT` values; none without such a filter.

    *pairs* are the page's own parameters: each value's link keeps all of them.
    A value no article has gets no panel (the search finds nothing anyway).
    """
    out = []
    for value in req.entities[:PANEL_MAX]:
        try:
            data = cooccur_data(req, value, PANEL_LIMIT)
        except InvalidParameter as exc:
            if exc.parameter != "with":
                raise
            continue
        out.append(present(data, req, value, pairs, f"cooccur-{len(out) + 1}"))
    return out


# -- routes --------------------------------------------------------------------------


@bp.route("/api/cooccur")
def api():
    return jsonify(cooccur_data(*parse_cooccur(request.args)))


@bp.route("/cooccur")
def page():
    req, value, limit = parse_cooccur(request.args)
    data = cooccur_data(req, value, limit)
    pairs = req.to_params(*_defaults())
    present(data, req, value, [(k, v) for k, v in pairs if k not in NOT_CARRIED], "cooccur")
    return render_template("cooccur.html", data=data, panel=data)


__all__ = ["bp", "cooccur_data", "panels"]
