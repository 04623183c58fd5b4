"""The real server, ``newsfacet serve`` (waitress) on a free port, against slow clients and in public.

Two hundred connections that trickle a request header line at a time must not
keep anyone else from being answered (waitress accepted only 100 connections
before, so they did), and ``--connection-limit`` / ``--channel-timeout`` must
reach waitress.  Listening on every interface, the server still answers only
its allowed host names and keeps saved searches read-only without a token.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from web.cli import main

from .conftest import SEEDS, SEEDS_CRAWLED, copy_corpus, free_port, stop_server, wait_for_server

ROOT = Path(__file__).resolve().parent.parent
SLOW_CLIENTS = 200
START_TIMEOUT = 30.0


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFACET_")}
    env.update(NEWSFACET_SAVED_DB=str(tmp / "saved.sqlite3"), NEWSFACET_SECRET_KEY="slow-clients-test",
               PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")  # run the tree this test lives in
    return env


def get(url: str, timeout: float) -> tuple[int, float]:
    """Status and seconds taken by one GET."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - started


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    """A small index made the way a user makes one: ``newsfacet index`` on the seeds."""
    tmp = tmp_path_factory.mktemp("slow-clients")
    seeds = copy_corpus(SEEDS, tmp / "seeds", SEEDS_CRAWLED)
    ix = tmp / "ix"
    subprocess.run([sys.executable, "-m", "web.cli", "--index", str(ix), "index", str(seeds), "--quiet"],
                   cwd=tmp, env=_env(tmp), check=True, capture_output=True, timeout=120)
    return ix


@contextlib.contextmanager
def server(index_dir: Path, *flags: str, host: str = "127.0.0.1") -> Iterator[str]:
    """``newsfacet serve`` with *flags* on a free port; its base URL on 127.0.0.1. Stopped by its PID at the end."""
    tmp = index_dir.parent
    port = free_port()
    cmd = [sys.executable, "-m", "web.cli", "--index", str(index_dir), "serve", "--host", host,
           "--port", str(port), *flags]
    log_path = tmp / f"server-{port}.log"
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=tmp, env=_env(tmp), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_server(proc, log_path, lambda: get(url + "/api/search", timeout=2)[0] == 200, START_TIMEOUT)
            yield url
        finally:
            stop_server(proc)


@contextlib.contextmanager
def open_sockets(url: str, count: int, first: bytes) -> Iterator[list[socket.socket]]:
    host, port = url.removeprefix("http://").split(":")
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection((host, int(port)), timeout=5)
            if first:
                sock.sendall(first)
            socks.append(sock)
        yield socks
    finally:
        for sock in socks:
            sock.close()


def test_trickling_clients_do_not_block_normal_requests(index_dir):
    with server(index_dir) as url:  # the defaults a public deployment gets
        request_line = b"GET /api/search?q=Hamas HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        with open_sockets(url, SLOW_CLIENTS, request_line) as socks:
            stop = threading.Event()
            trickled = []

            def trickle() -> None:
                # One more header line on every connection each second, never the blank line that ends them.
                n = 0
                while not stop.wait(1.0):
                    n += 1
                    for sock in socks:
                        sock.sendall(f"X-Slow-{n}: still typing\r\n".encode())
                    trickled.append(n)

            thread = threading.Thread(target=trickle, daemon=True)
            thread.start()
            try:
                answers = []
                deadline = time.monotonic() + 6.0
                while time.monotonic() < deadline:
                    try:
                        answers.append(get(url + "/api/search?q=Hamas&per_page=1", timeout=5))
                    except OSError as exc:  # a timeout: the server did not take the connection
                        answers.append((type(exc).__name__, 5.0))
                    time.sleep(0.25)
            finally:
                stop.set()
                thread.join(timeout=10)
        assert len(trickled) >= 4  # the slow clients really were sending all along
        statuses = [status for status, _ in answers]
        latencies = sorted(seconds for _, seconds in answers)
        print(f"\n{len(answers)} requests beside {SLOW_CLIENTS} slow clients: "
              f"median {latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
        assert statuses == [200] * len(answers)
        assert latencies[-1] < 2.0


def test_connection_limit_and_channel_timeout_reach_the_server(index_dir):
    with server(index_dir, "--connection-limit", "20", "--channel-timeout", "2") as url:
        with open_sockets(url, 25, b""):  # connected, silent: more than the limit
            status, seconds = get(url + "/api/search?q=Hamas&per_page=1", timeout=15)
        # Waiting proves the limit (20 connections taken); being answered at all proves
        # the idle ones were closed after about two seconds, not waitress's default 120.
        assert status == 200
        assert 1.5 < seconds < 8.0, seconds
        with open_sockets(url, 1, b"GET / HTTP/1.1\r\n") as (sock,):
            sock.settimeout(8.0)
            started = time.perf_counter()
            assert sock.recv(1024) == b""  # closed by the server, with nothing sent
            assert time.perf_counter() - started < 6.0


def test_on_every_interface_only_allowed_hosts_are_answered_and_saved_searches_are_read_only(index_dir):
    with server(index_dir, host="0.0.0.0") as url:
        port = url.rsplit(":", 1)[1]
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())

        def status(path: str, host: str, data: bytes | None = None) -> int:
            request = urllib.request.Request(url + path, data=data, headers={"Host": host})
            try:
                with browser.open(request, timeout=5) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert status("/api/search?q=Hamas", f"127.0.0.1:{port}") == 200
        assert status("/api/search?q=Hamas", f"localhost:{port}") == 200
        assert status("/api/search?q=Hamas", f"192.0.2.1:{port}") == 400  # set NEWSFACET_ALLOWED_HOSTS for it
        with browser.open(url + "/search?q=Hamas", timeout=5) as response:
            assert 'class="save"' not in response.read().decode()  # no form offers what would be refused
        form = urllib.parse.urlencode({"name": "x", "query": "q=Hamas", "csrf_token": "forged"}).encode()
        assert status("/saved", f"127.0.0.1:{port}", form) in (400, 403)
        with browser.open(url + "/api/saved", timeout=5) as response:
            listing = json.load(response)
        assert (listing["writes"], listing["count"]) == ("read-only", 0)
    log = (index_dir.parent / f"server-{port}.log").read_text(errors="replace")
    assert "NEWSFACET_ALLOWED_HOSTS" in log and "NEWSFACET_ADMIN_TOKEN" in log


@pytest.mark.parametrize("flag", ["--connection-limit", "--channel-timeout", "--threads"])
def test_serve_refuses_a_limit_below_one(tmp_path, flag, capsys):
    # No index there: a server that took the flag would stop at that instead of serving.
    assert main(["--index", str(tmp_path / "none"), "serve", "--port", str(free_port()), flag, "0"]) == 2
    assert f"{flag} must be at least 1" in capsys.readouterr().err
