"""Search, article and feed pages, each with its JSON twin.

One function builds a page's data (:func:`search_page_data`,
:func:`doc_page_data`); the HTML view renders it with a template and the API
view serialises the same dict, as Datasette's table view does.  The HTML view
adds only presentation (toggle links, labels, the timeline's geometry).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from search.api import (
    DateFilter,
    IndexDamaged,
    IndexNotFound,
    InvalidParameter,
    QueryTimeout,
    SearchError,
    SearchRequest,
    date_label,
    is_heading,
    request_from_params,
)

from .index import get_search
from .urls import link, query_string, with_added, with_page, with_removed

bp = Blueprint("pages", __name__)

DOC_ID = re.compile(r"^[0-9a-f]{16}$")
TYPE_SECTIONS = (("person", "People"), ("org", "Organisations"), ("place", "Places"), ("other", "Other names"))
FEED_SIZE = 20
# An article page shows (and marks query terms in) this many characters unless ?full=1.
VIEW_CHARS = 200_000
MORE_FACETS = 1000


# -- page data (shared by HTML and JSON) -------------------------------------------


def _defaults() -> tuple[int, int]:
    return current_app.config["PER_PAGE"], current_app.config["FACET_LIMIT"]


def parse_request(args) -> SearchRequest:
    per_page, facet_limit = _defaults()
    return request_from_params(args, per_page, facet_limit)


def search_page_data(req: SearchRequest) -> dict:
    """The search page as plain data: the query service's answer plus canonical links."""
    result = get_search().search(req)
    pairs = req.to_params(*_defaults())
    feed_pairs = [(k, v) for k, v in pairs if k not in ("sort", "page", "per_page", "facet_limit")]
    data = result.as_dict()
    data["links"] = {
        "self": link(url_for("pages.search"), pairs),
        "json": link(url_for("pages.api_search"), pairs),
        "atom": link(url_for("pages.atom"), feed_pairs),
    }
    data["elapsed_ms"] = round(result.elapsed_ms, 1)
    return data


def doc_page_data(doc_id: str) -> dict:
    """One article as plain data, with similar articles; 404 when unknown."""
    if not DOC_ID.match(doc_id):
        abort(404, description="There is no article with that id.")
    search = get_search()
    view = search.document(doc_id)
    if view is None:
        abort(404, description="There is no article with that id.")
    data = view.as_dict()
    try:
        similar = search.similar(doc_id)
    except IndexDamaged:
        similar = []  # the article came from a readable segment; the rest of the index is not
    data["similar"] = [
        {"id": h.id, "title": h.title, "date": h.date, "date_precision": h.date_precision, "source": h.source}
        for h in similar
    ]
    data["links"] = {
        "self": url_for("pages.doc", doc_id=doc_id),
        "json": url_for("pages.api_doc", doc_id=doc_id),
    }
    return data


# -- HTML presentation -------------------------------------------------------------


def _href(pairs) -> str:
    return link(url_for("pages.search"), pairs)


def facet_sections(data: dict, pairs) -> list[dict]:
    """Entity facets grouped by type, each value with the link that toggles it."""
    limit = data["query"]["facet_limit"]
    sections = []
    for type_, heading in TYPE_SECTIONS:
        items = [f for f in data["facets"]["entity"] if f["type"] == type_]
        if not items:
            continue
        for f in items:  # this request's own dicts: decorating them in place is safe
            f["href"] = _href(with_removed(pairs, "entity", f["value"]) if f["selected"] else
                              with_added(pairs, "entity", f["value"]))
        unselected = [f for f in items if not f["selected"]]
        more = None
        if len(unselected) >= limit and limit < MORE_FACETS:
            more = _href(with_added([(k, v) for k, v in pairs if k != "facet_limit"], "facet_limit",
                                    str(MORE_FACETS))) + f"#facet-{type_}"
        sections.append({"type": type_, "heading": heading, "entries": items, "more": more})
    return sections


def date_section(date: DateFilter | None, data: dict, pairs) -> dict:
    """The date facet one level below the current *date* filter, with links to drill in and up."""
    items = []
    for f in data["facets"]["date"]:
        entry = dict(f, label=date_label(f["value"]))
        entry["href"] = _href(with_added(pairs, "date", f["value"]))
        items.append(entry)
    up = None
    if date:
        up_pairs = with_removed(pairs, "date")
        up = {"label": date_label(date.parent) if date.parent else "all dates",
              "href": _href(with_added(up_pairs, "date", date.parent) if date.parent else up_pairs)}
    return {"entries": items, "current": date.value if date else None,
            "current_label": date.label if date else None, "up": up}


def chips(data: dict, pairs) -> list[dict]:
    """Applied filters as removable chips."""
    q = data["query"]
    out = [{"label": value, "kind": "entity", "href": _href(with_removed(pairs, "entity", value))}
           for value in q["entity"]]
    if q["date"]:
        out.append({"label": date_label(q["date"]), "kind": "date", "href": _href(with_removed(pairs, "date"))})
    if q["from"]:
        out.append({"label": f"from {q['from']}", "kind": "from", "href": _href(with_removed(pairs, "from"))})
    if q["to"]:
        out.append({"label": f"to {q['to']}", "kind": "to", "href": _href(with_removed(pairs, "to"))})
    return out


