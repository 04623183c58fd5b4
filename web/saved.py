"""Named saved searches, kept in SQLite in the instance folder.

A saved search is a name, a stable slug and the canonical query string of a
search.  ``/saved`` lists them, a page at a time, with their current hit
counts and how many articles arrived since the last visit; ``/saved/<slug>``
opens the search (and counts as a visit); forms rename and delete.  All writes
are POST with a CSRF token and run in ``BEGIN IMMEDIATE`` transactions, so
parallel saves neither lose nor duplicate entries; a store holds at most
``MAX_SAVED`` entries.

Who may write (:func:`write_mode`): anyone when the site answers only this
machine and no ``ADMIN_TOKEN`` is set (a researcher's own server); with
``ADMIN_TOKEN`` set, only requests that send it as the password of HTTP basic
authentication (browsers ask for it); nobody when the site is public and no
token is set, since every visitor could otherwise rename or delete every
entry.

Counts are cached per index generation: they change only when the index does
(or, for "new", when the entry's last visit does), and recounting hundreds of
searches on every visit is what made a long list take minutes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import parse_qsl, quote

from flask import Blueprint, Flask, abort, current_app, g, jsonify, redirect, render_template, request, session, url_for
from werkzeug.datastructures import MultiDict

from search.api import IndexDamaged, IndexNotFound, InvalidParameter, SearchRequest, request_from_params

from .index import get_service
from .pages import error_response
from .urls import link

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
PER_PAGE = 100
AUTH_REALM = "newsfacet saved searches"
DONE_KEY = "saved_done"
MAX_UNDO_QUERY = 2000  # the session is a cookie (4 KB with everything else)


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
    # Templates outside this module (the search page's save form) can ask too.
    app.jinja_env.globals["saved_write_mode"] = write_mode


# -- who may write ---------------------------------------------------------------------


def write_mode() -> str:
    """``open`` (anyone), ``token`` (with ``ADMIN_TOKEN``) or ``read-only``."""
    cfg = current_app.config
    if cfg.get("ADMIN_TOKEN"):
        return "token"
    return "read-only" if cfg.get("PUBLIC") else "open"


def _sent_token() -> str | None:
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return None
    return auth.password


def _writes(view: Callable) -> Callable:
    """Let *view* run only for a request allowed to change saved searches (see :func:`write_mode`)."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        mode = write_mode()
        if mode == "read-only":
            return error_response(403, "Saved searches are read-only on this server: it answers other machines "
                                       "and no admin token is set. To allow changes, restart it with "
                                       "NEWSFACET_ADMIN_TOKEN set and sign in with that token as the password.")
        if mode == "token":
            sent = (_sent_token() or "").encode("utf-8")
            if not hmac.compare_digest(sent, current_app.config["ADMIN_TOKEN"].encode("utf-8")):
                response = current_app.make_response(error_response(
                    401, "Changing saved searches needs this server's admin token: sign in with any user name "
                         "and the NEWSFACET_ADMIN_TOKEN value as the password."))
                # Browsers ask for the password on this header and send it again on every later change.
                response.headers["WWW-Authenticate"] = f'Basic realm="{AUTH_REALM}", charset="UTF-8"'
                return response
        return view(*args, **kwargs)

    return guarded


# -- counts, cached per index generation ----------------------------------------------------


class CountCache:
    """Saved searches' counts for one index generation; a new generation empties it.

    Keys are ``("total", query)`` and ``("new", query, last_visit)``: the
    total depends only on the query and the index, "new" also on the visit.
    """

    MAX_ENTRIES = 50_000  # a bound against a store churned by visits: past it, start over

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._counts: dict[tuple, int] = {}

    def get(self, generation: int, key: tuple) -> int | None:
        with self._lock:
            return self._counts.get(key) if generation == self._generation else None

    def put(self, generation: int, values: dict[tuple, int]) -> None:
        with self._lock:
            if generation != self._generation or len(self._counts) + len(values) > self.MAX_ENTRIES:
                self._generation, self._counts = generation, {}
            self._counts.update(values)


_state_lock = threading.Lock()


def _counting_state() -> tuple[CountCache, object]:
    """The app's count cache and the backend, whose ``generation()`` tells when it goes stale."""
    ext = current_app.extensions.setdefault("newsfacet", {})
    if "saved_counts" not in ext:
        with _state_lock:
            if "saved_counts" not in ext:
                ext["saved_counts"] = CountCache()
    return ext["saved_counts"], get_service()


