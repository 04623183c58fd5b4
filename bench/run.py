"""``python -m bench``: one command that prepares a corpus, measures everything and reports.

Order of a run: corpus (Reuters files, or the scaled generator) → ingest
(end-to-end build, index-only rewrite, size) → query mix from the index →
FTS5 reference build → cold start (newsfacet, FTS5) → query mix through the
query service and through FTS5 (one warm-up pass, then ``--rounds``) → HTTP
(``newsfacet serve``: sequential mix, 1/10/50 concurrent clients, RSS) →
table on stdout, JSON in ``bench/results/<timestamp>.json``.  Progress goes
to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from web.cli import DEFAULT_WORKERS

from . import DEFAULT_WORK, REPO_ROOT, RESULTS_DIR
from .corpus import dir_size_mb, doc_count, reuters_dir, reuters_files
from .stats import CpuMeter, Log, summarize_ms

QUICK_FILES = 3
QUICK_SCALED_SIZE = 2_000
TOTALS_TOLERANCE = 0.10
FOREIGN_WARN = 0.05


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description="newsfacet benchmark (see bench/README.md)")
    p.add_argument("--corpus", choices=("reuters", "scaled"), default="reuters")
    p.add_argument("--size", type=int, default=1_000_000, help="articles of the scaled corpus (default 1,000,000)")
    p.add_argument("--seed", type=int, default=1, help="seed of the scaled corpus (default 1)")
    p.add_argument("--work", default=str(DEFAULT_WORK), help="folder for corpora, indexes and the FTS5 file")
    p.add_argument("--reuters", help="Reuters-21578 folder (default $NEWSFACET_REUTERS or ../shared/corpora/...)")
    p.add_argument("--rounds", type=int, default=None, help="measured passes over the query mix (default 3)")
    p.add_argument("--duration", type=float, default=None, help="seconds per concurrency level (default 10)")
    p.add_argument("--cold-runs", type=int, default=None, help="fresh processes for cold start (default 3)")
    p.add_argument("--procs", type=int, default=None, help="cleaning processes for build_index (default: all)")
    p.add_argument("--skip-ingest", action="store_true", help="reuse the index (and FTS5 file) in --work")
    p.add_argument("--workers", type=int, default=None,
                   help="server processes for the HTTP part (newsfacet serve --workers; default: serve's, "
                   f"{DEFAULT_WORKERS})")
    p.add_argument("--skip-http", action="store_true")
    p.add_argument("--skip-fts5", action="store_true")
    p.add_argument("--index-only-docs", type=int, default=100_000,
                   help="articles timed for the index-only rate (default 100,000; 0: all)")
    p.add_argument("--backend", choices=("whoosh", "opensearch"), default="whoosh",
                   help="opensearch: the OpenSearch backend beside Whoosh and FTS5 (see bench/opensearch.py)")
    p.add_argument("--opensearch-url", metavar="URL", help="with --backend opensearch: the cluster "
                   "(default $NEWSFACET_OPENSEARCH_URL)")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: {QUICK_FILES} Reuters files (or {QUICK_SCALED_SIZE:,} scaled rows), 1 round")
    args = p.parse_args(argv)
    args.rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    args.duration = args.duration if args.duration is not None else (2.0 if args.quick else 10.0)
    args.cold_runs = args.cold_runs if args.cold_runs is not None else (1 if args.quick else 3)
    args.workers = args.workers if args.workers is not None else DEFAULT_WORKERS
    if args.rounds < 1 or args.duration <= 0 or args.cold_runs < 1 or args.size < 1 or args.workers < 1:
        p.error("--rounds, --duration, --cold-runs, --size and --workers must be positive")
    return args


def _git() -> dict:
    def run(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"commit": run("rev-parse", "HEAD").strip(), "dirty": run("status", "--porcelain", "--", "search", "web")
            .split("\n")[:-1]}


def _machine() -> dict:
    import sqlite3

    import whoosh

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "whoosh": whoosh.versionstring(),
        "sqlite": sqlite3.sqlite_version,
    }


def prepare_corpus(args: argparse.Namespace, work: Path, log: Log) -> dict:
    """``{"name", "paths", ...}`` for the chosen corpus, generating the scaled one if needed."""
    rdir = reuters_dir(args.reuters)
    if args.corpus == "reuters":
        files = reuters_files(rdir, QUICK_FILES if args.quick else None)
        name = "reuters-quick" if args.quick else "reuters"
        return {"name": "reuters", "key": name, "paths": files, "files": len(files), "source": str(rdir)}
    from .generate import DEFAULT_ENTITIES, DEFAULT_ROWS_PER_FILE, existing_manifest, generate

    size = min(args.size, QUICK_SCALED_SIZE) if args.quick else args.size
    key = f"scaled-{size}-seed{args.seed}"
    out = work / key
    manifest = existing_manifest(out, size, args.seed, DEFAULT_ROWS_PER_FILE, DEFAULT_ENTITIES)
    reused = manifest is not None
    if reused:
        log(f"reusing generated corpus {out}")
    else:
        log(f"generating {size:,} rows into {out}")
        manifest = generate(out, reuters_files(rdir), size, args.seed, log=log)
    log(f"generator: {manifest['rows_per_s']:,.0f} rows/s, {manifest['mb_per_s']:.1f} MiB/s "
        f"({manifest['bytes'] / 2**20:.0f} MiB; +{manifest['pool_seconds']:.1f} s reading Reuters)")
    gen = {k: v for k, v in manifest.items() if k != "files"}
    gen["reused"] = reused
    gen["files"] = len(manifest["files"])
    return {"name": "scaled", "key": key, "paths": [out], "files": len(manifest["files"]), "size": size,
            "source": str(out), "generator": gen}


def _entity_values(index_dir: Path) -> int:
    from search.whoosh_backend.store import open_index

    with open_index(index_dir).reader() as reader:
        return sum(1 for _ in reader.lexicon("entity"))


def time_mix(
    search: Callable[[Any], Any], items: list, rounds: int, primer: Any
) -> tuple[list[float], list[list[float]], list, list[float]]:
    """A primer request, one warm-up pass, then *rounds* timed passes.

    Returns (timed-round times, per-item times, last answers, warm-up pass times).  The primer (a one-hit
    browse) pays for loading the facet arrays, so the warm-up pass times are each request's first run
    against caches that have not seen its terms yet: the "first pass" figure.
    """
    search(primer)
    first: list[float] = []
    answers = []
    for it in items:
        t0 = time.perf_counter()
        answers.append(search(it.request))
        first.append(time.perf_counter() - t0)
    times: list[float] = []
    per_item: list[list[float]] = [[] for _ in items]
    for _ in range(rounds):
        for i, it in enumerate(items):
            t0 = time.perf_counter()
            answers[i] = search(it.request)
            dt_ = time.perf_counter() - t0
            times.append(dt_)
            per_item[i].append(dt_)
    return times, per_item, answers, first


def _by_kind(items, per_item: list[list[float]]) -> dict:
    groups: dict[str, list[float]] = {}
    for it, ts in zip(items, per_item, strict=True):
        groups.setdefault(it.kind, []).extend(ts)
    return {k: summarize_ms(v) for k, v in groups.items()}


def _agree(a: int | None, b: int | None) -> bool:
    if a is None or b is None:
        return False
    return abs(a - b) <= TOTALS_TOLERANCE * max(a, b)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.backend == "opensearch":
        from .opensearch import main as opensearch_main

        return opensearch_main(args)
    log = Log()
    cpu = CpuMeter()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    from .fts5 import fts5_available

    if not args.skip_fts5 and not fts5_available():
        log("this Python's SQLite has no FTS5: skipping the reference")
        args.skip_fts5 = True
    started = dt.datetime.now(dt.UTC)
    res: dict = {
        "started": started.isoformat(timespec="seconds"),
        "args": {k: v for k, v in vars(args).items()},
        "machine": _machine(),
        "git": _git(),
    }
    corpus = prepare_corpus(args, work, log)
    index_dir = work / f"index-{corpus['key']}"
    res["corpus"] = {k: (v if k != "paths" else [str(p) for p in v]) for k, v in corpus.items()}
    res["index_dir"] = str(index_dir)

    # -- ingest
    from search.whoosh_backend.store import index_exists

    from . import ingest

    if args.skip_ingest:
        if not index_exists(index_dir):
            raise SystemExit(f"bench: --skip-ingest but no index in {index_dir}")
        log(f"reusing index {index_dir}")
        res["ingest"] = {"size_mb": dir_size_mb(index_dir)}
    else:
        log(f"build_index(rebuild=True) of {corpus['files']} file(s) into {index_dir}")
        e2e = ingest.end_to_end(corpus["paths"], index_dir, args.procs)
        log(f"end to end: {e2e['summary']}")
        log("index-only: re-adding the stored articles to a fresh index")
        only = ingest.index_only(index_dir, work / f"scratch-{corpus['key']}", log,
                                 limit=args.index_only_docs or None)
        log(f"index-only: {only['docs']:,} docs in {only['seconds']:.1f} s = {only['docs_per_s']:,.0f} docs/s")
        res["ingest"] = {"end_to_end": e2e, "index_only": only, "size_mb": e2e["size_mb"]}
    live, _ = doc_count(index_dir)
    res["corpus"]["docs"] = live
    res["corpus"]["entity_values"] = _entity_values(index_dir)
    log(f"index: {live:,} articles, {res['corpus']['entity_values']:,} distinct entity values, "
        f"{res['ingest']['size_mb']:.1f} MiB")

    # -- the mix
    from .mix import build_mix, http_path, sample

    articles = sample(index_dir)
    items = build_mix(articles)
    del articles
    log(f"query mix: {len(items)} requests")

    # -- FTS5 reference build
    from . import fts5

    db = work / f"fts5-{corpus['key']}.sqlite3"
    if not args.skip_fts5:
        if args.skip_ingest and db.exists():
            log(f"reusing FTS5 file {db}")
            res["fts5"] = {"size_mb": db.stat().st_size / 2**20}
        else:
            from .corpus import iter_stored

            log(f"FTS5: loading the same articles into {db}")
            build = fts5.build(db, iter_stored(index_dir), log)
            log(f"FTS5: {build['docs']:,} docs in {build['seconds']:.1f} s = {build['docs_per_s']:,.0f} docs/s")
            res["fts5"] = {"build": build, "size_mb": build["size_mb"]}

    # -- cold start
    from . import coldstart

    log(f"cold start: {args.cold_runs} fresh process(es)")
    res["cold_start"] = {"newsfacet": coldstart.measure(index_dir, args.cold_runs)}
    if not args.skip_fts5:
        res["cold_start"]["fts5"] = coldstart.measure(db, args.cold_runs, engine="fts5")
    log(f"cold start: newsfacet {res['cold_start']['newsfacet']['seconds']:.2f} s")

    # -- query service
    from search.api import SearchRequest
    from search.whoosh_backend.service import WhooshBackend

    service = WhooshBackend(index_dir)
    primer = SearchRequest(per_page=1)
    log(f"query service: warm-up + {args.rounds} round(s)")
    times, per_item, answers, first = time_mix(service.search, items, args.rounds, primer)
    res["query"] = summarize_ms(times)
    res["query"]["first_pass"] = summarize_ms(first)
    res["query"]["by_kind"] = _by_kind(items, per_item)
    nf_totals = [a.total for a in answers]
    fts_totals: list[int | None] = [None] * len(items)
    fts_item_p50: list[float | None] = [None] * len(items)
    if not args.skip_fts5:
        ref = fts5.Fts5Service(db)
        log(f"FTS5: warm-up + {args.rounds} round(s)")
        ftimes, fper, fanswers, ffirst = time_mix(ref.search, items, args.rounds, primer)
        ref.close()
        res["fts5"]["query"] = summarize_ms(ftimes)
        res["fts5"]["query"]["first_pass"] = summarize_ms(ffirst)
        res["fts5"]["query"]["by_kind"] = _by_kind(items, fper)
        fts_totals = [a["total"] for a in fanswers]
        fts_item_p50 = [summarize_ms(t)["p50"] for t in fper]
        agree = sum(_agree(a, b) for a, b in zip(nf_totals, fts_totals, strict=True))
        res["fts5"]["totals_agree"] = {"within": TOTALS_TOLERANCE, "agree": agree, "of": len(items)}

    # -- HTTP
    paths = [http_path(it.request) for it in items]
    http_item_p50: list[float | None] = [None] * len(items)
    if not args.skip_http:
        from . import httpload

        h = httpload.run(index_dir, work, paths, args.rounds, args.duration, log=log, workers=args.workers)
        h["overhead_p50_ms"] = h["sequential"]["p50"] - res["query"]["p50"]
        http_item_p50 = h["sequential"].pop("per_item_ms")
        h["sequential"].pop("totals", None)
        res["http"] = h

    res["mix"] = [
        {**it.as_dict(), "newsfacet_total": nt, "fts5_total": ft,
         "newsfacet_p50_ms": summarize_ms(pt)["p50"], "fts5_p50_ms": fp, "http_p50_ms": hp}
        for it, nt, ft, pt, fp, hp in zip(items, nf_totals, fts_totals, per_item, fts_item_p50, http_item_p50,
                                          strict=True)
    ]
    res["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    res["cpu"] = cpu.result()
    res["wall_seconds"] = log_elapsed = time.perf_counter() - log.started

    from .report import build_rows, render

    rows = build_rows(res)
    res["table"] = [dict(zip(["figure", "newsfacet", "fts5", "ratio", "target", "status"], r.cells(), strict=True))
                    for r in rows]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(res, indent=1, default=str, ensure_ascii=False) + "\n", encoding="utf-8")

    c = res["corpus"]
    print(f"newsfacet benchmark — corpus {c['key']} ({c['docs']:,} articles, {c['entity_values']:,} entity values), "
          f"mix of {len(items)} requests × {args.rounds} round(s), {res['machine']['cpus']} CPUs")
    print(render(rows))
    notes = []
    if "generator" in c:
        g = c["generator"]
        notes.append(f"generator: {g['rows_per_s']:,.0f} rows/s, {g['mb_per_s']:.1f} MiB/s"
                     + (" (reused)" if g["reused"] else ""))
    if res.get("fts5", {}).get("totals_agree"):
        ta = res["fts5"]["totals_agree"]
        notes.append(f"totals newsfacet vs FTS5 within ±{ta['within']:.0%}: {ta['agree']}/{ta['of']} requests")
    if res.get("http"):
        notes.append(f"server-side HTTP overhead p50 (client time − elapsed_ms): "
                     f"{res['http']['sequential']['server_side_overhead_p50_ms']:.1f} ms")
    foreign = res["cpu"]["foreign_share"]
    if foreign is not None:
        notes.append(f"other processes used {foreign:.0%} of the machine's CPU during the run"
                     + (": absolute figures are pessimistic, ratios less affected" if foreign > FOREIGN_WARN else ""))
    notes.append("ratio = newsfacet ÷ FTS5 (times, sizes: < 1 is better; docs/s: > 1 is better)")
    notes.append(f"results: {out.relative_to(REPO_ROOT) if out.is_relative_to(REPO_ROOT) else out} "
                 f"({log_elapsed:.0f} s)")
    for n in notes:
        print(n)
    sys.stdout.flush()
    return 0
