"""The index as the web app sees it: one query service per app, one searcher per request.

Like ``get_db`` / ``close_db`` in Flask's tutorial: :func:`get_search` opens a
searcher on the latest index commit the first time a request needs it and
keeps it in ``g``; :func:`close_search` closes it on teardown.  A new commit by
``newsfacet index`` is therefore seen by the next request, without a restart.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, g

from search.api import SearchBackend, SearchError, open_backend

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
        service = get_service()
        # Read before the searcher is pinned: see pinned_generation.
        try:
            g.search_generation = service.generation()
        except (OSError, SearchError):
            g.search_generation = None  # no per-commit caching for this request; open() says what is wrong
        g.search = service.open()
    return g.search


def pinned_generation() -> int | None:
    """The index generation this request's searcher is on, or None when that is not certain.

    The searcher is pinned on the latest commit at the time; when the generation
    read before pinning it is still the latest now, the searcher is on that one
    (a commit in between would have made it larger), so values computed from it
    may be kept under that generation (:class:`GenerationCache`).
    """
    get_search()
    before = g.get("search_generation")
    if before is None:
        return None
    try:
        return before if get_service().generation() == before else None
    except (OSError, SearchError):
        return None


class GenerationCache:
    """Values computed from one index generation; a new generation empties it.

    Bounded: past :attr:`size` entries the oldest goes first.  Values are
    shared between requests and threads, so callers must not change them.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._values: dict = {}

    def get(self, generation: int, key):
        with self._lock:
            return self._values.get(key) if generation == self._generation else None

    def put(self, generation: int, key, value) -> None:
        with self._lock:
            if generation != self._generation:
                if self._generation is not None and generation < self._generation:
                    return  # a request still on an older commit: keep the newer one's values
                self._generation, self._values = generation, {}
            self._values.pop(key, None)
            self._values[key] = value
            while len(self._values) > self.size:
                del self._values[next(iter(self._values))]


def app_cache(name: str, size: int) -> GenerationCache:
    """The app's :class:`GenerationCache` called *name* (made on first use)."""
    ext = current_app.extensions.setdefault("newsfacet", {})
    cache = ext.get(name)
    if cache is None:
        with _lock:
            cache = ext.setdefault(name, GenerationCache(size))
    return cache


def close_search(exc: BaseException | None = None) -> None:
    session = g.pop("search", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_search)
