"""The Flask front end: search pages, their JSON twins, article pages, saved searches.

``create_app`` is the application factory (``flask --app web run`` finds it).
Configuration comes from :class:`search.api.Settings` (defaults, then
environment variables, then command-line flags, read once), then the mapping
a caller passes:

==========================  ==================================  ======================
setting                     environment variable                default
==========================  ==================================  ======================
``INDEX_DIR``               ``NEWSFACET_INDEX``                 ``./index``
``ALIASES``                 ``NEWSFACET_ALIASES``               none
``SECRET_KEY``              ``NEWSFACET_SECRET_KEY``            random, kept in the instance folder
``SAVED_DB``                ``NEWSFACET_SAVED_DB``              ``<instance>/saved.sqlite3``
``PER_PAGE``                ``NEWSFACET_PER_PAGE``              10
``FACET_LIMIT``             ``NEWSFACET_FACET_LIMIT``           20
``BASE_URL``                ``NEWSFACET_BASE_URL``              none: links from the request's (allowed) host
``ALLOWED_HOSTS``           ``NEWSFACET_ALLOWED_HOSTS``         ``127.0.0.1,localhost``
``ADMIN_TOKEN``             ``NEWSFACET_ADMIN_TOKEN``           none
``MAX_SAVED``               ``NEWSFACET_MAX_SAVED``             500
``LISTEN_HOST``             (set by ``newsfacet serve``)        none
``PUBLIC``                  (derived)                           whether any of the hosts above is not loopback
(instance folder)           ``NEWSFACET_INSTANCE``              Flask's ``instance/``
==========================  ==================================  ======================

``BASE_URL`` is the public ``scheme://host[:port]`` the site is reached at;
absolute links (the share link, the Atom feed) are built from it.  Requests
whose ``Host`` is not in ``ALLOWED_HOSTS`` (comma-separated; the base URL's
host and a specific ``LISTEN_HOST`` are added) are refused with 400.  When the
site answers beyond this machine, saved searches can only be changed with
``ADMIN_TOKEN`` (see :mod:`web.saved`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from search.api import Settings

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict | None = None, settings: Settings | None = None) -> Flask:
    """Create the newsfacet web application.

    :param test_config: Flask config keys that win over *settings*.
    :param settings: the process's settings (default: read from the
        environment once, here), as ``newsfacet serve`` passes them.
    """
    settings = settings or Settings.from_env()
    root = Path(__file__).resolve().parent
    # Imported here: the command line (web.cli) lives in this package and most of its
    # commands never serve, so they need not pay for importing Flask.
    from flask import Flask

    app = Flask(
        __name__,
        instance_path=str(settings.instance.resolve()) if settings.instance else None,
        instance_relative_config=True,
        # a wheel carries the top-level templates/ as web/templates (setup.cfg maps it); a checkout has it beside web/
        template_folder=str(root / "templates" if (root / "templates").is_dir() else root.parent / "templates"),
        static_folder=str(root / "static"),
    )
    app.config.from_mapping(
        INDEX_DIR=str(settings.index_dir.resolve()),
        ALIASES=str(settings.aliases) if settings.aliases else None,
        SECRET_KEY=settings.secret_key,
        SAVED_DB=str(settings.saved_db) if settings.saved_db else None,
        PER_PAGE=settings.per_page,
        FACET_LIMIT=settings.facet_limit,
        BASE_URL=settings.base_url,
        ALLOWED_HOSTS=settings.allowed_hosts,
        ADMIN_TOKEN=settings.admin_token,
        MAX_SAVED=settings.max_saved,
        LISTEN_HOST=None,  # the address `newsfacet serve` binds; None: unknown (flask run, tests)
        PUBLIC=None,  # answers beyond this machine? None: decided from the hosts above (web.security)
        # Flask's own default is None (no SameSite), which lets other sites' forms carry the cookie.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        MAX_CONTENT_LENGTH=64 * 1024,  # forms here are a name and a query string
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    # The settings as this app ended up with them: what its backend is opened with.
    app.extensions["newsfacet"] = {"settings": dataclasses.replace(
        settings, index_dir=Path(app.config["INDEX_DIR"]), per_page=app.config["PER_PAGE"],
        facet_limit=app.config["FACET_LIMIT"])}
    app.json.sort_keys = False
    _dict_items_first(app.jinja_env)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SAVED_DB"]:
        app.config["SAVED_DB"] = str(Path(app.instance_path) / "saved.sqlite3")
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    from . import cooccur, export, facets, index, pages, saved, security

    index.init_app(app)
    security.init_app(app)
    saved.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(saved.bp)
    app.register_blueprint(facets.bp)
    app.register_blueprint(export.bp)
    app.register_blueprint(cooccur.bp)
    pages.register_errors(app)
    return app


_DICT_ATTRIBUTES = frozenset(dir(dict))


def _dict_items_first(env) -> None:
    """Jinja's ``x.name`` on a plain dict without that method name looks the key up first.

    Jinja tries the attribute first and the key after, so every ``f.value`` in a
    template raised and caught an AttributeError: over two thousand a search page.
    The answer is the same: such a dict has no attribute of that name.
    """
    generic = env.getattr

    def getattr_(obj, attribute):
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return generic(obj, attribute)

    env.getattr = getattr_


def _instance_secret(instance: Path) -> str:
    """A secret key kept beside the saved-search database, made on first start.

    ``newsfacet serve --workers N`` starts N processes at once, each calling this
    on a fresh instance folder: they must all end with the same key (or sessions
    and CSRF tokens fail across workers) and none may read a half-written file.
    So the key is written whole to a private temporary file in the same folder
    and hard-linked into place: ``os.link`` fails if the name exists, the first
    link wins, and every caller reads the winner's complete file.
    """
    path = instance / "secret_key"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(prefix=".secret_key.", dir=instance)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(secrets.token_hex(32))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process got there first: its key is the one
            except OSError:
                # A filesystem without hard links: an exclusive rename is not portable, so
                # fall back to O_EXCL on the name itself, written in one call (readers retry below).
                _create_exclusive(path, Path(tmp).read_text(encoding="utf-8"))
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    # Bounded: only the O_EXCL fallback can show an empty file, for the moment between its open and write.
    for _ in range(50):
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: delete it and start again to make a new secret key")


def _create_exclusive(path: Path, text: str) -> None:
    """Create *path* holding *text* unless it exists (then leave it: its writer won)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
