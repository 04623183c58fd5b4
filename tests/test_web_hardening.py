"""The web layer against hostile requests: forged Host headers, other sites' forms, wrong methods,
and who may change saved searches.  Everything goes through HTTP (Flask's test client)."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from web import create_app
from web.saved import SCHEMA

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "https://news.example.org"


@pytest.fixture
def make_app(seed_index, tmp_path, monkeypatch):
    """An app on the seed index with its own saved-search store; *config* wins over the defaults."""
    for name in ("NEWSFACET_BASE_URL", "NEWSFACET_ALLOWED_HOSTS", "NEWSFACET_ADMIN_TOKEN", "NEWSFACET_MAX_SAVED"):
        monkeypatch.delenv(name, raising=False)
    made = 0

    def make(**config):
        nonlocal made
        made += 1
        settings = {"TESTING": True, "INDEX_DIR": str(seed_index), "SAVED_DB": str(tmp_path / f"saved{made}.db"),
                    "SECRET_KEY": "test"}
        settings.update(config)
        return create_app(settings)

    return make


def csrf(client, url: str = "/search?q=Hamas", **kwargs) -> str:
    """The session's CSRF token, from a page's form; a read-only server shows no form to
    write with, so there the token is put in the session as a page would have."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url, **kwargs).data.decode())
    if found:
        return found.group(1)
    with client.session_transaction() as session:
        session["csrf_token"] = "planted-token"
    return "planted-token"


def share_link(html: str) -> str:
    return re.search(r'id="share-link"[^>]*value="([^"]+)"', html).group(1)


@contextlib.contextmanager
def store(app) -> Iterator[sqlite3.Connection]:
    """The app's saved-search database, opened directly (the table made if no request has yet)."""
    db = sqlite3.connect(app.config["SAVED_DB"])
    try:
        with db:
            db.execute(SCHEMA)  # the app's own table
            yield db
    finally:
        db.close()


def add_row(app, slug: str = "kept", name: str = "Kept", query: str = "q=Hamas") -> None:
    with store(app) as db:
        db.execute("INSERT INTO saved VALUES (?, ?, ?, ?, ?)",
                   (slug, name, query, "2024-01-01T00:00:00.000+00:00", "2024-01-01T00:00:00.000+00:00"))


def rows(app) -> list[tuple[str, str]]:
    with store(app) as db:
        return db.execute("SELECT slug, name FROM saved ORDER BY slug").fetchall()


# -- 1. the Host header ----------------------------------------------------------------


@pytest.mark.parametrize("url", ["/search?q=Hamas", "/search.atom?q=Hamas", "/doc/4a358e425141727c", "/saved"])
def test_a_foreign_host_is_refused_with_a_clear_message(make_app, url):
    response = make_app().test_client().get(url, headers={"Host": "evil.example"})
    assert response.status_code == 400
    text = response.data.decode()
    assert "evil.example" in text and "NEWSFACET_ALLOWED_HOSTS" in text
    assert "<" not in text  # plain text: the claimed host is never put into a page


