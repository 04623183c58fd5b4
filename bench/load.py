"""``python -m bench.load``: a bounded load test of ``newsfacet serve`` while an indexer adds articles.

What it proves (the project's requirement): 50 concurrent clients on
127.0.0.1 mixing searches, drill-downs, article pages and feeds for 60 s,
while ``newsfacet index`` adds 1,000 articles to the index the server is
reading, give 0 failed requests, no 5xx, reported p50/p99 latencies and a
server memory that stays flat after warm-up.

How a run goes:

1. **Base index.** A scaled corpus (:mod:`bench.generate`, ``--base-size`` rows,
   seed 1) in ``<work>/scaled-<n>-seed1``, reused while its manifest matches;
   its index ``<work>/index-scaled-<n>-seed1`` is reused when it holds exactly
   that many articles (built with ``newsfacet index`` when missing).  It is
   *copied* into a fresh ``<work>/load-<timestamp>/`` folder, so the cached
   index is never modified.
2. **Articles to add.** ``--add`` rows with another seed, in their own corpus
   folder ``<work>/scaled-<n>-seed2/``, given to the indexer as a second
   folder.  Its file names are the base's (``part-00000.jsonl``), so the run
   also checks that a second folder adds articles rather than replacing the
   first folder's.
3. **Load.** ``newsfacet serve`` (waitress) on a free loopback port
   (:class:`bench.httpload.Server`, which also measures RSS); ``--clients``
   threads, each with its own keep-alive ``http.client`` connection and its
   own seeded ``random.Random``, for ``--duration`` seconds (and at most
   ``MAX_REQUESTS_PER_CLIENT`` each).  ``--warmup`` seconds in, plus
   ``INDEXER_DELAY``, ``newsfacet index`` starts as a subprocess on the same
   index; the server opens a searcher per request, so it serves each new
   commit without a restart.
4. **Checks.** Every request's client-side wall time and status; server RSS
   (whole process tree) once a second; after the load, ``/api/search?q=&collapse=off``
   must count base + added articles.

Exit status 0 only when there were 0 failed requests (non-200 answers,
connection errors, timeouts, stuck clients), 0 5xx, the indexer exited 0 in
time and the index holds every added article, and the server's RSS at the
end is within ``max(10 %, 30 MiB)`` of its RSS after warm-up.  The table goes
to stdout, progress to stderr, every figure to ``bench/results/load-<timestamp>.json``.
The server and the indexer are always stopped, whatever happens.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from . import DEFAULT_WORK, REPO_ROOT, RESULTS_DIR
from .httpload import HOST, Server
from .stats import CpuMeter, Log, percentile

DEFAULT_BASE_SIZE = 20_000
DEFAULT_CLIENTS = 50
DEFAULT_DURATION = 60.0
DEFAULT_ADD = 1_000
DEFAULT_WARMUP = 10.0
# 15 s, not 10: on a busy two-core machine the indexer needs ~8 s even for 100 articles (start-up, the
# boilerplate pass, the commit), and a smoke run whose commit lands after the load proves little.
QUICK = {"base_size": 2_000, "clients": 5, "duration": 15.0, "add": 100, "warmup": 3.0}
BASE_SEED = 1
ADD_SEED = 2  # another seed: rows that differ from the base's, so they are new articles, not duplicates
INDEXER_DELAY = 1.0  # seconds after warm-up: the post-warm-up RSS is taken before the indexer's commits
REQUEST_TIMEOUT = 30.0  # per socket operation; a request hitting it counts as failed
MAX_REQUESTS_PER_CLIENT = 100_000
MIX_SAMPLE_DOCS = 5_000  # articles read back to derive the query words (bench.mix)
BUILD_TIMEOUT = 3_600.0
RSS_FLAT_SHARE = 0.10
RSS_FLAT_MIB = 30.0
RECENT_IDS = 50  # article ids a client remembers from its search hits for its article-page requests
ERROR_SAMPLES = 20
SLOWEST = 15
SUMMARY_RE = re.compile(
    r"(\d+) added, (\d+) updated, (\d+) unchanged, (\d+) removed, (\d+) failed; (\d+) articles in the index"
)
# Share of each request kind: searches, drill-downs, article pages, feeds (cumulative thresholds below).
MIX_WEIGHTS = (("search", 0.35), ("drill", 0.30), ("doc", 0.20), ("feed", 0.15))
KINDS = tuple(k for k, _ in MIX_WEIGHTS)


# -- arguments -------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--base-size", type=int, help=f"rows of the base corpus (default {DEFAULT_BASE_SIZE:,})")
    p.add_argument("--add", type=int, help=f"articles the indexer adds during the load (default {DEFAULT_ADD:,})")
    p.add_argument("--clients", type=int, help=f"concurrent clients (default {DEFAULT_CLIENTS})")
    p.add_argument("--duration", type=float, help=f"seconds of load (default {DEFAULT_DURATION:.0f})")
    p.add_argument("--warmup", type=float, help=f"seconds counted as warm-up (default {DEFAULT_WARMUP:.0f})")
    p.add_argument("--work", default=str(DEFAULT_WORK), help="folder for corpora, indexes and the run's temp folder")
    p.add_argument("--reuters", help="Reuters-21578 folder (default $NEWSFACET_REUTERS or ../shared/corpora/...)")
    p.add_argument("--seed", type=int, default=1, help="seed of the clients' request choices (default 1)")
    p.add_argument("--server-threads", type=int, help="waitress threads (default: newsfacet serve's 8)")
    p.add_argument("--workers", type=int,
                   help="server processes (newsfacet serve --workers; default: serve's, 1); one process "
                        "answers about one request per CPU-millisecond of request work whatever its threads")
    p.add_argument("--indexer-procs", type=int, help="cleaning processes of the indexer (default: all cores)")
    p.add_argument("--indexer-timeout", type=float, default=600.0,
                   help="seconds the indexer may run before it is stopped and the run fails (default 600)")
    p.add_argument("--results", help="JSON output file (default bench/results/load-<timestamp>.json)")
    p.add_argument("--keep", action="store_true", help="keep the run's temp folder (copied index, logs)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: {clients} clients, {duration:.0f} s, {add} added, {base_size:,}-row base"
                   .format(**QUICK))
    args = p.parse_args(argv)
    defaults = QUICK if args.quick else {"base_size": DEFAULT_BASE_SIZE, "clients": DEFAULT_CLIENTS,
                                         "duration": DEFAULT_DURATION, "add": DEFAULT_ADD, "warmup": DEFAULT_WARMUP}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if min(args.base_size, args.add, args.clients) < 1 or args.duration <= 0 or args.warmup < 0:
        p.error("--base-size, --add, --clients and --duration must be positive, --warmup not negative")
    if args.workers is not None and args.workers < 1:
        p.error("--workers must be at least 1")
    if args.warmup + INDEXER_DELAY >= args.duration:
        p.error(f"--warmup + {INDEXER_DELAY:.0f} s must be shorter than --duration: the indexer starts then")
    return args


# -- corpora and indexes -----------------------------------------------------------


def newsfacet_command() -> list[str]:
    """The ``newsfacet`` console script of this interpreter's environment (``python -m web.cli`` otherwise)."""
    script = Path(sys.executable).parent / "newsfacet"
    return [str(script)] if script.exists() else [sys.executable, "-m", "web.cli"]


