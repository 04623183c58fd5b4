"""What the app trusts about a request: its Host, its origin, its form token; and the headers it sends back.

Every page is built from text scraped off the web, so the browser is told to
run nothing but our own script and stylesheet (``Content-Security-Policy``),
never to guess content types, never to be framed, and to send no referrer
outside the site.

The ``Host`` header is the client's claim, so it is checked against the names
the site answers to (Flask's ``TRUSTED_HOSTS``, filled from ``ALLOWED_HOSTS``,
the base URL's host and a specific listen address); a request for any other
host is refused before a view runs.  With ``BASE_URL`` set, absolute links
come from it and not from the request at all (:class:`PublicRequest`).

Forms that change state are POST-only and carry a token tied to the session
(:func:`csrf_token`); a POST whose browser says it came from another origin
(``Origin``, or ``Referer`` without one) is refused too.  Both checks run
only for requests that routed to a view accepting their method, so a wrong
method is a 405 with ``Allow``, not a complaint about the form.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, has_request_context, jsonify, make_response, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import BadRequest, Forbidden, MethodNotAllowed, SecurityError
from werkzeug.sansio.utils import get_current_url
from werkzeug.utils import cached_property

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Addresses that mean "every interface": what the site answers to is then unknown.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]", "*"})


# -- host names --------------------------------------------------------------------


def host_name(host: str) -> str:
    """``Example.org:8080`` → ``example.org``; ``[::1]:5000`` → ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback(host: str) -> bool:
    """Whether *host* (a name or address, port allowed) can only be reached from this machine."""
    name = host_name(host)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_base_url(value: str | None) -> str | None:
    """The public base URL as ``scheme://host[:port]``, or None when unset.

    :raises ValueError: when it is not an http(s) URL of a host alone; the
        site's links are root-relative, so a path prefix cannot be served.
    """
    if not value or not value.strip():
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"NEWSFACET_BASE_URL must look like https://news.example.org, not {value!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"NEWSFACET_BASE_URL must be a scheme and host only (no path prefix), not {value!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"NEWSFACET_BASE_URL has a bad port: {value!r}") from None
    return _origin(parts.scheme, parts.hostname, port)


def _origin(scheme: str, hostname: str, port: int | None) -> str:
    host = f"[{hostname}]" if ":" in hostname else hostname
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host.lower()}" + (f":{port}" if port and port != default else "")


def origin_of(url: str) -> str | None:
    """The normalised ``scheme://host[:port]`` of *url*, or None when it has none (``null``, junk)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return _origin(parts.scheme, parts.hostname, port)


def allowed_hosts(app: Flask) -> list[str]:
    """Every host name the site answers to: ``ALLOWED_HOSTS``, the base URL's host, a specific listen address."""
    raw = app.config.get("ALLOWED_HOSTS") or []
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    base = app.config.get("BASE_URL")
    if base:
        names.append(urlsplit(base).netloc)
    listen = app.config.get("LISTEN_HOST")
    if listen and listen not in WILDCARD_HOSTS:
        names.append(listen)
    out: list[str] = []
    for name in names:
        name = name.strip().lower()
        if name and name not in out:
            out.append(name)
    return out


def is_public(app: Flask) -> bool:
    """Whether the site may answer other machines: it listens on a non-loopback
    address, or answers to a name (allowed host, base URL) that is not a loopback one."""
    listen = app.config.get("LISTEN_HOST")
    if listen is not None and (listen in WILDCARD_HOSTS or not is_loopback(listen)):
        return True
    return any(not is_loopback(name) for name in allowed_hosts(app))


# -- the request as the public sees it -------------------------------------------------


class PublicRequest(Request):
    """A request whose absolute URLs use the configured base URL when there is one.

    Behind a reverse proxy the request's own scheme and host are the proxy's
    (``http://127.0.0.1:5000``), and without one they are whatever the client
    claimed; ``BASE_URL`` is what people actually use.  ``host`` and
    ``scheme`` stay the request's own: the Host and Origin checks need them.
    """

    def _public(self) -> tuple[str, str]:
        base = current_app.config.get("BASE_URL") if has_request_context() else None
        if base:
            parts = urlsplit(base)
            return parts.scheme, parts.netloc
        return self.scheme, self.host

    @cached_property
    def url(self) -> str:
        return get_current_url(*self._public(), self.root_path, self.path, self.query_string)

    @cached_property
    def base_url(self) -> str:
        return get_current_url(*self._public(), self.root_path, self.path)

    @cached_property
    def root_url(self) -> str:
        return get_current_url(*self._public(), self.root_path)

    @cached_property
    def url_root(self) -> str:
        return self.root_url

    @cached_property
    def host_url(self) -> str:
        return get_current_url(*self._public())


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with ``Secure`` also on any request that came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


