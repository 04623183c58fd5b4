"""``newsfacet serve --workers 2``: the pre-fork server as a user runs it, a subprocess on a free port.

Two worker processes under the server's PID answer; one killed is replaced
while the other keeps answering; saved searches posted at once through both
workers all land (one secret key signs every worker's sessions, one SQLite
store takes every write); a new index commit reaches every worker; SIGTERM to
the parent, or its death, ends every process.  Every wait is bounded; every
process started is stopped by its PID.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from web.cli import main

from .conftest import SEEDS, SEEDS_CRAWLED, copy_corpus, free_port, wait_for_server

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
WAIT = 20.0  # bound on every wait for a process to appear or go


def _env(tmp: Path) -> dict[str, str]:
    # No NEWSFACET_SECRET_KEY: the workers must agree on the one made in the instance folder.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFACET_")}
    env.update(NEWSFACET_INSTANCE=str(tmp / "instance"), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return env


def _cli(tmp: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=tmp, env=_env(tmp), check=True,
                   capture_output=True, timeout=120)


@pytest.fixture()
def corpus(tmp_path) -> tuple[Path, Path]:
    """A folder of the seeds and its index, made with ``newsfacet index``; the test may add to both."""
    seeds = copy_corpus(SEEDS, tmp_path / "seeds", SEEDS_CRAWLED)
    ix = tmp_path / "ix"
    _cli(tmp_path, "--index", str(ix), "index", str(seeds), "--quiet")
    return seeds, ix


def children(pid: int) -> set[int]:
    kids: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids.update(int(k) for k in fh.read().split())
    except OSError:
        pass
    return kids


def alive(pid: int) -> bool:
    """Whether *pid* is a running process (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_until(condition, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.1)


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One request on a new connection (so the kernel may hand it to any worker)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def post(port: int, path: str, form: dict, cookie: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=urllib.parse.urlencode(form),
                     headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def total(port: int, query: str = "") -> int:
    status, _, body = get(port, "/api/search?q=" + urllib.parse.quote(query))
    assert status == 200, body[:300]
    return json.loads(body)["total"]


class Server:
    def __init__(self, proc: subprocess.Popen, port: int, log_path: Path):
        self.proc, self.port, self.log_path = proc, port, log_path
        self.seen: set[int] = set()  # every worker PID observed, to be sure none is left

    def workers(self) -> set[int]:
        kids = children(self.proc.pid)
        self.seen |= kids
        return kids

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def server(index_dir: Path, workers: int = 2) -> Iterator[Server]:
    tmp = index_dir.parent
    port = free_port()
    log_path = tmp / f"server-{port}.log"
    cmd = [sys.executable, "-m", "web.cli", "--index", str(index_dir), "serve", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=tmp, env=_env(tmp), stdout=log, stderr=subprocess.STDOUT)
    srv = Server(proc, port, log_path)
    try:
        wait_for_server(proc, log_path, lambda: get(port, "/api/search")[0] == 200, START_TIMEOUT)
        wait_until(lambda: len(srv.workers()) == workers, f"{workers} workers under {proc.pid}")
        yield srv
    finally:
        srv.workers()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=WAIT)
        for pid in srv.seen:  # a worker left behind by a failing test: stop it too
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def test_two_workers_under_the_server_answer_searches(corpus):
    _, ix = corpus
    with server(ix) as srv:
        workers = srv.workers()
        assert len(workers) == 2 and srv.proc.pid not in workers
        for pid in workers:
            with open(f"/proc/{pid}/stat") as fh:
                assert int(fh.read().rsplit(")", 1)[1].split()[1]) == srv.proc.pid  # ppid
        assert total(srv.port) == 5
        assert total(srv.port, "Hamas") >= 1
        assert "2 worker processes" in srv.log()


def test_a_killed_worker_is_replaced_while_the_other_answers(corpus):
    _, ix = corpus
    with server(ix) as srv:
        first = srv.workers()
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: not alive(victim), f"worker {victim} gone")
        for _ in range(20):
            assert total(srv.port, "Hamas") >= 1
        wait_until(lambda: len(srv.workers()) == 2 and victim not in srv.workers(), "a new worker")
        assert (first - {victim}) <= srv.workers()  # the survivor was left alone
        for _ in range(10):
            assert total(srv.port) == 5
        assert f"worker {victim} killed by SIGKILL" in srv.log()


