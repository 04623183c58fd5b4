"""Exports of a search: its whole result set, its facet counts and its timeline, as files.

==============================  ==========================================================
``/export.csv?…``               every hit, one row each (CSV)
``/export.jsonl?…``             every hit, one JSON object a line (JSON lines)
``/export/facets.csv?…``        ``type,value,count`` for every value of every entity type
``/export/timeline.csv?…``      ``period,count`` at the timeline's level, or ``level=``
==============================  ==========================================================

Each takes the parameters and filters of ``/search`` (``q``, ``entity``,
``entity_any``, ``entity_not``, ``date``, ``from``, ``to``, and ``sort`` for the
order of the hits); ``page``, ``per_page`` and ``facet_limit`` are ignored,
since an export is the whole result set.  Each answers as an attachment named
after the search (``newsfacet-hamas-2023.csv``).

The hit exports stream: the query service matches at once (so a bad parameter
is a 400 before anything is sent) and then hands out hits a batch at a time
(:meth:`search.api.SearchBackend.iter_hits`), which the generator here writes
out as it gets them, so memory stays flat however many rows there are.  The
hit iterator reads from a searcher of its own, not the request's (which
:mod:`web.index` closes on teardown, before a streamed body is sent), and
holds no lock, so a long download does not hold up other requests: it
occupies one server thread, as any request does.

CSV cells are written by :mod:`csv` (quoted as needed) and guarded against
spreadsheet formula injection (OWASP's "CSV injection"): a text cell that
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading ``'``, so a spreadsheet shows it as text instead of running it.
JSON lines carry the values unchanged.

Errors are the API's JSON (``{"error": {"status", "message", "parameter"}}``),
or the HTML error page for a browser that asks for HTML.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from search.api import (
    DATE_LEVELS,
    FACET_TYPES,
    LEVEL_LENGTH,
    UNDATED,
    DateFilter,
    FacetValuesRequest,
    IndexDamaged,
    IndexNotFound,
    InvalidParameter,
    QueryTimeout,
    SearchError,
    SearchRequest,
    chart_level,
    request_from_params,
)

from .index import get_search
from .urls import link, path_for

bp = Blueprint("export", __name__)

# Columns of a hit row; the syndicated-copy cluster as its id and size after them.
HIT_FIELDS = ("id", "path", "title", "date", "date_precision", "source", "url")
CLUSTER_COLUMNS = ("cluster", "cluster_size")
# Entities: one column per type, values joined by ENTITY_JOINER.
CSV_COLUMNS = HIT_FIELDS + CLUSTER_COLUMNS + FACET_TYPES
ENTITY_JOINER = "; "
BATCH = 500  # hits read, and rows written out, at a time
FACET_PAGE = 1000  # values asked of the query service at a time (its largest page)
# Search parameters an export does not take: it is the whole result set.
NOT_EXPORTED = ("page", "per_page", "facet_limit")
# Cells starting with these are read as formulas by spreadsheets (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Letters NFKD leaves whole, spelled in ASCII for file names (the others lose their accents).
UNDECOMPOSED = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ł": "l", "þ": "th", "ı": "i"})
CSV_TYPE = "text/csv; charset=utf-8"
JSONL_TYPE = "application/x-ndjson; charset=utf-8"


# -- links ----------------------------------------------------------------------------


def export_links(req: SearchRequest) -> dict[str, str]:
    """The four export URLs of search *req*, for the page and its JSON twin's ``links``:
    ``csv``, ``jsonl`` (with the search's sort), ``facets_csv``, ``timeline_csv``."""
    pairs = [(k, v) for k, v in req.to_params(*_defaults()) if k not in NOT_EXPORTED]
    unsorted = [(k, v) for k, v in pairs if k != "sort"]
    return {
        "csv": link(path_for("export.hits_csv"), pairs),
        "jsonl": link(path_for("export.hits_jsonl"), pairs),
        "facets_csv": link(path_for("export.facets_csv"), unsorted),
        "timeline_csv": link(path_for("export.timeline_csv"), unsorted),
    }


# -- requests -------------------------------------------------------------------------


def _defaults() -> tuple[int, int]:
    return current_app.config["PER_PAGE"], current_app.config["FACET_LIMIT"]


def export_request(args) -> SearchRequest:
    """The search of an export's URL parameters (400 on a bad one); page and sizes ignored."""
    kept = MultiDict([(k, v) for k, v in args.items(multi=True) if k not in NOT_EXPORTED])
    return request_from_params(kept, *_defaults())


def file_name(req: SearchRequest, kind: str, ext: str) -> str:
    """``newsfacet[-kind]-<the search in a few words>.<ext>``: ASCII letters, digits and hyphens only."""
    words = [req.q, *req.entities, *req.entities_any]
    words += [f"not {v}" for v in req.entities_not]
    if req.date:
        words.append(req.date.value)
    if req.date_from:
        words.append(f"from {req.date_from}")
    if req.date_to:
        words.append(f"to {req.date_to}")
    text = " ".join(words).lower().translate(UNDECOMPOSED)
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:60].rstrip("-") or "all"
    return "-".join(p for p in ("newsfacet", kind, slug) if p) + "." + ext