# -- checks before a view runs --------------------------------------------------------


def csrf_token() -> str:
    """The session's CSRF token, made on first use."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def _same_origin_or_unsaid() -> str | None:
    """The other origin a state-changing request says it came from, or None when it is ours or unsaid."""
    claimed = request.headers.get("Origin")
    header = "Origin"
    if claimed is None:
        claimed, header = request.headers.get("Referer"), "Referer"
        if claimed is None:
            return None  # not a browser, or one told to send neither: the CSRF token still guards
    ours = {origin_of(f"{request.scheme}://{request.host}")}
    if current_app.config.get("BASE_URL"):
        ours.add(current_app.config["BASE_URL"])
    # "Origin: null" (sandboxed frames, some redirects) names no origin: not provably ours.
    origin = origin_of(claimed)
    return None if origin is not None and origin in ours else f"{header}: {claimed[:200]}"


def check_request() -> None:
    """Refuse a state-changing request from another origin or without this session's form token."""
    if request.routing_exception is not None or request.url_rule is None:
        return  # routing answers it (404, 405 with Allow, 400 for an unknown Host); no view runs
    if request.method in SAFE_METHODS:
        return
    foreign = _same_origin_or_unsaid()
    if foreign is not None:
        raise Forbidden(description=f"This form was sent from another site ({foreign}); changes are accepted "
                                    "only from this site's own pages.")
    sent = request.form.get(CSRF_FIELD, "").encode("utf-8")
    expected = session.get(CSRF_FIELD, "").encode("utf-8")
    # Compared as bytes: compare_digest refuses str with non-ASCII characters, and a form can send any.
    if not expected or not hmac.compare_digest(sent, expected):
        raise BadRequest(description="The form has expired or did not come from this site; "
                                     "reload the page and try again.")


# -- answers ------------------------------------------------------------------------------


def untrusted_host(exc: SecurityError) -> Response:
    """400 for a Host the site does not answer to.

    No URL can be built for such a request (Flask has no URL adapter for it),
    so the answer is plain text or JSON rather than the error page.
    """
    claimed = request.headers.get("Host", "")[:200]
    message = (f"This server does not answer to the host name {claimed!r}. If that is its public name, "
               "add it to NEWSFACET_ALLOWED_HOSTS or set NEWSFACET_BASE_URL.")
    if request.path.startswith("/api/"):
        response = jsonify({"error": {"status": 400, "message": message, "parameter": None}})
    else:
        response = Response(message + "\n", mimetype="text/plain")
    response.status_code = 400
    return response


def method_not_allowed(exc: MethodNotAllowed) -> Response:
    """405 with the ``Allow`` header the status requires (RFC 9110 §15.5.6)."""
    from .pages import error_response

    methods = sorted(exc.valid_methods or ())
    message = f"{request.method} is not allowed here" + (f"; use {', '.join(methods)}." if methods else ".")
    response = make_response(error_response(405, message))
    if methods:
        response.headers["Allow"] = ", ".join(methods)
    return response


def add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Check the settings, trust only the site's own host names, install the checks and headers."""
    app.config["BASE_URL"] = parse_base_url(app.config.get("BASE_URL"))
    trusted = allowed_hosts(app)
    if not trusted:  # Werkzeug reads an empty list as "trust every host"
        raise ValueError("NEWSFACET_ALLOWED_HOSTS names no host")
    app.config["TRUSTED_HOSTS"] = trusted
    if app.config.get("PUBLIC") is None:
        app.config["PUBLIC"] = is_public(app)
    if (app.config["BASE_URL"] or "").startswith("https:"):
        app.config["SESSION_COOKIE_SECURE"] = True  # TLS ends at the proxy: the request itself looks like http
    app.request_class = PublicRequest
    app.session_interface = SessionInterface()
    app.before_request(check_request)
    app.after_request(add_headers)
    app.register_error_handler(SecurityError, untrusted_host)
    app.register_error_handler(MethodNotAllowed, method_not_allowed)
    app.jinja_env.globals["csrf_token"] = csrf_token
