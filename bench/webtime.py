"""``python -m bench.webtime --index DIR``: the web layer's own CPU time per ``/api/search`` (or ``/search``) request.

The benchmark's query mix (:mod:`bench.mix`) is answered twice per round:
through the Flask app as a WSGI call (no HTTP server, no test client: the
environ is built once per URL) and by the query service's ``search`` alone.
Both are timed with ``time.process_time`` over the whole mix, so the figure
is CPU, not wall time, and a busy machine shifts both sides alike; the web
layer's time is the median over rounds of (app − service), paired round by
round.  ``--profile OUT`` writes a cProfile of the app's passes (read it with
``python -m pstats OUT``).

It only reads the index, but opens it as a server would; point it at a copy
when another process is writing the index.  Saved searches and the secret key
go to a temporary instance folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.webtime", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", required=True, type=Path, help="a built newsfacet index")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--html", action="store_true", help="time /search (the HTML page) instead of /api/search")
    ap.add_argument("--profile", metavar="OUT", help="write a cProfile of the app's passes here")
    args = ap.parse_args(argv)

    from werkzeug.test import EnvironBuilder

    from search.api import SearchRequest
    from search.settings import Settings
    from search.whoosh_backend.service import WhooshBackend
    from web import create_app

    from .mix import build_mix, http_path, sample

    items = build_mix(sample(args.index))
    paths = [http_path(it.request) for it in items]
    if args.html:
        paths = [p.replace("/api/search", "/search", 1) for p in paths]
    with tempfile.TemporaryDirectory(prefix="webtime-") as instance:
        os.environ["NEWSFACET_INSTANCE"] = instance
        app = create_app({"LISTEN_HOST": "127.0.0.1"}, settings=Settings.from_env(index_dir=str(args.index)))
        envs = []
        for p in paths:
            path, _, qs = p.partition("?")
            envs.append(EnvironBuilder(path=path, query_string=qs, base_url="http://127.0.0.1:5000").get_environ())
        statuses: list[str] = []

        def call(env: dict) -> None:
            body = app(dict(env), lambda status, headers, exc=None: statuses.append(status))
            for _ in body:
                pass
            if hasattr(body, "close"):
                body.close()

        service = WhooshBackend(args.index)
        service.search(SearchRequest(per_page=1))
        for env in envs:  # warm-up: every cache the requests use, on both sides
            call(env)
        for it in items:
            service.search(it.request)
        bad = [s for s in statuses if not s.startswith("200")]
        if bad:
            print(f"webtime: {len(bad)} requests answered {sorted(set(bad))}", file=sys.stderr)
            return 1
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


if __name__ == "__main__":
    raise SystemExit(main())