def test_a_foreign_host_on_the_api_is_a_json_error(make_app):
    response = make_app().test_client().get("/api/search?q=Hamas", headers={"Host": "evil.example:80"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["parameter"] is None
    assert "NEWSFACET_ALLOWED_HOSTS" in error["message"]


@pytest.mark.parametrize("host", ["localhost", "localhost:5000", "127.0.0.1", "127.0.0.1:8080"])
def test_loopback_hosts_with_any_port_are_answered_and_used_for_links(make_app, host):
    response = make_app().test_client().get("/search?q=Hamas", headers={"Host": host})
    assert response.status_code == 200
    assert share_link(response.data.decode()) == f"http://{host}/search?q=Hamas"


def test_allowed_hosts_setting_replaces_the_default(make_app):
    client = make_app(ALLOWED_HOSTS="news.example.org, 192.0.2.7").test_client()
    assert client.get("/api/search", headers={"Host": "news.example.org:8443"}).status_code == 200
    assert client.get("/api/search", headers={"Host": "192.0.2.7"}).status_code == 200
    assert client.get("/api/search", headers={"Host": "localhost"}).status_code == 400
    assert client.get("/api/search", headers={"Host": "sub.news.example.org"}).status_code == 400


def test_allowed_hosts_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("NEWSFACET_ALLOWED_HOSTS", "localhost,archive.example")
    client = make_app().test_client()
    assert client.get("/api/search", headers={"Host": "archive.example"}).status_code == 200
    assert client.get("/api/search", headers={"Host": "127.0.0.1"}).status_code == 400


def test_with_a_base_url_absolute_links_come_from_it_not_from_the_request(make_app):
    client = make_app(BASE_URL=BASE + "/").test_client()
    # Behind a proxy the request arrives for 127.0.0.1:5000; people use the base URL.
    page = client.get("/search?q=Hamas", headers={"Host": "127.0.0.1:5000"})
    assert share_link(page.data.decode()) == BASE + "/search?q=Hamas"

    feed = client.get("/search.atom?q=Hamas", headers={"Host": "127.0.0.1:5000"})
    assert feed.status_code == 200
    root = ET.fromstring(feed.data)
    assert root.find(f"{ATOM}id").text == BASE + "/search.atom?q=Hamas"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {"self": BASE + "/search.atom?q=Hamas", "alternate": BASE + "/search?q=Hamas"}
    entries = root.findall(f"{ATOM}entry")
    assert entries
    for entry in entries:
        assert re.fullmatch(re.escape(BASE) + r"/doc/[0-9a-f]{16}", entry.find(f"{ATOM}id").text)
        assert entry.find(f"{ATOM}link").get("href") == entry.find(f"{ATOM}id").text
    # The base URL's own host is answered too; any other still is not.
    assert client.get("/search.atom", headers={"Host": "news.example.org"}).status_code == 200
    assert client.get("/search.atom", headers={"Host": "evil.example"}).status_code == 400


def test_without_a_base_url_the_feed_uses_the_allowed_request_host(make_app):
    feed = make_app().test_client().get("/search.atom?q=Hamas", headers={"Host": "127.0.0.1:5000"})
    root = ET.fromstring(feed.data)
    ids = [root.find(f"{ATOM}id").text] + [e.find(f"{ATOM}id").text for e in root.findall(f"{ATOM}entry")]
    assert all(i.startswith("http://127.0.0.1:5000/") for i in ids), ids


@pytest.mark.parametrize("value", ["news.example.org", "ftp://news.example.org", "https://news.example.org/news/",
                                   "https://news.example.org/?x=1", "https://:443", "https://news.example.org:99999"])
def test_a_base_url_that_cannot_be_used_stops_the_app(make_app, value):
    with pytest.raises(ValueError, match="NEWSFACET_BASE_URL"):
        make_app(BASE_URL=value)


def test_an_empty_allowed_hosts_list_is_refused_not_read_as_trust_everyone(make_app):
    with pytest.raises(ValueError, match="NEWSFACET_ALLOWED_HOSTS"):
        make_app(ALLOWED_HOSTS=" , ")


# -- 2. cookies, origins and methods ---------------------------------------------------------


def session_cookie(response) -> str:
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))


def test_the_session_cookie_is_samesite_lax_and_httponly(make_app):
    cookie = session_cookie(make_app().test_client().get("/search"))
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Secure" not in cookie


