"""``python -m bench.webtime --index DIR``: the web layer's own CPU time per ``/api/search`` (or ``/search``) request.

The benchmark's query mix (:mod:`bench.mix`) is answered twice per round:
through the Flask app as a WSGI call (no HTTP server, no test client: the
environ is built once per URL) and by the query service's ``search`` alone.
Both are timed with ``time.process_time`` over the whole mix, so the figure
is CPU, not wall time, and a busy machine shifts both sides alike; the web
layer's time is the median over rounds of (app − service), paired round by
round.  ``--profile OUT`` writes a cProfile of the app's passes (read it with
``python -m pstats OUT``).

``--pages`` times the pages a person browses instead, in the load test's
proportions (:func:`bench.mix.page_mix`: ``/api/search``, the ``/search``
page, article pages, Atom feeds), and gives the whole app's CPU per request
for each kind (there is no query-service twin to pair with).

``--bodies FILE`` checks that responses have not changed: the first run
writes a digest of every response body (the request's own time, the ms
figures and the CSRF token masked) to *FILE*, later runs compare with it and
exit 1 on a difference, naming the URLs.

It only reads the index, but opens it as a server would; point it at a copy
when another process is writing the index.  Saved searches and the secret key
go to a temporary instance folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

# What differs between two answers to the same request: its own time and a fresh CSRF token.
_VOLATILE = re.compile(rb'("elapsed_ms": ?)[0-9.]+|(<small class="took">\()[0-9.]+( ms\))'
                       rb'|(name="csrf_token" value=")[^"]*(")')


def digest(body: bytes) -> str:
    """The body's SHA-256 with :data:`_VOLATILE` parts masked."""
    masked = _VOLATILE.sub(lambda m: b"".join(g for g in m.groups() if g is not None) + b"#", body)
    return hashlib.sha256(masked).hexdigest()


def check_bodies(path: Path, bodies: dict[str, bytes]) -> list[str]:
    """URLs whose body differs from the digest saved in *path* (written when missing: then none)."""
    found = {url: digest(body) for url, body in bodies.items()}
    if not path.exists():
        path.write_text(json.dumps(found, indent=1, sort_keys=True), encoding="utf-8")
        return []
    saved = json.loads(path.read_text(encoding="utf-8"))
    return sorted(url for url in set(saved) | set(found) if saved.get(url) != found.get(url))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.webtime", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", required=True, type=Path, help="a built newsfacet index")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--html", action="store_true", help="time /search (the HTML page) instead of /api/search")
    ap.add_argument("--pages", action="store_true",
                    help="time the load test's kinds of page (search API and HTML, article, feed) instead")
    ap.add_argument("--bodies", metavar="FILE", type=Path,
                    help="compare every response with the digests in FILE (written when missing)")
    ap.add_argument("--profile", metavar="OUT", help="write a cProfile of the app's passes here")
    args = ap.parse_args(argv)

    from werkzeug.test import EnvironBuilder

    from search.api import SearchRequest
    from search.settings import Settings
    from search.whoosh_backend.service import WhooshBackend
    from web import create_app

    from .mix import build_mix, http_path, page_mix, sample

    items = build_mix(sample(args.index))
    paths = [http_path(it.request) for it in items]
    if args.html:
        paths = [p.replace("/api/search", "/search", 1) for p in paths]
    kinds = ["api"] * len(paths)
    if args.pages:
        with WhooshBackend(args.index) as ids_from:
            doc_ids = list(dict.fromkeys(h.id for it in items for h in ids_from.search(it.request).hits))
        kinds, paths = map(list, zip(*page_mix(items, doc_ids), strict=True))
    with tempfile.TemporaryDirectory(prefix="webtime-") as instance:
        os.environ["NEWSFACET_INSTANCE"] = instance
        app = create_app({"LISTEN_HOST": "127.0.0.1"}, settings=Settings.from_env(index_dir=str(args.index)))
        envs = []
        for p in paths:
            path, _, qs = p.partition("?")
            envs.append(EnvironBuilder(path=path, query_string=qs, base_url="http://127.0.0.1:5000").get_environ())
        statuses: list[str] = []
        bodies: dict[str, bytes] = {}

        def call(env: dict, keep: str | None = None) -> None:
            body = app(dict(env), lambda status, headers, exc=None: statuses.append(status))
            chunks = list(body)
            if hasattr(body, "close"):
                body.close()
            if keep is not None:
                bodies[keep] = b"".join(chunks)

        service = WhooshBackend(args.index)
        service.search(SearchRequest(per_page=1))
        for env, p in zip(envs, paths, strict=True):  # warm-up: every cache the requests use, on both sides
            call(env, p)
        for it in items:
            service.search(it.request)
        bad = [s for s in statuses if not s.startswith("200")]
        if bad:
            print(f"webtime: {len(bad)} requests answered {sorted(set(bad))}", file=sys.stderr)
            return 1
        if args.bodies:
            changed = check_bodies(args.bodies, bodies)
            print(f"bodies: {len(bodies)} URLs, {len(changed)} differ from {args.bodies}", file=sys.stderr)
            for url in changed[:20]:
                print(f"  changed: {url}", file=sys.stderr)
            if changed:
                return 1
        if args.pages:
            return _time_pages(call, envs, kinds, args.rounds, prof=args.profile)
        prof = None
        if args.profile:
            import cProfile

            prof = cProfile.Profile()
        app_times, service_times = [], []
        for _ in range(args.rounds):
            if prof:
                prof.enable()
            t = time.process_time()
            for env in envs:
                call(env)
            app_times.append(time.process_time() - t)
            if prof:
                prof.disable()
            t = time.process_time()
            for it in items:
                service.search(it.request)
            service_times.append(time.process_time() - t)
        if prof:
            prof.dump_stats(args.profile)
        app.extensions["newsfacet"]["service"].close()
        service.close()
    n = len(paths)

    def median(xs: list[float]) -> float:
        return sorted(xs)[len(xs) // 2] / n * 1000

    web = [a - s for a, s in zip(app_times, service_times, strict=True)]
    print(f"{'/search' if args.html else '/api/search'}: {n} requests x {args.rounds} rounds, CPU per request: "
          f"app {median(app_times):.2f} ms, query service {median(service_times):.2f} ms, "
          f"web layer {median(web):.2f} ms (median of paired rounds)")
    return 0


def _time_pages(call, envs: list, kinds: list[str], rounds: int, prof: str | None = None) -> int:
    """CPU per request of each kind of page, the median over *rounds* passes; the whole pass too."""
    profiler = None
    if prof:
        import cProfile

        profiler = cProfile.Profile()
    per_kind: dict[str, list[float]] = {k: [] for k in dict.fromkeys(kinds)}
    passes: list[float] = []
    for _ in range(rounds):
        spent = dict.fromkeys(per_kind, 0.0)
        if profiler:
            profiler.enable()
        start = time.process_time()
        for env, kind in zip(envs, kinds, strict=True):
            t = time.process_time()
            call(env)
            spent[kind] += time.process_time() - t
        passes.append(time.process_time() - start)
        if profiler:
            profiler.disable()
        for kind, total in spent.items():
            per_kind[kind].append(total / kinds.count(kind))
    if profiler:
        profiler.dump_stats(prof)
    n = len(envs)
    cells = ", ".join(f"{k} {sorted(v)[len(v) // 2] * 1000:.2f} ms (x{kinds.count(k)})" for k, v in per_kind.items())
    whole = sorted(passes)[len(passes) // 2] / n * 1000
    print(f"pages: {n} requests x {rounds} rounds, CPU per request: all {whole:.2f} ms; {cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
