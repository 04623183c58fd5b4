"""The index as the web app sees it: one query service per app, one searcher per request.

Like ``get_db`` / ``close_db`` in Flask's tutorial: :func:`get_search` opens a
searcher on the latest index commit the first time a request needs it and
keeps it in ``g``; :func:`close_search` closes it on teardown.  A new commit by
``newsfacet index`` is therefore seen by the next request, without a restart.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, g

from search.api import SearchBackend, open_backend

_lock = threading.Lock()


def get_service() -> SearchBackend:
    """The app's shared query service (opened lazily, so the app starts without an index)."""
    ext = current_app.extensions.setdefault("newsfacet", {})
    if "service" not in ext:
        with _lock:
            if "service" not in ext:
                ext["service"] = open_backend(ext["settings"])
    return ext["service"]


def get_search() -> SearchBackend:
    """The query service pinned to this request's searcher."""
    if "search" not in g:
        g.search = get_service().open()
    return g.search


def close_search(exc: BaseException | None = None) -> None:
    session = g.pop("search", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_search)