def _attachment(body, mimetype: str, name: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


# -- rows -----------------------------------------------------------------------------


def safe_cell(value) -> str:
    """A CSV cell that a spreadsheet will not run: text starting with a formula character gets a ``'``."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def entities_by_type(hit: dict) -> dict[str, list[str]]:
    """A hit's entity values grouped by type, in the hit's order (a type the project does not know counts as other)."""
    out: dict[str, list[str]] = {t: [] for t in FACET_TYPES}
    for e in hit["entities"]:
        out[e["type"] if e["type"] in out else "other"].append(e["value"])
    return out


def csv_row(hit: dict) -> list[str]:
    groups = entities_by_type(hit)
    cluster = [safe_cell(hit["cluster"]["id"]), str(hit["cluster"]["size"])]
    return ([safe_cell(hit[f]) for f in HIT_FIELDS] + cluster
            + [safe_cell(ENTITY_JOINER.join(groups[t])) for t in FACET_TYPES])


def jsonl_record(hit: dict) -> dict:
    return {**{f: hit[f] for f in HIT_FIELDS}, "cluster": hit["cluster"], "entities": entities_by_type(hit)}


def _csv_text(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


def _stream(hits, encode, header: str = ""):
    """The body of a hit export: *header*, then *encode*\\ d hits :data:`BATCH` at a time; closes *hits*."""
    try:
        if header:
            yield header
        batch: list[dict] = []
        for hit in hits:
            batch.append(hit)
            if len(batch) == BATCH:
                yield encode(batch)
                batch.clear()
        if batch:
            yield encode(batch)
    finally:
        hits.close()


# -- routes ---------------------------------------------------------------------------


@bp.route("/export.csv")
def hits_csv():
    req = export_request(request.args)
    hits = get_search().iter_hits(req, batch_size=BATCH)  # matches now: a bad query is a 400 here
    body = _stream(hits, lambda batch: _csv_text(csv_row(h) for h in batch), _csv_text([CSV_COLUMNS]))
    resp = _attachment(body, CSV_TYPE, file_name(req, "", "csv"))
    resp.headers["X-Total-Count"] = str(hits.total)
    return resp


@bp.route("/export.jsonl")
def hits_jsonl():
    req = export_request(request.args)
    hits = get_search().iter_hits(req, batch_size=BATCH)

    def encode(batch):
        return "".join(json.dumps(jsonl_record(h), ensure_ascii=False) + "\n" for h in batch)

    resp = _attachment(_stream(hits, encode), JSONL_TYPE, file_name(req, "", "jsonl"))
    resp.headers["X-Total-Count"] = str(hits.total)
    return resp


@bp.route("/export/facets.csv")
def facets_csv():
    """Every value of every entity type with its count, as ``/api/facets/<type>`` counts them
    (disjunctive for a type with an OR group); by type, then most frequent first."""
    req = export_request(request.args)
    search = get_search()
    rows = [("type", "value", "count")]
    for type_ in FACET_TYPES:
        page = 1
        while True:
            answer = search.facet_values(FacetValuesRequest(type_, req, page=page, per_page=FACET_PAGE))
            rows += [(type_, safe_cell(f["value"]), f["count"]) for f in answer.values]
            if page * FACET_PAGE >= answer.total_values:
                break
            page += 1
    return _attachment(_csv_text(rows), CSV_TYPE, file_name(req, "facets", "csv"))


@bp.route("/export/timeline.csv")
def timeline_csv():
    """Matches per period: at the level the search page's timeline shows (``level`` left
    out), or at ``level=year|month|day`` over every date of the result set.

    Gaps are rows of 0, as the page's bars are; an article dated less precisely
    than the level is a row of its own precision (``2023`` among months), and
    undated articles are the last row, so the counts sum to the total.
    """
    level = request.args.get("level") or None
    if level is not None and level not in DATE_LEVELS:
        raise InvalidParameter("level", f"level must be one of {', '.join(DATE_LEVELS)}, not {level!r}")
    req = export_request(request.args)
    search = get_search()
    if level is None:
        level, within, counts = chart_level(search, req)  # as the page charts it
    else:
        within = req.date if req.date and req.date.level != UNDATED and \
            LEVEL_LENGTH[req.date.level] < LEVEL_LENGTH[level] else None
        counts = search.date_counts(req, level)
    rows = [("period", "count")] + [(p, n) for p, n in with_gaps(counts, level, within)]
    return _attachment(_csv_text(rows), CSV_TYPE, file_name(req, "timeline", "csv"))


def _periods(first: str, last: str, level: str):
    """Every period at *level* from *first* to *last* (inclusive)."""
    if level == "year":
        yield from (f"{y:04d}" for y in range(int(first), int(last) + 1))
    elif level == "month":
        y, m = int(first[:4]), int(first[5:7])
        while f"{y:04d}-{m:02d}" <= last:
            yield f"{y:04d}-{m:02d}"
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    else:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            yield day.isoformat()
            day += dt.timedelta(days=1)


def _span(within: DateFilter, level: str) -> tuple[str, str]:
    """The first and last period at *level* inside *within* (a year or a month)."""
    year = within.parts[0]
    month = within.parts[1] if len(within.parts) > 1 else None
    if level == "month":
        return f"{year:04d}-01", f"{year:04d}-12"
    first = dt.date(year, month or 1, 1)
    last = dt.date(year + (month or 12) // 12, (month or 12) % 12 + 1, 1) - dt.timedelta(days=1)
    return first.isoformat(), last.isoformat()


def with_gaps(counts: list[dict], level: str, within: DateFilter | None) -> list[tuple[str, int]]:
    """*counts* with a 0 row for each period at *level* that has none: over *within* when given,
    else from the first to the last period with matches; coarser dates before the periods they hold."""
    found = {c["value"]: c["count"] for c in counts}
    undated = found.pop(UNDATED, 0)
    fine = sorted(p for p in found if len(p) == LEVEL_LENGTH[level])
    if within is not None and within.level != "day":
        first, last = _span(within, level)
    elif fine:
        first, last = fine[0], fine[-1]
    else:
        first = last = None
    if first is not None:
        for period in _periods(first, last, level):
            found.setdefault(period, 0)
    rows = sorted(found.items(), key=lambda item: [int(x) for x in item[0].split("-")] + [0] * 2)
    return rows + ([(UNDATED, undated)] if undated else [])


# -- errors ---------------------------------------------------------------------------


def _wants_html() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def _error(status: int, message: str, parameter: str | None = None, retry_after: str | None = None):
    if _wants_html():
        from .pages import error_response

        body, status = error_response(status, message, parameter)
        resp = current_app.make_response((body, status))
    else:
        resp = jsonify({"error": {"status": status, "message": message, "parameter": parameter}})
        resp.status_code = status
    if retry_after:
        resp.headers["Retry-After"] = retry_after
    return resp


@bp.errorhandler(SearchError)
def _search_error(exc: SearchError):
    # The statuses and messages the pages give (web.pages.register_errors), as the API's JSON.
    if isinstance(exc, InvalidParameter):
        return _error(400, exc.message, exc.parameter)
    if isinstance(exc, IndexNotFound):
        return _error(503, str(exc))
    if isinstance(exc, IndexDamaged):
        return _error(503, f"The search index cannot be used: {exc}.")
    if isinstance(exc, QueryTimeout):
        return _error(503, str(exc), "q", retry_after="5")
    return _error(400, str(exc))


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return _error(exc.code or 500, exc.description or exc.name)


__all__ = ["bp", "export_links"]