def test_the_session_cookie_is_secure_over_https(make_app):
    app = make_app()
    assert "Secure" in session_cookie(app.test_client().get("/search", base_url="https://localhost"))
    # TLS ending at a proxy: the request looks like http, the base URL says https.
    # (With a token: on a public server without one there is no save form, so no session to set.)
    assert "Secure" in session_cookie(make_app(BASE_URL=BASE, ADMIN_TOKEN="t").test_client().get("/search"))


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://localhost:8080"},  # another port is another origin
    {"Origin": "https://localhost"},  # and another scheme
    {"Referer": "https://evil.example/page"},
    {"Origin": "https://evil.example", "Referer": "http://localhost/search"},
])
def test_a_post_from_another_origin_is_refused(make_app, headers):
    app = make_app()
    client = app.test_client()
    token = csrf(client)
    response = client.post("/saved", data={"name": "x", "query": "q=Hamas", "csrf_token": token}, headers=headers)
    assert response.status_code == 403
    assert "another site" in response.data.decode()
    assert rows(app) == []


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://localhost"}, {"Origin": "HTTP://LOCALHOST:80"},
                                     {"Referer": "http://localhost/search?q=Hamas"}])
def test_a_post_from_this_site_or_without_origin_headers_is_accepted(make_app, headers):
    app = make_app()
    client = app.test_client()
    token = csrf(client)
    response = client.post("/saved", data={"name": "x", "query": "q=Hamas", "csrf_token": token}, headers=headers)
    assert response.status_code == 303
    assert rows(app) == [("x", "x")]


def test_a_post_from_the_base_url_origin_is_accepted_behind_a_proxy(make_app):
    app = make_app(BASE_URL="http://news.example.org", PUBLIC=False)
    client = app.test_client()
    proxied = "http://127.0.0.1:5000"  # what the proxy forwards to
    token = csrf(client, base_url=proxied)
    response = client.post("/saved", data={"name": "x", "query": "q=a", "csrf_token": token}, base_url=proxied,
                           headers={"Origin": "http://news.example.org"})
    assert response.status_code == 303


def test_a_token_that_is_not_ascii_is_a_400_not_a_500(make_app):
    client = make_app().test_client()
    csrf(client)
    response = client.post("/saved", data={"name": "x", "query": "q=a", "csrf_token": "jeton-é"})
    assert response.status_code == 400
    assert "expired" in response.data.decode()


@pytest.mark.parametrize(("method", "url", "allow"), [
    ("PUT", "/search", "GET, HEAD, OPTIONS"),
    ("DELETE", "/search", "GET, HEAD, OPTIONS"),
    ("POST", "/search", "GET, HEAD, OPTIONS"),
    ("PATCH", "/", "GET, HEAD, OPTIONS"),
    ("PUT", "/saved", "GET, HEAD, OPTIONS, POST"),
    ("GET", "/saved/anything/delete", "OPTIONS, POST"),
    ("DELETE", "/saved/anything/rename", "OPTIONS, POST"),
])
def test_a_wrong_method_is_405_with_allow_not_a_form_complaint(make_app, method, url, allow):
    response = make_app().test_client().open(url, method=method)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert "expired" not in response.data.decode()
    assert f"{method} is not allowed here" in response.data.decode()


def test_a_wrong_method_on_the_api_is_a_json_405(make_app):
    response = make_app().test_client().delete("/api/search?q=Hamas")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert response.get_json()["error"]["status"] == 405


def test_an_unknown_url_posted_to_is_404_not_a_form_complaint(make_app):
    response = make_app().test_client().post("/no/such/page", data={"x": "1"})
    assert response.status_code == 404


# -- 3. who may change saved searches ------------------------------------------------------


def write_all(client, token: str, **kwargs) -> list[int]:
    """Save, rename and delete once each; their status codes."""
    return [
        client.post("/saved", data={"name": "new", "query": "q=a", "csrf_token": token}, **kwargs).status_code,
        client.post("/saved/kept/rename", data={"name": "Renamed", "csrf_token": token}, **kwargs).status_code,
        client.post("/saved/kept/delete", data={"csrf_token": token}, **kwargs).status_code,
    ]


def test_on_loopback_without_a_token_anyone_may_write(make_app):
    app = make_app(LISTEN_HOST="127.0.0.1")
    add_row(app)
    client = app.test_client()
    assert write_all(client, csrf(client)) == [303, 303, 303]
    assert rows(app) == [("new", "new")]


