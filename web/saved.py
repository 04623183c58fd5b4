"""Named saved searches, kept in SQLite in the instance folder.

A saved search is a name, a stable slug and the canonical query string of a
search.  ``/saved`` lists them with their current hit counts and how many
articles arrived since the last visit; ``/saved/<slug>`` opens the search
(and counts as a visit); forms rename and delete.  All writes are POST with a
CSRF token and run in ``BEGIN IMMEDIATE`` transactions, so parallel saves
neither lose nor duplicate entries.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import unicodedata
from dataclasses import replace
from urllib.parse import parse_qsl, quote

from flask import Blueprint, Flask, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from search.errors import InvalidParameter
from search.facets import date_label
from search.query import SearchRequest

from .index import get_search
from .pages import error_response
from .urls import canonical_pairs, link, request_from_args

bp = Blueprint("saved", __name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS saved (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created TEXT NOT NULL,
    last_visit TEXT NOT NULL
)
"""
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
MAX_NAME = 120
MAX_QUERY = 4000


def get_db() -> sqlite3.Connection:
    if "saved_db" not in g:
        path = current_app.config["SAVED_DB"]
        try:
            db = sqlite3.connect(path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)
        except sqlite3.OperationalError:
            # A read-only instance folder (an archive served as it is) or a full disk:
            # saved searches can still be listed and followed, only not changed.  A WAL
            # database is readable without its shared-memory file only when opened as
            # immutable; this connection lives for one request, so nothing goes stale.
            db = sqlite3.connect(f"file:{quote(path)}?mode=ro&immutable=1", uri=True, isolation_level=None)
            db.row_factory = sqlite3.Row
        g.saved_db = db
    return g.saved_db


def _store_problem(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return "the saved-search database is read-only"
    if "disk is full" in text or "disk I/O" in text:
        return "the disk holding the saved-search database is full or failing"
    if "unable to open" in text or "no such table" in text:
        return "the saved-search database cannot be opened"
    return text


@bp.errorhandler(sqlite3.Error)
def store_unavailable(exc: sqlite3.Error):
    current_app.logger.warning("saved searches: %s on %s", exc, request.path)
    return error_response(503, f"Saved searches cannot be used right now: {_store_problem(exc)}. "
                               "Searching is not affected.")


def close_db(exc: BaseException | None = None) -> None:
    db = g.pop("saved_db", None)
    if db is not None:
        db.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)


def slugify(name: str) -> str:
    """``Putin & Hamas, 2023`` → ``putin-hamas-2023``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-")
    return slug or "search"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _clean_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise InvalidParameter("name", "give the saved search a name")
    if len(name) > MAX_NAME:
        raise InvalidParameter("name", f"the name is longer than {MAX_NAME} characters")
    return name


def _request_of(query: str) -> SearchRequest:
    cfg = current_app.config
    return request_from_args(MultiDict(parse_qsl(query, keep_blank_values=False)), cfg["PER_PAGE"],
                             cfg["FACET_LIMIT"])


def _canonical(query: str) -> str:
    """The canonical query string of *query*, page left out; raises InvalidParameter."""
    if len(query) > MAX_QUERY:
        raise InvalidParameter("query", "the search is too long to save")
    cfg = current_app.config
    pairs = [(k, v) for k, v in canonical_pairs(_request_of(query), cfg["PER_PAGE"], cfg["FACET_LIMIT"])
             if k != "page"]
    return link("", pairs).lstrip("?")


def _row(slug: str) -> sqlite3.Row:
    if not SLUG_RE.match(slug):
        abort(404, description="There is no saved search with that name.")
    row = get_db().execute("SELECT * FROM saved WHERE slug = ?", (slug,)).fetchone()
    if row is None:
        abort(404, description="There is no saved search with that name.")
    return row


def _describe(req: SearchRequest) -> str:
    bits = []
    if req.q:
        bits.append(f"“{req.q}”")
    bits += list(req.entities)
    if req.date:
        bits.append(date_label(req.date))
    if req.date_from:
        bits.append(f"from {req.date_from}")
    if req.date_to:
        bits.append(f"to {req.date_to}")
    return ", ".join(bits) or "all articles"


def saved_list_data() -> list[dict]:
    """Every saved search with its current total and the number new since the last visit."""
    rows = get_db().execute("SELECT * FROM saved ORDER BY name COLLATE NOCASE, slug").fetchall()
    search = get_search()
    out = []
    for row in rows:
        req = _request_of(row["query"])
        last = dt.datetime.fromisoformat(row["last_visit"])
        total = search.search(replace(req, page=1, per_page=1)).total
        new = search.search(replace(req, page=1, per_page=1, indexed_after=last)).total
        out.append({
            "slug": row["slug"], "name": row["name"], "query": row["query"], "description": _describe(req),
            "total": total, "new": new, "created": row["created"], "last_visit": row["last_visit"],
            "links": {"open": url_for("saved.open_saved", slug=row["slug"]),
                      "search": link(url_for("pages.search"), parse_qsl(row["query"]))},
        })
    return out


@bp.get("/saved")
def saved_list():
    return render_template("saved.html", saved=saved_list_data())


@bp.get("/api/saved")
def api_saved_list():
    return jsonify({"saved": saved_list_data()})


@bp.post("/saved")
def save():
    name = _clean_name(request.form.get("name"))
    query = _canonical(request.form.get("query", ""))
    base = slugify(name)
    db = get_db()
    now = _now()
    db.execute("BEGIN IMMEDIATE")
    try:
        taken = {r[0] for r in db.execute("SELECT slug FROM saved WHERE slug = ? OR slug LIKE ?", (base, base + "-%"))}
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        db.execute("INSERT INTO saved (slug, name, query, created, last_visit) VALUES (?, ?, ?, ?, ?)",
                   (slug, name, query, now, now))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return redirect(url_for("saved.saved_list", _anchor=f"saved-{slug}"), code=303)


@bp.get("/saved/<slug>")
def open_saved(slug: str):
    row = _row(slug)
    try:
        get_db().execute("UPDATE saved SET last_visit = ? WHERE slug = ?", (_now(), row["slug"]))
    except sqlite3.OperationalError as exc:  # read-only or full: the link must still open
        current_app.logger.warning("saved search %s: visit not recorded: %s", row["slug"], exc)
    return redirect(link(url_for("pages.search"), parse_qsl(row["query"])), code=302)


@bp.post("/saved/<slug>/rename")
def rename(slug: str):
    row = _row(slug)
    name = _clean_name(request.form.get("name"))
    get_db().execute("UPDATE saved SET name = ? WHERE slug = ?", (name, row["slug"]))
    return redirect(url_for("saved.saved_list", _anchor=f"saved-{slug}"), code=303)


@bp.post("/saved/<slug>/delete")
def delete(slug: str):
    row = _row(slug)
    get_db().execute("DELETE FROM saved WHERE slug = ?", (row["slug"],))
    return redirect(url_for("saved.saved_list"), code=303)
