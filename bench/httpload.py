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
* **Warm-up**: every server process answers the whole mix once before
  anything is timed.  With ``--workers N`` the kernel hands each connection to
  one worker, so one sequential pass would warm only the workers it happened
  to reach (and the first timed requests on a cold one would pay for its
  caches): connections are opened until each worker holds one (which worker
  owns a connection is read from ``/proc``), then the mix runs over all of
  them at once.
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

    def worker_pids(self) -> list[int]:
        """The processes that answer requests: the prefork workers, or the server itself without them."""
        if self.proc is None:
            return []
        kids = _descendants(self.proc.pid)
        return kids or [self.proc.pid]


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


def _socket_inode(local_port: int, remote_port: int) -> int | None:
    """The inode of the server-side TCP socket 127.0.0.1:*local_port* ↔ 127.0.0.1:*remote_port*."""
    local, remote = f"0100007F:{local_port:04X}", f"0100007F:{remote_port:04X}"
    try:
        with open("/proc/net/tcp") as fh:
            next(fh)
            for line in fh:
                cols = line.split()
                if cols[1] == local and cols[2] == remote:
                    return int(cols[9])
    except (OSError, StopIteration, IndexError, ValueError):
        return None
    return None


def connection_owner(conn: http.client.HTTPConnection, server_port: int, pids: list[int]) -> int | None:
    """Which of *pids* holds the server side of *conn* (after a request on it, so it was accepted)."""
    if conn.sock is None:
        return None
    inode = _socket_inode(server_port, conn.sock.getsockname()[1])
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
            except OSError:
                continue
    return None


def warm_up(server: Server, paths: list[str], max_connections_per_worker: int = 20) -> dict:
    """One pass of the mix on every worker process, all at once.

    Connections are opened (each asked ``paths[0]`` so a worker accepts it) until
    every worker holds one, or until ``max_connections_per_worker`` × workers
    were tried; then each kept connection runs the whole mix in its own thread.
    Returns the errors, the workers and how many of them were warmed.
    """
    pids = server.worker_pids()
    kept: dict[int, http.client.HTTPConnection] = {}
    spare: list[http.client.HTTPConnection] = []
    errors = 0
    try:
        for _ in range(max_connections_per_worker * len(pids)):
            if len(kept) == len(pids):
                break
            conn = http.client.HTTPConnection(HOST, server.port, timeout=REQUEST_TIMEOUT)
            try:
                status, _ = _get(conn, paths[0])
                errors += status != 200
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                continue
            owner = connection_owner(conn, server.port, pids)
            if owner is None and len(pids) == 1:
                owner = pids[0]  # /proc unreadable: with one process it can only be that one
            if owner is not None and owner not in kept:
                kept[owner] = conn
            else:
                # Held open, not closed: an idle connection keeps its worker's share of the
                # kernel's hand-outs from coming straight back to this loop.
                spare.append(conn)
        if not kept and spare:
            kept[-1] = spare.pop()  # owners unknown (no /proc): warm over one connection at least
        results: dict[int, int] = {}

        def one_pass(pid: int, conn: http.client.HTTPConnection) -> None:
            failed = 0
            for path in paths:
                try:
                    status, _ = _get(conn, path)
                    failed += status != 200
                except (OSError, http.client.HTTPException):
                    failed += 1
                    conn.close()
            results[pid] = failed

        threads = [threading.Thread(target=one_pass, args=(pid, conn), daemon=True) for pid, conn in kept.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=REQUEST_TIMEOUT * max(1, len(paths)))
        errors += sum(results.values()) + sum(1 for t in threads if t.is_alive())
    finally:
        for conn in [*kept.values(), *spare]:
            conn.close()
    return {"errors": errors, "workers": len(pids), "workers_warmed": len([p for p in kept if p != -1])}


def run(index_dir: Path, work: Path, paths: list[str], rounds: int, duration: float,
        client_counts: tuple[int, ...] = (1, 10, 50), log: Callable[[str], None] | None = None,
        workers: int | None = None) -> dict:
    """Start the server, warm every worker up with one pass of the mix, then measure; the server is always stopped."""
    with Server(index_dir, work, workers=workers) as server:
        if log:
            log(f"server pid {server.proc.pid} on {HOST}:{server.port} ({workers or 'default'} worker(s)); "
                "warming up")
        warm = warm_up(server, paths)
        if log:
            log(f"warm-up: {warm['workers_warmed']} of {warm['workers']} server process(es) answered the mix, "
                f"{warm['errors']} error(s)")
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
        "workers_warmed": warm["workers_warmed"],
        "worker_processes": warm["workers"],
        "sequential": seq,
        "concurrency": load,
        "rss_after_warmup_mb": rss_warm,
        "rss_after_load_mb": rss_after,
    }