def _counts(rows: list[sqlite3.Row]) -> dict[str, tuple[int, int]]:
    """``slug → (total, new since last visit)`` for *rows*, from the cache where it can."""
    if not rows:
        return {}  # an empty page needs no index
    cache, ix = _counting_state()
    # The generation is read before the searcher is pinned and again after counting:
    # when both agree, the searcher was on that generation and its counts may be kept.
    before = ix.generation()
    fresh: dict[tuple, int] = {}
    out: dict[str, tuple[int, int]] = {}
    search = None
    try:
        for row in rows:
            query, last = row["query"], row["last_visit"]
            keys = (("total", query), ("new", query, last))
            values = []
            for key in keys:
                value = fresh.get(key)
                if value is None:
                    value = cache.get(before, key)
                if value is None:
                    if search is None:
                        search = get_service().open()
                    req = replace(_request_of(query), page=1, per_page=1, facet_limit=1)
                    if key[0] == "new":
                        req = replace(req, indexed_after=dt.datetime.fromisoformat(last))
                    value = fresh[key] = search.search(req).total
                values.append(value)
            out[row["slug"]] = (values[0], values[1])
    finally:
        if search is not None:
            search.close()
    if fresh and ix.generation() == before:
        cache.put(before, fresh)
    return out


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
    return request_from_params(MultiDict(parse_qsl(query, keep_blank_values=False)), cfg["PER_PAGE"],
                             cfg["FACET_LIMIT"])