def timeline(date: DateFilter | None, data: dict, pairs, width: int = 800, height: int = 110) -> dict | None:
    """Bars of matches per year (or month, or day, below a *date* filter), gaps included."""
    counts = {f["value"]: f["count"] for f in data["facets"]["date"] if f["value"] != "undated"}
    if not counts or (date is not None and date.level == "day"):
        return None  # nothing dated, or a single day: nothing to chart
    if date is None or date.level == "undated":
        unit = "year"
        years = sorted(int(v) for v in counts)
        keys = [f"{y:04d}" for y in range(years[0], years[-1] + 1)]
        labels = keys
    elif date.level == "year":
        unit = "month"
        keys = [f"{date.value}-{m:02d}" for m in range(1, 13)]
        labels = [date_label(k).split()[0] for k in keys]
    else:
        unit = "day"
        year, month = date.parts
        days = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        keys = [f"{date.value}-{d:02d}" for d in range(1, days + 1)]
        labels = [str(d) for d in range(1, days + 1)]
    peak = max(counts.values())
    slot = width / len(keys)
    bars = []
    for i, (key, label) in enumerate(zip(keys, labels, strict=True)):
        count = counts.get(key, 0)
        h = 0 if not count else max(2.0, (height - 20) * count / peak)
        bars.append({
            "x": round(i * slot + slot * 0.1, 1), "w": round(slot * 0.8, 1), "h": round(h, 1),
            "y": round(height - 16 - h, 1), "count": count, "label": label, "title": date_label(key),
            "href": _href(with_added(pairs, "date", key)) if count else None,
            "show_label": len(keys) <= 16 or i % max(1, len(keys) // 12) == 0,
        })
    return {"width": width, "height": height, "bars": bars, "slot": round(slot, 1), "unit": unit}


def pagination(data: dict, pairs) -> dict:
    page, per_page, total = data["page"], data["per_page"], data["total"]
    last = max(1, -(-total // per_page))
    window = range(max(1, page - 3), min(last, page + 3) + 1)
    return {
        "page": page, "last": last,
        "prev": _href(with_page(pairs, page - 1)) if page > 1 else None,
        "next": _href(with_page(pairs, page + 1)) if page < last else None,
        "pages": [{"n": n, "href": _href(with_page(pairs, n)), "current": n == page} for n in window],
        "first_shown": (page - 1) * per_page + 1 if data["hits"] else 0,
        "last_shown": (page - 1) * per_page + len(data["hits"]),
    }


def sort_links(data: dict, pairs) -> list[dict]:
    current = data["query"]["sort"]
    return [
        {"name": name, "label": name.capitalize(), "current": name == current,
         "href": _href(with_removed(pairs, "sort") if name == "relevance" else with_added(pairs, "sort", name))}
        for name in ("relevance", "newest", "oldest")
    ]


def search_context(req: SearchRequest, data: dict) -> dict:
    pairs = req.to_params(*_defaults())
    for hit in data["hits"]:
        hit["date_label"] = date_label(hit["date"]) if hit["date"] else "undated"
        hit["snippet_html"] = Markup(hit["snippet"])  # escaped by the query service; only <mark> added
        hit["href"] = url_for("pages.doc", doc_id=hit["id"], q=data["query"]["q"] or None)
        hit["entity_links"] = [
            dict(e, href=_href(with_added(pairs, "entity", e["value"]))) for e in hit["entities"][:8]
        ]
    suggestion = None
    if data["suggestion"]:
        suggestion = {"text": data["suggestion"], "href": _href(with_added(pairs, "q", data["suggestion"]))}
    return {
        "data": data,
        "facet_sections": facet_sections(data, pairs),
        "date_section": date_section(req.date, data, pairs),
        "chips": chips(data, pairs),
        "clear_all": _href([(k, v) for k, v in pairs if k == "q"]) if any(k != "q" for k, _ in pairs) else None,
        "timeline": timeline(req.date, data, pairs),
        "undated_count": next((f["count"] for f in data["facets"]["date"] if f["value"] == "undated"), 0),
        "pagination": pagination(data, pairs),
        "sort_links": sort_links(data, pairs),
        "suggestion": suggestion,
        "canonical_query": query_string(pairs),  # URL-encoded: an entity may hold "&"
        "pairs": pairs,
    }


# -- routes --------------------------------------------------------------------------


@bp.route("/")
@bp.route("/search")
def search():
    req = parse_request(request.args)
    data = search_page_data(req)
    resp = Response(render_template("search.html", **search_context(req, data)))
    resp.headers["Link"] = f'<{data["links"]["json"]}>; rel="alternate"; type="application/json"'
    return resp


@bp.route("/api/search")
def api_search():
    return jsonify(search_page_data(parse_request(request.args)))


@bp.route("/search.atom")
def atom():
    # The search the page shows; the feed is its newest articles.
    req = parse_request(request.args)
    data = search_page_data(dataclasses.replace(req, sort="newest", page=1, per_page=FEED_SIZE))
    root = request.url_root.rstrip("/")
    updated = max((h["date"] or "" for h in data["hits"]), default="") or dt.date.today().isoformat()
    body = render_template(
        "search.atom.xml",
        data=data,
        root=root,
        updated=_atom_time(updated),
        feed_id=root + data["links"]["atom"],
        page_url=root + link(url_for("pages.search"), [(k, v) for k, v in req.to_params(*_defaults()) if k != "page"]),
        entry_time=_atom_time,
        title=_feed_title(data["query"]),
    )
    return Response(body, mimetype="application/atom+xml")


def _atom_time(iso: str | None) -> str:
    if not iso:
        return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = (iso.split("-") + ["01", "01"])[:3]
    return f"{parts[0]}-{parts[1]}-{parts[2]}T00:00:00Z"


def _feed_title(query: Mapping) -> str:
    bits = []
    if query["q"]:
        bits.append(f"“{query['q']}”")
    bits += list(query["entity"])
    if query["date"]:
        bits.append(date_label(query["date"]))
    return "newsfacet: " + (", ".join(bits) if bits else "all articles")


@bp.route("/doc/<doc_id>")
def doc(doc_id: str):
    q = (request.args.get("q") or "").strip()
    SearchRequest(q=q)  # the search's own checks (its length cap): highlighting parses q too
    full = request.args.get("full")
    if full not in (None, "1"):
        raise InvalidParameter("full", "full must be 1 (show the whole text) or left out")
    data = doc_page_data(doc_id)
    search = get_search()
    # A page shows the first VIEW_CHARS characters (at a paragraph) unless asked for all of it.
    length = len(data["body"])
    text = data["body"] if full or length <= VIEW_CHARS else _lead(data["body"], VIEW_CHARS)
    body_html = search.highlight(text, q, VIEW_CHARS) if q else None
    texts = text.split("\n\n")
    shown = [Markup(p) for p in body_html.split("\n\n")] if body_html else texts
    # Subheadings inside the article were kept as their own lines; show them as such.
    paragraphs = [{"html": html_, "heading": is_heading(text)} for text, html_ in zip(texts, shown, strict=True)]
    entity_groups = []
    for type_, heading in TYPE_SECTIONS:
        items = [dict(e, href=_href([("entity", e["value"])])) for e in data["entities"] if e["type"] == type_]
        if items:
            entity_groups.append({"heading": heading, "entries": items})
    return render_template(
        "doc.html",
        data=data,
        q=q,
        paragraphs=paragraphs,
        entity_groups=entity_groups,
        date_text=date_label(data["date"]) if data["date"] else "undated",
        back=_href([("q", q)]) if q else url_for("pages.search"),
        original_url=data["url"] if _is_web_url(data["url"]) else None,
        length=length,
        shown_chars=len(text),
        view_chars=VIEW_CHARS,
        full_href=url_for("pages.doc", doc_id=doc_id, q=q or None, full="1") if len(text) < length else None,
    )


def _lead(body: str, limit: int) -> str:
    """The first *limit* characters of *body*, ending at a paragraph (or a word) break."""
    cut = body[:limit]
    end = cut.rfind("\n\n")
    if end <= 0:
        end = cut.rfind(" ")
    return cut[:end] if end > 0 else cut


def _is_web_url(url: str | None) -> bool:
    """Only http(s) links are rendered as links: a scraped ``javascript:`` URL stays text."""
    return bool(url) and urlsplit(url).scheme in ("http", "https")


@bp.route("/api/doc/<doc_id>")
def api_doc(doc_id: str):
    return jsonify(doc_page_data(doc_id))


# -- errors ----------------------------------------------------------------------------


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str, parameter: str | None = None):
    if _wants_json():
        return jsonify({"error": {"status": status, "message": message, "parameter": parameter}}), status
    return render_template("error.html", status=status, message=message, parameter=parameter), status


def register_errors(app) -> None:
    @app.errorhandler(InvalidParameter)
    def invalid(exc: InvalidParameter):
        return error_response(400, exc.message, exc.parameter)

    @app.errorhandler(IndexNotFound)
    def no_index(exc: IndexNotFound):
        return error_response(503, str(exc))

    @app.errorhandler(IndexDamaged)
    def damaged(exc: IndexDamaged):
        # Logged once, with its traceback, by the query service.
        return error_response(503, f"The search index cannot be used: {exc}.")

    @app.errorhandler(QueryTimeout)
    def timed_out(exc: QueryTimeout):
        response, status = error_response(503, str(exc), "q")
        response = app.make_response((response, status))
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(SearchError)
    def search_error(exc: SearchError):
        return error_response(400, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return error_response(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unexpected error on %s", request.path)
        return error_response(500, "Something went wrong on our side; the error has been logged.")
