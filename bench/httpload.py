"""HTTP figures: ``newsfacet serve`` (waitress) as a subprocess on a free 127.0.0.1 port.

* **Latency**: the mix, sequentially, over one keep-alive ``http.client``
  connection; client-side wall time per request (send → whole body read).
  The overhead is the HTTP p50 minus the query service's p50 on the same mix;
  the per-request median of (client time − the ``elapsed_ms`` the server
  reports for its query service) is recorded too.
* **Throughput**: 1, 10 and 50 client threads, each with its own keep-alive
  connection, cycling through the mix from a different start, for a bounded
  time and a bounded number of requests; requests/s = completed requests ÷
  wall time; errors = non-200 answers plus connection failures.
* **RSS**: ``VmRSS`` of the server and its descendants from ``/proc``: with
  ``--workers N`` the parent and its N worker processes (shared pages count
  once per process, so this is an upper bound).

``workers`` is passed to ``newsfacet serve --workers``; None leaves serve's
default (:data:`web.cli.DEFAULT_WORKERS`).

Only 127.0.0.1 is contacted; the server is stopped at the end whatever happens.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .stats import percentile, summarize_ms

HOST = "127.0.0.1"
START_TIMEOUT = 120.0
REQUEST_TIMEOUT = 60.0
MAX_REQUESTS_PER_CLIENT = 100_000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
                out += kids
                todo += kids
        except OSError:
            continue
    return out


def rss_mb(pid: int) -> float:
    """Resident memory of *pid* and all its descendants, in MiB (0 if gone)."""
    total_kb = 0
    for p in [pid, *_descendants(pid)]:
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
                        break
        except OSError:
            continue
    return total_kb / 1024


class Server:
    """``newsfacet --index DIR serve`` on a free port; use as a context manager."""

    def __init__(self, index_dir: Path, work: Path, threads: int | None = None, workers: int | None = None):
        self.index_dir = Path(index_dir)
        self.work = Path(work)
        self.threads = threads
        self.workers = workers
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log_path = self.work / "serve.log"

    def command(self) -> list[str]:
        script = Path(sys.executable).parent / "newsfacet"
        base = [str(script)] if script.exists() else [sys.executable, "-m", "web.cli"]
        cmd = [*base, "--index", str(self.index_dir), "serve", "--host", HOST, "--port", str(self.port)]
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        if self.workers:
            cmd += ["--workers", str(self.workers)]
        return cmd

    def __enter__(self) -> Server:
        self.work.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["NEWSFACET_INSTANCE"] = str(self.work / "instance")  # saved-search DB and secret stay in the work dir
        for attempt in range(3):
            self.port = free_port()
            log = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env)
            finally:
                log.close()
            if self._wait_ready():
                return self
            self.stop()
            if attempt == 2:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"newsfacet serve did not start; log tail:\n{tail}")
        return self

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
                conn.request("GET", "/api/search?q=")
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def __exit__(self, *exc) -> None:
        self.stop()

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid) if self.proc else 0.0


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    conn.request("GET", path)
    resp = conn.getresponse()
    return resp.status, resp.read()


def sequential(port: int, paths: list[str], rounds: int) -> dict:
    """Each path once per round, in order, over one keep-alive connection."""
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    times: list[float] = []
    overheads: list[float] = []
    per_item: list[list[float]] = [[] for _ in paths]
    errors = 0
    totals: list[int | None] = [None] * len(paths)
    try:
        for _ in range(rounds):
            for i, path in enumerate(paths):
                t0 = time.perf_counter()
                try:
                    status, body = _get(conn, path)
                except (OSError, http.client.HTTPException):
                    errors += 1
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
                    continue
                dt_ = time.perf_counter() - t0
                if status != 200:
                    errors += 1
                    continue
                times.append(dt_)
                per_item[i].append(dt_)
                data = json.loads(body)
                totals[i] = data.get("total")
                if data.get("elapsed_ms") is not None:
                    overheads.append(dt_ - data["elapsed_ms"] / 1000)
    finally:
        conn.close()
    out = summarize_ms(times)
    out["errors"] = errors
    out["server_side_overhead_p50_ms"] = summarize_ms(overheads)["p50"]
    out["per_item_ms"] = [summarize_ms(t)["p50"] for t in per_item]
    out["totals"] = totals
    return out


def concurrent(port: int, paths: list[str], clients: int, duration: float,
               max_requests: int = MAX_REQUESTS_PER_CLIENT) -> dict:
    """*clients* threads hammering the mix for *duration* seconds (or *max_requests* each)."""
    barrier = threading.Barrier(clients + 1)
    results: list[dict] = [{} for _ in range(clients)]
    deadline_box: list[float] = [0.0]

    def client(k: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        done = errors = 0
        lat: list[float] = []
        i = k * 7
        barrier.wait()
        deadline = deadline_box[0]
        while done < max_requests and time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            try:
                status, _ = _get(conn, path)
                if status != 200:
                    errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
            lat.append(time.perf_counter() - t0)
            done += 1
        conn.close()
        results[k] = {"done": done, "errors": errors, "lat": lat}

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    deadline_box[0] = start + duration
    barrier.wait()
    for t in threads:
        t.join(timeout=duration + REQUEST_TIMEOUT + 30)
    wall = time.perf_counter() - start
    done = sum(r.get("done", 0) for r in results)
    errors = sum(r.get("errors", 0) for r in results)
    stuck = sum(1 for t in threads if t.is_alive())
    lat = [x for r in results for x in r.get("lat", [])]
    summary = summarize_ms(lat)
    return {
        "clients": clients,
        "requests": done,
        "errors": errors + stuck,
        "stuck_clients": stuck,
        "seconds": wall,
        "requests_per_s": done / wall if wall else None,
        "latency_p50_ms": summary["p50"],
        "latency_p95_ms": summary["p95"],
        "latency_p99_ms": percentile([x * 1000 for x in lat], 99),
        "latency_max_ms": summary["max"],
    }


def run(index_dir: Path, work: Path, paths: list[str], rounds: int, duration: float,
        client_counts: tuple[int, ...] = (1, 10, 50), log: Callable[[str], None] | None = None,
        workers: int | None = None) -> dict:
    """Start the server, warm it up with one pass of the mix, then measure; the server is always stopped."""
    with Server(index_dir, work, workers=workers) as server:
        if log:
            log(f"server pid {server.proc.pid} on {HOST}:{server.port} ({workers or 'default'} worker(s)); "
                "warming up")
        warm = sequential(server.port, paths, 1)
        rss_warm = server.rss_mb()
        if log:
            log(f"http: {rounds} sequential round(s) of {len(paths)} requests")
        seq = sequential(server.port, paths, rounds)
        load = []
        for clients in client_counts:
            if log:
                log(f"http: {clients} concurrent client(s) for {duration:.0f} s")
            load.append(concurrent(server.port, paths, clients, duration))
        rss_after = server.rss_mb()
        command = server.command()
    return {
        "command": command,
        "workers": workers,
        "warmup_errors": warm["errors"],
        "sequential": seq,
        "concurrency": load,
        "rss_after_warmup_mb": rss_warm,
        "rss_after_load_mb": rss_after,
    }