def _canonical(query: str) -> str:
    """The canonical query string of *query*, page left out; raises InvalidParameter."""
    if len(query) > MAX_QUERY:
        raise InvalidParameter("query", "the search is too long to save")
    cfg = current_app.config
    pairs = [(k, v) for k, v in _request_of(query).to_params(cfg["PER_PAGE"], cfg["FACET_LIMIT"])
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
        bits.append(req.date.label)
    if req.date_from:
        bits.append(f"from {req.date_from}")
    if req.date_to:
        bits.append(f"to {req.date_to}")
    return ", ".join(bits) or "all articles"


def _page_arg() -> int:
    raw = request.args.get("page") or "1"
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= 100_000:
        raise InvalidParameter("page", f"page must be a whole number from 1 to 100000, not {raw[:40]!r}")
    return int(raw)


def saved_list_data(page: int = 1) -> dict:
    """One page of saved searches, each with its current total and the number new since
    its last visit, and the links to the other pages."""
    db = get_db()
    (count,) = db.execute("SELECT COUNT(*) FROM saved").fetchone()
    rows = db.execute("SELECT * FROM saved ORDER BY name COLLATE NOCASE, slug LIMIT ? OFFSET ?",
                      (PER_PAGE, (page - 1) * PER_PAGE)).fetchall()
    notice = None
    try:
        counts = _counts(rows)
    except (IndexDamaged, IndexNotFound) as exc:
        # The list and its links do not need the index; only the counts do.
        counts = {}
        notice = f"Counts are unavailable: {exc}."
    entries = []
    for row in rows:
        req = _request_of(row["query"])
        total, new = counts.get(row["slug"], (None, None))
        entries.append({
            "slug": row["slug"], "name": row["name"], "query": row["query"], "description": _describe(req),
            "total": total, "new": new, "created": row["created"], "last_visit": row["last_visit"],
            "links": {"open": url_for("saved.open_saved", slug=row["slug"]),
                      "search": link(url_for("pages.search"), parse_qsl(row["query"]))},
        })
    last = max(1, -(-count // PER_PAGE))

    def page_link(endpoint: str, n: int) -> str:
        return url_for(endpoint, page=n if n != 1 else None)

    return {
        "saved": entries,
        "count": count,
        "page": page,
        "pages": last,
        "per_page": PER_PAGE,
        "writes": write_mode(),
        "notice": notice,
        "links": {
            "self": page_link("saved.saved_list", page),
            "json": page_link("saved.api_saved_list", page),
            "prev": page_link("saved.api_saved_list", min(page - 1, last)) if page > 1 else None,
            "next": page_link("saved.api_saved_list", page + 1) if page < last else None,
        },
    }


def _pagination(data: dict) -> dict:
    """The shape ``_pagination.html`` draws, for the HTML list."""
    page, last = data["page"], data["pages"]

    def href(n: int) -> str:
        return url_for("saved.saved_list", page=n if n != 1 else None)

    return {
        "page": page, "last": last,
        "prev": href(min(page - 1, last)) if page > 1 else None,
        "next": href(page + 1) if page < last else None,
        "pages": [{"n": n, "href": href(n), "current": n == page}
                  for n in range(max(1, page - 3), min(last, page + 3) + 1)],
    }


@bp.get("/saved")
def saved_list():
    data = saved_list_data(_page_arg())
    return render_template("saved.html", saved=data["saved"], data=data, pagination=_pagination(data),
                           done=_done_notice())


@bp.get("/api/saved")
def api_saved_list():
    return jsonify(saved_list_data(_page_arg()))


class _StoreFull(Exception):
    pass


def _listed_at(slug: str) -> str:
    """The list page showing *slug*, anchored at its row (names sort, so it moves when renamed)."""
    row = get_db().execute("SELECT name FROM saved WHERE slug = ?", (slug,)).fetchone()
    page = 1
    if row is not None:
        (before,) = get_db().execute(
            "SELECT COUNT(*) FROM saved WHERE name < ? COLLATE NOCASE OR (name = ? COLLATE NOCASE AND slug < ?)",
            (row["name"], row["name"], slug)).fetchone()
        page = before // PER_PAGE + 1
    return url_for("saved.saved_list", page=page if page != 1 else None, _anchor=f"saved-{slug}")


@bp.post("/saved")
@_writes
def save():
    name = _clean_name(request.form.get("name"))
    query = _canonical(request.form.get("query", ""))
    base = slugify(name)
    db = get_db()
    now = _now()
    limit = current_app.config["MAX_SAVED"]
    db.execute("BEGIN IMMEDIATE")
    try:
        # Counted inside the write transaction, so parallel saves cannot overshoot the cap.
        if db.execute("SELECT COUNT(*) FROM saved").fetchone()[0] >= limit:
            raise _StoreFull
        taken = {r[0] for r in db.execute("SELECT slug FROM saved WHERE slug = ? OR slug LIKE ?", (base, base + "-%"))}
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        db.execute("INSERT INTO saved (slug, name, query, created, last_visit) VALUES (?, ?, ?, ?, ?)",
                   (slug, name, query, now, now))
        db.execute("COMMIT")
    except _StoreFull:
        db.execute("ROLLBACK")
        return error_response(409, f"This server keeps at most {limit} saved searches and has that many: "
                                   "delete some first (the limit is NEWSFACET_MAX_SAVED).")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    _confirm("saved", slug=slug, name=name)
    return redirect(_listed_at(slug), code=303)


@bp.get("/saved/<slug>")
def open_saved(slug: str):
    row = _row(slug)
    try:
        get_db().execute("UPDATE saved SET last_visit = ? WHERE slug = ?", (_now(), row["slug"]))
    except sqlite3.OperationalError as exc:  # read-only or full: the link must still open
        current_app.logger.warning("saved search %s: visit not recorded: %s", row["slug"], exc)
    return redirect(link(url_for("pages.search"), parse_qsl(row["query"])), code=302)


@bp.post("/saved/<slug>/rename")
@_writes
def rename(slug: str):
    row = _row(slug)
    name = _clean_name(request.form.get("name"))
    get_db().execute("UPDATE saved SET name = ? WHERE slug = ?", (name, row["slug"]))
    _confirm("renamed", slug=row["slug"], name=name)
    return redirect(_listed_at(slug), code=303)


@bp.get("/saved/<slug>/confirm-delete")
@_writes
def confirm_delete(slug: str):
    """The step before deleting: what would go, a button that deletes it and a way back (no script needed)."""
    row = _row(slug)
    return render_template("saved_delete.html", entry={
        "slug": row["slug"], "name": row["name"], "description": _describe(_request_of(row["query"])),
        "back": _listed_at(row["slug"])})


@bp.post("/saved/<slug>/delete")
@_writes
def delete(slug: str):
    row = _row(slug)
    get_db().execute("DELETE FROM saved WHERE slug = ?", (row["slug"],))
    # What was deleted, for the list's "Undo" (saving it again) on the next page shown.
    # (a query too long for the session cookie is not kept: the deletion is then confirmed without "Undo")
    _confirm("deleted", slug=row["slug"], name=row["name"],
             query=row["query"] if len(row["query"]) <= MAX_UNDO_QUERY else "")
    return redirect(url_for("saved.saved_list"), code=303)


def _confirm(kind: str, **what: str) -> None:
    """Remember what a save, rename or delete did, for the next list page to confirm (once)."""
    session[DONE_KEY] = dict(what, kind=kind)


def _done_notice() -> dict | None:
    """The confirmation the list page shows once after a save, rename or delete."""
    done = session.pop(DONE_KEY, None)
    if not isinstance(done, dict) or not all(isinstance(v, str) for v in done.values()):
        return None
    name = done.get("name", "")
    if done.get("kind") == "saved":
        return {"kind": "saved", "slug": done.get("slug"), "text": f"Saved “{name}”. Open it from this list any time."}
    if done.get("kind") == "renamed":
        return {"kind": "renamed", "slug": done.get("slug"), "text": f"Renamed to “{name}”."}
    if done.get("kind") == "deleted":
        undo = {"name": name, "query": done["query"]} if done.get("query") and write_mode() != "read-only" else None
        return {"kind": "deleted", "text": f"Deleted “{name}”.", "undo": undo}
    return None