def scaled_corpus(work: Path, size: int, seed: int, reuters: str | None, log: Callable[[str], None]) -> Path:
    """``<work>/scaled-<size>-seed<seed>``, generated unless a matching manifest says it is already there."""
    from .corpus import reuters_dir, reuters_files
    from .generate import DEFAULT_ENTITIES, DEFAULT_ROWS_PER_FILE, existing_manifest, generate

    out = work / f"scaled-{size}-seed{seed}"
    if existing_manifest(out, size, seed, DEFAULT_ROWS_PER_FILE, DEFAULT_ENTITIES) is not None:
        log(f"reusing generated corpus {out}")
        return out
    log(f"generating {size:,} rows (seed {seed}) into {out}")
    # reuters_files raises SystemExit with a clear message when Reuters is missing: only needed here.
    generate(out, reuters_files(reuters_dir(reuters)), size, seed, log=log)
    return out


def base_index(work: Path, corpus: Path, size: int, dest: Path, log: Callable[[str], None]) -> dict:
    """Put a copy of the base index (exactly *size* articles) at *dest*; build the cached one if missing."""
    from search.whoosh_backend.store import index_exists

    from .corpus import doc_count

    cached = work / f"index-{corpus.name}"
    info: dict = {"cached": str(cached)}
    if index_exists(cached) and doc_count(cached)[0] == size:
        log(f"copying index {cached} ({size:,} articles) to {dest}")
        info["built"] = False
    else:
        # A cached folder with another count belongs to someone else (a half-built bench run, say):
        # build into the temp folder instead of touching it.
        target = dest if cached.exists() else cached
        log(f"building the base index of {corpus} into {target}")
        cmd = [*newsfacet_command(), "--index", str(target), "index", str(corpus), "--quiet"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
        info.update(built=True, build_seconds=time.perf_counter() - t0, build_output=proc.stdout.strip())
        if proc.returncode != 0:
            raise SystemExit(f"bench.load: building the base index failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        if target == dest:
            info["base_docs"] = doc_count(dest)[0]
            return info
    shutil.copytree(cached, dest)
    info["base_docs"] = doc_count(dest)[0]
    return info


@dataclass
class Pools:
    """What the clients draw from: queries and entity values derived from the base index."""

    queries: list[str]
    entities: list[str]


def request_pools(index_dir: Path) -> Pools:
    """Queries and entities of :mod:`bench.mix` for this index (the empty query, words, phrases, OR, NOT…)."""
    from .mix import build_mix, sample

    items = build_mix(sample(index_dir, MIX_SAMPLE_DOCS))
    queries = list(dict.fromkeys(it.request.q for it in items))
    entities = list(dict.fromkeys(e for it in items for e in it.request.entities))
    return Pools(queries=queries, entities=entities)


# -- clients -------------------------------------------------------------------------


@dataclass
class Record:
    """One request: start (s since the load began), kind, route, HTTP status (0 = no answer), latency (s)."""

    start: float
    kind: str
    route: str
    path: str
    status: int
    seconds: float
    error: str | None = None


@dataclass
class DrillState:
    """The client's last ``/api/search`` answer and the parameters that produced it."""

    q: str
    entities: tuple[str, ...]
    date: str | None
    page: int
    answer: dict


def search_path(route: str, q: str, entities: Sequence[str] = (), date: str | None = None, page: int = 1) -> str:
    """``/search``, ``/api/search`` or ``/search.atom`` with the web layer's parameter names."""
    pairs: list[tuple[str, str]] = [("q", q)]
    pairs += [("entity", e) for e in entities]
    if date:
        pairs.append(("date", date))
    if page > 1:
        pairs.append(("page", str(page)))
    return f"{route}?{urlencode(pairs)}"


@dataclass
class Client:
    """One simulated user: a keep-alive connection and a seeded choice of what to ask next."""

    number: int
    port: int
    pools: Pools
    seed: int
    t0: float
    deadline: float
    stop: threading.Event
    records: list[Record] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    state: DrillState | None = None
    ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # One generator per client, seeded by run seed and client number: the same run makes the same choices
        # (drill-downs still follow the live facets, which change as the indexer commits).
        self.rng = random.Random(f"newsfacet-load:{self.seed}:{self.number}")
        self.conn: http.client.HTTPConnection | None = None

    def run(self) -> None:
        try:
            while (len(self.records) < MAX_REQUESTS_PER_CLIENT and time.perf_counter() < self.deadline
                   and not self.stop.is_set()):
                self.step()
        finally:
            if self.conn is not None:
                self.conn.close()

    def step(self) -> None:
        x = self.rng.random()
        kind = KINDS[-1]  # float rounding can leave x just above the weights' sum
        for name, weight in MIX_WEIGHTS:
            x -= weight
            if x < 0:
                kind = name
                break
        getattr(self, f"do_{kind}")()

    # Each do_* issues exactly one request.
    def do_search(self) -> None:
        q = self.rng.choice(self.pools.queries)
        if self.rng.random() < 0.5:
            self.get("search", "search_html", search_path("/search", q))
        else:
            self.api_search("search", q, (), None, 1)

    def do_drill(self) -> None:
        st = self.state
        if st is None:
            self.do_search_api()
            return
        facets = st.answer.get("facets") or {}
        unselected = [f["value"] for f in facets.get("entity", []) if not f.get("selected")]
        dates = [f["value"] for f in facets.get("date", []) if not f.get("selected") and f.get("count")]
        steps = []
        if unselected and len(st.entities) < 2:
            steps.append("entity")
        if dates and st.date != "undated":
            steps.append("date")
        if st.page == 1 and (st.answer.get("total") or 0) > len(st.answer.get("hits") or ()):
            steps.append("page")
        if not steps:  # nothing left to narrow: start a new sequence
            self.do_search_api()
            return
        step = self.rng.choice(steps)
        entities, date, page = st.entities, st.date, 1
        if step == "entity":
            entities = (*entities, self.rng.choice(unselected[:5]))  # a user clicks one of the top values
        elif step == "date":
            date = self.rng.choice(dates[:5])  # the facet lists the level below the current date filter
        else:
            page = 2
        if self.rng.random() < 0.25:  # some drill-downs are the HTML page (the state does not advance)
            self.get("drill", "drill_html", search_path("/search", st.q, entities, date, page))
        else:
            self.api_search("drill", st.q, entities, date, page)

    def do_search_api(self) -> None:
        self.api_search("search", self.rng.choice(self.pools.queries), (), None, 1)

    def do_doc(self) -> None:
        if not self.ids:
            self.do_search_api()
            return
        doc_id = self.rng.choice(self.ids)
        path = f"/doc/{quote(doc_id)}"
        if self.state is not None and self.state.q and self.rng.random() < 0.5:
            path += "?" + urlencode([("q", self.state.q)])  # arriving from a search: terms highlighted
        self.get("doc", "doc_html", path)

    def do_feed(self) -> None:
        q = self.rng.choice(self.pools.queries)
        entities: tuple[str, ...] = ()
        if self.pools.entities and self.rng.random() < 0.3:
            entities = (self.rng.choice(self.pools.entities),)
        self.get("feed", "feed_atom", search_path("/search.atom", q, entities))

    def api_search(self, kind: str, q: str, entities: tuple[str, ...], date: str | None, page: int) -> None:
        body = self.get(kind, f"{kind}_api", search_path("/api/search", q, entities, date, page))
        if body is None:
            return
        try:
            answer = json.loads(body)
            hit_ids = [h["id"] for h in answer["hits"]]
        except (ValueError, KeyError, TypeError) as exc:
            # A 200 whose body is not the documented JSON is as much a failure as a 500.
            rec = self.records[-1]
            rec.error = f"bad JSON: {exc}"
            self._note_error(rec, search_path("/api/search", q, entities, date, page))
            return
        self.state = DrillState(q, entities, date, page, answer)
        self.ids = (self.ids + hit_ids)[-RECENT_IDS:]

    def get(self, kind: str, route: str, path: str) -> bytes | None:
        """One GET over the keep-alive connection; recorded whatever happens; the body when 200."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
        start = time.perf_counter()
        try:
            self.conn.request("GET", path)
            resp = self.conn.getresponse()
            body = resp.read()
            status = resp.status
            error = None
        except (OSError, http.client.HTTPException) as exc:  # connection error or timeout: a failed request
            self.conn.close()
            self.conn = None  # reconnect on the next request
            body, status, error = None, 0, f"{type(exc).__name__}: {exc}"
        rec = Record(start - self.t0, kind, route, path, status, time.perf_counter() - start, error)
        self.records.append(rec)
        if status != 200:
            if error is None:
                error = f"HTTP {status}"
                rec.error = error
            self._note_error(rec, path, body)
            return None
        return body

    def _note_error(self, rec: Record, path: str, body: bytes | None = None) -> None:
        if len(self.errors) < ERROR_SAMPLES:
            self.errors.append({"client": self.number, "at_s": round(rec.start, 3), "path": path,
                                "status": rec.status, "error": rec.error,
                                "body": (body or b"")[:300].decode("utf-8", "replace")})


# -- figures -------------------------------------------------------------------------


def summarize(seconds: Sequence[float], wall: float | None = None) -> dict:
    """n, p50, p95, p99, max and mean in ms (nearest rank); requests/s when *wall* is given."""
    ms = [s * 1000 for s in seconds]
    out: dict = {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else math.nan,
        "mean_ms": sum(ms) / len(ms) if ms else math.nan,
    }
    if wall is not None:
        out["seconds"] = wall
        out["requests_per_s"] = len(ms) / wall if wall > 0 else None
    return out


def status_counts(records: Sequence[Record]) -> dict:
    """Requests by status class; ``failed`` counts everything that is not a well-formed 200."""
    out = {"2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, "no_answer": 0, "timeouts": 0, "bad_body": 0}
    for r in records:
        if r.status == 0:
            out["no_answer"] += 1
            if r.error and "timeout" in r.error.lower():
                out["timeouts"] += 1
        else:
            out[f"{r.status // 100}xx"] = out.get(f"{r.status // 100}xx", 0) + 1
            if r.status == 200 and r.error:
                out["bad_body"] += 1
    out["failed"] = sum(1 for r in records if r.status != 200 or r.error)
    return out


def rss_verdict(samples: Sequence[tuple[float, float]], warmup: float, load_end: float) -> dict:
    """Post-warm-up, max and end RSS of the server, and whether the end is within tolerance of the post-warm-up."""
    during = [(t, mb) for t, mb in samples if t <= load_end + 1.0]
    if not during:
        return {"flat": False, "reason": "no RSS samples"}
    after_warm = [mb for t, mb in during if t >= warmup]
    warm = after_warm[0] if after_warm else during[-1][1]  # the first sample once warm-up is over
    end = during[-1][1]
    tolerance = max(RSS_FLAT_SHARE * warm, RSS_FLAT_MIB)
    return {
        "post_warmup_mb": warm,
        "max_mb": max(mb for _, mb in during),
        "end_mb": end,
        "growth_mb": end - warm,
        "tolerance_mb": tolerance,
        "flat": abs(end - warm) <= tolerance,
        "samples": [[round(t, 1), round(mb, 1)] for t, mb in samples],
    }


def api_total(port: int) -> int | None:
    """``total`` of ``/api/search?q=&collapse=off`` (every article), None when the server does not answer properly.

    ``collapse=off``: by default the total counts stories, syndicated copies folded into one, and the
    generated corpora hold a few copies (a 20,000-row base counts 19,996 stories), so the check that
    every added article is served compared stories with articles and failed.
    """
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("GET", "/api/search?q=&per_page=1&collapse=off")
        resp = conn.getresponse()
        body = resp.read()
        return json.loads(body)["total"] if resp.status == 200 else None
    except (OSError, http.client.HTTPException, ValueError, KeyError):
        return None
    finally:
        conn.close()


# -- the run -------------------------------------------------------------------------


class Indexer:
    """``newsfacet --index DIR index PATH`` in its own process group, so its worker pool is stopped with it."""

    def __init__(self, index_dir: Path, corpus_root: Path, work: Path, procs: int | None):
        self.cmd = [*newsfacet_command(), "--index", str(index_dir), "index", str(corpus_root), "--quiet"]
        if procs:
            self.cmd += ["--procs", str(procs)]
        self.out_path, self.err_path = work / "indexer.out", work / "indexer.err"
        self.proc: subprocess.Popen | None = None
        self.started: float | None = None
        self.finished: float | None = None
        self.killed = False

    def start(self, at: float) -> None:
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=err, start_new_session=True)
        self.started = at

    def poll(self, now: float) -> bool:
        """True once the indexer has exited (and records when)."""
        if self.proc is None:
            return False
        if self.finished is None and self.proc.poll() is not None:
            self.finished = now
        return self.finished is not None

    def stop(self) -> None:
        """Stop the indexer and its workers if still running (only this process group, by its id)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.killed = True
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def report(self) -> dict:
        out = self.out_path.read_text(errors="replace") if self.out_path.exists() else ""
        err = self.err_path.read_text(errors="replace") if self.err_path.exists() else ""
        summary = out.strip().splitlines()[-1] if out.strip() else ""
        m = SUMMARY_RE.search(summary)
        counts = dict(zip(("added", "updated", "unchanged", "removed", "failed", "total"),
                          (int(x) for x in m.groups()), strict=True)) if m else {}
        return {
            "command": self.cmd,
            "started_s": self.started,
            "finished_s": self.finished,
            "seconds": (self.finished - self.started) if self.started is not None and self.finished else None,
            "exit_code": self.proc.returncode if self.proc else None,
            "killed": self.killed,
            "summary": summary,
            "counts": counts,
            "stderr_tail": err[-2000:],
        }


def run_load(args: argparse.Namespace, index_dir: Path, added_root: Path, tmp: Path, pools: Pools,
             log: Callable[[str], None]) -> dict:
    """Serve *index_dir*, load it for ``args.duration`` s, run the indexer on *added_root* meanwhile, measure."""
    res: dict = {}
    indexer = Indexer(index_dir, added_root, tmp, args.indexer_procs)
    stop = threading.Event()  # clients: give up now
    sampled = threading.Event()  # RSS sampler: done (it runs on until the indexer has finished)
    samples: list[tuple[float, float]] = []
    with Server(index_dir, tmp, args.server_threads, workers=args.workers) as server:
        res["server"] = {"command": server.command(), "pid": server.proc.pid, "port": server.port}
        base_total = api_total(server.port)
        res["api_total_before"] = base_total
        log(f"server pid {server.proc.pid} on {HOST}:{server.port} serves {base_total} articles; "
            f"{args.clients} clients for {args.duration:.0f} s")
        t0 = time.perf_counter()
        deadline = t0 + args.duration
        clients = [Client(k, server.port, pools, args.seed, t0, deadline, stop) for k in range(args.clients)]
        threads = [threading.Thread(target=c.run, daemon=True, name=f"client-{c.number}") for c in clients]

        def sample_rss() -> None:
            # Once a second, bounded in count as well as by the stop event.
            limit = int(args.duration + args.indexer_timeout + 120)
            for _ in range(limit):
                samples.append((time.perf_counter() - t0, server.rss_mb()))
                if sampled.wait(1.0):
                    return

        sampler = threading.Thread(target=sample_rss, daemon=True, name="rss")
        try:
            sampler.start()
            for t in threads:
                t.start()
            indexer_at = args.warmup + INDEXER_DELAY
            next_log = 10.0
            while True:  # bounded by the deadline
                now = time.perf_counter() - t0
                if now >= args.duration:
                    break
                if indexer.proc is None and now >= indexer_at:
                    log(f"starting the indexer at {now:.1f} s: {' '.join(indexer.cmd)}")
                    indexer.start(now)
                if indexer.proc is not None and indexer.finished is None and indexer.poll(now):
                    log(f"indexer exited ({indexer.proc.returncode}) at {now:.1f} s")
                if now >= next_log:
                    done = sum(len(c.records) for c in clients)
                    failed = sum(1 for c in clients for r in c.records[:] if r.status != 200 or r.error)
                    log(f"{now:5.1f} s: {done:,} requests, {failed} failed, server RSS "
                        f"{samples[-1][1] if samples else 0:.0f} MiB")
                    next_log += 10.0
                time.sleep(0.1)
            load_end = time.perf_counter() - t0
            for t in threads:  # a client stuck past its deadline plus a full timeout counts as failed
                t.join(timeout=max(0.0, deadline + REQUEST_TIMEOUT + 5 - time.perf_counter()))
            stuck = [t.name for t in threads if t.is_alive()]
            stop.set()  # tells stuck clients to give up after their current request
            if indexer.proc is None:  # cannot happen with the argument checks; still, never leave it unstarted
                indexer.start(time.perf_counter() - t0)
            if not indexer.poll(time.perf_counter() - t0):
                log("load over; waiting for the indexer")
                limit = t0 + indexer.started + args.indexer_timeout
                while not indexer.poll(time.perf_counter() - t0) and time.perf_counter() < limit:
                    time.sleep(0.2)
                if not indexer.poll(time.perf_counter() - t0):
                    log(f"indexer still running after {args.indexer_timeout:.0f} s: stopping it")
                    indexer.stop()
                    indexer.poll(time.perf_counter() - t0)
            time.sleep(1.1)  # one more RSS sample after the indexer's last commit
            res["api_total_after"] = api_total(server.port)
            res["rss_after_indexer_mb"] = server.rss_mb()
        finally:
            stop.set()
            sampled.set()
            indexer.stop()
            sampler.join(timeout=5)
    # Server.__exit__ has stopped the server here, whatever happened above.
    records = [r for c in clients for r in c.records]
    res["load_end_s"] = load_end
    res["stuck_clients"] = stuck
    res["records"] = records
    res["error_samples"] = [e for c in clients for e in c.errors][:ERROR_SAMPLES]
    res["indexer"] = indexer.report()
    res["rss"] = rss_verdict(samples, args.warmup, load_end)
    res["serve_log_tail"] = server.log_path.read_text(errors="replace")[-2000:] if server.log_path.exists() else ""
    return res


def figures(res: dict, args: argparse.Namespace) -> dict:
    """Latency, counts and rates: overall, per kind and route, and by phase (warm-up, indexer running, rest)."""
    records: list[Record] = res["records"]
    wall = res["load_end_s"]
    ix = res["indexer"]
    i0 = ix["started_s"]
    # An indexer still running when the load ended was "running" until the load's end, for this split.
    i1 = min(ix["finished_s"] if ix["finished_s"] is not None else wall, wall) if i0 is not None else None

    def during(r: Record) -> bool:
        return i0 is not None and i0 <= r.start < i1

    warm = [r for r in records if r.start < args.warmup]
    in_ix = [r for r in records if during(r)]
    rest = [r for r in records if r.start >= args.warmup and not during(r)]
    ix_wall = (i1 - i0) if i0 is not None else 0.0
    rest_wall = max(wall - args.warmup - ix_wall, 0.0)
    out = {
        "all": {**summarize([r.seconds for r in records], wall), **status_counts(records)},
        "by_kind": {k: summarize([r.seconds for r in records if r.kind == k]) for k in KINDS},
        "by_route": {},
        "phases": {
            "warmup": {**summarize([r.seconds for r in warm], min(args.warmup, wall)), **status_counts(warm)},
            "during_indexer": {**summarize([r.seconds for r in in_ix], ix_wall), **status_counts(in_ix),
                               "from_s": i0, "to_s": i1},
            "outside_indexer": {**summarize([r.seconds for r in rest], rest_wall), **status_counts(rest),
                                "note": "after warm-up, indexer not running"},
        },
    }
    for route in sorted({r.route for r in records}):
        rs = [r for r in records if r.route == route]
        out["by_route"][route] = {**summarize([r.seconds for r in rs]), "failed": status_counts(rs)["failed"]}
    # The slowest requests with their start time: a cluster right after an indexer commit points at the
    # searcher reopen (new generation: facet arrays, tables) rather than at the query itself.
    out["slowest"] = [{"start_s": round(r.start, 3), "ms": round(r.seconds * 1000, 1), "route": r.route,
                       "path": r.path, "status": r.status}
                      for r in sorted(records, key=lambda r: r.seconds, reverse=True)[:SLOWEST]]
    out["stuck_clients"] = len(res["stuck_clients"])
    out["failed_requests"] = out["all"]["failed"] + len(res["stuck_clients"])
    return out


def verdict(res: dict, fig: dict, expected_total: int) -> list[str]:
    """Why the run fails the requirement (empty when it passes)."""
    why = []
    if fig["failed_requests"]:
        a = fig["all"]
        why.append(f"{fig['failed_requests']} failed requests (4xx {a['4xx']}, 5xx {a['5xx']}, no answer "
                   f"{a['no_answer']}, bad body {a['bad_body']}, stuck clients {fig['stuck_clients']})")
    if fig["all"]["5xx"]:
        why.append(f"{fig['all']['5xx']} answers were 5xx")
    ix = res["indexer"]
    if ix["killed"] or ix["exit_code"] != 0:
        why.append(f"indexer {'was stopped after the timeout' if ix['killed'] else 'exited ' + str(ix['exit_code'])}")
    total = res.get("api_total_after")
    if total != expected_total:
        why.append(f"/api/search?q=&collapse=off counts {total} articles, expected {expected_total:,} "
                   f"(indexer: {ix['summary'] or 'no summary'})")
    rss = res["rss"]
    if not rss.get("flat"):
        why.append(rss.get("reason") or f"server RSS not flat: {rss['post_warmup_mb']:.0f} MiB after warm-up, "
                   f"{rss['end_mb']:.0f} MiB at the end (tolerance ±{rss['tolerance_mb']:.0f} MiB)")
    return why


def _fmt(x: float | None, digits: int = 1) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def render(out: dict) -> str:
    """The stdout table."""
    f, a = out["figures"], out["args"]
    lines = [
        f"newsfacet load test — {a['clients']} clients × {a['duration']:.0f} s on {HOST}, "
        f"base {out['base_docs']:,} articles + {a['add']:,} added during the load, {os.cpu_count()} CPUs",
        f"{'':24}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'failed':>8}",
    ]

    def row(label: str, s: dict, failed: int | None) -> str:
        return (f"{label:24}{s['n']:>9,}{_fmt(s.get('requests_per_s')):>8}{_fmt(s['p50_ms']):>9}"
                f"{_fmt(s['p95_ms']):>9}{_fmt(s['p99_ms']):>9}{_fmt(s['max_ms']):>9}"
                f"{'' if failed is None else failed:>8}")

    lines.append(row("all", f["all"], f["all"]["failed"]))
    for k in KINDS:
        lines.append(row(f"  {k}", f["by_kind"][k], None))
    ph = f["phases"]
    lines.append(row(f"warm-up (0–{a['warmup']:.0f} s)", ph["warmup"], ph["warmup"]["failed"]))
    di = ph["during_indexer"]
    span = f"{_fmt(di['from_s'])}–{_fmt(di['to_s'])} s" if di["from_s"] is not None else "not run"
    lines.append(row(f"indexer ({span})", di, di["failed"]))
    lines.append(row("rest (no indexer)", ph["outside_indexer"], ph["outside_indexer"]["failed"]))
    s = f["all"]
    lines.append(f"status: 2xx {s['2xx']:,}, 3xx {s['3xx']}, 4xx {s['4xx']}, 5xx {s['5xx']}, no answer "
                 f"{s['no_answer']} (timeouts {s['timeouts']}), bad body {s['bad_body']}, "
                 f"stuck clients {f['stuck_clients']}")
    ix = out["indexer"]
    lines.append(f"indexer: exit {ix['exit_code']}{' (stopped)' if ix['killed'] else ''}, "
                 f"{_fmt(ix['seconds'])} s from {_fmt(ix['started_s'])} s: {ix['summary'] or 'no summary'}")
    if ix["finished_s"] is not None and ix["finished_s"] > out["load_end_s"]:
        lines.append(f"  note: the indexer exited {ix['finished_s'] - out['load_end_s']:.1f} s after the load ended, "
                     "so part of its work was not under load (longer --duration, or smaller --add)")
    lines.append(f"index: {_fmt(out['api_total_after'], 0)} articles served at the end, expected "
                 f"{out['expected_total']:,} ({out['base_docs']:,} + {a['add']:,})")
    r = out["rss"]
    if "post_warmup_mb" in r:
        lines.append(f"server RSS: {r['post_warmup_mb']:.0f} MiB after warm-up, max {r['max_mb']:.0f}, "
                     f"end {r['end_mb']:.0f} ({r['growth_mb']:+.0f} MiB; flat = within ±{r['tolerance_mb']:.0f}): "
                     f"{'flat' if r['flat'] else 'NOT flat'}; {out['rss_after_indexer_mb']:.0f} MiB after the indexer")
    cpu = out["cpu"]
    if cpu.get("foreign_share") is not None:
        lines.append(f"other processes used {cpu['foreign_share']:.0%} of the machine's CPU during the run")
    lines.append("PASS" if not out["failures"] else "FAIL: " + "; ".join(out["failures"]))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    log = Log()
    cpu = CpuMeter()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    tmp = work / f"load-{stamp}"
    tmp.mkdir()  # fails rather than reuse someone else's folder: everything in it is ours to delete
    out: dict = {"started": started.isoformat(timespec="seconds"), "args": vars(args), "tmp": str(tmp)}
    try:
        base_corpus = scaled_corpus(work, args.base_size, BASE_SEED, args.reuters, log)
        index_dir = tmp / "index"
        out["base_index"] = base_index(work, base_corpus, args.base_size, index_dir, log)
        base_docs = out["base_docs"] = out["base_index"]["base_docs"]
        add_corpus = scaled_corpus(work, args.add, ADD_SEED, args.reuters, log)
        out["added_corpus"] = str(add_corpus)
        log("deriving the request pools from the base index")
        pools = request_pools(index_dir)
        out["pools"] = {"queries": len(pools.queries), "entities": len(pools.entities)}
        log(f"{len(pools.queries)} queries, {len(pools.entities)} entity values")
        # A folder of its own whose file names are the base's: the indexer must add, not replace.
        res = run_load(args, index_dir, add_corpus, tmp, pools, log)
    except BaseException:
        if (tmp / "serve.log").exists():
            log(f"run aborted; its folder (serve.log, indexer.out/.err) is kept: {tmp}")
        else:  # aborted before the server started: nothing in it worth keeping
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)  # the copied index and logs; the figures are in the JSON
    out.update({k: v for k, v in res.items() if k != "records"})
    out["expected_total"] = base_docs + args.add
    out["figures"] = figures(res, args)
    out["failures"] = verdict(res, out["figures"], out["expected_total"])
    out["passed"] = not out["failures"]
    out["cpu"] = cpu.result()
    from .run import _git, _machine

    out["machine"], out["git"] = _machine(), _git()
    out["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    result_path = Path(args.results) if args.results else RESULTS_DIR / f"load-{stamp}.json"
    result_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.write_text(json.dumps(out, indent=1, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
    print(render(out))
    shown = result_path.relative_to(REPO_ROOT) if result_path.is_relative_to(REPO_ROOT) else result_path
    print(f"results: {shown} ({time.perf_counter() - log.started:.0f} s)")
    sys.stdout.flush()
    return 0 if out["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