@pytest.mark.parametrize("config", [
    {"LISTEN_HOST": "0.0.0.0"},
    {"LISTEN_HOST": "192.0.2.10"},
    {"BASE_URL": BASE},
    {"ALLOWED_HOSTS": "localhost,news.example.org"},
])
def test_a_public_server_without_a_token_keeps_saved_searches_read_only(make_app, config):
    app = make_app(**config)
    add_row(app)
    client = app.test_client()
    assert write_all(client, csrf(client)) == [403, 403, 403]
    assert rows(app) == [("kept", "Kept")]
    response = client.post("/saved/kept/delete", data={"csrf_token": csrf(client)})
    assert "NEWSFACET_ADMIN_TOKEN" in response.data.decode()
    listing = client.get("/api/saved").get_json()
    assert listing["writes"] == "read-only" and [s["slug"] for s in listing["saved"]] == ["kept"]
    html = client.get("/saved").data.decode()
    assert "read-only" in html and "/saved/kept/delete" not in html
    assert client.get("/saved/kept").status_code == 302  # reading and following still work


def test_a_specific_listen_address_is_also_an_allowed_host(make_app):
    client = make_app(LISTEN_HOST="192.0.2.10").test_client()
    page = client.get("/search?q=Hamas", headers={"Host": "192.0.2.10:5000"})
    assert page.status_code == 200
    assert share_link(page.data.decode()) == "http://192.0.2.10:5000/search?q=Hamas"


@pytest.mark.parametrize("listen", ["0.0.0.0", "127.0.0.1"])
def test_with_an_admin_token_writes_need_it_as_the_basic_auth_password(make_app, listen):
    app = make_app(LISTEN_HOST=listen, ADMIN_TOKEN="s3cret-tøken")
    add_row(app)
    client = app.test_client()
    token = csrf(client)

    assert write_all(client, token) == [401, 401, 401]
    refused = client.post("/saved/kept/delete", data={"csrf_token": token})
    assert refused.headers["WWW-Authenticate"].startswith('Basic realm="newsfacet saved searches"')
    assert "NEWSFACET_ADMIN_TOKEN" in refused.data.decode()
    assert write_all(client, token, auth=("anyone", "wrong")) == [401, 401, 401]
    assert write_all(client, token, headers={"Authorization": "Bearer s3cret-tøken"}) == [401, 401, 401]
    assert rows(app) == [("kept", "Kept")]

    assert write_all(client, token, auth=("anyone", "s3cret-tøken")) == [303, 303, 303]
    assert rows(app) == [("new", "new")]
    assert client.get("/api/saved").get_json()["writes"] == "token"


def test_no_save_form_where_saving_is_refused(make_app):
    assert b'class="save"' in make_app().test_client().get("/search").data
    assert b'class="save"' not in make_app(BASE_URL=BASE).test_client().get("/search").data


def test_workers_starting_at_once_all_get_one_complete_secret_key(tmp_path, monkeypatch):
    """``serve --workers N`` starts N processes on a fresh instance folder at the same moment.

    Making a key is slowed so that every caller has looked for the file before the
    first one writes it: with a check-then-write each would keep its own key (and
    sessions would fail across workers) or read the file while another truncates it.
    """
    import secrets
    import stat
    import threading

    import web

    real = secrets.token_hex

    def slow_token_hex(n: int) -> str:
        time.sleep(0.05)
        return real(n)

    monkeypatch.setattr(secrets, "token_hex", slow_token_hex)
    callers = 8
    barrier = threading.Barrier(callers)
    keys: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait(timeout=10)
        try:
            keys.append(web._instance_secret(tmp_path))
        except BaseException as exc:  # collected: a thread's exception would not fail the test
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert len(keys) == callers
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert (tmp_path / "secret_key").read_text(encoding="utf-8") == keys[0]
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left behind
    assert web._instance_secret(tmp_path) == keys[0]  # the next start reads the same key