def test_saved_searches_posted_at_once_through_both_workers_all_land(corpus):
    _, ix = corpus
    threads_n, saves_each = 6, 8
    with server(ix) as srv:
        errors: list[str] = []
        barrier = threading.Barrier(threads_n)

        def client(n: int) -> None:
            try:
                # A session (cookie + CSRF token) from one worker, its posts on fresh connections:
                # they reach either worker, so both must accept what the other signed.
                status, headers, body = get(srv.port, "/search")
                cookie = headers["Set-Cookie"].split(";", 1)[0]
                token = re.search(r'name="csrf_token" value="([^"]+)"', body.decode()).group(1)
                barrier.wait(timeout=30)
                for i in range(saves_each):
                    status = post(srv.port, "/saved", {"name": f"Search {i}", "query": f"q=Hamas&page={n + 1}",
                                                       "csrf_token": token}, cookie)
                    if status != 303:
                        errors.append(f"save {n}/{i}: {status}")
            except Exception as exc:  # noqa: BLE001 - reported below with the others
                errors.append(f"client {n}: {exc!r}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        for _ in range(4):  # the same list from whichever worker answers
            status, _, body = get(srv.port, "/api/saved")
            saved = json.loads(body)["saved"]
            slugs = [s["slug"] for s in saved]
            assert len(saved) == threads_n * saves_each  # nothing lost
            assert len(set(slugs)) == len(slugs)  # nothing duplicated
        assert "database is locked" not in srv.log()


def test_a_new_index_commit_reaches_every_worker(corpus):
    seeds, ix = corpus
    with server(ix) as srv:
        assert [total(srv.port, "pelicans") for _ in range(6)] == [0] * 6
        (seeds / "pelicans.txt").write_text(
            "Pelicans return to the harbour\n\nFishermen in the harbour counted more pelicans this spring "
            "than in any year since the survey began, the harbour office said on Tuesday.\n", encoding="utf-8")
        _cli(ix.parent, "--index", str(ix), "index", str(seeds), "--quiet")
        # fresh connections land on both workers; each must be on the new commit
        assert [total(srv.port, "pelicans") for _ in range(20)] == [1] * 20


def test_sigterm_to_the_server_stops_every_process(corpus):
    _, ix = corpus
    with server(ix) as srv:
        workers = srv.workers()
        os.kill(srv.proc.pid, signal.SIGTERM)
        assert srv.proc.wait(timeout=WAIT) == 0
        wait_until(lambda: not any(alive(pid) for pid in workers), f"workers {sorted(workers)} gone")
        with pytest.raises(OSError):
            get(srv.port, "/api/search")  # nobody listens any more


def test_workers_do_not_outlive_a_killed_server(corpus):
    _, ix = corpus
    with server(ix) as srv:
        workers = srv.workers()
        os.kill(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait(timeout=WAIT)
        wait_until(lambda: not any(alive(pid) for pid in workers), f"orphaned workers {sorted(workers)} gone")


def test_serve_refuses_fewer_than_one_worker(tmp_path, capsys):
    assert main(["--index", str(tmp_path / "none"), "serve", "--port", str(free_port()), "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


def test_the_benchmark_warm_up_reaches_every_worker(corpus, tmp_path):
    """bench.httpload's warm-up runs the mix on each worker, not only on those one connection reaches."""
    from bench import httpload

    _, ix = corpus
    paths = ["/api/search?q=", "/api/search?q=Hamas", "/api/search?q=&sort=oldest"]
    with httpload.Server(ix, tmp_path / "bench", workers=2) as srv:
        wait_until(lambda: len(srv.worker_pids()) == 2, "2 workers under the benchmark's server")
        pids = srv.worker_pids()
        assert srv.proc.pid not in pids
        warm = httpload.warm_up(srv, paths)
        assert warm == {"errors": 0, "workers": 2, "workers_warmed": 2}
        # the owner of a connection is one of the workers, and it is the one that answers on it
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=WAIT)
        try:
            conn.request("GET", paths[0])
            conn.getresponse().read()
            assert httpload.connection_owner(conn, srv.port, pids) in pids
        finally:
            conn.close()
